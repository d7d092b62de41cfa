"""Signed SP metadata from a federation: its signature is checked against the federation's
certificate (``EDUCONNECT_SAML_FEDERATION_CERT``, a PEM file) by xmlsec1, through pysaml2."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from saml2.sigver import CryptoBackendXmlSec1

from idp.saml.providers import MD, MetadataError
from idp.settings import Settings

NODE = f"{MD}:EntityDescriptor"


def federation_check(settings: Settings) -> Callable[[str], None] | None:
    path = settings.saml_federation_cert
    if not path:
        return None

    def check(xml: str) -> None:
        backend = CryptoBackendXmlSec1(shutil.which("xmlsec1"), delete_tmpfiles=True)
        try:
            ok = backend.validate_signature(xml, path, "pem", NODE, None)
        except Exception:  # xmlsec1 says why on stderr; the operator needs the verdict
            ok = False
        if not ok:
            raise MetadataError("the metadata signature does not match the federation certificate")

    return check
