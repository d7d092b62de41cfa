"""The demo staff: known password and TOTP secret, on the demo collège and école (idempotent)."""

from __future__ import annotations

import pyotp

from idp.admin.demo import ASSISTANCE, DIRECTOR, PASSWORD, seed_demo_staff
from idp.demo.registry import COLLEGE_UAI, ECOLE_UAI, seed_demo_registry
from tests.support.oidc import csrf_of, form_fields


def test_demo_director_logs_in_with_the_printed_secret(client, state, tmp_path):
    seed_demo_registry(state.sessions, state.settings, tmp_path)
    seed_demo_staff(state)
    logins = seed_demo_staff(state)  # twice: idempotent
    assert [(x["kind"], x["username"], x["password"], x["state"]) for x in logins] == [
        ("staff", DIRECTOR, PASSWORD, "active"),
        ("staff", ASSISTANCE, PASSWORD, "active"),
    ]
    secret = logins[0]["totp_secret"]
    assert secret in logins[0]["note"]

    page = client.get("/login")
    data = {
        **form_fields(page.text),
        "username": DIRECTOR,
        "password": PASSWORD,
        "csrf_token": csrf_of(page.text),
    }
    assert (
        client.post("/login", data=data, follow_redirects=False).headers["location"]
        == "/connexion/double-authentification"
    )
    page = client.get("/connexion/double-authentification")
    code = pyotp.TOTP(secret).at(state.clock.timestamp())
    done = client.post(
        "/connexion/double-authentification",
        data={"csrf_token": csrf_of(page.text), "code": code},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/admin"
    for uai in (COLLEGE_UAI, ECOLE_UAI):
        assert client.get(f"/admin/statistiques?ecole={uai}").status_code == 200
