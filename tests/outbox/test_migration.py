"""The migration into the outbox keeps what was queued: development messages count as
delivered to the mailbox, back-channel jobs keep their state and what is needed to sign anew."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from idp.migrate import upgrade

SELECT = "SELECT id, channel, state, attempts, payload, body, sent_via FROM outbox_messages"


def _token(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'logout+jwt'})}.{part(claims)}.c2ln"


def test_old_rows_move_into_the_outbox(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    now = datetime.now(UTC).replace(microsecond=0)
    engine = create_engine(url)
    with engine.begin() as conn:
        # (A plain engine: SQLite does not enforce the client foreign key, no client needed.)
        conn.execute(
            text(
                "INSERT INTO outbox_messages (id, channel, recipient, body, template, created_at)"
                " VALUES ('m1', 'sms', '+33612345678', 'code 123456', 'otp', :now)"
            ),
            {"now": now},
        )
        jobs = [
            ("queued", now, None),
            ("done", now, now),
            ("abandoned", now + timedelta(days=3650), None),
        ]
        for job_id, next_at, delivered in jobs:
            conn.execute(
                text(
                    "INSERT INTO backchannel_logouts (id, client_id, uri, logout_token, attempts,"
                    " next_attempt_at, last_error, delivered_at, created_at) VALUES"
                    " (:id, 'rp', 'https://rp.example.fr/bc', :token, 2, :next_at, 'HTTP 500',"
                    " :delivered, :now)"
                ),
                {
                    "id": job_id,
                    "token": _token({"sub": "s-1", "sid": "sid-1", "aud": "rp"}),
                    "next_at": next_at,
                    "delivered": delivered,
                    "now": now,
                },
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(text(SELECT))}
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    engine.dispose()
    assert "backchannel_logouts" not in tables and "worker_jobs" in tables
    assert (rows["m1"].state, rows["m1"].sent_via, rows["m1"].body) == (
        "sent",
        "dev-outbox",
        "code 123456",
    )
    assert {i: rows[i].state for i in ("queued", "done", "abandoned")} == {
        "queued": "pending",
        "done": "sent",
        "abandoned": "failed",
    }
    assert rows["queued"].channel == "backchannel" and rows["queued"].attempts == 2
    assert json.loads(rows["queued"].payload) == {
        "client_id": "rp",
        "sub": "s-1",
        "sid": "sid-1",
        "alg": "RS256",
    }
