"""``educonnect worker``: deliver the outbox and run the periodic jobs until SIGTERM/SIGINT."""

from __future__ import annotations

import json
import logging
import signal

import click

from idp.services import build_state
from idp.settings import Settings
from idp.worker.runner import Worker


@click.command("worker")
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between looks for due messages when the outbox is empty.",
)
@click.option("--once", is_flag=True, help="Deliver what is due, run the due jobs, then exit.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print what was done.")
def worker_command(poll: float, once: bool, as_json: bool) -> None:
    """Deliver SMS, e-mails and back-channel logouts from the outbox, and run the periodic
    jobs (janitor, statistics snapshot). Any number of workers may run: each message is
    claimed by one of them and each job runs under a lease. The first SIGTERM or SIGINT
    finishes the current delivery and job, then exits; a second one exits at once."""
    settings = Settings()
    settings.check_production()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    state = build_state(settings)
    worker = Worker(state, poll=poll)
    try:
        if once:
            done = {"delivered": worker.deliver(), "jobs": worker.run_jobs()}
            worker.deliverer.close()
            if as_json:
                click.echo(json.dumps(done))
            else:
                click.echo(
                    f"{done['delivered']} attempts, jobs run: {', '.join(done['jobs']) or '-'}"
                )
            return

        def _stop(signum, _frame) -> None:
            click.echo(f"{signal.Signals(signum).name}: stopping", err=True)
            worker.stopping.set()
            # A second signal ends the process at once.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        state.keys.ensure_keys()
        worker.start()
        click.echo(f"worker {worker.id} running", err=True)
        while not worker.stopping.wait(3600):
            pass
        worker.stop()
    finally:
        state.engine.dispose()
