"""A synthetic académie for the administration benchmarks, written with bulk inserts.

    .venv/bin/python bench/admin_seed.py DATABASE_URL [--schools 400] [--pupils 100000]

400 schools (100 collèges of about 600 pupils, 300 écoles of about 130), 100,000 pupils and
about 180,000 guardians (two legal guardians for most pupils, one for some, siblings sharing
theirs): 280,000 people. Accounts: most pupils of collèges and about 60 % of guardians, in
every state, activated over the last 30 weeks by letter, SMS or FranceConnect. Deterministic
(seeded). The schema is created by the migrations.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from idp.accounts.models import Account, AccountGuardian
from idp.db import make_engine
from idp.migrate import upgrade
from idp.registry.identifiers import uai_check_letter
from idp.registry.models import Guardian, Guardianship, Pupil, School

ACADEMY = "Bench"
CHUNK = 20_000
STATES = [
    ("active", 0.62),
    ("notified", 0.1),
    ("expired", 0.05),
    ("locked", 0.01),
    ("disabled", 0.02),
]
ROUTES = ["letter", "sms", "franceconnect"]


def _uai(number: int) -> str:
    digits = f"{number:07d}"
    return digits + uai_check_letter(digits)


def _state(rnd: random.Random, share: float) -> str | None:
    """An account state, or ``None`` (no account) for the rest."""
    x = rnd.random()
    for name, p in STATES:
        if x < p * share:
            return name
        x -= p * share
    return None


def generate(url: str, schools: int = 400, pupils: int = 100_000, seed: int = 7) -> dict[str, int]:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    colleges = schools // 4
    school_rows, pupil_rows, guardian_rows, links, accounts, account_links = [], [], [], [], [], []
    per_college = int(pupils * 0.6 / max(1, colleges))
    per_ecole = (pupils - per_college * colleges) // max(1, schools - colleges)
    n_pupil = n_guardian = 0
    for s in range(schools):
        degree = 2 if s < colleges else 1
        uai = _uai(2100000 + s)
        school_rows.append(
            {
                "uai": uai,
                "name": f"{'Collège' if degree == 2 else 'École'} n° {s}",
                "degree": degree,
                "academy": ACADEMY,
                "created_at": now,
                "updated_at": now,
            }
        )
        levels = (
            ["6EME", "5EME", "4EME", "3EME"] if degree == 2 else ["CP", "CE1", "CE2", "CM1", "CM2"]
        )
        family: list[str] = []
        for _ in range(per_college if degree == 2 else per_ecole):
            n_pupil += 1
            pupil_id = f"p{n_pupil:031d}"
            level = rnd.choice(levels)
            pupil_rows.append(
                {
                    "id": pupil_id,
                    "family_name": f"NOM{rnd.randrange(5000)}",
                    "given_name": f"Prénom{rnd.randrange(900)}",
                    "birthdate": date(2012, 1, 1) + timedelta(days=rnd.randrange(2500)),
                    "school_uai": uai,
                    "level": level,
                    "class_name": f"{level[:2]}{rnd.choice('ABCD')}",
                    "status": "enrolled",
                    "source": "siecle" if degree == 2 else "onde",
                    "source_id": str(n_pupil),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if degree == 2:
                _account(
                    rnd, accounts, now, "pupil", f"a{pupil_id[1:]}", pupil_id=pupil_id, share=0.95
                )
            # Siblings share their guardians one time in twenty.
            guardians = family if family and rnd.random() < 0.05 else []
            if not guardians:
                family = []
                for _ in range(2 if rnd.random() < 0.92 else 1):
                    n_guardian += 1
                    guardian_id = f"g{n_guardian:031d}"
                    family.append(guardian_id)
                    guardian_rows.append(
                        {
                            "id": guardian_id,
                            "family_name": f"NOM{rnd.randrange(5000)}",
                            "given_name": f"Parent{rnd.randrange(900)}",
                            "source": "siecle",
                            "source_id": f"R{n_guardian}",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    account_id = f"b{guardian_id[1:]}"
                    if _account(rnd, accounts, now, "guardian", account_id, share=0.75):
                        account_links.append(
                            {"account_id": account_id, "guardian_id": guardian_id, "linked_at": now}
                        )
                guardians = family
            for rank, guardian_id in enumerate(guardians, 1):
                links.append(
                    {
                        "id": f"l{len(links):031d}",
                        "guardian_id": guardian_id,
                        "pupil_id": pupil_id,
                        "legal_guardian_rank": rank,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        for model, rows in (
            (School, school_rows),
            (Pupil, pupil_rows),
            (Guardian, guardian_rows),
            (Guardianship, links),
            (Account, accounts),
            (AccountGuardian, account_links),
        ):
            for i in range(0, len(rows), CHUNK):
                conn.execute(insert(model), rows[i : i + CHUNK])
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {
        "schools": len(school_rows),
        "pupils": len(pupil_rows),
        "guardians": len(guardian_rows),
        "links": len(links),
        "accounts": len(accounts),
    }


def _account(
    rnd: random.Random, rows: list, now: datetime, kind: str, account_id: str, share: float, **extra
) -> bool:
    state = _state(rnd, share)
    if state is None:
        return False
    activated = (
        now - timedelta(days=rnd.randrange(210))
        if state in ("active", "locked", "disabled")
        else None
    )
    notified = (
        now - timedelta(days=rnd.randrange(120)) if state in ("notified", "expired") else None
    )
    expires = (
        (notified + timedelta(days=92) if state == "notified" else now - timedelta(days=1))
        if notified
        else None
    )
    rows.append(
        {
            "id": account_id,
            "kind": kind,
            "username": account_id,
            "state": state,
            "given_name": "",
            "family_name": "",
            "email_verified": False,
            "phone_number_verified": False,
            "force_password_change": False,
            "failed_logins": 0,
            "activation_route": rnd.choice(ROUTES) if activated else None,
            "activated_at": activated,
            "notified_at": notified,
            "notification_expires_at": expires,
            "created_at": now,
            "updated_at": now,
            "pupil_id": None,
            **extra,
        }
    )
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--schools", type=int, default=400)
    parser.add_argument("--pupils", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.url, args.schools, args.pupils)
    print(counts, f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
