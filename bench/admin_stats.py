"""The académie statistics page on a large académie (400 schools, about 280,000 people).

    .venv/bin/python bench/admin_stats.py [DATABASE_URL] [--runs 15] [--keep]

Seeds the académie with ``bench/admin_seed.py`` (bulk inserts) unless the database already
has it, then times:
- the statistics snapshot's refresh (what the janitor does every 10 minutes: two scans of the
  registry joined to the accounts, grouped by school, state, route and week);
- the statistics of the académie for an assistance staff member (``build_view``: reads of the
  snapshot);
- the whole page over HTTP (``GET /admin/statistiques?academie=Bench``: session and second
  factor checked, queries, charts and the 400-row tables rendered), through the ASGI app.
Prints the median and the slowest run, in milliseconds. Target: 300 ms for the page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select
from starlette.testclient import TestClient

from bench.admin_seed import ACADEMY, generate
from idp.accounts.login import totp
from idp.accounts.models import Account
from idp.admin.models import StaffTotp
from idp.admin.roles import Role, Staff
from idp.admin.staff.service import StaffSpec, create_staff
from idp.admin.stats import snapshot
from idp.admin.stats.routes import build_view
from idp.app import create_app
from idp.db import transaction
from idp.registry.models import School
from idp.settings import Settings

PASSWORD = "Banc-Essai-Statistiques-2026"


def _settings(url: str) -> Settings:
    return Settings(
        env="test",
        database_url=url,
        secret_key="bench-" + "x" * 40,
        key_encryption_key="bench-" + "y" * 40,
        demo_enabled=False,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
    )


def _timed(runs: int, call) -> dict:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "max_ms": round(max(samples), 1),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{tmp}/admin-bench.db"
    app = create_app(_settings(url), background=False)
    state = app.state.idp
    with transaction(state.sessions, readonly=True) as db:
        seeded = (
            db.scalar(select(func.count()).select_from(School).where(School.academy == ACADEMY))
            if _has_schema(state)
            else 0
        )
    if not seeded:
        started = time.perf_counter()
        counts = generate(url)
        print("seeded", counts, f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    with transaction(state.sessions) as db:
        account = db.scalar(select(Account).where(Account.username == "bench.assistance"))
        if account is None:
            account, _ = create_staff(
                state,
                db,
                StaffSpec("bench.assistance", "Banc", "Essai", Role.academy, academy=ACADEMY),
            )
        account.password_hash = state.passwords.hash(PASSWORD)
        account.force_password_change = False
        if db.get(StaffTotp, account.id) is None:
            totp.start_enrolment(state, db, account.id)
        row = db.get(StaffTotp, account.id)
        row.confirmed_at, row.last_step = state.clock.now(), None
        secret = totp.secret_of(state, db, account.id)
        staff = Staff.of(account)

    results = {
        "database": state.engine.dialect.name,
        "snapshot_refresh": _timed(3, lambda: snapshot.refresh(state)),
    }
    results["statistics"] = _timed(args.runs, lambda: build_view(state, staff, academie=ACADEMY))
    with TestClient(app, base_url="http://localhost") as client:
        _login(client, secret)
        page = client.get(f"/admin/statistiques?academie={ACADEMY}")
        assert page.status_code == 200 and page.text.count("<tr>") > 800, page.status_code
        results["page"] = _timed(
            args.runs, lambda: client.get(f"/admin/statistiques?academie={ACADEMY}")
        )
        results["page_bytes"] = len(page.content)
        results["csv"] = _timed(
            max(3, args.runs // 3),
            lambda: client.get(f"/admin/statistiques.csv?academie={ACADEMY}"),
        )
    print(json.dumps(results, indent=2))


def _has_schema(state) -> bool:
    from sqlalchemy import inspect

    return inspect(state.engine).has_table("schools")


def _login(client: TestClient, secret: str) -> None:
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        "/login", data={"username": "bench.assistance", "password": PASSWORD, "csrf_token": token}
    )
    code = totp.current_code(secret, int(time.time()))
    client.post("/connexion/double-authentification", data={"csrf_token": token, "code": code})
    assert client.get("/admin").status_code == 200, "login failed"


if __name__ == "__main__":
    main()
