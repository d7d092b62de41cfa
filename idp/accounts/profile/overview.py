"""What "Mon compte" shows and undoes: children, connected services, active sessions.

Children come from the registry through every guardian record the account holds (grouping adds
records), so a change in ONDE/SIECLE shows at once. A connected service is a client holding a
live grant for the account; revoking it revokes those grants (every token issued under them)
and forgets the consent, so the service must ask again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, FederatedIdentity
from idp.i18n import _
from idp.oidc.models import Client, Consent, Grant
from idp.registry.models import Guardianship, Pupil, PupilStatus, School
from idp.security.stores import SessionData
from idp.state import AppState

try:
    _PARIS: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database: show UTC rather than fail
    _PARIS = None


@dataclass(frozen=True)
class Child:
    given_name: str
    family_name: str
    birthdate: date
    school_name: str
    school_uai: str
    class_name: str | None
    level: str | None


@dataclass(frozen=True)
class Service:
    client_id: str
    name: str
    since: datetime


@dataclass(frozen=True)
class ActiveSession:
    sid: str
    device: str
    ip: str | None
    started: datetime
    current: bool
    franceconnect: bool


def children(db: Session, account: Account) -> list[Child]:
    """Enrolled children across every linked guardian record (pupil accounts: themselves)."""
    query = select(Pupil, School).join(School, School.uai == Pupil.school_uai)
    if account.pupil_id:
        query = query.where(Pupil.id == account.pupil_id)
    else:
        query = (
            query.join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .join(AccountGuardian, AccountGuardian.guardian_id == Guardianship.guardian_id)
            .where(AccountGuardian.account_id == account.id, Pupil.status == PupilStatus.enrolled)
        )
    seen: dict[str, Child] = {}
    for pupil, school in db.execute(query.order_by(Pupil.birthdate, Pupil.given_name)).unique():
        seen.setdefault(
            pupil.id,
            Child(
                pupil.given_name,
                pupil.family_name,
                pupil.birthdate,
                school.name,
                school.uai,
                pupil.class_name,
                pupil.level,
            ),
        )
    return list(seen.values())


def services(state: AppState, db: Session, account_id: str) -> list[Service]:
    rows = db.execute(
        select(Client.client_id, Client.name, Grant.created_at)
        .join(Grant, Grant.client_id == Client.client_id)
        .where(
            Grant.account_id == account_id,
            Grant.revoked_at.is_(None),
            Grant.expires_at > state.clock.now(),
        )
        .order_by(Grant.created_at)
    )
    found: dict[str, Service] = {}
    for client_id, name, created_at in rows:
        found.setdefault(client_id, Service(client_id, name, created_at))
    return sorted(found.values(), key=lambda s: s.name.lower())


def revoke_service(state: AppState, db: Session, account_id: str, client_id: str) -> int:
    """Revoke every grant of the client for the account and forget the consent."""
    grant_ids = list(
        db.scalars(
            select(Grant.id).where(
                Grant.account_id == account_id,
                Grant.client_id == client_id,
                Grant.revoked_at.is_(None),
            )
        )
    )
    for grant_id in grant_ids:
        state.tokens.revoke_grant(db, grant_id, "user_revoked")
    forgotten = db.execute(
        delete(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
    ).rowcount
    if grant_ids or forgotten:
        state.audit.record(
            db,
            "consent.revoked",
            actor_account_id=account_id,
            client_id=client_id,
            detail={"grants": len(grant_ids)},
        )
    return len(grant_ids)


def active_sessions(
    state: AppState, db: Session, account_id: str, current_sid: str | None
) -> list[ActiveSession]:
    return [
        ActiveSession(
            sid=s.sid,
            device=describe_device(s.user_agent),
            ip=s.ip,
            started=s.created_at,
            current=s.sid == current_sid,
            franceconnect="fc" in s.amr,
        )
        for s in sorted(state.stores.sessions.for_account(db, account_id), key=_newest_first)
    ]


def _newest_first(session: SessionData) -> float:
    return -session.created_at.timestamp()


def has_franceconnect(db: Session, account_id: str) -> bool:
    return (
        db.scalar(
            select(FederatedIdentity.id).where(FederatedIdentity.account_id == account_id).limit(1)
        )
        is not None
    )


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"^[\w.\-]+")


def describe_device(user_agent: str | None) -> str:
    """A short, recognisable label for a user agent ("Firefox sous Windows")."""
    if not user_agent:
        return _("Appareil inconnu")
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return _("%(browser)s sous %(system)s") % {"browser": browser, "system": system}
    if browser or system:
        return browser or _("Navigateur sous %(system)s") % {"system": system}
    product = _PRODUCT.match(user_agent)
    return product.group(0)[:40] if product else _("Appareil inconnu")


def format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime) -> str:
    local = value.astimezone(_PARIS) if _PARIS else value
    return _("%(date)s à %(time)s") % {
        "date": local.strftime("%d/%m/%Y"),
        "time": local.strftime("%H:%M"),
    }
