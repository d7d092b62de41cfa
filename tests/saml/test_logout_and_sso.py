"""Single logout with pysaml2's SP, one SSO session across SAML and OpenID Connect, and the
login options an SP may ask for (transient NameID, IsPassive, ForceAuthn, consent)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.samlp import STATUS_NO_PASSIVE, STATUS_REQUEST_DENIED, STATUS_SUCCESS
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import SIG_RSA_SHA256
from sqlalchemy import select

from idp.security.models import AuditEvent
from tests.saml.conftest import register
from tests.support.oidc import PASSWORD, csrf_of, form_fields, make_rp
from tests.support.saml import ACS, SLO, make_sp, posted_form

IDP = "http://localhost/idp/shibboleth"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _start(sp, **kwargs):
    req_id, info = sp.client.prepare_for_authenticate(
        entityid=IDP,
        relay_state="rs",
        binding=BINDING_HTTP_REDIRECT,
        sigalg=SIG_RSA_SHA256,
        **kwargs,
    )
    return req_id, _path(dict(info["headers"])["Location"])


def _saml_login(client, browser, sp, **kwargs):
    req_id, url = _start(sp, **kwargs)
    first = client.get(url, follow_redirects=False)
    if first.status_code == 303:
        after = browser.submit_login(first.headers["location"], "j.martin", PASSWORD)
        first = client.get(after.headers["location"], follow_redirects=False)
    action, fields = posted_form(first.text)
    assert action == ACS
    return sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"}
    )


def test_single_logout_ends_the_session_and_answers_signed(client, browser, sp, account, db):
    parsed = _saml_login(client, browser, sp)
    assert client.get("/compte", follow_redirects=False).status_code == 200
    results = sp.client.global_logout(parsed.name_id, sign=True, sign_alg=SIG_RSA_SHA256)
    binding, info = results[IDP]
    assert binding == BINDING_HTTP_REDIRECT
    back = client.get(_path(dict(info["headers"])["Location"]), follow_redirects=False)
    assert back.status_code == 303, back.text[:500]
    location = back.headers["location"]
    assert location.startswith(SLO + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    certs = sp.client.metadata.certs(IDP, "idpsso", "signing")
    assert verify_redirect_signature(query, sp.client.sec.sec_backend, certs[0][1])
    answer = sp.client.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    assert answer.response.status.status_code.value == STATUS_SUCCESS
    # The SSO session is over, for both protocols.
    assert client.get("/compte", follow_redirects=False).status_code in (302, 303)
    events = set(db.scalars(select(AuditEvent.event)))
    db.rollback()
    assert {"saml.logout", "logout"} <= events


def test_unsigned_logout_request_is_refused(client, browser, sp, account, db):
    parsed = _saml_login(client, browser, sp)
    results = sp.client.global_logout(parsed.name_id, sign=False)
    _, info = results[IDP]
    url = _path(dict(info["headers"])["Location"]).split("&SigAlg=")[0]
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers
    assert client.get("/compte", follow_redirects=False).status_code == 200


def test_saml_login_makes_openid_silent(client, browser, sp, state, account):
    _saml_login(client, browser, sp)
    rp = make_rp(state)
    code = browser.authorize(rp, prompt="none")
    assert code.status_code == 302
    assert "code=" in code.headers["location"] and "error" not in code.headers["location"]


def test_openid_login_makes_saml_silent(client, browser, sp, state, account):
    rp = make_rp(state)
    browser.code_flow(rp)
    _, url = _start(sp)
    page = client.get(url, follow_redirects=False)
    assert page.status_code == 200 and 'id="saml-post"' in page.text


def test_force_authn_asks_again(client, browser, sp, account):
    _saml_login(client, browser, sp)
    _, url = _start(sp, force_authn="true")
    again = client.get(url, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?")


def test_is_passive_without_session(client, sp):
    _, url = _start(sp, is_passive="true")
    page = client.get(url, follow_redirects=False)
    _, fields = posted_form(page.text)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert STATUS_NO_PASSIVE in xml and "Assertion" not in xml


def test_transient_name_id_when_asked(client, browser, sp, account):
    first = _saml_login(client, browser, sp, nameid_format=NAMEID_FORMAT_TRANSIENT)
    second = _saml_login(client, browser, sp, nameid_format=NAMEID_FORMAT_TRANSIENT)
    assert first.name_id.format == NAMEID_FORMAT_TRANSIENT
    assert first.name_id.text != second.name_id.text


def test_persistent_name_id_is_stable_and_pairwise(client, browser, sp, state, account, tmp_path):
    first = _saml_login(client, browser, sp)
    second = _saml_login(client, browser, sp)
    assert first.name_id.format == NAMEID_FORMAT_PERSISTENT
    assert first.name_id.text == second.name_id.text
    (tmp_path / "other").mkdir()
    idp_md = client.get("/idp/shibboleth").text
    other = make_sp(tmp_path / "other", idp_md, entity_id="https://other.example.fr/sp")
    register(state, other.metadata, first_party=True)
    third = _saml_login(client, browser, other)
    assert third.name_id.text != first.name_id.text
    assert third.ava["FrEduCtId"] != first.ava["FrEduCtId"]


def test_default_release_and_consent(client, browser, state, idp_metadata, tmp_path, account, db):
    (tmp_path / "third").mkdir()
    sp = make_sp(tmp_path / "third", idp_metadata, entity_id="https://third.example.fr/sp")
    register(state, sp.metadata)  # not first-party, default release
    req_id, url = _start(sp)
    first = client.get(url, follow_redirects=False)
    after = browser.submit_login(first.headers["location"], "j.martin", PASSWORD)
    consent = client.get(after.headers["location"], follow_redirects=False)
    assert "demande l&#39;accès" in consent.text or "demande l'accès" in consent.text
    data = {**form_fields(consent.text), "csrf_token": csrf_of(consent.text), "decision": "deny"}
    denied = client.post("/idp/profile/SAML2/consent", data=data, follow_redirects=False)
    _, fields = posted_form(denied.text)
    assert STATUS_REQUEST_DENIED in base64.b64decode(fields["SAMLResponse"]).decode()
    data["decision"] = "allow"
    granted = client.post("/idp/profile/SAML2/consent", data=data, follow_redirects=False)
    _, fields = posted_form(granted.text)
    parsed = sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    assert "FrEduCtEleveINEHash" not in parsed.ava and "FrEduCtDateNaissance" not in parsed.ava
    issued = db.scalars(select(AuditEvent).where(AuditEvent.event == "saml.assertion_issued"))
    details = [e.detail for e in issued]
    db.rollback()
    assert details[-1]["sp"] == "https://third.example.fr/sp"
    assert "sn" in details[-1]["attributes"] and "Martin" not in str(details)
