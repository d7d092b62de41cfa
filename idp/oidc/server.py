"""The one thin adapter between Starlette and Authlib's (synchronous) authorization server.

Endpoints read the form once, build an ``OAuthRequest`` and call the server inside
``idp.db.bound(db)``; Authlib's storage hooks (``query_client``, the grants' code and token
hooks) reach the request's transaction through ``server.db``. Authlib calls run in plain
``def`` code (the thread pool), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import JsonRequest
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from idp.clock import Clock
from idp.db import current_session
from idp.oidc.client_cache import ClientCache
from idp.oidc.clients import secret_checker
from idp.oidc.keys import KeyManager
from idp.oidc.models import Client
from idp.oidc.tokens import TokenService
from idp.security.audit import Audit
from idp.security.stores import Stores
from idp.settings import Settings


class _Payload:
    """Authlib's payload protocol over Starlette's multi-valued query/form data."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._datalist: dict[str, list[str]] = {}
        for key, value in items:
            self._datalist.setdefault(key, []).append(value)
        self._data = {k: v[0] for k, v in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist

    client_id = property(lambda self: self._data.get("client_id"))
    redirect_uri = property(lambda self: self._data.get("redirect_uri"))
    scope = property(lambda self: self._data.get("scope"))
    state = property(lambda self: self._data.get("state"))
    grant_type = property(lambda self: self._data.get("grant_type"))

    @property
    def response_type(self) -> str | None:
        rt = self._data.get("response_type")
        return " ".join(sorted(rt.split())) if rt and " " in rt else rt


class OAuthRequest(OAuth2Request):
    def __init__(
        self, request: Request, form: FormData | None = None, params: Mapping | None = None
    ):
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args: QueryParams = request.query_params
        self._form: dict[str, str] = dict(form) if form is not None else {}
        if params is not None:  # a resumed authorization request
            items = list(params.items())
        elif form is not None:
            items = list(form.multi_items())
        else:
            items = list(request.query_params.multi_items())
        self.payload = _Payload(items)
        self.family = None  # the Grant (token family) the request works on
        self.auth_context = None  # SSO session data for the authorization endpoint

    @property
    def args(self):
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Server(AuthorizationServer):
    def __init__(
        self,
        settings: Settings,
        keys: KeyManager,
        tokens: TokenService,
        clock: Clock,
        stores: Stores,
        audit: Audit,
    ) -> None:
        super().__init__(scopes_supported=None)
        self.settings = settings
        self.keys = keys
        self.tokens = tokens
        self.clock = clock
        self.stores = stores
        self.audit = audit
        self._check_secret = secret_checker(settings.secrets["secret_key"])
        self.clients = ClientCache()

    @property
    def db(self) -> Session:
        """The session bound by the endpoint around the Authlib call (``idp.db.bound``)."""
        return current_session()

    # -- Authlib storage hooks -------------------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str) or len(client_id) > 64:
            return None
        return self.clients.get(self.db, client_id, self._prepare)

    def _prepare(self, client: Client) -> None:
        client.secret_checker = self._check_secret

    def save_token(self, token: dict, request: OAuth2Request) -> None:
        """Nothing to do: refresh tokens are stored when issued, access tokens never are."""

    def send_signal(self, name: str, *args, **kwargs) -> None:
        if name == "after_revoke_token":
            token = kwargs.get("token")
            client = kwargs.get("client")
            self.audit.record(
                self.db,
                "token.revoked",
                client_id=client.client_id if client else None,
                detail={"kind": getattr(token, "kind", None)},
            )

    # -- HTTP conversion ---------------------------------------------------------------------------
    def create_oauth2_request(self, request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        raise TypeError("endpoints must pass an OAuthRequest")

    def create_json_request(self, request) -> JsonRequest:
        raise NotImplementedError("no JSON endpoints go through Authlib")

    def handle_response(self, status: int, body, headers) -> Response:
        headers = dict(headers or [])
        if isinstance(body, dict):
            headers.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=headers)
        return Response(body or b"", status_code=status, headers=headers)


def error_json(error: str, description: str | None = None, status: int = 400) -> JSONResponse:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
