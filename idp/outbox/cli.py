"""``educonnect outbox [--json] [--limit N] [--state S]``: the outbox of external effects."""

from __future__ import annotations

import json

import click

from idp.db import make_engine, make_session_factory
from idp.outbox import views
from idp.outbox.models import Delivery
from idp.settings import Settings


@click.command("outbox")
@click.option("--limit", default=20, show_default=True, type=int, help="How many messages.")
@click.option(
    "--state",
    type=click.Choice([d.value for d in Delivery]),
    help="Only messages in this state.",
)
@click.option("--json", "as_json", is_flag=True)
def outbox_command(limit: int, state: str | None, as_json: bool) -> None:
    """Show the latest SMS, e-mails and back-channel logouts: pending (with the next attempt),
    sent, or failed with the reason, and how many attempts each took."""
    settings = Settings()
    shown = views.dev_channels(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            messages = [
                views.as_json(m, with_body=m.channel in shown)
                for m in views.latest(db, limit, state=state)
            ]
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(messages, ensure_ascii=False, indent=2))
        return
    if not messages:
        click.echo("the outbox is empty")
    for m in reversed(messages):
        title = f" — {m['subject']}" if m["subject"] else ""
        click.echo(f"[{m['created_at']}] {m['channel']} to {m['to']}{title}")
        status = f"  {m['state']}, {m['attempts']} attempt(s)"
        if m["in_flight"]:
            status += f", being delivered (lease until {m['next_attempt_at']})"
        elif m["state"] == "pending":
            status += f", next at {m['next_attempt_at']}"
        if m["sent_via"]:
            status += f", via {m['sent_via']}"
        if m["last_error"]:
            status += f": {m['last_error']}"
        click.echo(status)
        if m["body"]:
            click.echo("  " + m["body"].strip().replace("\n", "\n  "))
        click.echo()
