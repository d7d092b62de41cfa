"""Persisted SAML artefacts: service providers, the IdP's certificates, consents and the
replay cache of request IDs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import ID, Base, new_id


class ServiceProvider(Base):
    """A SAML relying party, registered from its metadata (kept verbatim for pysaml2)."""

    __tablename__ = "saml_service_providers"

    entity_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    metadata_xml: Mapped[str] = mapped_column(Text)
    #: ``[{"binding": ..., "location": ..., "index": n, "default": bool}]``, in metadata order.
    acs: Mapped[list[dict]] = mapped_column(JSON)
    slo: Mapped[list[dict]] = mapped_column(JSON)
    authn_requests_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    encrypts: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Friendly names of the attributes released (the release policy).
    release: Mapped[list[str]] = mapped_column(JSON)
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Sector of FrEduCtId and the persistent NameID (default: the entity ID itself).
    sector: Mapped[str] = mapped_column(String(500))
    valid_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SamlKey(Base):
    """An IdP key pair and its self-signed certificate; ``next`` is published before use."""

    __tablename__ = "saml_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), index=True)  # next | active | retired
    certificate_pem: Mapped[str] = mapped_column(Text)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    publish_until: Mapped[datetime | None]


class SamlConsent(Base):
    __tablename__ = "saml_consents"
    __table_args__ = (UniqueConstraint("account_id", "entity_id", name="uq_saml_consent_pair"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("saml_service_providers.entity_id", ondelete="CASCADE")
    )
    attributes: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[datetime]


class SeenRequest(Base):
    """Request IDs already answered (replay cache); rows past ``expires_at`` are purged."""

    __tablename__ = "saml_seen_requests"

    entity_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
