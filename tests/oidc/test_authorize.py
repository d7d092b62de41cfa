"""The authorization endpoint: request validation, prompt, max_age, hints, consent, errors.
Names follow the OpenID Basic OP conformance modules."""

from __future__ import annotations

import re

from tests.support.oidc import PASSWORD, make_rp, pkce, query


def _login_first(browser, rp):
    return browser.code_flow(rp)


class TestRequestValidation:
    def test_response_type_missing(self, browser, rp):
        response = browser.authorize(rp, response_type=None)
        assert response.status_code == 302
        params = query(response.headers["location"])
        assert response.headers["location"].startswith(rp.redirect_uri)
        assert params["error"] in ("unsupported_response_type", "invalid_request")
        assert params["iss"] == "http://localhost"
        assert "state" in params

    def test_ensure_registered_redirect_uri(self, browser, rp):
        response = browser.authorize(rp, redirect_uri="https://attacker.example/cb")
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "Connexion impossible" in response.text

    def test_redirect_uri_must_match_exactly(self, browser, rp):
        for variant in (rp.redirect_uri + "/", rp.redirect_uri + "?x=1", rp.redirect_uri.upper()):
            response = browser.authorize(rp, redirect_uri=variant)
            assert response.status_code == 400, variant

    def test_unknown_client_gets_a_page(self, browser, rp):
        rp.client_id = "nobody"
        response = browser.authorize(rp)
        assert response.status_code == 400
        assert "location" not in response.headers

    def test_missing_redirect_uri_gets_a_page(self, browser, rp):
        response = browser.authorize(rp, redirect_uri=None)
        assert response.status_code == 400

    def test_repeated_parameter_is_refused(self, client, rp):
        response = client.get(
            f"/authorize?client_id={rp.client_id}&client_id={rp.client_id}&response_type=code"
        )
        assert response.status_code == 400

    def test_plain_pkce_is_invalid_request(self, browser, rp):
        response = browser.authorize(rp, code_challenge="x" * 43, code_challenge_method="plain")
        params = query(response.headers["location"])
        assert params["error"] == "invalid_request"

    def test_pkce_without_method_is_invalid_request(self, browser, rp):
        response = browser.authorize(rp, code_challenge="x" * 43)
        assert query(response.headers["location"])["error"] == "invalid_request"

    def test_public_client_needs_pkce(self, browser, state):
        public = make_rp(state, public=True, redirect_uris=["http://localhost:9999/cb"])
        response = browser.authorize(public)
        assert query(response.headers["location"])["error"] == "invalid_request"

    def test_ensure_request_with_unknown_parameter_succeeds(self, browser, rp, account):
        params = browser.code_flow(
            rp, unknown_param="whatever", ui_locales="fr-FR en", acr_values="urn:x"
        )
        assert "code" in params

    def test_request_objects_are_refused_not_ignored(self, browser, rp):
        assert (
            query(browser.authorize(rp, request="eyJhbGciOiJub25lIn0.e30.").headers["location"])[
                "error"
            ]
            == "request_not_supported"
        )
        assert (
            query(browser.authorize(rp, request_uri="https://rp/x").headers["location"])["error"]
            == "request_uri_not_supported"
        )
        assert (
            query(browser.authorize(rp, response_mode="form_post").headers["location"])["error"]
            == "invalid_request"
        )

    def test_ensure_request_without_nonce_succeeds_for_code_flow(self, browser, rp, account):
        assert "code" in browser.code_flow(rp, nonce=None)

    def test_ensure_other_scope_order_succeeds(self, browser, rp, account):
        assert "code" in browser.code_flow(rp, scope="email openid profile")

    def test_ensure_post_request_succeeds(self, browser, client, rp, account):
        browser.code_flow(rp)  # log in first
        response = client.post(
            "/authorize",
            data={
                "response_type": "code",
                "client_id": rp.client_id,
                "redirect_uri": rp.redirect_uri,
                "scope": "openid",
                "state": "s1",
            },
            follow_redirects=False,
        )
        params = query(response.headers["location"])
        assert params["state"] == "s1" and "code" in params

    def test_unknown_scopes_are_dropped(self, browser, rp, account):
        verifier, challenge = pkce()
        params = browser.code_flow(
            rp,
            scope="openid profile unknown-scope",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        body = browser.tokens(rp, params["code"], verifier).json()
        assert set(body["scope"].split()) == {"openid", "profile"}


class TestPrompt:
    def test_prompt_none_not_logged_in(self, browser, rp):
        params = query(browser.authorize(rp, prompt="none").headers["location"])
        assert params["error"] == "login_required"
        assert params["iss"] == "http://localhost"

    def test_prompt_none_logged_in(self, browser, rp, account):
        _login_first(browser, rp)
        params = query(browser.authorize(rp, prompt="none", state="abc").headers["location"])
        assert "code" in params and params["state"] == "abc"

    def test_prompt_none_with_other_values_is_invalid(self, browser, rp, account):
        _login_first(browser, rp)
        params = query(browser.authorize(rp, prompt="none login").headers["location"])
        assert params["error"] == "invalid_request"

    def test_prompt_login_forces_a_new_login(self, browser, rp, account, clock):
        _login_first(browser, rp)
        clock.advance(5)
        response = browser.authorize(rp, prompt="login")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        response = browser.submit_login(response.headers["location"], "j.martin", PASSWORD)
        assert "code" in query(response.headers["location"])

    def test_prompt_none_needing_consent(self, browser, state, account):
        third_party = make_rp(state, first_party=False)
        response = browser.authorize(third_party)
        response = browser.submit_login(response.headers["location"], "j.martin", PASSWORD)
        assert 'name="decision"' in response.text  # the consent page
        params = query(browser.authorize(third_party, prompt="none").headers["location"])
        assert params["error"] == "consent_required"


class TestMaxAge:
    def test_max_age_1_requires_a_new_login(self, browser, rp, account, clock):
        _login_first(browser, rp)
        clock.advance(2)
        response = browser.authorize(rp, max_age="1")
        assert response.headers["location"].startswith("/login")

    def test_max_age_10000_keeps_the_session(self, browser, rp, account, clock):
        _login_first(browser, rp)
        clock.advance(2)
        assert "code" in query(browser.authorize(rp, max_age="10000").headers["location"])

    def test_bad_max_age(self, browser, rp, account):
        _login_first(browser, rp)
        assert (
            query(browser.authorize(rp, max_age="soon").headers["location"])["error"]
            == "invalid_request"
        )


class TestHints:
    def test_login_hint_prefills_the_identifier(self, browser, client, rp):
        response = browser.authorize(rp, login_hint="p.durand")
        page = client.get(response.headers["location"])
        assert re.search(
            r'name="username"[^>]*value="p\.durand"|value="p\.durand"[^>]*name="username"',
            page.text,
        )

    def test_id_token_hint_of_the_logged_in_person(self, browser, rp, account):
        verifier, challenge = pkce()
        params = browser.code_flow(rp, code_challenge=challenge, code_challenge_method="S256")
        id_token = browser.tokens(rp, params["code"], verifier).json()["id_token"]
        params = query(
            browser.authorize(rp, prompt="none", id_token_hint=id_token).headers["location"]
        )
        assert "code" in params

    def test_id_token_hint_of_someone_else_needs_login(self, browser, rp, account, state):
        from tests.support.oidc import make_account

        make_account(state, "p.durand")
        verifier, challenge = pkce()
        params = browser.code_flow(
            rp, "p.durand", code_challenge=challenge, code_challenge_method="S256"
        )
        other_token = browser.tokens(rp, params["code"], verifier).json()["id_token"]
        browser.client.cookies.clear()
        browser.code_flow(rp)  # j.martin logs in
        params = query(
            browser.authorize(rp, prompt="none", id_token_hint=other_token).headers["location"]
        )
        assert params["error"] == "login_required"

    def test_garbage_id_token_hint(self, browser, rp, account):
        _login_first(browser, rp)
        params = query(browser.authorize(rp, id_token_hint="not.a.jwt").headers["location"])
        assert params["error"] == "invalid_request"


class TestConsent:
    def test_third_party_asks_once_per_scope_set(self, browser, state, account):
        third_party = make_rp(state, first_party=False)
        response = browser.authorize(third_party, scope="openid profile")
        response = browser.submit_login(response.headers["location"], "j.martin", PASSWORD)
        assert "Vos nom et prénom" in response.text
        response = browser.consent(response.text)
        assert "code" in query(response.headers["location"])
        # Remembered for the same scopes...
        assert "code" in query(
            browser.authorize(third_party, scope="openid profile").headers["location"]
        )
        # ...asked again for more.
        response = browser.authorize(third_party, scope="openid profile email")
        assert response.status_code == 200 and "Votre adresse électronique" in response.text

    def test_deny_sends_access_denied(self, browser, state, account):
        third_party = make_rp(state, first_party=False)
        response = browser.authorize(third_party, state="xyz")
        response = browser.submit_login(response.headers["location"], "j.martin", PASSWORD)
        response = browser.consent(response.text, decision="deny")
        params = query(response.headers["location"])
        assert params["error"] == "access_denied" and params["state"] == "xyz"
        assert params["iss"] == "http://localhost"

    def test_prompt_consent_asks_again(self, browser, state, account):
        third_party = make_rp(state, first_party=False)
        response = browser.authorize(third_party)
        response = browser.submit_login(response.headers["location"], "j.martin", PASSWORD)
        browser.consent(response.text)
        response = browser.authorize(third_party, prompt="consent")
        assert response.status_code == 200 and 'name="decision"' in response.text

    def test_consent_needs_csrf(self, browser, client, state, account):
        third_party = make_rp(state, first_party=False)
        response = browser.authorize(third_party)
        response = browser.submit_login(response.headers["location"], "j.martin", PASSWORD)
        from tests.support.oidc import form_fields

        data = form_fields(response.text)
        data["csrf_token"] = "forged"
        data["decision"] = "allow"
        assert client.post("/consent", data=data, follow_redirects=False).status_code == 403


def test_every_scope_is_described_on_the_consent_page():
    """A scope without a description would be granted without the person being told."""
    from idp.oidc.claims import SCOPE_DESCRIPTIONS
    from idp.oidc.clients import SCOPES

    assert set(SCOPES) <= set(SCOPE_DESCRIPTIONS)
