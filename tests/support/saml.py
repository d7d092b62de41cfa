"""An independent SAML service provider for the tests: pysaml2's ``Saml2Client`` configured as
the real services configure theirs (pass Culture: signed AuthnRequests, signed responses and
assertions, an encryption key pair, RSA-SHA256, HTTP-POST ACS, unsolicited responses allowed)."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp.saml.attributes import converter
from idp.saml.keys import new_key_pair

SP_ENTITY = "https://sp.example.fr/saml/metadata"
ACS = "https://sp.example.fr/saml/acs"
SLO = "https://sp.example.fr/saml/slo"
_FORM = re.compile(r'<form id="saml-post" method="post" action="([^"]+)">')
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def key_files(directory: Path, name: str) -> tuple[str, str]:
    key, cert = new_key_pair(name, datetime.now(UTC))
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_text(key)
    cert_path.write_text(cert)
    return str(key_path), str(cert_path)


@dataclass
class SP:
    client: Saml2Client
    config: SPConfig
    metadata: str


def make_sp(
    directory: Path,
    idp_metadata: str | None,
    *,
    entity_id: str = SP_ENTITY,
    acs: str = ACS,
    slo: str = SLO,
    sign_requests: bool = True,
    encrypt: bool = True,
) -> SP:
    key, cert = key_files(directory, "sp-sign")
    enc_key, enc_cert = key_files(directory, "sp-enc") if encrypt else (None, None)
    conf = {
        "entityid": entity_id,
        "xmlsec_binary": shutil.which("xmlsec1"),
        "key_file": key,
        "cert_file": cert,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(acs, BINDING_HTTP_POST)],
                    "single_logout_service": [(slo, BINDING_HTTP_REDIRECT)],
                },
                "authn_requests_signed": sign_requests,
                "logout_requests_signed": True,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "allow_unsolicited": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "name_id_format_allow_create": True,
            }
        },
        "allow_unknown_attributes": True,
        "delete_tmpfiles": True,
    }
    if encrypt:
        conf["encryption_keypairs"] = [{"key_file": enc_key, "cert_file": enc_cert}]
    config = SPConfig()
    config.load(conf)
    metadata = str(entity_descriptor(config))
    if idp_metadata is not None:
        config.attribute_converters = [converter()]
        config.metadata = config.load_metadata({"inline": [idp_metadata]})
    return SP(Saml2Client(config=config), config, metadata)


def posted_form(page: str) -> tuple[str, dict[str, str]]:
    """The auto-submitting form of our POST binding page: its action and fields."""
    match = _FORM.search(page)
    assert match, page[:800]
    fields = {name: html.unescape(value) for name, value in _INPUT.findall(page)}
    return html.unescape(match.group(1)), fields


def uri_attributes(ava: dict) -> dict:
    return ava


__all__ = ["ACS", "NAME_FORMAT_URI", "SLO", "SP", "SP_ENTITY", "make_sp", "posted_form"]
