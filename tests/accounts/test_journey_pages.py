"""Every journey page, as served and with its errors shown: strict-CSP friendly markup, one
heading, labelled fields, error messages tied to their fields."""

from __future__ import annotations

from datetime import date

from tests.accounts import helpers as h
from tests.support.oidc import PASSWORD, make_account
from tests.web.pages import Page


def check(html: str) -> Page:
    page = Page.parse(html)
    assert page.inline_scripts == [] and page.find("style") == []
    for element in page.elements:
        assert "style" not in element.attrs, element
        assert not [a for a in element.attrs if a.startswith("on")], element
    assert page.find("html")[0].attrs["lang"] == "fr"
    assert len(page.find("h1")) == 1
    assert page.find("title")[0].text.strip().endswith("- ÉduConnect")
    ids = page.ids()
    assert len(ids) == len(set(ids)), "duplicate ids"
    labelled = {e.attrs.get("for") for e in page.find("label")}
    for field in page.elements:
        if field.tag == "input" and field.attrs.get("type") != "hidden":
            assert field.attrs["id"] in labelled or field.attrs.get("aria-label"), field
        described = field.attrs.get("aria-describedby")
        if described:
            assert described in ids, f"{described} is not on the page"
    return page


def test_public_pages(client, state):
    for url in ("/inscription", "/identifiant-oublie", "/mot-de-passe-oublie", "/dev/outbox"):
        response = client.get(url)
        assert response.status_code == 200, url
        check(response.text)
    for action, fields in (
        ("/inscription", {"mobile": "x"}),
        ("/identifiant-oublie", {"contact": "x"}),
        ("/mot-de-passe-oublie", {"username": ""}),
    ):
        page = client.get(action)
        response = h.post_form(client, page.text, action, **fields)
        assert response.status_code == 400
        check(response.text)


def test_journey_pages_with_errors(browser, client, state):
    family = h.notify(state, h.add_guardian(state, children=[("Léa", date(2012, 5, 3))]))
    browser.login("j.martin12", h.TEMPORARY)
    page = client.get("/activation")
    check(page.text)
    wrong = h.post_form(
        client, page.text, "/activation/enfants", **{f"birthdate_{family.pupil_ids[0]}": "x"}
    )
    check(wrong.text)
    password = h.post_form(
        client,
        page.text,
        "/activation/enfants",
        **{f"birthdate_{family.pupil_ids[0]}": "2012-05-03"},
    )
    check(password.text)
    check(
        h.post_form(
            client,
            password.text,
            "/activation/mot-de-passe",
            password="x",
            password_confirm="y",
            email="z",
        ).text
    )
    sent = h.post_form(
        client,
        password.text,
        "/activation/mot-de-passe",
        password=h.NEW_PASSWORD,
        password_confirm=h.NEW_PASSWORD,
        email="j@example.fr",
    )
    check(sent.text)
    check(client.get(h.last_link(state, "activation_email", "j@example.fr")).text)

    client.cookies.clear()
    make_account(
        state,
        "p.durand",
        force_password_change=True,
        phone_number="+33611223344",
        phone_number_verified=True,
    )
    browser.login("p.durand", PASSWORD)
    forced = client.get("/mot-de-passe/renouveler")
    check(forced.text)
    check(
        h.post_form(
            client, forced.text, "/mot-de-passe/renouveler", password="x", password_confirm="x"
        ).text
    )
    h.post_form(
        client,
        forced.text,
        "/mot-de-passe/renouveler",
        password=h.NEW_PASSWORD,
        password_confirm=h.NEW_PASSWORD,
    )
    for url in ("/compte/mot-de-passe", "/compte/courriel", "/compte/mobile"):
        check(client.get(url).text)
    code = h.post_form(
        client, client.get("/compte/mobile").text, "/compte/mobile", mobile="06 12 12 12 12"
    )
    check(code.text)
    check(h.post_form(client, code.text, "/compte/mobile/code", code="12").text)
