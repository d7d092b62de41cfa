"""Test helpers for OAuth/OIDC flows: a client builder, login(), a code flow, error checks."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from idp.accounts.models import Account, AccountKind, AccountState
from idp.db import transaction
from idp.oidc.clients import ClientSpec, create_client
from idp.state import AppState

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def form_fields(html: str) -> dict[str, str]:
    import html as html_lib

    return {name: html_lib.unescape(value) for name, value in _HIDDEN.findall(html)}


def csrf_of(html: str) -> str:
    match = _CSRF.search(html) or re.search(r'value="([^"]+)"\s+name="csrf_token"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@dataclass
class RP:
    client_id: str
    secret: str | None
    redirect_uri: str
    public: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def basic(self) -> tuple[str, str]:
        assert self.secret
        return (self.client_id, self.secret)


def make_rp(state: AppState, **overrides) -> RP:
    spec = ClientSpec(
        name=overrides.pop("name", "Service de test"),
        redirect_uris=overrides.pop("redirect_uris", ["https://rp.example.fr/callback"]),
        post_logout_redirect_uris=overrides.pop(
            "post_logout_redirect_uris", ["https://rp.example.fr/bye"]
        ),
        scopes=overrides.pop(
            "scopes", ["openid", "profile", "email", "phone", "children", "school", "fredu"]
        ),
        first_party=overrides.pop("first_party", True),
        **overrides,
    )
    with transaction(state.sessions) as db:
        client, secret = create_client(db, spec, state.clock, state.settings.secrets["secret_key"])
    return RP(
        client.client_id,
        secret,
        spec.redirect_uris[0] if spec.redirect_uris else "",
        public=spec.public,
    )


def make_account(
    app_state: AppState, username: str = "j.martin", password: str = PASSWORD, **fields
) -> Account:
    now = app_state.clock.now()
    values = dict(
        kind=AccountKind.guardian,
        username=username,
        password_hash=app_state.passwords.hash(password),
        state=AccountState.active,
        given_name="Jeanne",
        family_name="Martin",
        email=f"{username}@example.fr",
        email_verified=True,
        created_at=now,
        updated_at=now,
        activated_at=now - timedelta(days=1),
        password_changed_at=now - timedelta(days=1),
    )
    values.update(fields)
    with transaction(app_state.sessions) as db:
        account = Account(**values)
        db.add(account)
    return account


class Browser:
    """Drives the hosted pages like a person would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def authorize(self, rp: RP, **params) -> object:
        values = {
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid profile",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
        }
        values.update({k: v for k, v in params.items() if v is not None})
        for k in [k for k, v in params.items() if v is None]:
            values.pop(k, None)
        return self.client.get("/authorize", params=values, follow_redirects=False)

    def submit_login(self, login_url: str, username: str, password: str):
        page = self.client.get(login_url)
        assert page.status_code == 200, page.text
        data = form_fields(page.text)
        data.update({"username": username, "password": password, "csrf_token": csrf_of(page.text)})
        return self.client.post("/login", data=data, follow_redirects=False)

    def login(self, username: str = "j.martin", password: str = PASSWORD):
        return self.submit_login("/login", username, password)

    def consent(self, page_html: str, decision: str = "allow"):
        data = form_fields(page_html)
        data.update({"csrf_token": csrf_of(page_html), "decision": decision})
        return self.client.post("/consent", data=data, follow_redirects=False)

    def code_flow(
        self, rp: RP, username: str = "j.martin", password: str = PASSWORD, **params
    ) -> dict[str, str]:
        """authorize → (login) → (consent) → redirect; returns the redirect's query parameters."""
        response = self.authorize(rp, **params)
        if response.status_code == 303 and response.headers["location"].startswith("/login"):
            response = self.submit_login(response.headers["location"], username, password)
        if response.status_code == 200 and 'name="decision"' in response.text:
            response = self.consent(response.text)
        assert response.status_code in (302, 303), response.text[:500]
        location = response.headers["location"]
        assert location.startswith(rp.redirect_uri), location
        return query(location)

    def tokens(self, rp: RP, code: str, verifier: str | None = None, **extra):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
        if verifier:
            data["code_verifier"] = verifier
        data.update(extra)
        if rp.secret:
            return self.client.post("/token", data=data, auth=rp.basic)
        return self.client.post("/token", data={**data, "client_id": rp.client_id})


def assert_oauth_error(response, error: str, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == error, body
