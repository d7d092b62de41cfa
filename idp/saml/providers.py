"""Service providers, registered from their SAML metadata (``educonnect saml sp add`` and the
admin API).

Metadata is parsed with DTDs and entity expansion refused. What we use of it — ACS and SLO
endpoints, certificates, ``AuthnRequestsSigned`` — is read once here and stored beside the file;
the file itself is handed to pysaml2, which reads certificates from it. An unsigned file is a
locally managed SP (as in Shibboleth); a signed one is checked when a federation certificate is
configured (``EDUCONNECT_SAML_FEDERATION_CERT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.saml.attributes import DEFAULT_RELEASE, RELEASABLE
from idp.saml.models import ServiceProvider

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
_MAX_BYTES = 1_000_000


class MetadataError(ValueError):
    """The metadata cannot be used; the message says why (shown to the operator)."""


@dataclass
class ParsedMetadata:
    entity_id: str
    name: str
    acs: list[dict]
    slo: list[dict]
    authn_requests_signed: bool
    encrypts: bool
    valid_until: datetime | None
    signed: bool


def _endpoint(el: Element, indexed: bool) -> dict:
    entry = {"binding": el.get("Binding", ""), "location": el.get("Location", "")}
    if el.get("ResponseLocation"):
        entry["response_location"] = el.get("ResponseLocation", "")
    if indexed:
        entry["index"] = int(el.get("index", "0") or 0)
        entry["default"] = el.get("isDefault", "false") == "true"
    return entry


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_metadata(xml: str | bytes, now: datetime) -> ParsedMetadata:
    raw = xml.encode() if isinstance(xml, str) else xml
    if len(raw) > _MAX_BYTES:
        raise MetadataError("metadata file is too large")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise MetadataError("metadata must not contain a DOCTYPE or entities") from None
    except Exception as exc:  # ParseError and friends
        raise MetadataError(f"metadata is not well-formed XML: {exc}") from None
    if root.tag != f"{{{MD}}}EntityDescriptor":
        raise MetadataError("metadata must be one md:EntityDescriptor")
    entity_id = (root.get("entityID") or "").strip()
    if not entity_id:
        raise MetadataError("metadata has no entityID")
    valid_until = None
    if root.get("validUntil"):
        try:
            valid_until = _datetime(root.get("validUntil", ""))
        except ValueError:
            raise MetadataError("validUntil is not a date") from None
        if valid_until <= now:
            raise MetadataError(f"metadata expired on {valid_until.isoformat()} (validUntil)")
    sp = root.find(f"{{{MD}}}SPSSODescriptor")
    if sp is None:
        raise MetadataError("metadata has no SPSSODescriptor")
    acs = [_endpoint(e, True) for e in sp.findall(f"{{{MD}}}AssertionConsumerService")]
    acs = [a for a in acs if a["location"].startswith(("https://", "http://"))]
    if not any(a["binding"] == POST for a in acs):
        raise MetadataError("metadata has no HTTP-POST AssertionConsumerService")
    slo = [_endpoint(e, False) for e in sp.findall(f"{{{MD}}}SingleLogoutService")]
    uses = [k.get("use", "") for k in sp.findall(f"{{{MD}}}KeyDescriptor")]
    display = root.find(f".//{{{MDUI}}}DisplayName")
    if display is None:
        display = root.find(f".//{{{MD}}}OrganizationDisplayName")
    name = (display.text or "").strip() if display is not None else ""
    return ParsedMetadata(
        entity_id=entity_id,
        name=name or entity_id,
        acs=acs,
        slo=slo,
        authn_requests_signed=sp.get("AuthnRequestsSigned", "false") == "true",
        encrypts=any(u in ("", "encryption") for u in uses),
        valid_until=valid_until,
        signed=root.find(f"{{{DS}}}Signature") is not None,
    )


def add_provider(
    db: Session,
    clock: Clock,
    xml: str,
    *,
    release: list[str] | None = None,
    first_party: bool = False,
    name: str | None = None,
    sector: str | None = None,
    federation_check=None,
) -> tuple[ServiceProvider, bool]:
    """Register (or replace the metadata of) an SP; return it and whether it is new."""
    now = clock.now()
    parsed = parse_metadata(xml, now)
    if parsed.signed and federation_check is not None:
        federation_check(xml)
    unknown = sorted(set(release or []) - set(RELEASABLE))
    if unknown:
        raise MetadataError(f"unknown attributes: {', '.join(unknown)}")
    sp = db.get(ServiceProvider, parsed.entity_id)
    created = sp is None
    if sp is None:
        sp = ServiceProvider(entity_id=parsed.entity_id, created_at=now, sector=parsed.entity_id)
        db.add(sp)
    sp.name = name or parsed.name
    sp.metadata_xml = xml
    sp.acs, sp.slo = parsed.acs, parsed.slo
    sp.authn_requests_signed, sp.encrypts = parsed.authn_requests_signed, parsed.encrypts
    sp.valid_until = parsed.valid_until
    if release is not None or created:
        sp.release = sorted(set(release or DEFAULT_RELEASE))
    sp.first_party = first_party or (not created and sp.first_party)
    if sector:
        sp.sector = sector
    sp.updated_at = now
    db.flush()
    return sp, created


def list_providers(db: Session) -> list[ServiceProvider]:
    return list(db.scalars(select(ServiceProvider).order_by(ServiceProvider.entity_id)))


def remove_provider(db: Session, entity_id: str) -> bool:
    sp = db.get(ServiceProvider, entity_id)
    if sp is None:
        return False
    db.delete(sp)
    db.flush()
    return True


def describe(sp: ServiceProvider) -> dict:
    return {
        "entity_id": sp.entity_id,
        "name": sp.name,
        "acs": [a["location"] for a in sp.acs],
        "slo": [s["location"] for s in sp.slo],
        "authn_requests_signed": sp.authn_requests_signed,
        "encrypts_assertions": sp.encrypts,
        "release": list(sp.release),
        "first_party": sp.first_party,
        "valid_until": sp.valid_until.isoformat() if sp.valid_until else None,
    }
