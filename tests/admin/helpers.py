"""A small registry (two schools of one académie, one of another), accounts in every state,
staff of every role, and a staff login with its TOTP code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from idp.accounts.login import totp
from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState, ActivationRoute
from idp.admin.models import StaffTotp
from idp.admin.roles import Role
from idp.admin.staff.service import StaffSpec, create_staff
from idp.clock import FrozenClock
from idp.db import transaction
from idp.registry.identifiers import uai_check_letter
from idp.registry.models import Guardian, Guardianship, Pupil, PupilStatus, School, Source
from idp.state import AppState
from tests.support.oidc import PASSWORD, csrf_of, form_fields


def uai(digits: str) -> str:
    return digits + uai_check_letter(digits)


A, B, C = uai("0750001"), uai("0750002"), uai("0210001")


@dataclass
class World:
    pupils: dict[str, str] = field(default_factory=dict)  # label → pupil id
    guardians: dict[str, str] = field(default_factory=dict)  # label → guardian id
    accounts: dict[str, str] = field(default_factory=dict)  # label → account id
    staff: dict[str, str] = field(default_factory=dict)  # role label → username
    secrets: dict[str, str] = field(default_factory=dict)  # username → TOTP secret


def _school(db, code: str, name: str, degree: int, academy: str, now) -> None:
    db.add(
        School(uai=code, name=name, degree=degree, academy=academy, created_at=now, updated_at=now)
    )


def _pupil(db, world: World, label: str, school: str, class_name: str, level: str, now) -> Pupil:
    pupil = Pupil(
        family_name=label.upper(),
        given_name=label.capitalize(),
        birthdate=date(2013, 3, 12),
        school_uai=school,
        level=level,
        class_name=class_name,
        status=PupilStatus.enrolled,
        source=Source.siecle,
        source_id=f"E-{label}",
        created_at=now,
        updated_at=now,
    )
    db.add(pupil)
    db.flush()
    world.pupils[label] = pupil.id
    return pupil


def _guardian(
    db, world: World, label: str, pupils: list[Pupil], now, email: str | None = None
) -> Guardian:
    guardian = Guardian(
        family_name=label.upper(),
        given_name="Parent",
        email=email,
        mobile="+33612345678",
        source=Source.siecle,
        source_id=f"P-{label}",
        created_at=now,
        updated_at=now,
    )
    db.add(guardian)
    db.flush()
    for p in pupils:
        db.add(
            Guardianship(
                guardian_id=guardian.id,
                pupil_id=p.id,
                relationship_code="10",
                legal_guardian_rank=1,
                created_at=now,
                updated_at=now,
            )
        )
    world.guardians[label] = guardian.id
    return guardian


def _account(
    db,
    world: World,
    label: str,
    kind: AccountKind,
    state: AccountState,
    now,
    *,
    pupil=None,
    guardian=None,
    **extra,
) -> Account:
    values = dict(
        kind=kind,
        username=f"u.{label}",
        password_hash=None,
        state=state,
        given_name=label,
        family_name=label.upper(),
        created_at=now,
        updated_at=now,
        pupil_id=pupil.id if pupil else None,
    )
    values.update(extra)
    account = Account(**values)
    db.add(account)
    db.flush()
    if guardian is not None:
        db.add(AccountGuardian(account_id=account.id, guardian_id=guardian.id, linked_at=now))
    world.accounts[label] = account.id
    return account


def build_world(state: AppState, password_hash: str | None = None) -> World:
    """School A (collège, Paris): 5A alice (active, letter), bob (notified), carl (expired letter),
    4B dora (locked), emil (no account); guardians of alice (active, sms), bob (no account), dora
    (disabled). School B (collège, Paris): 6C fred (active) and his guardian (active,
    franceconnect). School C (école, Dijon): CP gina, her guardian (notified)."""
    world = World()
    now = state.clock.now()
    with transaction(state.sessions) as db:
        _school(db, A, "Collège Victor Hugo", 2, "Paris", now)
        _school(db, B, "Collège Jean Moulin", 2, "Paris", now)
        _school(db, C, "École Jules Ferry", 1, "Dijon", now)
        db.flush()
        alice = _pupil(db, world, "alice", A, "5A", "5EME", now)
        bob = _pupil(db, world, "bob", A, "5A", "5EME", now)
        carl = _pupil(db, world, "carl", A, "5A", "5EME", now)
        dora = _pupil(db, world, "dora", A, "4B", "4EME", now)
        _pupil(db, world, "emil", A, "4B", "4EME", now)
        fred = _pupil(db, world, "fred", B, "6C", "6EME", now)
        gina = _pupil(db, world, "gina", C, "CP", "CP", now)
        ga = _guardian(db, world, "alice", [alice], now, email="parent.alice@example.fr")
        _guardian(db, world, "bob", [bob], now)
        gd = _guardian(db, world, "dora", [dora], now)
        gf = _guardian(db, world, "fred", [fred], now)
        gg = _guardian(db, world, "gina", [gina], now)
        active = dict(
            activated_at=now - timedelta(days=10),
            activation_route=ActivationRoute.letter,
            password_hash=password_hash,
        )
        _account(
            db,
            world,
            "alice",
            AccountKind.pupil,
            AccountState.active,
            now,
            pupil=alice,
            email="alice@example.fr",
            **active,
        )
        _account(
            db,
            world,
            "bob",
            AccountKind.pupil,
            AccountState.notified,
            now,
            pupil=bob,
            notified_at=now,
            notification_expires_at=now + timedelta(days=90),
            password_hash=password_hash,
        )
        _account(
            db,
            world,
            "carl",
            AccountKind.pupil,
            AccountState.notified,
            now,
            pupil=carl,
            notified_at=now - timedelta(days=100),
            notification_expires_at=now - timedelta(days=10),
        )
        _account(
            db,
            world,
            "dora",
            AccountKind.pupil,
            AccountState.locked,
            now,
            pupil=dora,
            locked_until=now + timedelta(minutes=30),
            **active,
        )
        _account(
            db, world, "fred", AccountKind.pupil, AccountState.active, now, pupil=fred, **active
        )
        _account(
            db,
            world,
            "p.alice",
            AccountKind.guardian,
            AccountState.active,
            now,
            guardian=ga,
            activated_at=now - timedelta(days=3),
            activation_route=ActivationRoute.sms,
        )
        _account(
            db,
            world,
            "p.dora",
            AccountKind.guardian,
            AccountState.disabled,
            now,
            guardian=gd,
            activated_at=now - timedelta(days=20),
        )
        _account(
            db,
            world,
            "p.fred",
            AccountKind.guardian,
            AccountState.active,
            now,
            guardian=gf,
            activated_at=now - timedelta(days=1),
            activation_route=ActivationRoute.franceconnect,
        )
        _account(
            db,
            world,
            "p.gina",
            AccountKind.guardian,
            AccountState.notified,
            now,
            guardian=gg,
            notified_at=now,
            notification_expires_at=now + timedelta(days=90),
        )
    return world


STAFF = {
    "director_a": (Role.director, [A], ""),
    "director_b": (Role.director, [B], ""),
    "delegate_a": (Role.delegate, [A], ""),
    "academy_paris": (Role.academy, [], "Paris"),
    "academy_dijon": (Role.academy, [], "Dijon"),
    "national": (Role.national, [], ""),
}


def add_staff(state: AppState, world: World, label: str, *, enrolled: bool = True) -> str:
    """A staff account with a known password (no forced change) and, when ``enrolled``, a
    confirmed TOTP secret kept in ``world.secrets``."""
    role, schools, academy = STAFF[label]
    username = label.replace("_", ".")
    with transaction(state.sessions) as db:
        spec = StaffSpec(
            username, label.split("_")[0].capitalize(), "Staff", role, schools, academy
        )
        account, _ = create_staff(state, db, spec)
        account.password_hash = state.passwords.hash(PASSWORD)
        account.force_password_change = False
        if enrolled:
            world.secrets[username] = totp.start_enrolment(state, db, account.id)
            db.get(StaffTotp, account.id).confirmed_at = state.clock.now()
    world.staff[label] = username
    world.accounts[f"staff:{label}"] = account.id
    return username


def code(world: World, username: str, clock: FrozenClock) -> str:
    return totp.current_code(world.secrets[username], clock.timestamp())


def staff_login(client, world: World, label: str, clock: FrozenClock, auth_url: str = "/login"):
    """Password then TOTP; returns the response to the code (a redirect)."""
    username = world.staff[label]
    page = client.get(auth_url)
    data = form_fields(page.text)
    data.update({"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    step = client.get(response.headers["location"])
    assert "Double authentification" in step.text, step.text[:500]
    clock.advance(30)  # a fresh time step: codes are single-use
    data = form_fields(step.text)
    data.update({"csrf_token": csrf_of(step.text), "code": code(world, username, clock)})
    done = client.post("/connexion/double-authentification", data=data, follow_redirects=False)
    assert done.status_code in (302, 303), done.text[:500]
    return done


def post(client, page_url: str, action: str, **fields):
    """Post a form found on ``page_url`` (its CSRF token), with ``fields``."""
    page = client.get(page_url)
    data = {"csrf_token": csrf_of(page.text), **fields}
    return client.post(action, data=data, follow_redirects=False)


def text_of(html: str) -> str:
    import html as html_lib

    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def api_token(
    state: AppState,
    world: World,
    label: str,
    *,
    scope: str = "openid admin",
    amr: list[str] | None = None,
    account_id: str | None = None,
) -> str:
    """An access token of this IdP for the staff member ``label`` (minted by the token service,
    as the token endpoint would after a code flow with the second factor)."""
    from idp.oidc.clients import ClientSpec, create_client
    from idp.oidc.models import Client

    with transaction(state.sessions) as db:
        client = db.get(Client, "admin-tool")
        if client is None:
            spec = ClientSpec(
                name="Outil académique",
                redirect_uris=["https://outil.example.fr/cb"],
                scopes=["openid", "profile", "admin"],
                client_id="admin-tool",
                first_party=True,
            )
            client, _ = create_client(db, spec, state.clock, state.settings.secrets["secret_key"])
        account = db.get(Account, account_id or world.accounts[f"staff:{label}"])
        grant = state.tokens.new_grant(
            db,
            client,
            account.id,
            scope,
            amr=amr or ["pwd", "otp", "mfa"],
            auth_time=state.clock.timestamp(),
        )
        return state.tokens.issue(db, client, account, scope, grant, include_refresh=False)[
            "access_token"
        ]


def csrf(client) -> str:
    return csrf_of(client.get("/assistance").text)
