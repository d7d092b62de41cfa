"""The administration API: bearer tokens of this IdP (scope ``admin``, staff, second factor),
OpenAPI-documented bodies, 422 on bad input."""

from __future__ import annotations

from idp.db import transaction
from idp.oidc.models import Grant
from idp.openapi_doc import openapi_document
from tests.admin.helpers import A, add_staff, api_token, code, form_fields
from tests.support.oidc import Browser, csrf_of, make_account, make_rp, pkce


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class TestAuthentication:
    def test_no_token(self, client):
        response = client.get("/api/admin/me")
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith(
            "Bearer"
        )

    def test_not_a_token_of_ours(self, client):
        response = client.get("/api/admin/me", headers=_bearer("eyJhbGciOiJub25lIn0.e30."))
        assert (
            response.status_code == 401
            and 'error="invalid_token"' in response.headers["www-authenticate"]
        )

    def test_the_admin_scope_is_required(self, client, state, world):
        add_staff(state, world, "director_a")
        response = client.get(
            "/api/admin/me",
            headers=_bearer(api_token(state, world, "director_a", scope="openid profile")),
        )
        assert (
            response.status_code == 403
            and 'error="insufficient_scope"' in response.headers["www-authenticate"]
        )

    def test_a_guardian_token_is_refused(self, client, state, world):
        guardian = make_account(state, "g.user")
        add_staff(state, world, "director_a")
        token = api_token(state, world, "director_a", account_id=guardian.id)
        assert client.get("/api/admin/me", headers=_bearer(token)).status_code == 403

    def test_the_second_factor_is_required(self, client, state, world):
        add_staff(state, world, "director_a")
        token = api_token(state, world, "director_a", amr=["pwd"])
        assert client.get("/api/admin/me", headers=_bearer(token)).status_code == 403

    def test_a_revoked_token_is_refused(self, client, state, world):
        add_staff(state, world, "director_a")
        token = api_token(state, world, "director_a")
        assert client.get("/api/admin/me", headers=_bearer(token)).status_code == 200
        with transaction(state.sessions) as db:
            grant = db.query(Grant).one()
            state.tokens.revoke_grant(db, grant.id, "test")
        assert client.get("/api/admin/me", headers=_bearer(token)).status_code == 401

    def test_me(self, client, state, world):
        add_staff(state, world, "director_a")
        body = client.get(
            "/api/admin/me", headers=_bearer(api_token(state, world, "director_a"))
        ).json()
        assert body == {
            "username": "director.a",
            "name": "Director Staff",
            "roles": [{"role": "director", "scope": [A]}],
        }


