"""Message catalogues: every sentence a person reads that is written in Python goes through
``_`` (or ``ngettext``), so that its wording lives in ``idp/locale/fr/LC_MESSAGES/messages.po``.

The source language is French (message ids are the French sentences); the ``fr`` catalogue is
compiled at set-up (``make setup`` runs ``pybabel compile``) and edited there, not in code.
Without a compiled catalogue the ids themselves are shown, so nothing breaks.
Placeholders are named: ``_("Réessayez dans %(minutes)s minutes.") % {"minutes": n}``.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_catalogue = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=["fr"], fallback=True)


def _(message: str) -> str:
    return _catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue.ngettext(singular, plural, n)
