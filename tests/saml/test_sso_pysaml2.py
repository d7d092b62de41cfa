"""SP- and IdP-initiated login, validated by pysaml2's own SP (``Saml2Client``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import SIG_RSA_SHA256

from tests.support.saml import ACS, SP_ENTITY, posted_form

IDP = "http://localhost/idp/shibboleth"


def _authn_redirect(sp, relay_state="page-42", **kwargs):
    req_id, info = sp.client.prepare_for_authenticate(
        entityid=IDP,
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        sigalg=SIG_RSA_SHA256,
        **kwargs,
    )
    location = dict(info["headers"])["Location"]
    parts = urlsplit(location)
    return req_id, f"{parts.path}?{parts.query}"


def _login(browser, response):
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"].startswith("/login?auth="), response.headers["location"]
    after = browser.submit_login(
        response.headers["location"], "j.martin", "correct horse battery staple"
    )
    assert after.status_code == 303, after.text[:500]
    return browser.client.get(after.headers["location"], follow_redirects=False)


def test_sp_initiated_redirect_login(client, browser, sp, account):
    req_id, url = _authn_redirect(sp)
    page = _login(browser, client.get(url, follow_redirects=False))
    assert page.status_code == 200, page.text[:800]
    action, fields = posted_form(page.text)
    assert action == ACS
    assert fields["RelayState"] == "page-42"
    parsed = sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    assert parsed is not None
    assert parsed.in_response_to == req_id
    ava = parsed.get_identity()
    assert ava["sn"] == ["Martin"] and ava["givenName"] == ["Jeanne"]
    subject = parsed.get_subject()
    assert subject.format == NAMEID_FORMAT_PERSISTENT
    assert parsed.assertion.conditions.audience_restriction[0].audience[0].text == SP_ENTITY


def test_response_signed_and_encrypted_with_strong_algorithms(client, browser, sp, account):
    import base64

    req_id, url = _authn_redirect(sp)
    _, fields = posted_form(_login(browser, client.get(url, follow_redirects=False)).text)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "EncryptedAssertion" in xml and "<saml:Assertion" not in xml
    assert "http://www.w3.org/2009/xmlenc11#aes256-gcm" in xml
    assert "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" in xml
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in xml
    assert "http://www.w3.org/2001/10/xml-exc-c14n#" in xml
    assert "sha1" not in xml and "tripledes" not in xml
    parsed = sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    # The decrypted assertion carries its own signature, and its lifetime is 5 minutes.
    assert parsed.assertion.signature is not None
    conditions = parsed.assertion.conditions
    from datetime import datetime

    lifetime = datetime.fromisoformat(conditions.not_on_or_after.replace("Z", "+00:00")) - (
        datetime.fromisoformat(conditions.not_before.replace("Z", "+00:00"))
    )
    assert lifetime.total_seconds() <= 5 * 60 + 1
