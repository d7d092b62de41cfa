"""The journeys' shared pieces: endpoints that declare their transaction, the step preamble,
the code page's sentences and the birth-date checks (idp.accounts.journeys)."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime

from fastapi.routing import APIRoute
from starlette.responses import Response

from idp.accounts.journeys import children as kids
from idp.accounts.journeys import common as journey
from idp.accounts.journeys import otp
from idp.accounts.journeys.code_step import code_error
from idp.deps import get_db, get_read_db
from idp.security.csrf import checked_form
from idp.security.stores import SessionData

JOURNEYS = (
    "idp.accounts.activation.",
    "idp.accounts.registration.",
    "idp.accounts.recovery.",
    "idp.accounts.profile.mobile",
)


def _api_routes(routes) -> list[APIRoute]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif included := getattr(route, "original_router", None):  # include_router
            found.extend(_api_routes(included.routes))
    return found


def _calls(route: APIRoute) -> set:
    return {dependency.call for dependency in route.dependant.dependencies}


def test_every_journey_endpoint_is_plain_and_declares_its_transaction(app):
    routes = [r for r in _api_routes(app.routes) if r.endpoint.__module__.startswith(JOURNEYS)]
    assert len(routes) >= 20
    for route in routes:
        assert not inspect.iscoroutinefunction(route.endpoint), route.path
        calls = _calls(route)
        if "POST" in route.methods:
            assert {get_db, checked_form} <= calls, route.path
    # Pages that only read say so; pages with no database at all declare none.
    readers = {r.path for r in routes if get_read_db in _calls(r)}
    assert {"/compte/mobile", "/activation/courriel", "/mot-de-passe-oublie/lien"} <= readers


def _session(sid: str = "s1", account_id: str = "a1") -> SessionData:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return SessionData(sid, account_id, 0, ["pwd"], None, now, now)


class TestPostedStep:
    def test_the_step_before_is_required(self, state):
        token = journey.seal_progress(state, "demo", {"step": "code", "m": "+33611111111"})
        step = journey.posted_step(state, {"progress": token}, "demo", "code", restart="/x")
        assert isinstance(step, journey.Step)
        assert step.data["m"] == "+33611111111" and step.token == token and step.auth is None
        for kind, name in (("other", "code"), ("demo", "sms")):
            refused = journey.posted_step(state, {"progress": token}, kind, name, restart="/x")
            assert isinstance(refused, Response) and refused.headers["location"] == "/x"
        missing = journey.posted_step(state, {}, "demo", "code", restart="/x")
        assert missing.status_code == 303

    def test_a_bound_token_needs_its_session(self, state):
        token = journey.seal_progress(state, "demo", {"step": "code", "sid": "s1", "acct": "a1"})
        form = {"progress": token}
        ok = journey.posted_step(state, form, "demo", "code", restart="/x", session=_session())
        assert isinstance(ok, journey.Step)
        for other in (_session(sid="s2"), _session(account_id="a2")):
            refused = journey.posted_step(state, form, "demo", "code", restart="/x", session=other)
            assert isinstance(refused, Response)


def test_code_errors_count_the_tries_left():
    assert code_error(otp.Result(False, "wrong", attempts_left=2)).endswith("2 essais.")
    assert code_error(otp.Result(False, "wrong", attempts_left=1)).endswith("1 essai.")
    assert "6 chiffres" in code_error(otp.Result(False, "malformed"))
    assert code_error(otp.Result(False, "nonsense")) == code_error(otp.Result(False, "unknown"))


def test_birthdates_are_checked_field_by_field():
    lea = kids.Child("p1", "g1", "Léa", "Martin", date(2012, 5, 3), "0750001A", "Collège")
    tom = kids.Child("p2", "g1", "Tom", "Martin", date(2014, 1, 9), "0750001A", "Collège")
    form = {lea.field: "03/05/2012", tom.field: "2014-01-09"}
    assert kids.check_birthdates(form, [lea, tom]) == ({}, False)
    errors, mismatch = kids.check_birthdates({lea.field: "31/02/2012"}, [lea, tom])
    assert set(errors) == {lea.field, tom.field} and not mismatch
    assert "Tom" in errors[tom.field]
    assert kids.check_birthdates({lea.field: "04/05/2012"}, [lea]) == ({}, True)
    assert kids.typed_birthdates({lea.field: "x"}, [lea, tom]) == {lea.field: "x", tom.field: ""}
