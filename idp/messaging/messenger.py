"""Messages people receive, rendered from templates and handed to the gateways.

Texts live in ``idp/web/templates/messages/`` (French): ``NAME.sms.txt`` for an SMS and
``NAME.mail.txt`` for an e-mail, whose ``subject`` block is the subject line and whose ``body``
block is the text. Every template gets ``settings`` and ``issuer`` (the public base URL).

A failed delivery is logged and audited, never raised: the pages that send messages must look
the same whether or not a message went out (no account enumeration), and the person can always
ask again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from idp.messaging.gateways import DeliveryError, MailGateway, SmsGateway, make_gateways
from idp.web.templating import TEMPLATES_DIR

if TYPE_CHECKING:
    from idp.state import AppState

log = logging.getLogger("educonnect.messaging")


class Messenger:
    def __init__(self, state: AppState, sms: SmsGateway, mail: MailGateway) -> None:
        self._state = state
        self.sms_gateway = sms
        self.mail_gateway = mail
        # Plain text: no HTML escaping; a missing variable is a bug, not an empty string.
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR / "messages"),
            autoescape=False,  # noqa: S701 - plain-text messages, never rendered as HTML
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals.update(settings=state.settings, issuer=state.settings.issuer_url)

    def render_sms(self, template: str, **context: Any) -> str:
        return self._env.get_template(f"{template}.sms.txt").render(context).strip()

    def render_mail(self, template: str, **context: Any) -> tuple[str, str]:
        tmpl = self._env.get_template(f"{template}.mail.txt")
        ctx = tmpl.new_context(context)
        subject = "".join(tmpl.blocks["subject"](ctx)).strip()
        body = "".join(tmpl.blocks["body"](ctx)).strip() + "\n"
        return subject, body

    def sms(self, to: str, template: str, **context: Any) -> bool:
        text = self.render_sms(template, **context)
        try:
            self.sms_gateway.send(to, text, template=template)
        except DeliveryError as exc:
            self._failed("sms", template, exc)
            return False
        return True

    def mail(self, to: str, template: str, **context: Any) -> bool:
        subject, body = self.render_mail(template, **context)
        try:
            self.mail_gateway.send(to, subject, body, template=template)
        except DeliveryError as exc:
            self._failed("email", template, exc)
            return False
        return True

    def _failed(self, channel: str, template: str, exc: Exception) -> None:
        log.error("%s %s not delivered: %s", channel, template, exc)
        # The recipient is left out of the audit trail on purpose: it is personal data and
        # the failure is about the provider, not the person.
        with self._state.uow() as db:
            self._state.audit.record(
                db, "message.failed", detail={"channel": channel, "template": template}
            )


def messenger(state: AppState) -> Messenger:
    """The app's messenger, built from the settings on first use."""
    found = state.extras.get("messenger")
    if found is None:
        sms, mail = make_gateways(state.settings, state.sessions, state.clock)
        found = state.extras["messenger"] = Messenger(state, sms, mail)
    return found
