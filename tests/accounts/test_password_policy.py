"""The new-password rules (idp.accounts.passwords_policy)."""

from __future__ import annotations

import pytest

from idp.accounts import passwords_policy as policy


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Vélo-Rouge-Pluie-97",
        "k7#mQ9vL2pXw",
        "ma fille aime le violon",
    ],
)
def test_accepts_strong_passwords(password):
    assert policy.problems(password, password) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", policy.EMPTY),
        ("Court1!", policy.TOO_SHORT),
        ("azertyuiop12", policy.TOO_WEAK),
        ("Motdepasse2024!", policy.TOO_WEAK),
        ("P@ssw0rd1234", policy.TOO_WEAK),
        ("aaaaaaaaaaaaaaaa", policy.TOO_WEAK),
        ("bonjour bonjour bonjour bonjour", policy.TOO_WEAK),
        ("x" * 129, policy.TOO_LONG),
    ],
)
def test_refuses_weak_passwords(password, message):
    assert message in policy.problems(password)


def test_refuses_personal_information():
    personal = ["j.martin12", "Jeanne", "Martin", "Léa"]
    assert policy.problems("Jeanne-Vélo-Rouge-97", personal=personal) == [policy.PERSONAL]
    assert policy.problems("LEA-velo-rouge-pluie", personal=personal) == [policy.PERSONAL]


def test_confirmation_must_match():
    assert policy.problems("correct horse battery staple", "correct horse battery") == [
        policy.MISMATCH
    ]


def test_refuses_the_current_password(state):
    current = state.passwords.hash("correct horse battery staple")
    found = policy.problems(
        "correct horse battery staple", current_hash=current, passwords=state.passwords
    )
    assert found == [policy.SAME]
