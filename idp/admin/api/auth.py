"""Who calls the administration API: RFC 6750 bearer tokens of this IdP (RFC 9068 JWTs).

The token must carry the ``admin`` scope, be unexpired and unrevoked (its ``jti`` and its grant
family), and belong to an active staff account whose login included the second factor
(``amr`` contains ``otp``). Errors: 401 ``invalid_token`` / 403 ``insufficient_scope`` with
``WWW-Authenticate`` (RFC 6750 §3).
https://www.rfc-editor.org/rfc/rfc6750 · https://www.rfc-editor.org/rfc/rfc9068
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from idp.accounts.models import Account
from idp.accounts.steps import SECOND_FACTOR_AMR
from idp.admin.roles import Staff
from idp.deps import Db, ReadDb, State, client_ip
from idp.oidc.models import Grant
from idp.state import AppState

SCOPE = "admin"
_bearer = HTTPBearer(
    auto_error=False, description="An access token of this IdP with the `admin` scope."
)


class Caller:
    def __init__(self, staff: Staff, ip: str) -> None:
        self.staff, self.ip = staff, ip


def _refuse(status: int, error: str, description: str) -> HTTPException:
    header = f'Bearer error="{error}", error_description="{description}"'
    if error == "insufficient_scope":
        header += f', scope="{SCOPE}"'
    return HTTPException(
        status,
        detail={"error": error, "error_description": description},
        headers={"WWW-Authenticate": header},
    )


def _identify(
    request: Request,
    state: AppState,
    db: Session,
    credentials: HTTPAuthorizationCredentials | None,
) -> Caller:
    if credentials is None:
        raise HTTPException(
            401,
            detail={"error": "invalid_request"},
            headers={"WWW-Authenticate": 'Bearer realm="educonnect"'},
        )
    claims = state.tokens.decode_access_token(credentials.credentials)
    if claims is None:
        raise _refuse(401, "invalid_token", "The access token is invalid or expired.")
    if SCOPE not in str(claims.get("scope", "")).split():
        raise _refuse(403, "insufficient_scope", "The admin scope is required.")
    if state.tokens.is_access_token_revoked(db, claims):
        raise _refuse(401, "invalid_token", "The access token was revoked.")
    grant = db.get(Grant, claims.get("gid", "")) if claims.get("gid") else None
    account = db.get(Account, grant.account_id) if grant and grant.account_id else None
    staff = Staff.of(account) if account is not None and account.can_log_in else None
    if staff is None:
        raise _refuse(403, "insufficient_scope", "The token's account is not a staff account.")
    if SECOND_FACTOR_AMR not in (grant.amr or []):
        raise _refuse(403, "insufficient_scope", "The staff login must include the second factor.")
    return Caller(staff, client_ip(request))


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


# Two doors to the same check, so that the caller is read in the endpoint's own transaction
# (FastAPI gives the endpoint and its dependencies one ``Db`` or one ``ReadDb`` per request).
def reader(request: Request, state: State, db: ReadDb, credentials: Bearer) -> Caller:
    return _identify(request, state, db, credentials)


def writer(request: Request, state: State, db: Db, credentials: Bearer) -> Caller:
    return _identify(request, state, db, credentials)


#: The caller of an endpoint that only reads (declare ``db: ReadDb``)…
Who = Annotated[Caller, Depends(reader)]
#: …and of one that writes (declare ``db: Db``).
WhoActs = Annotated[Caller, Depends(writer)]
