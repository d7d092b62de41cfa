"""SAML 2.0 identity provider on Shibboleth's paths (issue 11): see docs/saml.md."""

import warnings

# pysaml2 lists CFB among its ciphers at import; cryptography deprecates that mode. We never
# use it (assertions are encrypted with AES-GCM), and the notice would be printed, unformatted,
# by every process that imports this package before logging is set up.
warnings.filterwarnings("ignore", message=r".*CFB.*", module=r"saml2\.cryptography\.symmetric")
