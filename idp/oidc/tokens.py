"""Tokens: RFC 9068 JWT access tokens, opaque rotating refresh tokens, and their revocation.

- Access tokens are signed JWTs (``typ: at+jwt``, RFC 9068 §2) and are not stored. Revoking one
  stores its ``jti``; revoking a grant family marks the family. Introspection (RFC 7662) and
  userinfo consult both, so a revocation is visible at once.
- Refresh tokens are random strings stored as SHA-256 hashes, rotated on every use; presenting
  a rotated one again revokes the whole family (OAuth 2.0 Security BCP §4.14.2).
https://www.rfc-editor.org/rfc/rfc9068 · https://www.rfc-editor.org/rfc/rfc7662
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.clock import Clock
from idp.oidc.keys import KeyManager
from idp.oidc.models import Client, Grant, RefreshToken, RevokedAccessToken
from idp.oidc.subjects import subject_for
from idp.settings import Settings

ACCESS_TOKEN_ALG = "ES256"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class TokenRef:
    """A token found by introspection or revocation (Authlib's token model protocol)."""

    kind: str  # access_token | refresh_token
    client_id: str
    claims: dict
    grant_id: str | None
    active: bool
    refresh: RefreshToken | None = None

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active


class TokenService:
    def __init__(self, settings: Settings, keys: KeyManager, clock: Clock) -> None:
        self.settings = settings
        self.keys = keys
        self.clock = clock
        self.subject_secret = settings.secrets["pairwise_key"]

    def subject(self, client: Client, local_id: str) -> str:
        return subject_for(client, local_id, self.subject_secret)

    # -- issuing -------------------------------------------------------------------------------
    def issue(
        self,
        db: Session,
        client: Client,
        account: Account | None,
        scope: str,
        grant: Grant | None,
        include_refresh: bool,
    ) -> dict:
        now = self.clock.timestamp()
        ttl = self.settings.access_token_ttl
        claims: dict = {
            "iss": self.settings.issuer_url,
            "sub": self.subject(client, account.id) if account else client.client_id,
            "aud": client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        if grant is not None:
            claims["gid"] = grant.id
            if grant.auth_time:
                claims["auth_time"] = grant.auth_time
            if grant.acr:
                claims["acr"] = grant.acr
            if grant.amr:
                claims["amr"] = grant.amr
            if grant.session_id:
                claims["sid"] = grant.session_id
        key = self.keys.signing_key(ACCESS_TOKEN_ALG)
        header = {"alg": ACCESS_TOKEN_ALG, "typ": "at+jwt", "kid": key.kid}
        token = {
            "token_type": "Bearer",
            "access_token": jwt.encode(header, claims, key),
            "expires_in": ttl,
            "scope": scope,
        }
        if include_refresh and grant is not None:
            # RFC 6749 §6: a rotated refresh token keeps the original grant's scope.
            token["refresh_token"] = self._new_refresh(db, client, grant, grant.scope)
        return token

    def _new_refresh(self, db: Session, client: Client, grant: Grant, scope: str) -> str:
        value = secrets.token_urlsafe(32)
        now = self.clock.now()
        db.add(
            RefreshToken(
                token_hash=token_hash(value),
                grant_id=grant.id,
                client_id=client.client_id,
                account_id=grant.account_id,
                scope=scope,
                issued_at=now,
                expires_at=grant.expires_at,
            )
        )
        return value

    def new_grant(
        self, db: Session, client: Client, account_id: str | None, scope: str, **auth
    ) -> Grant:
        now = self.clock.now()
        grant = Grant(
            client_id=client.client_id,
            account_id=account_id,
            scope=scope,
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl),
            **auth,
        )
        db.add(grant)
        db.flush()
        return grant

    # -- reading -------------------------------------------------------------------------------
    def decode_access_token(self, token: str) -> dict | None:
        """Signature, issuer, type and expiry; ``None`` when any fails. Not revocation."""
        try:
            decoded = jwt.decode(token, self.keys.public_keys(), algorithms=[ACCESS_TOKEN_ALG])
        except (JoseError, ValueError, TypeError):
            return None
        if decoded.header.get("typ") != "at+jwt":
            return None
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.settings.issuer_url},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError:
            return None
        return decoded.claims

    def is_access_token_revoked(self, db: Session, claims: dict) -> bool:
        if db.get(RevokedAccessToken, claims["jti"]) is not None:
            return True
        gid = claims.get("gid")
        if gid is None:
            return False
        grant = db.get(Grant, gid)
        return grant is None or grant.revoked_at is not None

    def find_refresh(self, db: Session, value: str) -> RefreshToken | None:
        return db.get(RefreshToken, token_hash(value))

    def lookup(self, db: Session, value: str, hint: str | None) -> TokenRef | None:
        """Find an access or refresh token for introspection/revocation."""
        kinds = (
            ["refresh_token", "access_token"]
            if hint == "refresh_token"
            else ["access_token", "refresh_token"]
        )
        for kind in kinds:
            ref = (
                self._lookup_access(db, value)
                if kind == "access_token"
                else self._lookup_refresh(db, value)
            )
            if ref is not None:
                return ref
        return None

    def _lookup_access(self, db: Session, value: str) -> TokenRef | None:
        claims = self.decode_access_token(value)
        if claims is None:
            return None
        active = not self.is_access_token_revoked(db, claims)
        return TokenRef("access_token", claims["client_id"], claims, claims.get("gid"), active)

    def _lookup_refresh(self, db: Session, value: str) -> TokenRef | None:
        row = self.find_refresh(db, value)
        if row is None:
            return None
        grant = db.get(Grant, row.grant_id)
        now = self.clock.now()
        active = (
            row.used_at is None
            and row.revoked_at is None
            and row.expires_at > now
            and grant is not None
            and grant.revoked_at is None
        )
        claims = {
            "client_id": row.client_id,
            "scope": row.scope,
            "iat": int(row.issued_at.timestamp()),
            "exp": int(row.expires_at.timestamp()),
        }
        if grant and grant.account_id:
            claims["account_id"] = grant.account_id
        return TokenRef("refresh_token", row.client_id, claims, row.grant_id, active, row)

    # -- revoking ------------------------------------------------------------------------------
    def revoke_access_token(self, db: Session, claims: dict) -> None:
        if db.get(RevokedAccessToken, claims["jti"]) is None:
            exp = datetime.fromtimestamp(claims["exp"], tz=self.clock.now().tzinfo)
            db.add(RevokedAccessToken(jti=claims["jti"], expires_at=exp))

    def revoke_grant(self, db: Session, grant_id: str, reason: str) -> None:
        now = self.clock.now()
        db.execute(
            update(Grant)
            .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        db.execute(
            update(RefreshToken)
            .where(RefreshToken.grant_id == grant_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_account(self, db: Session, account_id: str, reason: str) -> int:
        """Revoke every live grant of an account (password reset, disabling)."""
        ids = list(
            db.scalars(
                select(Grant.id).where(Grant.account_id == account_id, Grant.revoked_at.is_(None))
            )
        )
        for gid in ids:
            self.revoke_grant(db, gid, reason)
        return len(ids)

    def revoke_session(self, db: Session, sid: str, reason: str) -> None:
        for gid in db.scalars(
            select(Grant.id).where(Grant.session_id == sid, Grant.revoked_at.is_(None))
        ):
            self.revoke_grant(db, gid, reason)
