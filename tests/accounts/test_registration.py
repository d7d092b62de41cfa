"""Self-registration by SMS (DESIGN.md §4.3) through the real app."""

from __future__ import annotations

import html
import re
from datetime import date

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.accounts.models import Account, AccountGuardian, AccountState, ActivationRoute
from idp.db import transaction
from idp.registry.models import Guardianship
from tests.accounts import helpers as h
from tests.support.oidc import pkce, query

MOBILE = "+33612345678"


def _start(client, auth=None, **fields):
    page = client.get("/inscription" + (f"?auth={auth}" if auth else ""))
    assert page.status_code == 200
    values = {"given_name": "Jeanne", "family_name": "Martin", "mobile": "06 12 34 56 78", **fields}
    return h.post_form(client, page.text, "/inscription", **values)


def _shape(html: str) -> str:
    """The page without what legitimately differs between two requests."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', "", html)
    return re.sub(r'name="progress" value="[^"]*"', "", html)


class TestRegistration:
    def test_register_groups_records_and_resumes_the_authorization(
        self, browser, client, rp, state
    ):
        first = h.add_guardian(
            state, given="Jeanne", family="Martin", children=[("Léa", date(2012, 5, 3))]
        )
        # The same parent known to a second school (accents and case differ).
        second = h.add_guardian(
            state,
            given="JEANNE",
            family="MARTÍN",
            children=[("Hugo", date(2016, 1, 9))],
            school="0750002",
        )
        # Same mobile, other person: not grouped.
        h.add_guardian(state, given="Paul", family="Martin", children=[("Zoé", date(2013, 2, 2))])
        verifier, challenge = pkce()
        authorize = browser.authorize(
            rp,
            scope="openid profile phone children",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        auth = query(authorize.headers["location"])["auth"]
        page = _start(client, auth)
        assert page.status_code == 200, page.text
        page = h.post_form(client, page.text, "/inscription/code", code=h.last_code(state, MOBILE))
        assert page.status_code == 200, page.text
        assert "Léa" in page.text and "Hugo" in page.text and "Zoé" not in page.text
        fields = {f"birthdate_{pid}": "" for pid in first.pupil_ids + second.pupil_ids}
        fields[f"birthdate_{first.pupil_ids[0]}"] = "03/05/2012"
        fields[f"birthdate_{second.pupil_ids[0]}"] = "2016-01-09"
        page = h.post_form(client, page.text, "/inscription/enfants", **fields)
        assert page.status_code == 200, page.text
        assert "j.martin" in page.text
        done = h.post_form(
            client,
            page.text,
            "/inscription/mot-de-passe",
            password=h.NEW_PASSWORD,
            password_confirm=h.NEW_PASSWORD,
        )
        assert done.status_code == 200, done.text
        assert "ec_session" in done.cookies or client.cookies.get("ec_session")
        next_url = (
            re.search(r'href="(/inscription/continuer\?[^"]+)"', done.text)
            .group(1)
            .replace("&amp;", "&")
        )
        response = client.get(next_url, follow_redirects=False)
        assert response.status_code in (302, 303), response.text
        assert response.headers["location"].startswith(rp.redirect_uri)
        tokens = browser.tokens(rp, query(response.headers["location"])["code"], verifier)
        assert tokens.status_code == 200, tokens.text
        keys = KeySet.import_key_set(client.get("/jwks").json())
        claims = jwt.decode(tokens.json()["id_token"], keys, algorithms=["ES256"]).claims
        assert claims["amr"] == ["pwd", "sms"]
        info = client.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        ).json()
        assert info["sub"] == claims["sub"] and info["given_name"] == "Jeanne"
        assert info["phone_number"] == MOBILE and info["phone_number_verified"] is True
        # Both records are grouped: the children of both schools, not the namesake's.
        assert sorted(child["given_name"] for child in info["children"]) == ["Hugo", "Léa"]
        assert len({child["school"]["uai"] for child in info["children"]}) == 2
        with transaction(state.sessions) as db:
            account = db.scalar(select(Account))
            assert account.username == "j.martin"
            assert (
                account.state == AccountState.active
                and account.activation_route == ActivationRoute.sms
            )
            links = set(db.scalars(select(AccountGuardian.guardian_id)))
        assert links == set(first.guardian_ids + second.guardian_ids)
        # Logging in later with the identifier and password works.
        client.cookies.clear()
        assert browser.login("j.martin", h.NEW_PASSWORD).status_code == 303


def _to_code_page(client, state, **fields):
    h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
    page = _start(client, **fields)
    assert page.status_code == 200, page.text
    return page


class TestNoEnumeration:
    def test_known_unknown_and_registered_numbers_get_the_same_page(self, client, state):
        h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
        registered = h.add_guardian(
            state,
            given="Paul",
            family="Durand",
            mobile="+33698765432",
            children=[("Zoé", date(2013, 2, 2))],
        )
        h.notify(state, registered, username="p.durand")
        known = _start(client)
        unknown = _start(client, mobile="06 00 00 00 01")
        wrong_name = _start(client, given_name="Jeanine")
        already = _start(client, given_name="Paul", family_name="Durand", mobile="06 98 76 54 32")
        assert {r.status_code for r in (known, unknown, wrong_name, already)} == {200}
        masked = {
            "06 •• •• •• 78": "06 •• •• •• XX",
            "06 •• •• •• 01": "06 •• •• •• XX",
            "06 •• •• •• 32": "06 •• •• •• XX",
        }

        def shape(html):
            for a, b in masked.items():
                html = html.replace(a, b)
            return _shape(html)

        assert (
            shape(known.text)
            == shape(unknown.text)
            == shape(wrong_name.text)
            == shape(already.text)
        )
        # Only the matching, account-less guardian gets a code; the registered one an SMS.
        assert [m.recipient for m in h.outbox(state, "otp")] == [MOBILE]
        assert [m.recipient for m in h.outbox(state, "registration_existing")] == ["+33698765432"]

    def test_limits_per_number_apply_to_every_number(self, client, state):
        h.add_guardian(state, children=[("Léa", date(2012, 5, 3))])
        for mobile in ("06 12 34 56 78", "06 00 00 00 01"):
            statuses = [_start(client, mobile=mobile).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]

    def test_limit_per_address(self, client, state):
        statuses = [_start(client, mobile=f"06 00 00 00 {i:02d}").status_code for i in range(12)]
        assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]


class TestCodeStep:
    def test_wrong_code_then_exhausted(self, client, state):
        page = _to_code_page(client, state)
        code = h.last_code(state, MOBILE)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        response = h.post_form(client, page.text, "/inscription/code", code=wrong)
        assert response.status_code == 400 and "Il vous reste 2 essais" in response.text
        assert 'aria-describedby="code-error"' in response.text
        h.post_form(client, page.text, "/inscription/code", code=wrong)
        response = h.post_form(client, page.text, "/inscription/code", code=wrong)
        assert "Trop d'essais" in html.unescape(response.text)
        response = h.post_form(client, page.text, "/inscription/code", code=code)
        assert response.status_code == 400

    def test_expired_code_and_resend(self, client, state, clock):
        page = _to_code_page(client, state)
        code = h.last_code(state, MOBILE)
        clock.advance(601)
        response = h.post_form(client, page.text, "/inscription/code", code=code)
        assert response.status_code == 400 and "expiré" in response.text
        resent = h.post_form(client, page.text, "/inscription/renvoyer")
        assert resent.status_code == 200 and "nouveau code" in resent.text
        new_code = h.last_code(state, MOBILE)
        assert (
            h.post_form(client, resent.text, "/inscription/code", code=new_code).status_code == 200
        )
        # The code is single-use.
        assert (
            h.post_form(client, resent.text, "/inscription/code", code=new_code).status_code == 400
        )

    def test_later_steps_cannot_be_posted_directly(self, client, state):
        page = _to_code_page(client, state)
        for action in ("/inscription/enfants", "/inscription/mot-de-passe"):
            response = h.post_form(
                client, page.text, action, password=h.NEW_PASSWORD, password_confirm=h.NEW_PASSWORD
            )
            assert response.status_code == 303 and response.headers["location"] == "/inscription"
        with transaction(state.sessions) as db:
            assert db.scalar(select(Account)) is None

    def test_invalid_input_is_explained(self, client, state):
        response = _start(client, given_name="", mobile="01 23 45 67 89")
        assert response.status_code == 400
        assert "Saisissez votre prénom" in response.text and "mobile incorrect" in response.text
        assert 'aria-describedby="mobile-error"' in response.text


class TestChildrenAndPassword:
    def _children_page(self, client, state):
        page = _to_code_page(client, state)
        return h.post_form(client, page.text, "/inscription/code", code=h.last_code(state, MOBILE))

    def test_wrong_dates_are_limited(self, client, state):
        page = self._children_page(client, state)
        name = re.search(r'name="(birthdate_[^"]+)"', page.text).group(1)
        statuses = [
            h.post_form(
                client, page.text, "/inscription/enfants", **{name: "01/01/2012"}
            ).status_code
            for _ in range(6)
        ]
        assert statuses == [400] * 5 + [429]

    def test_records_that_changed_since_the_code_are_answered_not_crashed_on(self, client, state):
        page = self._children_page(client, state)
        name = re.search(r'name="(birthdate_[^"]+)"', page.text).group(1)
        with transaction(state.sessions) as db:
            for link in db.scalars(select(Guardianship)):
                link.legal_guardian_rank = None  # no longer the legal guardian of anyone
        response = h.post_form(client, page.text, "/inscription/enfants", **{name: "03/05/2012"})
        assert response.status_code == 409

    def test_replayed_final_step_does_not_create_a_second_account(self, client, state):
        page = self._children_page(client, state)
        name = re.search(r'name="(birthdate_[^"]+)"', page.text).group(1)
        page = h.post_form(client, page.text, "/inscription/enfants", **{name: "03/05/2012"})
        weak = h.post_form(
            client,
            page.text,
            "/inscription/mot-de-passe",
            password="jmartin-2012",
            password_confirm="jmartin-2012",
        )
        assert weak.status_code == 400
        fields = dict(password=h.NEW_PASSWORD, password_confirm=h.NEW_PASSWORD)
        assert (
            h.post_form(client, page.text, "/inscription/mot-de-passe", **fields).status_code == 200
        )
        again = h.post_form(client, page.text, "/inscription/mot-de-passe", **fields)
        assert again.status_code == 409 and "déjà un compte" in again.text
        with transaction(state.sessions) as db:
            assert len(db.scalars(select(Account)).all()) == 1

    def test_identifier_gets_digits_when_taken(self, client, state):
        from tests.support.oidc import make_account

        make_account(state, "j.martin")
        page = self._children_page(client, state)
        name = re.search(r'name="(birthdate_[^"]+)"', page.text).group(1)
        page = h.post_form(client, page.text, "/inscription/enfants", **{name: "03/05/2012"})
        assert re.search(r"<strong>j\.martin\d+</strong>", page.text)
