"""The gateways ``educonnect worker`` hands SMS and e-mails to (never a request thread).

- ``outbox`` (development default): the development mailbox. "Delivering" is recording that
  the message reached it: it stays readable at ``/dev/outbox`` and in ``educonnect outbox``.
- ``smtp``: standard library ``smtplib``, plain SMTP to a relay (``smtp_host``/``smtp_port``).
- ``http`` (SMS): a JSON ``POST`` to ``sms_http_url`` with a bearer token.

One call is one attempt: retries and back-off belong to the outbox (``idp.outbox.queue``), so a
slow provider holds up a worker, not a person. Every attempt carries the outbox message id, so
a receiver can tell a retry from a new message. Gateways raise ``DeliveryError`` when the
message was not handed over; ``permanent`` when trying again cannot help (a 4xx answer, a
refused recipient).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

import httpx

from idp.settings import Settings


class DeliveryError(Exception):
    """The message could not be handed to the SMS provider or the mail relay."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmsGateway(Protocol):
    #: Recorded as ``sent_via``; ``keeps_body``: the body is what people read there.
    name: str
    keeps_body: bool

    def send(self, number_e164: str, text: str, *, message_id: str) -> None:
        """Hand one SMS to the provider. Raise ``DeliveryError`` on failure."""


class MailGateway(Protocol):
    name: str
    keeps_body: bool

    def send(self, to: str, subject: str, text_body: str, *, message_id: str) -> None:
        """Hand one plain-text e-mail to the relay. Raise ``DeliveryError`` on failure."""


class DevMailbox:
    """The development mailbox (both channels): the outbox row itself is the delivered copy."""

    name = "dev-outbox"
    keeps_body = True

    def send(self, *args: str, message_id: str) -> None:
        return None


# -- SMTP ----------------------------------------------------------------------------------------
class SmtpMail:
    name = "smtp"
    keeps_body = False

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def send(self, to: str, subject: str, text_body: str, *, message_id: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # The same Message-ID on every attempt: mail systems drop the duplicate of a retry.
        message["Message-ID"] = f"<{message_id}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message.set_content(text_body)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused the recipient: {exc}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP answered {exc.smtp_code}", permanent=permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"SMTP delivery to {self._host}:{self._port} failed: {exc}"
            ) from exc


# -- HTTP SMS provider ---------------------------------------------------------------------------
class HttpSms:
    """``POST {url}`` with ``{"id": "…", "to": "+336…", "text": "…", "sender": "EduConnect"}``
    and an ``Idempotency-Key`` header holding the same id."""

    name = "http"
    keeps_body = False

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 5.0,
        sender: str = "EduConnect",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = url
        self._sender = sender
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def send(self, number_e164: str, text: str, *, message_id: str) -> None:
        body = {"id": message_id, "to": number_e164, "text": text, "sender": self._sender}
        try:
            response = self._client.post(
                self._url, json=body, headers={"Idempotency-Key": message_id}
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS provider unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            # A 4xx is the provider refusing this message; a 5xx is the provider's own trouble.
            permanent = response.status_code < 500
            raise DeliveryError(
                f"SMS provider answered HTTP {response.status_code}", permanent=permanent
            )

    def close(self) -> None:
        self._client.close()


def make_gateways(settings: Settings) -> tuple[SmsGateway, MailGateway]:
    """The gateways the settings ask for (``sms_backend``, ``mail_backend``)."""
    sms: SmsGateway
    mail: MailGateway
    if settings.sms_backend == "http":
        if not settings.sms_http_url:
            raise RuntimeError("EDUCONNECT_SMS_BACKEND=http needs EDUCONNECT_SMS_HTTP_URL")
        sms = HttpSms(settings.sms_http_url, settings.sms_http_token)
    else:
        sms = DevMailbox()
    if settings.mail_backend == "smtp":
        mail = SmtpMail(settings.smtp_host, settings.smtp_port, settings.mail_from)
    else:
        mail = DevMailbox()
    return sms, mail
