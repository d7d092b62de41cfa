"""Every bad AuthnRequest gets a French error page with status 400 — never a redirect or a POST
to an address the SP did not register, never a 500 — and an audit event."""

from __future__ import annotations

import base64
import zlib
from urllib.parse import quote, urlencode, urlsplit

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.xmldsig import SIG_RSA_SHA256
from sqlalchemy import select

from idp.security.models import AuditEvent
from tests.support.saml import make_sp

IDP = "http://localhost/idp/shibboleth"
SSO = "/idp/profile/SAML2/Redirect/SSO"


def _redirect_url(sp, **kwargs) -> str:
    _, info = sp.client.prepare_for_authenticate(
        entityid=IDP,
        relay_state="rs",
        binding=BINDING_HTTP_REDIRECT,
        sigalg=SIG_RSA_SHA256,
        **kwargs,
    )
    parts = urlsplit(dict(info["headers"])["Location"])
    return f"{parts.path}?{parts.query}"


def _refused(client, db, response, reason: str) -> None:
    assert response.status_code == 400, response.text[:300]
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Connexion impossible" in response.text
    assert 'id="saml-post"' not in response.text
    reasons = [
        e.detail["reason"]
        for e in db.scalars(select(AuditEvent).where(AuditEvent.event == "saml.request_refused"))
    ]
    db.rollback()  # the test's session must not keep SQLite's writer lock
    assert reason in reasons, reasons


def _deflated(xml: str) -> str:
    raw = zlib.compress(xml.encode())[2:-4]
    return base64.b64encode(raw).decode()


def test_bad_signature(client, db, sp):
    url = _redirect_url(sp)
    head, _ = url.rsplit("&Signature=", 1)
    forged = base64.b64encode(b"\x00" * 256).decode()
    _refused(client, db, client.get(f"{head}&Signature={quote(forged)}"), "bad_signature")


def test_signature_over_another_relay_state(client, db, sp):
    url = _redirect_url(sp).replace("RelayState=rs", "RelayState=elsewhere")
    _refused(client, db, client.get(url), "bad_signature")


def test_unsigned_request_from_an_sp_that_signs(client, db, sp):
    url = _redirect_url(sp)
    unsigned = url.split("&SigAlg=", 1)[0]
    _refused(client, db, client.get(unsigned), "unsigned_request")


def test_unknown_issuer(client, db, sp, idp_metadata, tmp_path):
    (tmp_path / "stranger").mkdir()
    stranger = make_sp(
        tmp_path / "stranger", idp_metadata, entity_id="https://stranger.example.fr/sp"
    )
    _refused(client, db, client.get(_redirect_url(stranger)), "unknown_issuer")


def test_unregistered_acs(client, db, sp):
    url = _redirect_url(sp, assertion_consumer_service_url="https://evil.example.net/acs")
    _refused(client, db, client.get(url), "unregistered_acs")


def test_replayed_id(client, db, sp, account):
    url = _redirect_url(sp)
    assert client.get(url, follow_redirects=False).status_code == 303
    _refused(client, db, client.get(url, follow_redirects=False), "replayed_id")


def test_expired_issue_instant(client, db, sp, clock):
    url = _redirect_url(sp)
    clock.advance(6 * 60)
    _refused(client, db, client.get(url), "expired_issue_instant")


def test_doctype(client, db, sp):
    xml = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" '
        'Version="2.0" IssueInstant="2026-01-01T00:00:00Z">&lol;</samlp:AuthnRequest>'
    )
    _refused(
        client, db, client.get(SSO + "?" + urlencode({"SAMLRequest": _deflated(xml)})), "doctype"
    )


@pytest.mark.parametrize(
    "value", [base64.b64encode(b"\x8f\x00garbage" * 20).decode(), "%%%not-base64%%%", ""]
)
def test_deflate_garbage(client, db, sp, value):
    response = client.get(SSO + "?" + urlencode({"SAMLRequest": value}))
    assert response.status_code == 400
    reasons = {
        e.detail["reason"]
        for e in db.scalars(select(AuditEvent).where(AuditEvent.event == "saml.request_refused"))
    }
    db.rollback()
    assert reasons & {"bad_deflate", "bad_base64", "missing_or_oversized", "malformed_xml"}


def test_post_binding_with_a_tampered_request(client, db, sp):
    _, info = sp.client.prepare_for_authenticate(
        entityid=IDP, relay_state="rs", binding=BINDING_HTTP_POST, sigalg=SIG_RSA_SHA256
    )
    import re

    data = dict(re.findall(r'name="(SAMLRequest|RelayState)" value="([^"]*)"', info["data"]))
    xml = base64.b64decode(data["SAMLRequest"]).decode()
    tampered = (
        xml.replace('ForceAuthn="false"', 'ForceAuthn="true"')
        if "ForceAuthn" in xml
        else (
            xml.replace("<ns0:AuthnRequest ", '<ns0:AuthnRequest ForceAuthn="true" ', 1).replace(
                "<saml2p:AuthnRequest ", '<saml2p:AuthnRequest ForceAuthn="true" ', 1
            )
        )
    )
    assert tampered != xml
    data["SAMLRequest"] = base64.b64encode(tampered.encode()).decode()
    response = client.post("/idp/profile/SAML2/POST/SSO", data=data, follow_redirects=False)
    _refused(client, db, response, "bad_signature")


def test_unsolicited_to_an_unregistered_acs(client, db, sp):
    response = client.get(
        "/idp/profile/SAML2/Unsolicited/SSO",
        params={
            "providerId": "https://sp.example.fr/saml/metadata",
            "shire": "https://evil.example.net/",
        },
    )
    _refused(client, db, response, "unregistered_acs")
    response = client.get(
        "/idp/profile/SAML2/Unsolicited/SSO", params={"providerId": "https://nobody"}
    )
    _refused(client, db, response, "unknown_issuer")
