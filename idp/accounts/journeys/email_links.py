"""Single-use links sent by e-mail: activation and change of address (24 h), password reset.

The URL carries 32 random bytes; the database keeps their SHA-256 only. ``consume`` is one
atomic ``UPDATE ... WHERE used_at IS NULL AND expires_at > now RETURNING``: of two parallel
clicks exactly one wins, and an expired link never works. Sending a new link of a purpose for
an account kills the older ones, so only the latest message is valid.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.journeys.models import EmailLink
from idp.accounts.models import Account, AccountState
from idp.state import AppState

ACTIVATION = "activation"
EMAIL_CHANGE = "email_change"
PASSWORD_RESET = "password_reset"

LIFETIMES = {ACTIVATION: 24 * 3600, EMAIL_CHANGE: 24 * 3600, PASSWORD_RESET: 30 * 60}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    state: AppState,
    db: Session,
    purpose: str,
    account_id: str,
    email: str,
    payload: dict[str, Any] | None = None,
) -> str:
    """Store a link for ``purpose`` and return the token to put in the URL."""
    now = state.clock.now()
    db.execute(
        update(EmailLink)
        .where(
            EmailLink.account_id == account_id,
            EmailLink.purpose == purpose,
            EmailLink.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.add(
        EmailLink(
            token_hash=_hash(token),
            purpose=purpose,
            account_id=account_id,
            email=email,
            payload=payload or {},
            created_at=now,
            expires_at=now + timedelta(seconds=LIFETIMES[purpose]),
        )
    )
    db.flush()
    return token


def peek(state: AppState, db: Session, purpose: str, token: str | None) -> EmailLink | None:
    """The link if it is still usable, without using it (to show the confirmation page)."""
    if not token or len(token) > 100:
        return None
    link = db.scalar(
        select(EmailLink).where(EmailLink.token_hash == _hash(token), EmailLink.purpose == purpose)
    )
    if link is None or link.used_at is not None or link.expires_at <= state.clock.now():
        return None
    return link


def consume(state: AppState, db: Session, purpose: str, token: str | None) -> EmailLink | None:
    """Use the link: returns it to exactly one caller, or ``None`` (unknown, used, expired)."""
    if not token or len(token) > 100:
        return None
    now = state.clock.now()
    link_id = db.scalar(
        update(EmailLink)
        .where(
            EmailLink.token_hash == _hash(token),
            EmailLink.purpose == purpose,
            EmailLink.used_at.is_(None),
            EmailLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(EmailLink.id)
        .execution_options(synchronize_session=False)
    )
    return db.get(EmailLink, link_id) if link_id else None


def consume_for(
    state: AppState, db: Session, purpose: str, token: str | None, account_state: AccountState
) -> tuple[EmailLink, Account] | None:
    """Use the link of an account that is still in ``account_state``; ``None`` when the link
    is not usable or the account has moved on (the link is used up all the same)."""
    link = consume(state, db, purpose, token)
    account = db.get(Account, link.account_id) if link else None
    if link is None or account is None or account.state != account_state:
        return None
    return link, account


def url(state: AppState, path: str, token: str) -> str:
    return f"{state.settings.issuer_url}{path}?jeton={token}"