class TestEndpoints:
    def test_search_with_filters(self, client, state, world):
        add_staff(state, world, "director_a")
        headers = _bearer(api_token(state, world, "director_a"))
        found = client.get("/api/admin/people", params={"state": "expired"}, headers=headers).json()
        assert [p["family_name"] for p in found["items"]] == ["CARL"]
        found = client.get(
            "/api/admin/people",
            params={"class_name": "4B", "state": "not_created"},
            headers=headers,
        ).json()
        assert [p["family_name"] for p in found["items"]] == ["EMIL"]
        found = client.get(
            "/api/admin/people", params={"kind": "guardians", "route": "sms"}, headers=headers
        ).json()
        assert [(p["family_name"], p["children"][0]["class_name"]) for p in found["items"]] == [
            ("ALICE", "5A")
        ]
        found = client.get(
            "/api/admin/people", params={"email": "alice@exa"}, headers=headers
        ).json()
        assert found["total"] == 1 and found["items"][0]["state"] == "active"
        found = client.get("/api/admin/people", params={"name": "dor"}, headers=headers).json()
        assert found["items"][0]["state"] == "locked"

    def test_bad_input_is_422_with_the_fields(self, client, state, world):
        add_staff(state, world, "director_a")
        headers = _bearer(api_token(state, world, "director_a"))
        response = client.get(
            "/api/admin/people", params={"state": "asleep", "page": 0}, headers=headers
        )
        assert response.status_code == 422
        assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
            ("query", "state"),
            ("query", "page"),
        }
        response = client.post(
            f"/api/admin/schools/{A}/notify",
            json={"class_name": "", "everyone": True},
            headers=headers,
        )
        assert response.status_code == 422
        assert {e["loc"][-1] for e in response.json()["detail"]} == {"class_name", "everyone"}
        response = client.post("/api/admin/reports/x", json={"status": "maybe"}, headers=headers)
        assert response.status_code == 422

    def test_person_detail_with_history(self, client, state, world):
        add_staff(state, world, "director_a")
        headers = _bearer(api_token(state, world, "director_a"))
        url = f"/api/admin/people/pupils/{world.pupils['dora']}"
        assert client.post(f"{url}/unlock", headers=headers).json() == {"state": "active"}
        body = client.get(url, headers=headers).json()
        assert body["person"]["state"] == "active" and body["account"]["locked_until"] is None
        assert [e["event"] for e in body["history"]] == ["admin.account.unlocked"]
        assert client.post(f"{url}/identifier", headers=headers).json() == {"username": "u.dora"}

    def test_conflicts_are_409_with_a_message(self, client, state, world):
        add_staff(state, world, "director_a")
        headers = _bearer(api_token(state, world, "director_a"))
        response = client.post(
            f"/api/admin/people/pupils/{world.pupils['emil']}/disable", headers=headers
        )
        assert (
            response.status_code == 409
            and "notifiez-la d'abord" in response.json()["detail"]["message"]
        )

    def test_reports(self, client, state, world):
        from idp.accounts.journeys.models import LinkReport

        add_staff(state, world, "director_a")
        with transaction(state.sessions) as db:
            report = LinkReport(
                account_id=world.accounts["p.alice"],
                guardian_id=world.guardians["alice"],
                pupil_id=world.pupils["alice"],
                school_uai=A,
                created_at=state.clock.now(),
            )
            db.add(report)
        headers = _bearer(api_token(state, world, "director_a"))
        listed = client.get("/api/admin/reports", headers=headers).json()
        assert [r["id"] for r in listed] == [report.id]
        done = client.post(
            f"/api/admin/reports/{report.id}", json={"status": "confirmed"}, headers=headers
        ).json()
        assert done["status"] == "confirmed" and done["resolved_at"]
        assert client.get("/api/admin/reports", headers=headers).json() == []


def test_openapi_documents_the_api():
    document = openapi_document()
    ids = {
        op["operationId"]
        for path, item in document["paths"].items()
        if path.startswith("/api/admin")
        for op in item.values()
    }
    assert {
        "admin_me",
        "admin_search_people",
        "admin_get_person",
        "admin_notify_person",
        "admin_reset_password",
        "admin_unlock",
        "admin_disable",
        "admin_enable",
        "admin_reveal_identifier",
        "admin_notify_school",
        "admin_download_letters",
        "admin_statistics",
        "admin_list_reports",
        "admin_resolve_report",
    } <= ids
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_a_real_token_from_a_code_flow(client, state, world, clock):
    """Authorize → password → TOTP → back to the authorization → code → token → API."""
    add_staff(state, world, "director_a")
    rp = make_rp(state, scopes=["openid", "profile", "admin"])
    browser = Browser(client)
    verifier, challenge = pkce()
    response = browser.authorize(
        rp, scope="openid admin", code_challenge=challenge, code_challenge_method="S256"
    )
    response = browser.submit_login(
        response.headers["location"], "director.a", "correct horse battery staple"
    )
    assert response.headers["location"].startswith("/connexion/double-authentification")
    page = client.get(response.headers["location"])
    data = {
        **form_fields(page.text),
        "csrf_token": csrf_of(page.text),
        "code": code(world, "director.a", clock),
    }
    response = client.post("/connexion/double-authentification", data=data, follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith(
        rp.redirect_uri
    ), response.headers.get("location")
    from tests.support.oidc import query

    tokens = browser.tokens(rp, query(response.headers["location"])["code"], verifier).json()
    me = client.get("/api/admin/me", headers=_bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["username"] == "director.a"
