"""Registry rows, notified accounts and the development outbox, for the journey tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.db import transaction
from idp.outbox.models import OutboxMessage
from idp.registry.identifiers import uai_check_letter
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School, Source
from idp.state import AppState
from tests.support.oidc import csrf_of, form_fields

TEMPORARY = "abcd-efgh-jkmn"
NEW_PASSWORD = "Vélo-Rouge-Pluie-97"


def uai(digits: str) -> str:
    return digits + uai_check_letter(digits)


@dataclass
class Family:
    guardian_ids: list[str]
    pupil_ids: list[str]
    birthdates: list[date]
    account_id: str | None = None
    extra: dict = field(default_factory=dict)


def ensure_school(
    state: AppState,
    code: str = "0750001",
    name: str = "Collège Victor Hugo",
    academy: str = "Paris",
) -> str:
    with transaction(state.sessions) as db:
        school_uai = uai(code)
        if db.get(School, school_uai) is None:
            now = state.clock.now()
            db.add(
                School(
                    uai=school_uai,
                    name=name,
                    degree=2,
                    academy=academy,
                    created_at=now,
                    updated_at=now,
                )
            )
    return school_uai


def add_guardian(
    state: AppState,
    *,
    given: str = "Jeanne",
    family: str = "Martin",
    mobile: str | None = "+33612345678",
    email: str | None = None,
    children: list[tuple[str, date]] | None = None,
    pupil_ids: list[str] | None = None,
    school: str = "0750001",
    legal: bool = True,
    departed: bool = False,
) -> Family:
    """A registry guardian with new children (``children``) and/or existing pupils."""
    school_uai = ensure_school(state, school)
    now = state.clock.now()
    with transaction(state.sessions) as db:
        guardian = Guardian(
            family_name=family,
            given_name=given,
            mobile=mobile,
            email=email,
            source=Source.siecle,
            source_id=f"P{len(db.scalars(select(Guardian.id)).all()) + 1}",
            created_at=now,
            updated_at=now,
        )
        db.add(guardian)
        db.flush()
        ids = list(pupil_ids or [])
        dates = []
        for i, (child_given, birthdate) in enumerate(children or []):
            pupil = Pupil(
                family_name=family,
                given_name=child_given,
                birthdate=birthdate,
                school_uai=school_uai,
                level="5EME",
                class_name="5A",
                status=PupilStatus.departed if departed else PupilStatus.enrolled,
                source=Source.siecle,
                source_id=f"E{guardian.id[:8]}{i}",
                created_at=now,
                updated_at=now,
            )
            db.add(pupil)
            db.flush()
            ids.append(pupil.id)
            dates.append(birthdate)
        for pupil_id in ids:
            db.add(
                Guardianship(
                    guardian_id=guardian.id,
                    pupil_id=pupil_id,
                    relationship_code="10",
                    legal_guardian_rank=1 if legal else None,
                    created_at=now,
                    updated_at=now,
                )
            )
    return Family([guardian.id], ids, dates)


def notify(
    state: AppState,
    family: Family,
    /,
    username: str = "j.martin12",
    password: str = TEMPORARY,
    **fields,
) -> Family:
    """A notified guardian account for the family (what ``accounts notify`` produces)."""
    now = state.clock.now()
    with transaction(state.sessions) as db:
        guardian = db.get(Guardian, family.guardian_ids[0])
        values = dict(
            kind=AccountKind.guardian,
            username=username,
            password_hash=state.passwords.hash(password),
            state=AccountState.notified,
            given_name=guardian.given_name,
            family_name=guardian.family_name,
            created_at=now,
            updated_at=now,
            notified_at=now,
            notification_expires_at=now + timedelta(days=90),
        )
        values.update(fields)
        account = Account(**values)
        db.add(account)
        db.flush()
        for guardian_id in family.guardian_ids:
            db.add(AccountGuardian(account_id=account.id, guardian_id=guardian_id, linked_at=now))
        family.account_id = account.id
    return family


def account(state: AppState, account_id: str) -> Account:
    with transaction(state.sessions) as db:
        return db.get(Account, account_id)


def outbox(
    state: AppState, template: str | None = None, to: str | None = None
) -> list[OutboxMessage]:
    with transaction(state.sessions) as db:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        if to:
            query = query.where(OutboxMessage.recipient == to)
        return list(db.scalars(query))


def last_code(state: AppState, to: str) -> str:
    found = outbox(state, "otp", to)
    assert found, f"no code sent to {to}"
    return re.search(r"\b(\d{6})\b", found[-1].body).group(1)


def last_link(state: AppState, template: str, to: str) -> str:
    """The path and query of the last link sent by e-mail to ``to``."""
    found = outbox(state, template, to)
    assert found, f"no {template} sent to {to}"
    url = re.search(r"(https?://\S+)", found[-1].body).group(1)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["jeton"][0]


def post_form(client, page_html: str, action: str, **fields):
    """Submit a form of ``page_html`` with its hidden fields, overriding ``fields``."""
    data = form_fields(page_html)
    data["csrf_token"] = csrf_of(page_html)
    data.update(fields)
    return client.post(action, data=data, follow_redirects=False)


def account_id_of(state: AppState, username: str) -> str:
    with transaction(state.sessions) as db:
        return db.scalar(select(Account.id).where(Account.username == username))
