"""Notification letters: one page each, the right French texts, read back from the PDF."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import date

from pypdf import PdfReader
from sqlalchemy import event, select

from idp.admin.schools import letters
from idp.admin.schools.letters import Letter, render_pdf
from idp.admin.schools.letters_csv import render_csv
from idp.db import transaction
from idp.security.models import AuditEvent
from tests.admin.helpers import A, add_staff, api_token


def _letters() -> list[Letter]:
    return [
        Letter(
            A,
            "Collège Victor Hugo",
            "pupil",
            "Zoé",
            "Lefèvre",
            "z.lefevre",
            "abcd-efgh-jkmn",
            date(2027, 3, 1),
            class_name="5A",
        ),
        Letter(
            A,
            "Collège Victor Hugo",
            "guardian",
            "Łucja",
            "Nguyễn",
            "l.nguyen12",
            "pqrs-tuvw-xyz2",
            date(2027, 3, 1),
            children=["Zoé Lefèvre (5A)", "Hugo Nguyen (3B)"],
        ),
    ]


def _pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_one_page_per_letter_with_everything_a_family_needs(settings):
    pages = _pages(render_pdf(_letters(), settings, date(2026, 11, 29)))
    assert len(pages) == 2
    pupil, guardian = pages
    for text in pages:
        assert "Collège Victor Hugo" in text and A in text
        assert settings.academy_name in text
        assert f"Rendez-vous sur {settings.issuer_url}" in text
        assert "valable jusqu'au 01/03/2027" in text
        assert settings.assistance_phone in text and settings.assistance_hours in text
        assert f"{settings.issuer_url}/assistance" in text
        assert "Ne communiquez jamais votre mot de passe" in text
    assert "z.lefevre" in pupil and "abcd-efgh-jkmn" in pupil and "classe 5A" in pupil
    assert "date de naissance" not in pupil  # guardians only confirm their children
    assert "l.nguyen12" in guardian and "pqrs-tuvw-xyz2" in guardian
    assert "Représentant légal de : Zoé Lefèvre (5A), Hugo Nguyen (3B)" in guardian
    assert "Lucja Nguyen" in guardian  # folded where Helvetica lacks the letter
    assert "Confirmez la date de naissance de chacun de vos enfants" in guardian


def test_csv_for_a_spreadsheet(settings):
    text = render_csv(_letters())
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert (
        rows[0]["identifiant"] == "z.lefevre"
        and rows[0]["type"] == "eleve"
        and rows[0]["classe"] == "5A"
    )
    assert rows[1]["enfants"] == "Zoé Lefèvre (5A) | Hugo Nguyen (3B)"
    assert rows[1]["valable_jusqu_au"] == "2027-03-01"


def test_a_school_notified_through_the_api_prints_its_letters(client, state, world):
    add_staff(state, world, "director_a")
    headers = {"Authorization": f"Bearer {api_token(state, world, 'director_a')}"}
    issued = client.post(f"/api/admin/schools/{A}/notify", json={}, headers=headers)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert {c["family_name"] for c in body["credentials"]} == {"EMIL", "BOB"}
    pdf = client.get(body["letters"]["pdf_url"], headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    pages = _pages(pdf.content)
    assert len(pages) == 2
    for credential, page in zip(body["credentials"], pages, strict=True):
        assert credential["username"] in page and credential["temporary_password"] in page
    csv_file = client.get(body["letters"]["csv_url"], headers=headers)
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert body["credentials"][0]["username"] in csv_file.text


class CheckedOut:
    """How many pooled connections of an engine are checked out right now."""

    def __init__(self, engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(engine, "checkout", self._out)
        event.listen(engine, "checkin", self._in)

    def _out(self, *_args) -> None:
        with self._lock:
            self.count += 1

    def _in(self, *_args) -> None:
        with self._lock:
            self.count -= 1


def test_letters_are_drawn_after_the_transaction(client, state, world, monkeypatch):
    """A school's PDF takes seconds to draw: no connection (nor SQLite's writer slot) is held
    meanwhile, yet the download is recorded."""
    add_staff(state, world, "director_a")
    headers = {"Authorization": f"Bearer {api_token(state, world, 'director_a')}"}
    body = client.post(f"/api/admin/schools/{A}/notify", json={}, headers=headers).json()
    checked_out, held = CheckedOut(state.engine), []

    def drawing(*args, **kwargs):
        held.append(checked_out.count)
        return render_pdf(*args, **kwargs)

    monkeypatch.setattr(letters, "render_pdf", drawing)
    pdf = client.get(body["letters"]["pdf_url"], headers=headers)
    assert pdf.status_code == 200 and len(_pages(pdf.content)) == 2
    assert held == [0]
    with transaction(state.sessions) as db:
        recorded = db.scalars(
            select(AuditEvent.detail).where(AuditEvent.event == "admin.letters.downloaded")
        ).all()
    assert recorded == [{"format": "pdf", "count": 2}]
