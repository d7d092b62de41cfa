"""The IdP metadata at ``/idp/shibboleth``: built by pysaml2 from the IdP configuration and
signed with the active key; cached until the keys change."""

from __future__ import annotations

import threading

from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy.orm import Session

from idp.saml.wiring import saml_of
from idp.state import AppState

_lock = threading.Lock()
_cache: dict[tuple[str, str], str] = {}


def idp_metadata(state: AppState, db: Session) -> str:
    saml = saml_of(state)
    version = saml.keys.files().version
    key = (state.settings.issuer_url, version)
    found = _cache.get(key)
    if found is not None:
        return found
    idp = saml.idps.get(db)
    descriptor = entity_descriptor(idp.config)
    _, signed = sign_entity_descriptor(
        descriptor, None, idp.sec, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    xml = str(signed)
    with _lock:
        _cache.clear()
        _cache[key] = xml
    return xml
