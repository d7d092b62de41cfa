"""Statistics against the fixture world: per class and level, per school, by route, over time;
the page's charts and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from idp.admin.roles import Action, Staff
from idp.admin.stats import figures as stats
from idp.db import transaction
from tests.admin.helpers import A, B, C, add_staff, api_token, staff_login


def _staff(state, world, label) -> Staff:
    from idp.accounts.models import Account

    with transaction(state.sessions) as db:
        return Staff.of(db.get(Account, world.accounts[f"staff:{label}"]))


def test_per_class(state, world):
    with transaction(state.sessions) as db:
        rows = {r.label: r for r in stats.per_class(db, state.clock.now(), A)}
    assert rows["5A"].pupils.values == {
        "not_created": 0,
        "notified": 1,
        "active": 1,
        "expired": 1,
        "locked": 0,
        "disabled": 0,
    }
    assert rows["4B"].pupils.values == {
        "not_created": 1,
        "notified": 0,
        "active": 0,
        "expired": 0,
        "locked": 1,
        "disabled": 0,
    }
    assert rows["5A"].guardians.values == {
        "not_created": 1,
        "notified": 0,
        "active": 1,
        "expired": 0,
        "locked": 0,
        "disabled": 0,
    }
    assert rows["4B"].guardians["disabled"] == 1
    levels = {r.label: r for r in stats.per_level(list(rows.values()))}
    assert levels["5EME"].pupils.total == 3 and levels["4EME"].pupils.total == 2
    assert round(rows["5A"].pupils.rate, 3) == 0.333


def test_per_school_of_an_academy(state, world):
    add_staff(state, world, "academy_paris")
    staff = _staff(state, world, "academy_paris")
    with transaction(state.sessions) as db:
        rows = {
            r.uai: r
            for r in stats.per_school(
                db, state.clock.now(), lambda col: staff.schools_condition(Action.read, col)
            )
        }
    assert set(rows) == {A, B}
    assert rows[A].pupils.total == 5 and rows[A].guardians.total == 3
    assert rows[B].pupils["active"] == 1 and rows[B].guardians["active"] == 1
    total = stats.total(list(rows.values()))
    assert total.pupils.total == 6 and total.guardians["active"] == 2


def test_routes_and_timeline(state, world):
    today = state.clock.now().date()
    with transaction(state.sessions) as db:
        routes = stats.routes(db, lambda col: col.in_([A, B]))
        weeks = stats.timeline(db, lambda col: col.in_([A, B]), today - timedelta(weeks=6), today)
    assert routes["pupil"] == {
        "letter": 2,
        "sms": 0,
        "franceconnect": 0,
    }  # alice, fred (dora is locked)
    assert routes["guardian"] == {"letter": 0, "sms": 1, "franceconnect": 1}
    assert sum(p for _, p, _ in weeks) == 3  # alice, dora, fred were activated
    assert sum(g for _, _, g in weeks) == 3  # p.alice, p.dora, p.fred
    assert all(w.weekday() == 0 for w, _, _ in weeks)


def test_the_page_draws_charts_and_exports_csv(client, state, world, clock):
    add_staff(state, world, "director_a")
    staff_login(client, world, "director_a", clock)
    assert (
        client.get("/admin/statistiques", follow_redirects=False).headers["location"]
        == f"/admin/statistiques?ecole={A}"
    )
    page = client.get(f"/admin/statistiques?ecole={A}")
    assert page.text.count('role="img"') == 5  # two state charts, the timeline, two route charts
    assert "<script" not in page.text.split("<main", 1)[1].split("</main>")[0]
    exported = client.get(f"/admin/statistiques.csv?ecole={A}")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    five_a = next(r for r in rows if r["classe"] == "5A" and r["type"] == "eleves")
    assert (five_a["active"], five_a["notified"], five_a["expired"], five_a["total"]) == (
        "1",
        "1",
        "1",
        "3",
    )


def test_academy_dashboard(client, state, world, clock):
    add_staff(state, world, "academy_paris")
    staff_login(client, world, "academy_paris", clock)
    overview = client.get("/admin/statistiques")
    assert "/admin/statistiques?academie=Paris" in overview.text
    page = client.get("/admin/statistiques?academie=Paris")
    assert (
        page.status_code == 200
        and "Collège Jean Moulin" in page.text
        and "École Jules Ferry" not in page.text
    )
    assert client.get("/admin/statistiques?academie=Dijon").status_code == 404
    assert client.get(f"/admin/statistiques?ecole={C}").status_code == 404


def test_delegates_see_pupils_only(client, state, world):
    add_staff(state, world, "delegate_a")
    headers = {"Authorization": f"Bearer {api_token(state, world, 'delegate_a')}"}
    body = client.get("/api/admin/statistics", params={"school": A}, headers=headers).json()
    assert body["rows_are"] == "class" and body["total"]["pupils"]["total"] == 5
    assert (
        client.get("/api/admin/people", params={"kind": "guardians"}, headers=headers).status_code
        == 404
    )


def test_api_statistics_of_my_schools(client, state, world):
    add_staff(state, world, "director_b")
    headers = {"Authorization": f"Bearer {api_token(state, world, 'director_b')}"}
    body = client.get("/api/admin/statistics", headers=headers).json()
    assert [r["uai"] for r in body["rows"]] == [B]
    assert body["total"]["pupils"]["activation_rate"] == 1.0


def test_the_snapshot_matches_the_live_figures(state, world):
    from idp.admin.stats import snapshot

    schools = lambda col: col.in_([A, B, C])  # noqa: E731
    with transaction(state.sessions) as db:
        assert snapshot.refresh(db, state.clock.now()) > 0
    today = state.clock.now().date()
    with transaction(state.sessions) as db:
        live = {
            r.uai: (r.pupils.values, r.guardians.values)
            for r in stats.per_school(db, state.clock.now(), schools)
        }
        stored = {
            r.uai: (r.pupils.values, r.guardians.values) for r in snapshot.per_school(db, schools)
        }
        assert stored == live
        assert snapshot.routes(db, schools) == stats.routes(db, schools)
        since = today - timedelta(weeks=8)
        assert snapshot.timeline(db, schools, since, today) == stats.timeline(
            db, schools, since, today
        )


def test_dashboards_count_live_without_a_fresh_snapshot(client, state, world, clock):
    """A GET page writes nothing: with no snapshot (or a stale one) the académie's figures are
    counted live; with a fresh one they are read from it, and its time is shown."""
    from idp.admin.models import StatsSnapshot
    from idp.admin.stats import snapshot

    add_staff(state, world, "academy_paris")
    staff_login(client, world, "academy_paris", clock)
    page = client.get("/admin/statistiques?academie=Paris")
    assert page.status_code == 200 and "Collège Jean Moulin" in page.text
    assert "Chiffres calculés le" not in page.text
    with transaction(state.sessions) as db:
        assert db.scalar(select(func.count()).select_from(StatsSnapshot)) == 0
        snapshot.refresh(db, state.clock.now())
    assert "Chiffres calculés le" in client.get("/admin/statistiques?academie=Paris").text
    clock.advance(snapshot.STALE.total_seconds() + 60)
    assert "Chiffres calculés le" not in client.get("/admin/statistiques?academie=Paris").text
