"""Scope, systematically: every role × every endpoint × people of their own and of other
schools. Outside one's scope every endpoint answers 404, pages and API alike."""

from __future__ import annotations

import pytest

from idp.admin.roles import PERMISSIONS, Action, Role
from tests.admin.helpers import STAFF, A, B, C, add_staff, api_token, csrf, staff_login

#: person label → (page slug, API kind, world key, school)
PEOPLE = {
    "alice": ("eleves", "pupils", "pupils", A),
    "p.alice": ("responsables", "guardians", "guardians", A),
    "fred": ("eleves", "pupils", "pupils", B),
    "p.fred": ("responsables", "guardians", "guardians", B),
    "gina": ("eleves", "pupils", "pupils", C),
    "p.gina": ("responsables", "guardians", "guardians", C),
}
#: Who each role reaches.
VISIBLE = {
    "director_a": {"alice", "p.alice"},
    "director_b": {"fred", "p.fred"},
    "delegate_a": {"alice"},
    "academy_paris": {"alice", "p.alice", "fred", "p.fred"},
    "academy_dijon": {"gina", "p.gina"},
    "national": set(PEOPLE),
}
#: page verb, API verb, action
VERBS = [
    ("identifiant", "identifier", Action.reveal),
    ("debloquer", "unlock", Action.unlock),
    ("reinitialiser", "reset-password", Action.reset),
    ("notifier", "notify", Action.notify),
    ("desactiver", "disable", Action.disable),
    ("reactiver", "enable", Action.disable),
]
SCHOOL_OF = {A: "director_a", B: "director_b"}


def _id(world, label: str) -> str:
    key = label.removeprefix("p.")
    return getattr(world, PEOPLE[label][2])[key]


def _allowed(role: str, label: str, action: Action) -> bool:
    return label in VISIBLE[role] and action in PERMISSIONS[STAFF[role][0]]


@pytest.mark.parametrize("role", list(STAFF))
def test_pages(client, state, world, clock, role):
    add_staff(state, world, role)
    staff_login(client, world, role, clock)
    token = csrf(client)
    for label, (slug, _, _, _) in PEOPLE.items():
        url = f"/admin/{slug}/{_id(world, label)}"
        expected = 200 if label in VISIBLE[role] else 404
        assert client.get(url).status_code == expected, (role, label)
        for verb, _, action in VERBS:
            status = client.post(
                f"{url}/{verb}", data={"csrf_token": token}, follow_redirects=False
            ).status_code
            if _allowed(role, label, action):
                assert status in (200, 303, 409), (role, label, verb, status)
            else:
                assert status == 404, (role, label, verb, status)


@pytest.mark.parametrize("role", list(STAFF))
def test_api(client, state, world, role):
    add_staff(state, world, role)
    headers = {"Authorization": f"Bearer {api_token(state, world, role)}"}
    for label, (_, kind, _, _) in PEOPLE.items():
        url = f"/api/admin/people/{kind}/{_id(world, label)}"
        expected = 200 if label in VISIBLE[role] else 404
        assert client.get(url, headers=headers).status_code == expected, (role, label)
        for _, verb, action in VERBS:
            status = client.post(f"{url}/{verb}", headers=headers).status_code
            if _allowed(role, label, action):
                assert status in (200, 409), (role, label, verb, status)
            else:
                assert status == 404, (role, label, verb, status)


@pytest.mark.parametrize("role", list(STAFF))
def test_searches_stay_in_scope(client, state, world, role):
    add_staff(state, world, role)
    headers = {"Authorization": f"Bearer {api_token(state, world, role)}"}
    found = set()
    for kind, prefix in (("pupils", ""), ("guardians", "p.")):
        response = client.get("/api/admin/people", params={"kind": kind}, headers=headers)
        if response.status_code == 404:
            assert role == "delegate_a" and kind == "guardians"
            continue
        found |= {prefix + p["family_name"].lower() for p in response.json()["items"]}
    people_of_world = {"alice", "bob", "carl", "dora", "emil", "fred", "gina"}
    expected = {p for p in VISIBLE[role]}
    # Every visible school's people show up; nobody of another school does.
    schools = {PEOPLE[p][3] for p in VISIBLE[role]}
    in_schools = {n for n in people_of_world if {"fred": B, "gina": C}.get(n, A) in schools}
    if "delegate" in role:
        expected = in_schools
    else:
        expected = in_schools | {
            "p." + n for n in in_schools if n in ("alice", "bob", "dora", "fred", "gina")
        }
    assert found == expected


@pytest.mark.parametrize("role", list(STAFF))
def test_school_endpoints(client, state, world, clock, role):
    add_staff(state, world, role)
    headers = {"Authorization": f"Bearer {api_token(state, world, role)}"}
    for school in (A, B, C):
        visible = any(PEOPLE[p][3] == school for p in VISIBLE[role])
        stats = client.get("/api/admin/statistics", params={"school": school}, headers=headers)
        assert stats.status_code == (200 if visible else 404), (role, school)
        notify = client.post(f"/api/admin/schools/{school}/notify", json={}, headers=headers)
        may_notify = visible and Action.notify in PERMISSIONS[STAFF[role][0]]
        assert (notify.status_code != 404) == may_notify, (role, school, notify.status_code)
    for academy in ("Paris", "Dijon"):
        response = client.get("/api/admin/statistics", params={"academy": academy}, headers=headers)
        sees = STAFF[role][0] == Role.national or STAFF[role][2] == academy
        assert response.status_code == (200 if sees else 404), (role, academy)


def test_letters_belong_to_their_author(client, state, world):
    add_staff(state, world, "director_a")
    add_staff(state, world, "national")
    mine = {"Authorization": f"Bearer {api_token(state, world, 'director_a')}"}
    issued = client.post(
        f"/api/admin/people/pupils/{world.pupils['emil']}/notify", headers=mine
    ).json()
    other = {"Authorization": f"Bearer {api_token(state, world, 'national')}"}
    assert client.get(issued["letters"]["pdf_url"], headers=other).status_code == 404
    assert client.get(issued["letters"]["pdf_url"], headers=mine).status_code == 200
