"""The same logins validated by OneLogin's python3-saml, a second independent SP."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.saml.conftest import register
from tests.support.onelogin import ACS, make_onelogin_sp
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
