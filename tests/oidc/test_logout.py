"""RP-initiated logout and back-channel logout (a test relying party receives and verifies the
logout token over real HTTP)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from starlette.responses import Response

from idp.outbox.models import OutboxMessage
from idp.worker.delivery import Deliverer
from tests.support.live_server import live_server
from tests.support.oidc import csrf_of, form_fields, make_rp, pkce, query


def _login(browser, rp):
    verifier, challenge = pkce()
    params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256")
    return browser.tokens(rp, params["code"], verifier).json()


class TestRpInitiatedLogout:
    def test_with_id_token_hint_logs_out_and_returns(self, browser, client, rp, account):
        tokens = _login(browser, rp)
        response = client.get(
            "/logout",
            params={
                "id_token_hint": tokens["id_token"],
                "post_logout_redirect_uri": "https://rp.example.fr/bye",
                "state": "st8",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "https://rp.example.fr/bye?state=st8"
        # The session is gone: a silent login fails, the session's tokens are revoked.
        assert (
            query(browser.authorize(rp, prompt="none").headers["location"])["error"]
            == "login_required"
        )
        assert (
            client.get(
                "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            ).status_code
            == 401
        )

    def test_without_hint_asks_for_confirmation(self, browser, client, rp, account):
        _login(browser, rp)
        page = client.get(
            "/logout",
            params={
                "client_id": rp.client_id,
                "post_logout_redirect_uri": "https://rp.example.fr/bye",
            },
        )
        assert page.status_code == 200 and 'name="decision"' in page.text
        data = form_fields(page.text)
        data.update({"csrf_token": csrf_of(page.text), "decision": "logout"})
        response = client.post("/logout", data=data, follow_redirects=False)
        assert response.headers["location"] == "https://rp.example.fr/bye"
        assert (
            query(browser.authorize(rp, prompt="none").headers["location"])["error"]
            == "login_required"
        )

    def test_confirmation_needs_csrf(self, browser, client, rp, account):
        _login(browser, rp)
        response = client.post("/logout", data={"decision": "logout", "csrf_token": "forged"})
        assert response.status_code == 403
        assert "code" in query(browser.authorize(rp, prompt="none").headers["location"])

    def test_unregistered_post_logout_uri_is_never_followed(self, browser, client, rp, account):
        tokens = _login(browser, rp)
        response = client.get(
            "/logout",
            params={
                "id_token_hint": tokens["id_token"],
                "post_logout_redirect_uri": "https://attacker.example/",
            },
            follow_redirects=False,
        )
        assert response.status_code == 400 and "location" not in response.headers

    def test_post_logout_uri_without_client_is_refused(self, client):
        response = client.get(
            "/logout",
            params={"post_logout_redirect_uri": "https://rp.example.fr/bye"},
            follow_redirects=False,
        )
        assert response.status_code == 400

    def test_without_session_goes_straight_back(self, client, rp):
        response = client.get(
            "/logout",
            params={
                "client_id": rp.client_id,
                "post_logout_redirect_uri": "https://rp.example.fr/bye",
                "state": "a",
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "https://rp.example.fr/bye?state=a"


def _deliver(state) -> int:
    """What ``educonnect worker`` does: deliver every due outbox message."""
    deliverer = Deliverer(state)
    try:
        return deliverer.deliver_due()
    finally:
        deliverer.close()


def _logouts(state) -> list[OutboxMessage]:
    with state.sessions() as db:
        return list(db.scalars(select(OutboxMessage).where(OutboxMessage.channel == "backchannel")))


class TestBackchannelLogout:
    def test_every_client_of_the_session_receives_a_verified_logout_token(
        self, browser, client, state, account
    ):
        received: list[tuple[str, str]] = []
        rp_app = FastAPI()

        @rp_app.post("/backchannel")
        async def backchannel_endpoint(request: Request):
            form = await request.form()
            received.append((form["logout_token"], request.headers["idempotency-key"]))
            return {}

        with live_server(rp_app) as base:
            first = make_rp(
                state, redirect_uris=[f"{base}/cb"], backchannel_logout_uri=f"{base}/backchannel"
            )
            second = make_rp(
                state,
                redirect_uris=["https://other.example.fr/cb"],
                backchannel_logout_uri=f"{base}/backchannel",
            )
            tokens = _login(browser, first)
            browser.code_flow(second)  # silent SSO: same session
            client.get(
                "/logout", params={"id_token_hint": tokens["id_token"]}, follow_redirects=False
            )
            assert received == []  # the request only queued them
            assert _deliver(state) == 2

        assert len(received) == 2
        assert {key for _, key in received} == {m.id for m in _logouts(state)}
        keys = KeySet.import_key_set(client.get("/jwks").json())
        sids = set()
        for raw, _ in received:
            token = jwt.decode(raw, keys)
            assert token.header["typ"] == "logout+jwt"
            claims = token.claims
            assert claims["iss"] == "http://localhost"
            assert claims["aud"] in (first.client_id, second.client_id)
            assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
            assert "nonce" not in claims
            sids.add(claims["sid"])
        id_claims = jwt.decode(tokens["id_token"], keys).claims
        assert sids == {id_claims["sid"]}
        assert {m.state for m in _logouts(state)} == {"sent"}

    def test_failures_are_retried_later_without_blocking(
        self, browser, client, state, account, clock
    ):
        rp = make_rp(
            state,
            redirect_uris=["http://127.0.0.1:9/cb"],
            backchannel_logout_uri="http://127.0.0.1:9/backchannel",
        )
        tokens = _login(browser, rp)
        response = client.get(
            "/logout", params={"id_token_hint": tokens["id_token"]}, follow_redirects=False
        )
        assert response.status_code == 303  # the person is not kept waiting
        assert _deliver(state) == 1
        [job] = _logouts(state)
        assert job.attempts == 1 and job.state == "pending" and job.last_error
        assert _deliver(state) == 0  # not due before its back-off
        clock.advance(3600)
        assert _deliver(state) == 1
        [job] = _logouts(state)
        assert job.attempts == 2 and job.state == "pending"

    def test_delivered_after_two_failures_with_a_token_still_valid(
        self, browser, client, state, account, clock
    ):
        """Signed at send time: the token that finally arrives, minutes after the logout, is
        within its lifetime when the client receives it (checked with the JWKS)."""
        answers = [503, 500]
        received: list[tuple[str, str, int]] = []
        rp_app = FastAPI()

        @rp_app.post("/backchannel")
        async def backchannel_endpoint(request: Request):
            form = await request.form()
            received.append(
                (form["logout_token"], request.headers["idempotency-key"], clock.timestamp())
            )
            return Response(status_code=answers.pop(0) if answers else 200)

        with live_server(rp_app) as base:
            rp = make_rp(
                state, redirect_uris=[f"{base}/cb"], backchannel_logout_uri=f"{base}/backchannel"
            )
            tokens = _login(browser, rp)
            logged_out_at = clock.timestamp()
            client.get(
                "/logout", params={"id_token_hint": tokens["id_token"]}, follow_redirects=False
            )
            for _ in range(3):
                assert _deliver(state) == 1
                [job] = _logouts(state)
                clock.advance((job.next_attempt_at - clock.now()).total_seconds())

        assert len(received) == 3
        [job] = _logouts(state)
        assert job.state == "sent" and job.attempts == 3
        assert {key for _, key, _ in received} == {job.id}  # one message, three attempts
        assert len({raw for raw, _, _ in received}) == 3  # each attempt signed anew
        raw, _, at = received[-1]
        assert at - logged_out_at >= 90  # 30 s, then 60 s of back-off
        keys = KeySet.import_key_set(client.get("/jwks").json())
        claims = jwt.decode(raw, keys).claims
        jwt.JWTClaimsRegistry(
            now=at,
            iss={"essential": True, "value": "http://localhost"},
            aud={"value": rp.client_id},
        ).validate(claims)
        assert claims["iat"] == at  # signed when sent, not when the logout was queued
