"""The SMS code step that self-registration, recovery and the mobile change share: one page
(``accounts/code.html``), one set of error sentences, one way to check the code posted.

A journey describes its page once (``CodePage``); its progress token carries the challenge id
as ``ch``. The FranceConnect linking page has its own template but can use ``code_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from idp.accounts.journeys import otp
from idp.accounts.journeys.common import Step, hidden, page, seal_progress
from idp.i18n import _, ngettext
from idp.state import AppState

#: What a refused code means to the person, by ``otp.Result.reason`` (``wrong`` says how many
#: tries are left).
CODE_ERRORS = {
    "malformed": _("Saisissez les 6 chiffres du code reçu par SMS."),
    "expired": _("Ce code a expiré. Demandez un nouveau code."),
    "exhausted": _("Trop d'essais : ce code n'est plus valable. Demandez un nouveau code."),
    "used": _("Ce code n'est plus valable. Demandez un nouveau code."),
    "unknown": _("Ce code n'est plus valable. Demandez un nouveau code."),
}


def code_error(result: otp.Result) -> str:
    if result.reason == "wrong":
        return ngettext(
            "Code incorrect. Il vous reste %(left)s essai.",
            "Code incorrect. Il vous reste %(left)s essais.",
            result.attempts_left,
        ) % {"left": result.attempts_left}
    return CODE_ERRORS.get(result.reason, CODE_ERRORS["unknown"])


@dataclass(frozen=True)
class CodePage:
    """What differs between the journeys' code pages."""

    title: str
    #: The journey's path: the code is posted to ``{path}/code``, a new one asked at
    #: ``{path}/renvoyer``.
    path: str
    intro: str
    purpose: otp.Purpose
    #: What the page shows of the destination, from the step's progress data.
    shown: Callable[[dict[str, Any]], str]
    #: ``(current, total, name, next)`` for the stepper, when the journey shows one.
    step: tuple[int, int, str, str] | None = None
    #: What the destination shown is (the template says « Numéro » by default).
    masked_label: str | None = None
    #: The intro after a refused code, when it should say more than ``intro``.
    retry_intro: str | None = None

    def render(
        self,
        state: AppState,
        request: Request,
        step: Step,
        *,
        error: str | None = None,
        resent: bool = False,
    ) -> Response:
        """The page of ``step`` (whose progress names the challenge as ``ch``)."""
        context = {
            "title": self.title,
            "step": self.step,
            "masked": self.shown(step.data),
            "masked_label": self.masked_label,
            "errors": {"code": error} if error else {},
            "resent": resent,
            "hidden": hidden(step.auth, progress=step.token),
            "action": f"{self.path}/code",
            "resend_action": f"{self.path}/renvoyer",
            "intro": (self.retry_intro or self.intro) if error else self.intro,
        }
        return page(state, request, "code.html", context, 400 if error else 200)

    def sent(
        self,
        state: AppState,
        request: Request,
        kind: str,
        auth: str | None,
        data: dict[str, Any],
        *,
        resent: bool = False,
    ) -> Response:
        """The page after a code was sent: ``data`` (with ``ch``) becomes the step's progress."""
        token = seal_progress(state, kind, {**data, "step": "code"})
        return self.render(state, request, Step(auth, data, token), resent=resent)

    def verify(
        self,
        state: AppState,
        db: Session,
        request: Request,
        step: Step,
        form: dict[str, str],
        *,
        subject: str | None = None,
    ) -> otp.Result | Response:
        """Check the code posted against the challenge of ``step``: the result when it is
        right, else this page again with the reason."""
        challenge = step.data.get("ch") or "-"
        code = form.get("code", "")
        result = otp.verify(state, db, challenge, code, purpose=self.purpose, subject=subject)
        return result if result.ok else self.refused(state, request, step, result)

    def refused(
        self, state: AppState, request: Request, step: Step, result: otp.Result
    ) -> Response:
        """The same page again, saying why the code was refused."""
        return self.render(state, request, step, error=code_error(result))
