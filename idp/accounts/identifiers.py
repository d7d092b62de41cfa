"""Login identifiers for accounts created by a journey (self-registration): ``j.martin`` for
Jeanne Martin, ``j.martin2`` when that one is taken.

One allocator (``Usernames``) for every route to an account (a school's notification, a
journey), so every account follows one scheme. Two people may be given the same free
identifier at the same moment; ``add_with_username`` settles that with the unique constraint
and a savepoint.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.registry.identifiers import username_base


class Usernames:
    """Hands out unique identifiers: the base, then the base followed by 2, 3…"""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.taken: dict[str, set[str]] = {}

    def next(self, base: str) -> str:
        taken = self.taken.get(base)
        if taken is None:
            escaped = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = select(Account.username).where(
                Account.username.like(f"{escaped}%", escape="\\")
            )
            suffix = re.compile(rf"^{re.escape(base)}\d*$")
            taken = self.taken[base] = {u for u in self.db.scalars(query) if suffix.match(u)}
        username, n = base, 1
        while username in taken:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        return username


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
