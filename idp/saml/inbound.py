"""Checking what an SP sends: AuthnRequests and LogoutRequests, on either binding.

In order: decode (base64, raw DEFLATE for HTTP-Redirect, with a size limit), parse with DTDs
and entities refused, find the issuer among the registered SPs, verify the signature (the
query-string signature of HTTP-Redirect here, the XML signature of HTTP-POST by pysaml2 against
the SP's metadata; required when the SP declares ``AuthnRequestsSigned``), let pysaml2 read the
message, then what pysaml2 leaves to us: a short ``IssueInstant`` window, the exact ACS URL, and
the replay cache. Every refusal is a ``Refused`` with a reason for the audit trail.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote_plus

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.sigver import SIGNER_ALGS, extract_rsa_key_from_x509_cert, pem_format
from saml2.xmldsig import SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.saml.models import SeenRequest, ServiceProvider
from idp.saml.providers import POST, REDIRECT
from idp.saml.server import IdP

PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
#: Request signatures we accept (SHA-1 and MD5 are refused, whatever the SP's metadata lists).
SIGNATURE_ALGORITHMS = (SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512)
MAX_AGE = timedelta(minutes=5)
MAX_SKEW = timedelta(minutes=1)
_MAX_XML = 200_000
REDIRECT_BINDING = REDIRECT


class Refused(Exception):
    """A message we will not act on; ``reason`` goes to the audit trail."""

    def __init__(self, reason: str, entity_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entity_id = entity_id


@dataclass
class Inbound:
    sp: ServiceProvider
    xml: bytes
    message: object  # the pysaml2 request object (AuthnRequest or LogoutRequest)
    request_id: str
    relay_state: str


def decode(raw: str | None, binding: str) -> bytes:
    if not raw or len(raw) > 4 * _MAX_XML:
        raise Refused("missing_or_oversized")
    try:
        data = base64.b64decode(raw.encode("ascii"), validate=False)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise Refused("bad_base64") from None
    if binding == BINDING_HTTP_REDIRECT:
        try:
            inflater = zlib.decompressobj(-15)
            data = inflater.decompress(data, _MAX_XML)
            if inflater.unconsumed_tail:
                raise Refused("oversized")
        except zlib.error:
            raise Refused("bad_deflate") from None
    if not data.strip():
        raise Refused("empty")
    return data


def parse(xml: bytes, tag: str):
    try:
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Refused("doctype") from None
    except Exception:  # ParseError, encoding errors
        raise Refused("malformed_xml") from None
    if root.tag != f"{{{PROTOCOL}}}{tag}":
        raise Refused("unexpected_message")
    return root


def issuer_of(db: Session, root) -> ServiceProvider:
    el = root.find(f"{{{ASSERTION}}}Issuer")
    entity_id = (el.text or "").strip() if el is not None else ""
    sp = db.get(ServiceProvider, entity_id) if entity_id else None
    if sp is None:
        raise Refused("unknown_issuer", entity_id or None)
    return sp


def _raw_param(query: str, name: str) -> str | None:
    for part in query.split("&"):
        if part.startswith(name + "="):
            return part
    return None


def check_redirect_signature(idp: IdP, sp: ServiceProvider, query: str, kind: str) -> bool:
    """The HTTP-Redirect signature over the query exactly as sent (SAML bindings §3.4.4.1).
    Returns whether the message was signed; raises ``Refused`` if signed wrongly."""
    signature = _raw_param(query, "Signature")
    sigalg = _raw_param(query, "SigAlg")
    if signature is None and sigalg is None:
        return False
    if signature is None or sigalg is None:
        raise Refused("bad_signature", sp.entity_id)
    alg = unquote_plus(sigalg.split("=", 1)[1])
    if alg not in SIGNATURE_ALGORITHMS:
        raise Refused("weak_signature_algorithm", sp.entity_id)
    signed = "&".join(
        p for p in (_raw_param(query, kind), _raw_param(query, "RelayState"), sigalg) if p
    ).encode("ascii")
    try:
        sig = base64.b64decode(unquote_plus(signature.split("=", 1)[1]))
    except (binascii.Error, ValueError):
        raise Refused("bad_signature", sp.entity_id) from None
    for _name, cert in idp.metadata.certs(sp.entity_id, "spsso", "signing"):
        try:
            key = extract_rsa_key_from_x509_cert(pem_format(cert))
            if SIGNER_ALGS[alg].verify(signed, sig, key):
                return True
        except Exception:  # noqa: S112 (a malformed certificate: try the next one)
            continue
    raise Refused("bad_signature", sp.entity_id)


def has_xml_signature(root) -> bool:
    return root.find(f"{{{DS}}}Signature") is not None


def check_instant(message, now: datetime, sp: ServiceProvider) -> None:
    """pysaml2 accepts requests up to a day old; we accept five minutes (and one of skew)."""
    try:
        instant = datetime.fromisoformat(str(message.issue_instant).replace("Z", "+00:00"))
    except ValueError:
        raise Refused("bad_issue_instant", sp.entity_id) from None
    if instant.tzinfo is None:
        raise Refused("bad_issue_instant", sp.entity_id)
    if instant < now - MAX_AGE or instant > now + MAX_SKEW:
        raise Refused("expired_issue_instant", sp.entity_id)


def remember(db: Session, sp: ServiceProvider, request_id: str, now: datetime) -> None:
    """Refuse an ID already seen from this SP (rows are kept past the accepted age)."""
    db.execute(delete(SeenRequest).where(SeenRequest.expires_at < now))
    if db.get(SeenRequest, (sp.entity_id, request_id)) is not None:
        raise Refused("replayed_id", sp.entity_id)
    try:
        with db.begin_nested():
            db.add(
                SeenRequest(
                    entity_id=sp.entity_id,
                    request_id=request_id[:256],
                    expires_at=now + MAX_AGE + MAX_SKEW * 2,
                )
            )
    except IntegrityError:
        raise Refused("replayed_id", sp.entity_id) from None


def choose_acs(sp: ServiceProvider, message) -> str:
    """The ACS URL must be one the SP registered, exactly, on HTTP-POST."""
    wanted = message.assertion_consumer_service_url
    binding = message.protocol_binding
    if binding and binding != BINDING_HTTP_POST:
        raise Refused("unsupported_binding", sp.entity_id)
    posts = [a for a in sp.acs if a["binding"] == POST]
    if wanted:
        if wanted not in {a["location"] for a in posts}:
            raise Refused("unregistered_acs", sp.entity_id)
        return wanted
    index = message.assertion_consumer_service_index
    if index is not None:
        match = [a for a in posts if str(a.get("index")) == str(index)]
        if not match:
            raise Refused("unregistered_acs", sp.entity_id)
        return match[0]["location"]
    return default_acs(sp)


def default_acs(sp: ServiceProvider) -> str:
    posts = [a for a in sp.acs if a["binding"] == POST]
    return next((a for a in posts if a.get("default")), posts[0])["location"]


def read_request(
    db: Session,
    idp: IdP,
    *,
    raw: str | None,
    binding: str,
    query: str,
    relay_state: str,
    now: datetime,
    tag: str = "AuthnRequest",
) -> Inbound:
    kind = "SAMLRequest"
    xml = decode(raw, binding)
    root = parse(xml, tag)
    sp = issuer_of(db, root)
    if binding == BINDING_HTTP_REDIRECT:
        signed = check_redirect_signature(idp, sp, query, kind)
    else:
        signed = has_xml_signature(root)
    if tag == "AuthnRequest" and sp.authn_requests_signed and not signed:
        raise Refused("unsigned_request", sp.entity_id)
    if tag == "LogoutRequest" and not signed:
        # A logout names a person: only the SP itself may ask for it.
        raise Refused("unsigned_request", sp.entity_id)
    try:
        if tag == "AuthnRequest":
            parsed = idp.parse_authn_request(raw, binding)
        else:
            parsed = idp.parse_logout_request(raw, binding)
    except Exception:  # pysaml2 raises many types: bad XML signature, schema, destination...
        raise Refused("bad_signature" if signed else "invalid_request", sp.entity_id) from None
    if parsed is None or parsed.message is None:
        raise Refused("invalid_request", sp.entity_id)
    message = parsed.message
    check_instant(message, now, sp)
    if not message.id:
        raise Refused("invalid_request", sp.entity_id)
    return Inbound(sp, xml, message, str(message.id), relay_state)
