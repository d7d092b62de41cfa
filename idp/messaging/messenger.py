"""Messages people receive: rendered from templates and queued in the caller's transaction.

Texts live in ``idp/web/templates/messages/`` (French): ``NAME.sms.txt`` for an SMS and
``NAME.mail.txt`` for an e-mail, whose ``subject`` block is the subject line and whose ``body``
block is the text. Every template gets ``settings`` and ``issuer`` (the public base URL).

``messenger(state).sms(db, to, template, **ctx)`` and ``.mail(db, to, template, **ctx)`` only
write an outbox row in ``db``: the message exists exactly when the action that sent it
commits, and ``educonnect worker`` delivers it (``idp.worker.delivery``). A page that sends a
message therefore looks the same whether or not the provider is up (no account enumeration,
no waiting on a slow provider); a message that never left is visible to operators and to the
assistance desk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.outbox.models import Channel
from idp.outbox.queue import enqueue
from idp.settings import Settings
from idp.web.templating import TEMPLATES_DIR

if TYPE_CHECKING:
    from idp.state import AppState


class Messenger:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._clock = clock
        # Plain text: no HTML escaping; a missing variable is a bug, not an empty string.
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR / "messages"),
            autoescape=False,  # noqa: S701 - plain-text messages, never rendered as HTML
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals.update(settings=settings, issuer=settings.issuer_url)

    def render_sms(self, template: str, **context: Any) -> str:
        return self._env.get_template(f"{template}.sms.txt").render(context).strip()

    def render_mail(self, template: str, **context: Any) -> tuple[str, str]:
        tmpl = self._env.get_template(f"{template}.mail.txt")
        ctx = tmpl.new_context(context)
        subject = "".join(tmpl.blocks["subject"](ctx)).strip()
        body = "".join(tmpl.blocks["body"](ctx)).strip() + "\n"
        return subject, body

    def sms(self, db: Session, to: str, template: str, **context: Any) -> str:
        """Queue an SMS in ``db``'s transaction; return the message id."""
        text = self.render_sms(template, **context)
        return enqueue(db, self._clock.now(), Channel.sms, to, body=text, template=template).id

    def mail(self, db: Session, to: str, template: str, **context: Any) -> str:
        """Queue an e-mail in ``db``'s transaction; return the message id."""
        subject, body = self.render_mail(template, **context)
        return enqueue(
            db, self._clock.now(), Channel.email, to, body=body, subject=subject, template=template
        ).id


def messenger(state: AppState) -> Messenger:
    """The app's messenger (``state.messenger``)."""
    return state.messenger
