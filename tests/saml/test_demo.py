"""The demo SAML SP: a pupil logs in, consents, and the SP shows what it received."""

from __future__ import annotations

import re

from idp.demo.registry import COLLEGE_UAI, LUCAS_PASSWORD
from idp.demo.seed import seed
from tests.support.oidc import csrf_of, form_fields
from tests.support.saml import posted_form


def test_a_pupil_logs_in_from_the_demo_sp(settings, client, browser):
    logins = seed(settings)
    assert {"kind": "pupil", "state": "active"}.items() <= next(
        x for x in logins if x["username"] == "l.durand"
    ).items()
    start = client.get("/demo/saml/login", follow_redirects=False)
    assert start.status_code == 303
    sso = client.get(start.headers["location"], follow_redirects=False)
    assert sso.headers["location"].startswith("/login?auth=")
    after = browser.submit_login(sso.headers["location"], "l.durand", LUCAS_PASSWORD)
    consent = client.get(after.headers["location"], follow_redirects=False)
    assert "Service SAML démo demande" in consent.text
    assert "Votre date de naissance" in consent.text
    data = {**form_fields(consent.text), "csrf_token": csrf_of(consent.text), "decision": "allow"}
    page = client.post("/idp/profile/SAML2/consent", data=data, follow_redirects=False)
    action, fields = posted_form(page.text)
    assert action == "http://localhost/demo/saml/acs"
    shown = client.post(action, data=fields)
    assert shown.status_code == 200
    text = shown.text
    assert "Assertion reçue et vérifiée" in text, text[:2000]
    rows = dict(re.findall(r"<td>(\w+)</td><td><code>[^<]+</code></td><td>([^<]*)</td>", text))
    assert rows["FrEduCtPersonAffiliation"] == "eleve2d"
    assert rows["FrEduCtEleveUAI"] == COLLEGE_UAI
    assert rows["FrEduCtDateNaissance"] == "2012-03-11"
    assert re.fullmatch(r"[0-9a-f]{32}", rows["FrEduCtEleveINEHash"])
    assert rows["sn"] == "DURAND" and rows["givenName"] == "Lucas"
    assert rows["FrEduCtCivilite"] == "M."
    assert rows["FrEduVecteur"] == f"4|DURAND|Lucas|20001|{COLLEGE_UAI}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", rows["FrEduCtDateConnexion"])
    assert rows["FrEduUrlRetour"] == "http://localhost/idp/profile/Logout"

    # The consent is remembered: IdP-initiated login from the portal goes straight through.
    again = client.get(
        "/idp/profile/SAML2/Unsolicited/SSO",
        params={"providerId": "http://localhost/demo/saml/metadata", "target": "portail"},
    )
    action, fields = posted_form(again.text)
    assert fields["RelayState"] == "portail"
    assert "connexion à l&#39;initiative d&#39;ÉduConnect" in client.post(action, data=fields).text
