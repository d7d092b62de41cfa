"""Transitional, until the messenger takes the request's session (the outbox change, which
makes every message a row written in the causing transaction): remove on that merge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from idp import db as core_db


@contextmanager
def messages_in(db: Session) -> Iterator[None]:
    """Let the development gateway, which stores messages through the ambient unit of work,
    write in ``db``'s transaction: on its own it would open a second transaction and wait for
    this one's SQLite write lock."""
    token = core_db._ambient.set(db)
    try:
        yield
    finally:
        core_db._ambient.reset(token)
