"""SAML 2.0 identity provider on Shibboleth's paths (issue 11): see docs/saml.md."""
