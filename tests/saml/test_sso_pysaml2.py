"""SP- and IdP-initiated login, validated by pysaml2's own SP (``Saml2Client``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2 import BINDING_HTTP_POST as BINDING_POST_SSO
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


def test_idp_initiated_login(client, browser, sp, account):
    first = client.get(
        "/idp/profile/SAML2/Unsolicited/SSO",
        params={"providerId": SP_ENTITY, "shire": ACS, "target": "https://sp.example.fr/home"},
        follow_redirects=False,
    )
    page = _login(browser, first)
    action, fields = posted_form(page.text)
    assert action == ACS and fields["RelayState"] == "https://sp.example.fr/home"
    parsed = sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={}
    )
    assert parsed.in_response_to is None
    assert parsed.ava["givenName"] == ["Jeanne"]


def test_post_binding_request(client, browser, sp, account):
    import re

    req_id, info = sp.client.prepare_for_authenticate(
        entityid=IDP, relay_state="rs", binding=BINDING_POST_SSO, sigalg=SIG_RSA_SHA256
    )
    data = dict(re.findall(r'name="(SAMLRequest|RelayState)" value="([^"]*)"', info["data"]))
    first = client.post("/idp/profile/SAML2/POST/SSO", data=data, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith(
        "/idp/profile/SAML2/resume?"
    )
    page = _login(browser, client.get(first.headers["location"], follow_redirects=False))
    _, fields = posted_form(page.text)
    parsed = sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    assert parsed.in_response_to == req_id


def test_metadata_is_signed_and_lists_the_next_certificate(client, state):
    import shutil
    import tempfile

    from saml2.md import EntityDescriptor
    from saml2.sigver import CryptoBackendXmlSec1

    xml = client.get("/idp/shibboleth").text
    assert 'entityID="http://localhost/idp/shibboleth"' in xml
    for path in (
        "/idp/profile/SAML2/Redirect/SSO",
        "/idp/profile/SAML2/POST/SSO",
        "/idp/profile/SAML2/Redirect/SLO",
        "/idp/profile/SAML2/POST/SLO",
    ):
        assert "http://localhost" + path in xml
    assert NAMEID_FORMAT_PERSISTENT in xml and "nameid-format:transient" in xml
    from idp.saml.wiring import saml_of

    files = saml_of(state).keys.files()
    assert len(files.published) == 2  # active and next
    for pem in files.published:
        body = "".join(pem.strip().splitlines()[1:-1])
        assert body in xml
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as cert:
        cert.write(files.published[0])
        cert.flush()
        backend = CryptoBackendXmlSec1(shutil.which("xmlsec1"))
        node = f"{EntityDescriptor.c_namespace}:EntityDescriptor"
        assert backend.validate_signature(xml, cert.name, "pem", node, None)


def test_rotation_signs_with_the_certificate_sps_already_have(client, browser, sp, state, account):
    from idp.saml.wiring import saml_of

    before = saml_of(state).keys.files()
    rotated = saml_of(state).keys.rotate()
    after = saml_of(state).keys.files()
    assert after.published[0] == before.published[1]  # the former next one signs now
    assert before.published[0] in after.published  # the retired one stays published a while
    # ``sp`` read our metadata before the rotation, and accepts what the new key signs.
    req_id, url = _authn_redirect(sp)
    _, fields = posted_form(_login(browser, client.get(url, follow_redirects=False)).text)
    parsed = sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    assert parsed is not None and rotated["active"] != rotated["retired"]
