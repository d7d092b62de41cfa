"""OneLogin's python3-saml as a second, independent service provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from idp.saml.keys import new_key_pair

ENTITY = "https://sp2.example.fr/metadata"
ACS = "https://sp2.example.fr/acs"
SLS = "https://sp2.example.fr/sls"


@dataclass
class OneLoginSP:
    settings: dict

    @property
    def metadata(self) -> str:
        sp = OneLogin_Saml2_Settings(self.settings, sp_validation_only=True)
        return (
            sp.get_sp_metadata().decode()
            if isinstance(sp.get_sp_metadata(), bytes)
            else sp.get_sp_metadata()
        )

    def auth(
        self, url: str, get: dict | None = None, post: dict | None = None
    ) -> OneLogin_Saml2_Auth:
        parts = urlsplit(url)
        request = {
            "https": "on",
            "http_host": parts.netloc,
            "script_name": parts.path,
            "get_data": get or {},
            "post_data": post or {},
        }
        return OneLogin_Saml2_Auth(request, self.settings)


def make_onelogin_sp(idp_metadata: str) -> OneLoginSP:
    key, cert = new_key_pair("sp2.example.fr", datetime.now(UTC))
    idp = OneLogin_Saml2_IdPMetadataParser.parse(idp_metadata)
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": ENTITY,
            "assertionConsumerService": {"url": ACS, "binding": C.BINDING_HTTP_POST},
            "singleLogoutService": {"url": SLS, "binding": C.BINDING_HTTP_REDIRECT},
            "NameIDFormat": C.NAMEID_PERSISTENT,
            "x509cert": cert,
            "privateKey": key,
        },
        "idp": idp["idp"],
        "security": {
            "authnRequestsSigned": True,
            "logoutRequestSigned": True,
            "logoutResponseSigned": True,
            "wantMessagesSigned": True,
            "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": True,
            "wantNameId": True,
            "signatureAlgorithm": C.RSA_SHA256,
            "digestAlgorithm": C.SHA256,
            "rejectDeprecatedAlgorithm": True,
            "requestedAuthnContext": False,
        },
    }
    return OneLoginSP(settings)
