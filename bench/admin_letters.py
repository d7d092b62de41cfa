"""Notification letters for a large school: 2,000 letters in one PDF.

    .venv/bin/python bench/admin_letters.py [--letters 2000] [--runs 3]

1. ``render_pdf`` alone, on 2,000 letters (half pupils, half guardians with two children).
2. The director's whole path on a fresh SQLite database: notify the school (1,000 pupils and
   1,000 guardians get accounts, identifiers and temporary passwords, audited one by one, in
   one transaction), then download the letters' PDF and CSV over HTTP.
Prints durations in seconds and the PDF's size. Target: the 2,000-letter PDF within 10 s.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from idp.accounts.login import totp
from idp.accounts.models import Account
from idp.admin.models import StaffTotp
from idp.admin.roles import Role
from idp.admin.schools.letters import Letter, render_pdf
from idp.admin.staff.service import StaffSpec, create_staff
from idp.app import create_app
from idp.db import transaction
from idp.migrate import upgrade
from idp.registry.identifiers import uai_check_letter
from idp.registry.models import Guardian, Guardianship, Pupil, School
from idp.settings import Settings

UAI = "0219999" + uai_check_letter("0219999")
PASSWORD = "Banc-Essai-Courriers-2026"


def _letters(count: int) -> list[Letter]:
    until = date.today() + timedelta(days=92)
    return [
        Letter(
            UAI,
            "Collège Marie Curie",
            "guardian" if i % 2 else "pupil",
            f"Prénom{i}",
            f"NOM-FAMILLE{i}",
            f"p.nom-famille{i}",
            "abcd-efgh-jkmn",
            until,
            class_name=f"{3 + i % 4}e{i % 5}",
            children=[f"Enfant{i} NOM (5A)", f"Autre{i} NOM (3B)"] if i % 2 else [],
        )
        for i in range(count)
    ]


def _school(url: str, pupils: int) -> None:
    """A collège: ``pupils`` pupils, one legal guardian each (so 2 × pupils letters)."""
    upgrade(url)
    now = datetime.now(UTC)
    from idp.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(School),
            [
                {
                    "uai": UAI,
                    "name": "Collège Marie Curie",
                    "degree": 2,
                    "academy": "Bench",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        conn.execute(
            insert(Pupil),
            [
                {
                    "id": f"p{i:031d}",
                    "family_name": f"NOM{i}",
                    "given_name": f"Élève{i}",
                    "birthdate": date(2012, 5, 1),
                    "school_uai": UAI,
                    "level": "5EME",
                    "class_name": f"5{'ABCDEFGH'[i % 8]}",
                    "status": "enrolled",
                    "source": "siecle",
                    "source_id": str(i),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(pupils)
            ],
        )
        conn.execute(
            insert(Guardian),
            [
                {
                    "id": f"g{i:031d}",
                    "family_name": f"NOM{i}",
                    "given_name": f"Parent{i}",
                    "source": "siecle",
                    "source_id": f"R{i}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(pupils)
            ],
        )
        conn.execute(
            insert(Guardianship),
            [
                {
                    "id": f"l{i:031d}",
                    "guardian_id": f"g{i:031d}",
                    "pupil_id": f"p{i:031d}",
                    "legal_guardian_rank": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(pupils)
            ],
        )
    engine.dispose()


def _director(app) -> str:
    state = app.state.idp
    with transaction(state.sessions) as db:
        account, _ = create_staff(
            state, db, StaffSpec("bench.directeur", "Banc", "Essai", Role.director, [UAI])
        )
        account.password_hash = state.passwords.hash(PASSWORD)
        account.force_password_change = False
        totp.start_enrolment(state, db, account.id)
        db.get(StaffTotp, account.id).confirmed_at = state.clock.now()
        return totp.secret_of(state, db, account.id)


def _login(client: TestClient, secret: str) -> str:
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post(
        "/login", data={"username": "bench.directeur", "password": PASSWORD, "csrf_token": token}
    )
    client.post(
        "/connexion/double-authentification",
        data={"csrf_token": token, "code": totp.current_code(secret, int(time.time()))},
    )
    assert client.get("/admin").status_code == 200, "login failed"
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings(
        env="test",
        secret_key="bench-" + "x" * 40,
        key_encryption_key="bench-" + "y" * 40,
        demo_enabled=False,
    )
    letters = _letters(args.letters)
    samples = []
    for _ in range(args.runs):
        started = time.perf_counter()
        pdf = render_pdf(letters, settings)
        samples.append(time.perf_counter() - started)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == args.letters
    results = {
        "render_pdf_s": round(statistics.median(samples), 2),
        "pdf_bytes": len(pdf),
        "letters": args.letters,
    }

    url = f"sqlite:///{tempfile.mkdtemp()}/letters.db"
    _school(url, args.letters // 2)
    settings = settings.model_copy(update={"database_url": url})
    app = create_app(settings, background=False)
    secret = _director(app)
    with TestClient(app, base_url="http://localhost") as client:
        token = _login(client, secret)
        started = time.perf_counter()
        issued = client.post(
            "/admin/notifier", data={"csrf_token": token, "ecole": UAI, "confirmation": "oui"}
        )
        results["notify_school_s"] = round(time.perf_counter() - started, 2)
        assert issued.status_code == 200, issued.status_code
        batch = issued.text.split("/admin/courriers/", 1)[1].split(".pdf", 1)[0]
        started = time.perf_counter()
        pdf = client.get(f"/admin/courriers/{batch}.pdf")
        results["download_pdf_s"] = round(time.perf_counter() - started, 2)
        assert len(PdfReader(io.BytesIO(pdf.content)).pages) == args.letters
        started = time.perf_counter()
        client.get(f"/admin/courriers/{batch}.csv")
        results["download_csv_s"] = round(time.perf_counter() - started, 2)
    with transaction(app.state.idp.sessions) as db:
        results["accounts_created"] = len(
            db.scalars(select(Account.id).where(Account.notified_at.is_not(None))).all()
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
