"""The demo registry: a collège (SIECLE) and an école (ONDE), written as real exports into
``var/demo/`` and imported with the real importers, plus a few accounts to log in with.

Idempotent: the files are rewritten identically, the imports then count everything as
unchanged, and accounts are only created when their identifier is free.

Who is there, and what for:
- Sophie DURAND (``s.durand``, active): one child in each school, both of her registry
  records (SIECLE and ONDE, same mobile) linked to her account;
- Camille MARTIN (+33612345678; children born 2012-05-14 and 2017-09-03, one per school) and
  Karim BENALI (+33698765432; child born 2011-01-20, collège): registry guardians without an
  account, matching the FranceConnect simulator's identities;
- Luc MOREAU (``l.moreau``, notified) and his daughter Emma (``e.moreau``, notified pupil);
- Lucas DURAND (``l.durand``, active pupil, Sophie's son at the collège): logs in at once;
- Nadia PETIT (+33611223344, one child in the école): no account, for SMS self-registration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState, ActivationRoute
from idp.accounts.passwords import Passwords
from idp.accounts.service import NewAccount, create_account
from idp.db import transaction
from idp.i18n import _
from idp.registry.identifiers import uai_check_letter
from idp.registry.models import Guardian, Pupil, Source
from idp.registry.runs import import_onde, import_siecle
from idp.registry.writers import ExportGuardian as G
from idp.registry.writers import ExportLink as L
from idp.registry.writers import ExportPupil as P
from idp.registry.writers import ExportSchool, write_onde, write_siecle
from idp.settings import VAR_DIR, Settings

COLLEGE_UAI = "0211234" + uai_check_letter("0211234")
ECOLE_UAI = "0211001" + uai_check_letter("0211001")
SOPHIE_PASSWORD = "Demo-educonnect-2026"
SOPHIE_EMAIL = "sophie.durand@example.fr"
LUC_PASSWORD = "abcd-efgh-jkmn"
EMMA_PASSWORD = "pqrs-tuvw-xyz2"
LUCAS_PASSWORD = "Demo-eleve-2026"

MEF = {"6EME": "10010012110", "5EME": "10110001110", "4EME": "10210001110"}
ADDRESS = {"address_lines": ["12 rue de la Liberté"], "postal_code": "21000", "city": "DIJON"}


def _pupil(sid: str, family: str, given: str, born: str, sex: str, level: str, division: str) -> P:
    ine = f"12345{sid[-4:]:0>4}AB" if sid.isdigit() else None
    return P(
        sid, family, given, date.fromisoformat(born), sex, ine, level, MEF.get(level), division
    )


def college() -> ExportSchool:
    return ExportSchool(
        COLLEGE_UAI,
        "Collège Gustave Eiffel",
        pupils=[
            _pupil("20001", "DURAND", "Lucas", "2012-03-11", "M", "5EME", "5A"),
            _pupil("20002", "MARTIN", "Léa", "2012-05-14", "F", "5EME", "5B"),
            _pupil("20003", "BENALI", "Yanis", "2011-01-20", "M", "4EME", "4A"),
            _pupil("20004", "MOREAU", "Emma", "2011-06-30", "F", "4EME", "4A"),
            _pupil("20005", "BERNARD", "Hugo", "2013-09-02", "M", "6EME", "6C"),
        ],
        guardians=[
            G("30001", "MME", "DURAND", "Sophie", "06 22 33 44 55", SOPHIE_EMAIL, **ADDRESS),
            G("30002", "M.", "DURAND", "Marc", None, None, **ADDRESS),
            G("30003", "MME", "MARTIN", "Camille", "06 12 34 56 78", "camille.martin@example.fr"),
            G("30004", "M.", "BENALI", "Karim", "06 98 76 54 32", None),
            G("30005", "M.", "MOREAU", "Luc", "06 33 44 55 66", "luc.moreau@example.fr"),
            G("30006", "MME", "BERNARD", "Claire", "07 81 22 33 44", None),
        ],
        links=[
            L("20001", "30001", 1, "10"),
            L("20001", "30002", 2, "20"),
            L("20002", "30003", 1, "10"),
            L("20003", "30004", 1, "20"),
            L("20004", "30005", 1, "20"),
            L("20005", "30006", 1, "10"),
        ],
    )


def ecole() -> ExportSchool:
    return ExportSchool(
        ECOLE_UAI,
        "École élémentaire Jean Jaurès",
        pupils=[
            _pupil("E1001", "DURAND", "Jade", "2016-10-02", "F", "CM1", "CM1 A"),
            _pupil("E1002", "MARTIN", "Tom", "2017-09-03", "M", "CE2", "CE2 A"),
            _pupil("E1003", "PETIT", "Inès", "2018-02-17", "F", "CE1", "CE1 B"),
        ],
        guardians=[
            G("R1001", "MME", "DURAND", "Sophie", "0622334455", SOPHIE_EMAIL, **ADDRESS),
            G("R1002", "MME", "MARTIN", "Camille", "0612345678", None),
            G("R1003", "MME", "PETIT", "Nadia", "0611223344", None),
        ],
        links=[
            L("E1001", "R1001", 1, "10"),
            L("E1002", "R1002", 1, "10"),
            L("E1003", "R1003", 1, "10"),
        ],
    )


def seed_demo_registry(
    session_factory: sessionmaker[Session], settings: Settings, directory: Path | None = None
) -> list[dict]:
    """Write and import the demo exports, create the demo accounts; return the demo logins."""
    directory = directory or VAR_DIR / "demo"
    eleves, responsables = write_siecle(college(), directory)
    onde = write_onde([ecole()], directory / "onde-demo.csv")
    for result in (
        import_siecle(session_factory, eleves, responsables),
        import_onde(session_factory, onde),
    ):
        if not result.ok:
            raise RuntimeError(f"demo import rejected: {[str(i) for i in result.issues]}")
    passwords = Passwords(settings)
    now = datetime.now(UTC)
    with transaction(session_factory) as db:
        sophie, created = _ensure(
            db,
            passwords,
            now,
            AccountKind.guardian,
            "s.durand",
            "Sophie",
            "DURAND",
            SOPHIE_PASSWORD,
        )
        if created:  # an activated account: password chosen, e-mail and mobile confirmed
            sophie.state, sophie.activation_route = AccountState.active, ActivationRoute.letter
            sophie.email, sophie.email_verified = SOPHIE_EMAIL, True
            sophie.phone_number, sophie.phone_number_verified = "+33622334455", True
            sophie.activated_at = sophie.password_changed_at = now
            sophie.notified_at = sophie.notification_expires_at = None
        _link(db, sophie, [(Source.siecle, "30001"), (Source.onde, "R1001")], now)
        luc, _created = _ensure(
            db, passwords, now, AccountKind.guardian, "l.moreau", "Luc", "MOREAU", LUC_PASSWORD
        )
        _link(db, luc, [(Source.siecle, "30005")], now)
        emma, _created = _ensure(
            db, passwords, now, AccountKind.pupil, "e.moreau", "Emma", "MOREAU", EMMA_PASSWORD
        )
        if emma.pupil_id is None:
            query = select(Pupil.id).where(
                Pupil.source == Source.siecle, Pupil.source_id == "20004"
            )
            emma.pupil_id = db.scalar(query)
        lucas, created = _ensure(
            db, passwords, now, AccountKind.pupil, "l.durand", "Lucas", "DURAND", LUCAS_PASSWORD
        )
        if created:  # an activated pupil account, to log in with at once (SAML demo SP)
            lucas.state = AccountState.active
            lucas.activated_at = lucas.password_changed_at = now
            lucas.notified_at = lucas.notification_expires_at = None
        if lucas.pupil_id is None:
            query = select(Pupil.id).where(
                Pupil.source == Source.siecle, Pupil.source_id == "20001"
            )
            lucas.pupil_id = db.scalar(query)
        db.flush()
        states = {a.username: a.state.value for a in (sophie, luc, emma, lucas)}
    return [
        _login(
            "guardian",
            "s.durand",
            SOPHIE_PASSWORD,
            states,
            _("Sophie DURAND : un enfant au collège, un à l'école"),
        ),
        _login(
            "guardian",
            "l.moreau",
            LUC_PASSWORD,
            states,
            _("Luc MOREAU : compte notifié, mot de passe provisoire"),
        ),
        _login(
            "pupil", "e.moreau", EMMA_PASSWORD, states, _("Emma MOREAU (4A) : compte élève notifié")
        ),
        _login(
            "pupil",
            "l.durand",
            LUCAS_PASSWORD,
            states,
            _("Lucas DURAND (5A) : compte élève activé"),
        ),
    ]


def _login(kind: str, username: str, password: str, states: dict[str, str], note: str) -> dict:
    return {
        "kind": kind,
        "username": username,
        "password": password,
        "state": states[username],
        "note": note,
    }


def _ensure(
    db: Session,
    passwords: Passwords,
    now: datetime,
    kind: AccountKind,
    username: str,
    given_name: str,
    family_name: str,
    password: str,
) -> tuple[Account, bool]:
    """The account with this identifier, created as notified if missing (and then ``True``)."""
    account = db.scalar(select(Account).where(Account.username == username))
    if account is not None:
        return account, False
    new = NewAccount(
        kind=kind,
        state=AccountState.notified,
        username=username,
        password_hash=passwords.hash(password),
        given_name=given_name,
        family_name=family_name,
    )
    account = create_account(db, now, new)
    db.flush()
    return account, True


def _link(db: Session, account: Account, records: list[tuple[Source, str]], now: datetime) -> None:
    for source, source_id in records:
        guardian_id = db.scalar(
            select(Guardian.id).where(Guardian.source == source, Guardian.source_id == source_id)
        )
        linked = db.scalar(
            select(AccountGuardian.account_id).where(AccountGuardian.guardian_id == guardian_id)
        )
        if guardian_id is not None and linked is None:
            db.add(AccountGuardian(account_id=account.id, guardian_id=guardian_id, linked_at=now))
    db.flush()
