"""Deliver due outbox messages (the worker's side of ``idp.outbox``): claim one, hand it over
with no transaction or pooled connection held, record the outcome; repeat.

An attempt that ends in ``failed`` is audited (``message.failed``, without the recipient: it is
about the provider, not the person). A gateway that raises something other than
``DeliveryError`` (a bug, an unexpected library error) is recorded as a failed attempt and
retried like any other: the message is never lost to an exception.
"""

from __future__ import annotations

import logging
import threading

import httpx

from idp.db import transaction
from idp.messaging.gateways import DeliveryError, MailGateway, SmsGateway, make_gateways
from idp.oidc import backchannel
from idp.outbox import queue
from idp.outbox.models import Channel, Delivery
from idp.outbox.queue import Claim, Outcome
from idp.state import AppState

log = logging.getLogger("educonnect.outbox")


class Deliverer:
    def __init__(
        self,
        state: AppState,
        *,
        sms: SmsGateway | None = None,
        mail: MailGateway | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self._state = state
        if sms is None or mail is None:
            default_sms, default_mail = make_gateways(state.settings)
            sms, mail = sms or default_sms, mail or default_mail
        self.sms = sms
        self.mail = mail
        self._http = http or backchannel.http_client()

    def attempt(self, claim: Claim) -> Outcome:
        """Hand one claimed message over (no database connection is held here)."""
        try:
            if claim.channel == Channel.backchannel:
                return backchannel.deliver(self._state, self._http, claim)
            if claim.body is None:
                return Outcome(error="the message has no body", permanent=True)
            if claim.channel == Channel.sms:
                self.sms.send(claim.recipient, claim.body, message_id=claim.id)
                return Outcome(via=self.sms.name, keep_body=self.sms.keeps_body)
            if claim.channel == Channel.email:
                self.mail.send(
                    claim.recipient, claim.subject or "", claim.body, message_id=claim.id
                )
                return Outcome(via=self.mail.name, keep_body=self.mail.keeps_body)
            return Outcome(error=f"unknown channel {claim.channel!r}", permanent=True)
        except DeliveryError as exc:
            return Outcome(error=str(exc), permanent=exc.permanent)
        except Exception as exc:  # a bug must cost an attempt, never the message
            log.exception("delivering %s %s raised", claim.channel, claim.id)
            return Outcome(error=f"{type(exc).__name__}: {exc}")

    def deliver_one(self) -> bool:
        """Deliver the oldest due message; False when none is due."""
        state = self._state
        claim = queue.claim(state.sessions, state.clock)
        if claim is None:
            return False
        outcome = self.attempt(claim)
        with transaction(state.sessions) as db:
            settled = queue.settle(db, state.clock, claim, outcome)
            if settled == Delivery.failed:
                state.audit.record(
                    db,
                    "message.failed",
                    target_type="outbox",
                    target_id=claim.id,
                    detail={"channel": claim.channel, "template": claim.template},
                )
        _log(claim, outcome, settled)
        return True

    def deliver_due(self, stop: threading.Event | None = None, limit: int = 1000) -> int:
        """Deliver due messages until none is left (or ``limit``, or ``stop``); return how many
        attempts were made."""
        done = 0
        while done < limit and not (stop and stop.is_set()) and self.deliver_one():
            done += 1
        return done

    def close(self) -> None:
        self._http.close()
        for gateway in (self.sms, self.mail):
            close = getattr(gateway, "close", None)
            if close:
                close()


def _log(claim: Claim, outcome: Outcome, settled: str | None) -> None:
    what = f"{claim.channel} {claim.template or ''} {claim.id} (attempt {claim.attempts})"
    if settled is None:
        log.warning("%s: lease lost before the outcome was recorded", what)
    elif outcome.error is None:
        log.info("%s sent via %s", what, outcome.via)
    elif settled == Delivery.failed:
        log.error("%s failed: %s", what, outcome.error)
    else:
        log.warning("%s not delivered, will retry: %s", what, outcome.error)
