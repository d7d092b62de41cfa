"""Time ``registry_claims`` for a guardian of 4 children in 4 schools (two collèges, two écoles).

    .venv/bin/python bench/registry_claims.py var/bench/academy

Runs against the databases left by ``bench/registry_import.py`` (the full academy: index depths
as in production). The guardian account groups four registry records, so the single query walks
account_guardians → guardianships → pupils → schools for 4 children. Each call is a fresh read,
as in the token endpoint (the session is expired between calls, nothing is cached).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from idp.accounts.family import registry_claims
from idp.accounts.models import Account, AccountGuardian, AccountKind, AccountState
from idp.clock import Clock
from idp.db import make_engine, make_session_factory, unit_of_work
from idp.registry.models import Guardian, Guardianship, Pupil, School, Source

SCOPES = {"openid", "profile", "children", "fredu"}
USERNAME = "bench.claims"


def four_records(db) -> list[str]:
    """One legal guardian record in each of two collèges and two écoles."""
    picked: list[str] = []
    # Guardians of one child only (siblings would make it more than four children).
    siblings = (
        select(Guardianship.guardian_id).group_by(Guardianship.guardian_id).having(func.count() > 1)
    )
    for degree, source in ((2, Source.siecle), (1, Source.onde)):
        uais = db.scalars(
            select(School.uai).where(School.degree == degree).order_by(School.uai).limit(2)
        )
        for uai in uais:
            picked.append(
                db.scalar(
                    select(Guardian.id)
                    .join(Guardianship, Guardianship.guardian_id == Guardian.id)
                    .join(Pupil, Pupil.id == Guardianship.pupil_id)
                    .where(Pupil.school_uai == uai, Guardian.source == source)
                    .where(Guardianship.legal_guardian_rank == 1)
                    .where(Guardian.id.not_in(siblings))
                    .limit(1)
                )
            )
    return picked


def prepare(sessions) -> str:
    now = Clock().now()
    with unit_of_work(sessions) as db:
        old = db.scalar(select(Account.id).where(Account.username == USERNAME))
        if old:
            db.execute(delete(AccountGuardian).where(AccountGuardian.account_id == old))
            db.execute(delete(Account).where(Account.id == old))
            db.flush()
        account = Account(
            kind=AccountKind.guardian,
            username=USERNAME,
            state=AccountState.active,
            created_at=now,
            updated_at=now,
        )
        db.add(account)
        db.flush()
        for guardian_id in four_records(db):
            db.add(AccountGuardian(account_id=account.id, guardian_id=guardian_id, linked_at=now))
        return account.id


def measure(url: str, rounds: int) -> dict:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    account_id = prepare(sessions)
    timings = []
    with sessions() as db:
        account = db.get(Account, account_id)
        claims = registry_claims(db, account, SCOPES, lambda pid: pid, allow_ine=False)
        assert len(claims["children"]) == 4, claims
        for _ in range(rounds):
            db.expire_all()
            db.execute(select(1))  # the request's transaction is already open when claims are built
            started = time.perf_counter()
            registry_claims(db, account, SCOPES, lambda pid: pid, allow_ine=False)
            timings.append((time.perf_counter() - started) * 1000)
            db.rollback()  # a fresh transaction each time, as one token request would have
    engine.dispose()
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95)],
        "max_ms": timings[-1],
        "children": len(claims["children"]),
        "affiliation": claims["FrEduCtPersonAffiliation"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    pg = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry")
    for name, url in (
        ("sqlite", f"sqlite:///{args.directory / 'registry.db'}"),
        ("postgresql", pg.render_as_string(hide_password=False)),
    ):
        r = measure(url, args.rounds)
        print(
            f"{name:10}  registry_claims, guardian of {r['children']} children {r['affiliation']}: "
            f"median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, max {r['max_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
