"""``educonnect staff …``: staff accounts from the command line (the first director of a school,
the académie's assistance, national administrators), attached by ``idp.cli``.

    educonnect staff create --username U --given-name G --family-name F
        (--role director|delegate --school UAI [--school UAI…] | --role academy --academy NAME
         | --role national) [--email E] [--json]
    educonnect staff reset-totp --username U [--json]
"""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from idp.accounts.models import Account, AccountKind
from idp.admin.roles import Role
from idp.admin.staff.service import StaffError, StaffSpec, create_staff, reset_second_factor
from idp.db import transaction


def _state():
    from idp.services import build_state
    from idp.settings import Settings

    obj = click.get_current_context().obj
    return build_state(obj if isinstance(obj, Settings) else Settings())


def _echo(value: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
    else:
        for key, item in value.items():
            click.echo(f"{key}: {item}")


@click.group("staff")
def staff_group() -> None:
    """Staff accounts (Administration des comptes)."""


@staff_group.command("create")
@click.option("--username", required=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--school", "schools", multiple=True, help="UAI (director, delegate); repeatable.")
@click.option("--academy", default="", help="Academy name (role academy).")
@click.option("--email")
@click.option("--json", "as_json", is_flag=True)
def staff_create(username, given_name, family_name, role, schools, academy, email, as_json) -> None:
    """Create a staff account; prints its temporary password (changed at first login, then the
    authenticator app is enrolled)."""
    state = _state()
    spec = StaffSpec(username, given_name, family_name, Role(role), list(schools), academy, email)
    try:
        with transaction(state.sessions) as db:
            account, password = create_staff(state, db, spec)
    except StaffError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        state.engine.dispose()
    _echo({"username": account.username, "password": password, "roles": account.roles}, as_json)


@staff_group.command("reset-totp")
@click.option("--username", required=True)
@click.option("--json", "as_json", is_flag=True)
def staff_reset_totp(username: str, as_json: bool) -> None:
    """Forget a staff member's authenticator app (lost phone): the next login enrols again."""
    state = _state()
    try:
        with transaction(state.sessions) as db:
            account = db.scalar(
                select(Account).where(
                    Account.username == username.lower(), Account.kind == AccountKind.staff
                )
            )
            if account is None:
                raise click.UsageError(f"no staff account named {username}")
            reset_second_factor(state, db, None, account)
    finally:
        state.engine.dispose()
    _echo({"username": username.lower(), "totp": "reset"}, as_json)
