"""The pysaml2 identity provider, configured as the real relying parties require it.

Response and Assertion signed with RSA-SHA256 and SHA-256 digests (exclusive c14n), the assertion
encrypted with AES-256-GCM and RSA-OAEP when the SP's metadata has an encryption certificate
(pysaml2 alone would use 3DES), 5-minute assertions. One Server is built per set of keys and
SPs, and rebuilt when either changes.
"""

from __future__ import annotations

import re
import shutil
import threading
from xml.etree import ElementTree

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.entity import make_temp
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.sigver import get_pem_wrapped_unwrapped, pre_encryption_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.saml.attributes import converter
from idp.saml.keys import SamlKeys
from idp.saml.models import ServiceProvider
from idp.settings import Settings

AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
NAMEID_FORMATS = (NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT)
ASSERTION_MINUTES = 5

SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"
SSO_POST = "/idp/profile/SAML2/POST/SSO"
SLO_REDIRECT = "/idp/profile/SAML2/Redirect/SLO"
SLO_POST = "/idp/profile/SAML2/POST/SLO"
UNSOLICITED = "/idp/profile/SAML2/Unsolicited/SSO"
LOGOUT = "/idp/profile/Logout"
METADATA = "/idp/shibboleth"


#: Shibboleth's prefixes, the same inside and outside the encrypted assertion: python3-saml
#: rejects an assertion whose prefixes change when it is decrypted (its signature breaks).
PREFIXES = {
    "saml2p": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml2": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
for _prefix, _uri in PREFIXES.items():
    ElementTree.register_namespace(_prefix, _uri)


def entity_id(settings: Settings) -> str:
    return settings.issuer_url + METADATA


_ROOT = re.compile(r"<saml2p:Response\b([^>]*)>")
_DECLARATION = re.compile(r'xmlns:(\w+)="[^"]*"')


def self_contained(response: str) -> str:
    """Declare the Response's namespaces again on the assertion about to be encrypted, with the
    same prefixes: an SP that parses the decrypted assertion alone (pysaml2) finds them, and one
    that checks its signature in place (python3-saml) sees the same prefixes as we signed.
    Exclusive c14n ignores redundant declarations, so the signature stays valid."""
    root = _ROOT.search(response)
    start = response.find("<saml2:Assertion ")
    if root is None or start < 0:
        return response
    end = response.index(">", start)
    present = set(_DECLARATION.findall(response[start:end]))
    extra = [m.group(0) for m in _DECLARATION.finditer(root.group(1)) if m.group(1) not in present]
    head = "<saml2:Assertion "
    return response[:start] + head + " ".join(extra) + " " + response[start + len(head) :]


class IdP(Server):
    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        """pysaml2's own, with AES-256-GCM for the content instead of its hard-wired 3DES, and
        the assertion made self-contained with Shibboleth's prefixes (see ``self_contained``)."""
        if isinstance(response, str):
            response = self_contained(response)
        certs = (
            [(None, encrypt_cert)]
            if encrypt_cert
            else self.metadata.certs(sp_entity_id, "any", "encryption")
        )
        error = None
        for name, cert in certs:
            wrapped, unwrapped = get_pem_wrapped_unwrapped(cert)
            try:
                tmp = make_temp(wrapped.encode("ascii"), decode=False, delete_tmpfiles=True)
                template = pre_encryption_part(
                    msg_enc=AES256_GCM, key_enc=RSA_OAEP, key_name=name, encrypt_cert=unwrapped
                )
                return self.sec.encrypt_assertion(
                    response, tmp.name, template, key_type="aes-256", node_xpath=node_xpath
                )
            except Exception as exc:  # try the SP's next certificate, as pysaml2 does
                error = exc
        if error:
            raise error
        return response


def _config(settings: Settings, keys: SamlKeys, metadata: list[str]) -> IdPConfig:
    iss = settings.issuer_url
    files = keys.files()
    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id(settings),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": files.key_file,
            "cert_file": files.cert_file,
            "additional_cert_files": list(files.other_cert_files),
            "encryption_keypairs": [{"key_file": files.key_file, "cert_file": files.cert_file}],
            "delete_tmpfiles": True,
            "accepted_time_diff": 60,
            "service": {
                "idp": {
                    "name": "ÉduConnect",
                    "endpoints": {
                        "single_sign_on_service": [
                            (iss + SSO_REDIRECT, BINDING_HTTP_REDIRECT),
                            (iss + SSO_POST, BINDING_HTTP_POST),
                        ],
                        "single_logout_service": [
                            (iss + SLO_REDIRECT, BINDING_HTTP_REDIRECT),
                            (iss + SLO_POST, BINDING_HTTP_POST),
                        ],
                    },
                    "name_id_format": list(NAMEID_FORMATS),
                    # Checked per SP (its AuthnRequestsSigned) by idp.saml.inbound.
                    "want_authn_requests_signed": False,
                    "sign_response": True,
                    "sign_assertion": True,
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": ASSERTION_MINUTES},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
        }
    )
    config.attribute_converters = [converter()]
    config.metadata = config.load_metadata({"inline": metadata})
    return config


class IdPs:
    """The current pysaml2 Server, rebuilt when the keys or the registered SPs change."""

    def __init__(self, settings: Settings, keys: SamlKeys) -> None:
        self._settings = settings
        self._keys = keys
        self._lock = threading.Lock()
        self._built: tuple[tuple, IdP] | None = None

    def get(self, db: Session) -> IdP:
        stamp = (
            self._keys.files().version,
            tuple(db.execute(select(ServiceProvider.entity_id, ServiceProvider.updated_at)).all()),
        )
        built = self._built
        if built is not None and built[0] == stamp:
            return built[1]
        with self._lock:
            built = self._built
            if built is not None and built[0] == stamp:
                return built[1]
            xml = list(db.scalars(select(ServiceProvider.metadata_xml)))
            server = IdP(config=_config(self._settings, self._keys, xml))
            self._built = (stamp, server)
            return server
