"""Delivery of SMS and e-mails behind two small interfaces.

- ``outbox`` (development default): messages are stored in ``outbox_messages`` and shown at
  ``/dev/outbox`` and by ``educonnect outbox``. Written in the caller's unit of work, so a
  message exists exactly when the action that sent it committed.
- ``smtp``: standard library ``smtplib``, plain SMTP to a relay (``smtp_host``/``smtp_port``).
- ``http`` (SMS): a JSON ``POST`` to ``sms_http_url`` with a bearer token; network errors and
  5xx answers are retried with a growing pause, a 4xx answer is final.

Gateways raise ``DeliveryError`` when a message could not be handed over.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

import httpx
from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.db import unit_of_work
from idp.messaging.models import OutboxMessage
from idp.settings import Settings

log = logging.getLogger("educonnect.messaging")


class DeliveryError(Exception):
    """The message could not be handed to the SMS provider or the mail relay."""


class SmsGateway(Protocol):
    def send(self, number_e164: str, text: str, *, template: str | None = None) -> None:
        """Hand one SMS to the provider. Raise ``DeliveryError`` on failure."""


class MailGateway(Protocol):
    def send(self, to: str, subject: str, text_body: str, *, template: str | None = None) -> None:
        """Hand one plain-text e-mail to the relay. Raise ``DeliveryError`` on failure."""


# -- outbox --------------------------------------------------------------------------------------
class Outbox:
    """Stores messages instead of sending them (both channels)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def _store(
        self, channel: str, to: str, subject: str | None, body: str, template: str | None
    ) -> None:
        with unit_of_work(self._sessions) as db:
            db.add(
                OutboxMessage(
                    channel=channel,
                    recipient=to,
                    subject=subject,
                    body=body,
                    template=template,
                    created_at=self._clock.now(),
                )
            )


class OutboxSms(Outbox):
    def send(self, number_e164: str, text: str, *, template: str | None = None) -> None:
        self._store("sms", number_e164, None, text, template)


class OutboxMail(Outbox):
    def send(self, to: str, subject: str, text_body: str, *, template: str | None = None) -> None:
        self._store("email", to, subject, text_body, template)


# -- SMTP ----------------------------------------------------------------------------------------
class SmtpMail:
    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout

    def send(self, to: str, subject: str, text_body: str, *, template: str | None = None) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(
            domain=parseaddr(self._sender)[1].rpartition("@")[2] or None
        )
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message.set_content(text_body)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"SMTP delivery to {self._host}:{self._port} failed: {exc}"
            ) from exc


# -- HTTP SMS provider ---------------------------------------------------------------------------
class HttpSms:
    """``POST {url}`` with ``{"to": "+336…", "text": "…", "sender": "EduConnect"}``.

    Three retries after the first try, pausing ``backoff[i]`` seconds before retry ``i``: an SMS
    code that never arrives sends the person away, and providers' brief 5xx spells are common.
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 5.0,
        backoff: Sequence[float] = (0.5, 1.0, 2.0),
        sender: str = "EduConnect",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = url
        self._backoff = tuple(backoff)
        self._sender = sender
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def send(self, number_e164: str, text: str, *, template: str | None = None) -> None:
        body = {"to": number_e164, "text": text, "sender": self._sender}
        last = "no attempt"
        for attempt in range(len(self._backoff) + 1):
            if attempt:
                time.sleep(self._backoff[attempt - 1])
            try:
                response = self._client.post(self._url, json=body)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("SMS provider unreachable (try %d): %s", attempt + 1, last)
                continue
            if response.status_code < 300:
                return
            last = f"HTTP {response.status_code}"
            if response.status_code < 500:
                break  # the provider refused this message: retrying will not help
            log.warning("SMS provider answered %s (try %d)", response.status_code, attempt + 1)
        raise DeliveryError(f"SMS delivery failed: {last}")

    def close(self) -> None:
        self._client.close()


def make_gateways(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> tuple[SmsGateway, MailGateway]:
    """The gateways the settings ask for (``sms_backend``, ``mail_backend``)."""
    sms: SmsGateway
    mail: MailGateway
    if settings.sms_backend == "http":
        if not settings.sms_http_url:
            raise RuntimeError("EDUCONNECT_SMS_BACKEND=http needs EDUCONNECT_SMS_HTTP_URL")
        sms = HttpSms(settings.sms_http_url, settings.sms_http_token)
    else:
        sms = OutboxSms(sessions, clock)
    if settings.mail_backend == "smtp":
        mail = SmtpMail(settings.smtp_host, settings.smtp_port, settings.mail_from)
    else:
        mail = OutboxMail(sessions, clock)
    return sms, mail
