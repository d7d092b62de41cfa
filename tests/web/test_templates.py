"""The hosted pages: the form contract, accessibility basics and the no-inline-code rule (CSP)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from idp.web.templating import Templates, static

from .pages import HIDDEN, LOGIN_LINKS, PAGES, SCOPES, Page, make_app, make_settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def get_page(client: TestClient, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page.parse(response.text)


def assert_hidden_fields(page: Page) -> None:
    hidden = {e.attrs["name"]: e.attrs["value"] for e in page.find("input", type="hidden")}
    assert hidden.pop("csrf_token")
    assert hidden == HIDDEN


class TestEveryPage:
    @pytest.mark.parametrize("url", PAGES)
    def test_no_inline_script_or_style(self, client: TestClient, url: str) -> None:
        page = Page.parse(client.get(url).text)
        assert page.inline_scripts == []
        assert page.find("style") == []
        for element in page.elements:
            assert "style" not in element.attrs, element
            assert not [a for a in element.attrs if a.startswith("on")], element
            assert not str(element.attrs.get("href", "")).startswith("javascript:"), element
        scripts = page.find("script")
        assert {s.attrs["src"] for s in scripts} == {
            static("dsfr/dsfr.module.min.js"),
            static("dsfr/dsfr.nomodule.min.js"),
        }

    @pytest.mark.parametrize("url", PAGES)
    def test_accessibility_basics(self, client: TestClient, url: str) -> None:
        page = Page.parse(client.get(url).text)
        assert page.find("html")[0].attrs["lang"] == "fr"
        assert len(page.find("h1")) == 1
        assert page.find("title")[0].text.strip().endswith("- ÉduConnect")
        assert page.find("a", href="#content") and page.find("main", id="content")
        ids = page.ids()
        assert len(ids) == len(set(ids)), "duplicate ids"
        labelled = {e.attrs.get("for") for e in page.find("label")}
        for field in page.elements:
            if field.tag == "input" and field.attrs.get("type") != "hidden":
                assert field.attrs["id"] in labelled or field.attrs.get("aria-label"), field
            for ref in (field.attrs.get("aria-describedby") or "").split():
                assert ref in ids, f"aria-describedby points at a missing id: {ref}"

    @pytest.mark.parametrize("url", PAGES)
    def test_footer_links(self, client: TestClient, url: str) -> None:
        html = client.get(url).text
        for href, label in [
            ("/accessibilite", "Accessibilité : non conforme"),
            ("/donnees-personnelles", "Données personnelles"),
            ("/assistance", "Contact"),
        ]:
            assert f'href="{href}">{label}</a>' in html
        assert "République<br>Française" in html
        assert "Un compte unique pour les services numériques des écoles" in html


class TestLogin:
    def test_form_contract(self, client: TestClient) -> None:
        page = get_page(client, "/login")
        form = page.find("form")[0]
        assert form.attrs["method"] == "post" and form.attrs["action"] == "/login"
        assert page.find("input", name="username", type="text", autocomplete="username")
        assert page.find("input", name="password", type="password")
        assert page.find("label", for_="username")[0].text.strip() == "Identifiant"
        assert "Mot de passe" in page.find("label", for_="password-input")[0].text
        assert page.find("button", type="submit")[0].text.strip() == "Se connecter"
        assert_hidden_fields(page)

    def test_show_password_toggle_is_not_submitted(self, client: TestClient) -> None:
        page = get_page(client, "/login")
        assert page.find("div", class_="fr-password", id="password")
        toggle = page.find("input", type="checkbox", id="password-show")[0]
        assert "name" not in toggle.attrs

    def test_client_franceconnect_and_links(self, client: TestClient) -> None:
        response = client.get("/login")
        page = Page.parse(response.text)
        assert "Vous vous connectez à LSUN démo" in response.text
        assert page.find("a", class_="fr-connect", href="/fc/login")
        for href in LOGIN_LINKS.values():
            assert page.find("a", href=href)
        assert "Je n'ai pas de compte" in response.text

    def test_optional_parts_hidden_when_absent(self, client: TestClient) -> None:
        html = client.get("/login?full=false").text
        assert "Vous vous connectez" not in html
        assert "fr-connect" not in html
        for href in LOGIN_LINKS.values():
            assert href not in html
        assert "fr-alert" not in html

    def test_error_is_announced_and_linked(self, client: TestClient) -> None:
        page = get_page(client, "/login?error=true")
        alert = page.find("div", id="login-error")[0]
        assert "fr-alert--error" in alert.attrs["class"]
        for name in ("username", "password"):
            field = page.find("input", name=name)[0]
            assert field.attrs["aria-describedby"] == "login-error"
            assert field.attrs["aria-invalid"] == "true"
        assert page.find("input", name="username")[0].attrs["value"] == "j.dupont12"
        assert page.find("title")[0].text.startswith("Erreur")

    def test_values_are_escaped(self) -> None:
        templates = Templates(make_settings())
        request = _request_with_csrf()
        evil = '<script>alert("x")</script>'
        response = templates.render(
            request,
            "login.html",
            {"client_name": evil, "username": evil, "error": evil, "action": "/login"},
        )
        html = response.body.decode()
        assert evil not in html
        assert Page.parse(html).inline_scripts == []


class TestConsent:
    def test_decisions_and_scopes(self, client: TestClient) -> None:
        response = client.get("/consent")
        page = Page.parse(response.text)
        buttons = {b.attrs["value"]: b.text.strip() for b in page.find("button", name="decision")}
        assert buttons == {"allow": "Autoriser", "deny": "Refuser"}
        for _scope, description in SCOPES:
            assert description in response.text
        assert "LSUN démo" in response.text
        assert_hidden_fields(page)


class TestLogoutConfirm:
    def test_decisions(self, client: TestClient) -> None:
        page = get_page(client, "/logout")
        buttons = {b.attrs["value"]: b.text.strip() for b in page.find("button", name="decision")}
        assert buttons == {"logout": "Se déconnecter", "cancel": "Annuler"}
        assert_hidden_fields(page)

    def test_without_client(self, client: TestClient) -> None:
        assert "LSUN" not in client.get("/logout?client=false").text


class TestMessageAndErrors:
    def test_message_links(self, client: TestClient) -> None:
        page = get_page(client, "/message")
        assert page.find("h1")[0].text.strip() == "Vous êtes déconnecté"
        assert page.find("a", href="https://lsun.example.fr/")[0].text.strip() == (
            "Retour à LSUN démo"
        )
        assert page.find("a", href="/login")

    def test_error_page(self, client: TestClient) -> None:
        response = client.get("/error")
        page = Page.parse(response.text)
        assert response.status_code == 400
        assert page.find("h1")[0].text.strip() == "Lien invalide"
        assert "Le lien a expiré." in response.text
        assert page.find("a", href="/login")[0].text.strip() == "Retour"
        assert not Page.parse(client.get("/error?back=false").text).find("a", href="/login")

    def test_csrf_error_page(self, client: TestClient) -> None:
        response = client.get("/expired")
        assert response.status_code == 403
        assert "La page a expiré ou la requête n" in response.text
        assert "Rechargez la page et réessayez." in response.text


class TestRender:
    def test_pages_are_not_cached_unless_asked(self) -> None:
        templates = Templates(make_settings())
        request = _request_with_csrf()
        context = {"title": "t", "message": "m", "links": []}
        assert templates.render(request, "message.html", context).headers["cache-control"] == (
            "no-store"
        )
        response = templates.render(
            request, "message.html", context, status_code=201, headers={"Cache-Control": "private"}
        )
        assert response.status_code == 201
        assert response.headers["cache-control"] == "private"

    def test_page_without_form_does_not_compute_a_token(self) -> None:
        templates = Templates(make_settings())
        request = _request_with_csrf()
        templates.render(request, "message.html", {"title": "t", "message": "m"})
        assert request.state.csrf_used is False

    def test_settings_are_shown(self, client: TestClient) -> None:
        html = client.get("/message").text
        settings = make_settings()
        assert settings.academy_name in html
        assert settings.assistance_phone in html


def _request_with_csrf() -> Request:
    """A bare request carrying what CsrfCookieMiddleware would have put in its state."""
    state = {"csrf_secret": "s" * 43, "csrf_key": b"k" * 32, "csrf_used": False}
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "state": state})
