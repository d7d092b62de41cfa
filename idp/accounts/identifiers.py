"""Login identifiers: ``j.martin`` for Jeanne Martin, ``j.martin12`` when that one is taken.

The base comes from ``idp.registry.identifiers.username_base`` (one folding for the whole
project). Digits are random rather than sequential, so identifiers say nothing about how many
namesakes have an account. Two people may be given the same free identifier at the same
moment; ``add_with_username`` settles that with the unique constraint and a savepoint.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.registry.identifiers import username_base

_TRIES_PER_WIDTH = 12


def _taken(db: Session, names: list[str]) -> set[str]:
    return set(db.scalars(select(Account.username).where(Account.username.in_(names))))


def allocate_username(db: Session, given_name: str, family_name: str) -> str:
    """A free identifier for these names (free now; see ``add_with_username``)."""
    base = username_base(given_name, family_name)
    if not _taken(db, [base]):
        return base
    for width in (2, 3, 4, 6):
        low, high = 10 ** (width - 1), 10**width
        candidates = list(
            {f"{base}{low + secrets.randbelow(high - low)}" for _ in range(_TRIES_PER_WIDTH)}
        )
        free = [c for c in candidates if c not in _taken(db, candidates)]
        if free:
            return free[0]
    raise RuntimeError(f"no free identifier for {base}")


def add_with_username(db: Session, account: Account, *, attempts: int = 3) -> Account:
    """Insert ``account`` under a free identifier for its names, retrying on a race."""
    for attempt in range(attempts):
        account.username = allocate_username(db, account.given_name, account.family_name)
        try:
            with db.begin_nested():
                db.add(account)
                db.flush()
            return account
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    return account
