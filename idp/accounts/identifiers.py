"""Login identifiers for accounts created by a journey (self-registration): ``j.martin`` for
Jeanne Martin, ``j.martin2`` when that one is taken.

The same allocator as the school's notification (``idp.registry.notify.Usernames``), so every
account follows one scheme. Two people may be given the same free identifier at the same moment;
``add_with_username`` settles that with the unique constraint and a savepoint.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.registry.identifiers import username_base
from idp.registry.notify import Usernames


def allocate_username(db: Session, given_name: str, family_name: str) -> str:
    """A free identifier for these names (free now; see ``add_with_username``)."""
    return Usernames(db).next(username_base(given_name, family_name))


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
