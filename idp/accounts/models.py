"""Accounts, their links to registry records, and upstream (FranceConnect) identities."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.db import ID, Base, new_id


class AccountKind(enum.StrEnum):
    guardian = "guardian"
    pupil = "pupil"
    staff = "staff"


class AccountState(enum.StrEnum):
    """What directors filter on. ``not_created`` is a registry person without an account."""

    notified = "notified"  # credentials issued, letter valid 3 months
    active = "active"
    locked = "locked"  # too many failures, temporary
    disabled = "disabled"  # by an administrator
    expired = "expired"  # letter not used in time
    retired = "retired"  # merged into another account (grouping)


class ActivationRoute(enum.StrEnum):
    letter = "letter"
    sms = "sms"
    franceconnect = "franceconnect"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[AccountState] = mapped_column(_enum(AccountState, "account_state"), index=True)
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_number: Mapped[str | None] = mapped_column(String(20))  # E.164
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    activation_route: Mapped[ActivationRoute | None] = mapped_column(
        _enum(ActivationRoute, "activation_route")
    )
    force_password_change: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Staff role assignments: ``[{"role": "director", "scope": ["0750001A"]}, ...]``.
    roles: Mapped[list[dict] | None] = mapped_column(JSON)
    pupil_id: Mapped[str | None] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: Merged into this account (grouping); the retired account keeps its row for the audit.
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]
    notification_expires_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]

    guardian_links: Mapped[list[AccountGuardian]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )

    def get_user_id(self) -> str:  # Authlib's user protocol
        return self.id

    @property
    def can_log_in(self) -> bool:
        return self.state in (AccountState.active, AccountState.notified)


class AccountGuardian(Base):
    """A guardian account covers one or more registry guardian records (grouping adds links)."""

    __tablename__ = "account_guardians"
    __table_args__ = (UniqueConstraint("guardian_id", name="uq_account_guardians_guardian"),)

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardians.id"), primary_key=True)
    linked_at: Mapped[datetime]

    account: Mapped[Account] = relationship(back_populates="guardian_links")


class FederatedIdentity(Base):
    """An upstream subject (FranceConnect) linked to an account."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_federated_identity"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
