"""The same logins validated by OneLogin's python3-saml, a second independent SP."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.saml.conftest import register
from tests.support.onelogin import ACS, SLS, make_onelogin_sp
from tests.support.saml import posted_form

PASSWORD = "correct horse battery staple"
OID = "urn:oid:1.3.6.1.4.1.20326.10.999.1."


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_sp_initiated_login_accepted_by_python3_saml(state, client, browser, idp_metadata, account):
    sp = make_onelogin_sp(idp_metadata)
    register(state, sp.metadata, first_party=True)
    auth = sp.auth(ACS)
    url = auth.login(return_to="https://sp2.example.fr/after")
    request_id = auth.get_last_request_id()
    first = client.get(_path(url), follow_redirects=False)
    assert first.status_code == 303, first.text[:500]
    after = browser.submit_login(first.headers["location"], "j.martin", PASSWORD)
    page = client.get(after.headers["location"], follow_redirects=False)
    action, fields = posted_form(page.text)
    assert action == ACS
    acs = sp.auth(ACS, post=fields)
    acs.process_response(request_id=request_id)
    assert acs.get_errors() == [], acs.get_last_error_reason()
    assert acs.is_authenticated()
    attributes = acs.get_attributes()
    assert attributes["urn:oid:2.5.4.4"] == ["Martin"]
    assert OID + "57" in attributes  # FrEduCtId
    assert acs.get_friendlyname_attributes()["givenName"] == ["Jeanne"]
    assert fields["RelayState"] == "https://sp2.example.fr/after"


def test_idp_initiated_login_accepted_by_python3_saml(
    state, client, browser, idp_metadata, account
):
    sp = make_onelogin_sp(idp_metadata)
    register(state, sp.metadata, first_party=True)
    first = client.get(
        "/idp/profile/SAML2/Unsolicited/SSO",
        params={"providerId": "https://sp2.example.fr/metadata", "target": "home"},
        follow_redirects=False,
    )
    after = browser.submit_login(first.headers["location"], "j.martin", PASSWORD)
    page = client.get(after.headers["location"], follow_redirects=False)
    action, fields = posted_form(page.text)
    assert action == ACS
    acs = sp.auth(ACS, post=fields)
    acs.process_response()
    assert acs.get_errors() == [], acs.get_last_error_reason()
    assert acs.get_nameid_format() == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def test_single_logout_with_python3_saml(state, client, browser, idp_metadata, account):
    sp = make_onelogin_sp(idp_metadata)
    register(state, sp.metadata, first_party=True)
    auth = sp.auth(ACS)
    url = auth.login()
    first = client.get(_path(url), follow_redirects=False)
    after = browser.submit_login(first.headers["location"], "j.martin", PASSWORD)
    _, fields = posted_form(client.get(after.headers["location"], follow_redirects=False).text)
    acs = sp.auth(ACS, post=fields)
    acs.process_response(request_id=auth.get_last_request_id())
    assert acs.get_errors() == []
    logout_url = acs.logout(
        name_id=acs.get_nameid(),
        session_index=acs.get_session_index(),
        name_id_format=acs.get_nameid_format(),
    )
    back = client.get(_path(logout_url), follow_redirects=False)
    assert back.status_code == 303, back.text[:400]
    location = back.headers["location"]
    assert location.startswith(SLS + "?")
    from urllib.parse import parse_qs

    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    sls = sp.auth(SLS, get=query)
    sls.process_slo(request_id=acs.get_last_request_id())
    assert sls.get_errors() == [], sls.get_last_error_reason()
    assert client.get("/compte", follow_redirects=False).status_code in (302, 303)
