"""Commands for the account journeys, attached by ``idp.cli``:

- ``educonnect accounts force-password-change --school UAI | --academy NAME | --all
  [--changed-before YYYY-MM-DD] [--json]`` (``force_password_change_command``): the April 2024
  campaign, as a tool. Never-activated accounts, accounts without a password (FranceConnect
  only) and accounts whose password changed after the date are left alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import click
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.clock import Clock
from idp.db import make_engine, make_session_factory, transaction
from idp.registry.models import Guardianship, Pupil, School
from idp.security.audit import Audit
from idp.settings import Settings


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _scope_ids(db: Session, school: str | None, academy: str | None):
    """Account ids in scope: guardians of pupils of the schools, and those pupils' accounts."""
    schools = select(School.uai).where(
        School.uai == school.upper() if school else School.academy == academy
    )
    pupils = select(Pupil.id).where(Pupil.school_uai.in_(schools))
    guardians = (
        select(AccountGuardian.account_id)
        .join(Guardianship, Guardianship.guardian_id == AccountGuardian.guardian_id)
        .where(Guardianship.pupil_id.in_(pupils))
    )
    return or_(Account.id.in_(guardians), Account.pupil_id.in_(pupils))


@click.command("force-password-change")
@click.option("--school", help="UAI of one school.")
@click.option("--academy", help="Name of an academy (as in the registry).")
@click.option("--all", "everyone", is_flag=True, help="Every guardian and pupil account.")
@click.option(
    "--changed-before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Leave alone passwords changed on or after this date.",
)
@click.option("--json", "as_json", is_flag=True)
def force_password_change_command(
    school: str | None, academy: str | None, everyone: bool, changed_before, as_json: bool
) -> None:
    """Require a new password at the next login (guardians and pupils)."""
    if sum(bool(x) for x in (school, academy, everyone)) != 1:
        raise click.UsageError("give exactly one of --school, --academy, --all")
    settings = Settings()
    engine = make_engine(settings.database_url)
    cutoff = datetime.combine(changed_before.date(), time.min, UTC) if changed_before else None
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as db:
            counts = force_password_change(db, school, academy, cutoff)
            Audit(Clock()).record(
                db,
                "accounts.force_password_change",
                detail={"school": school, "academy": academy, "all": everyone, **counts},
            )
    finally:
        engine.dispose()
    if as_json:
        _echo_json(counts)
        return
    for name, value in counts.items():
        click.echo(f"{name.replace('_', ' ')}: {value}")


def force_password_change(
    db: Session, school: str | None, academy: str | None, cutoff: datetime | None
) -> dict[str, int]:
    """Flag the accounts in scope; return what was done and what was left alone, and why.

    Classified and updated in SQL: a national campaign covers millions of accounts."""
    in_scope = [Account.kind.in_([AccountKind.guardian, AccountKind.pupil])]
    if school or academy:
        in_scope.append(_scope_ids(db, school, academy))
    never = Account.activated_at.is_(None) | Account.state.in_(
        [AccountState.notified, AccountState.expired]
    )
    changed_after = (
        (Account.password_changed_at >= cutoff) if cutoff else Account.id.is_(None)
    ) & Account.password_changed_at.is_not(None)
    reason = case(
        (never, "skipped_never_activated"),
        (Account.password_hash.is_(None), "skipped_no_password"),
        (Account.state.in_([AccountState.disabled, AccountState.retired]), "skipped_inactive"),
        (changed_after, "skipped_changed_after"),
        (Account.force_password_change.is_(True), "already_flagged"),
        else_="flagged",
    )
    counts = dict.fromkeys(
        [
            "flagged",
            "already_flagged",
            "skipped_never_activated",
            "skipped_no_password",
            "skipped_changed_after",
            "skipped_inactive",
        ],
        0,
    )
    for name, count in db.execute(select(reason, func.count()).where(*in_scope).group_by(reason)):
        counts[name] = count
    db.execute(
        update(Account)
        .where(*in_scope, reason == "flagged")
        .values(force_password_change=True)
        .execution_options(synchronize_session=False)
    )
    return counts
