"""What the personal-data notice (``/donnees-personnelles``) states, from the settings.

The académie's own details (who is responsible, whom to ask) are deployment settings. Until
``Settings`` carries the fields named below, the defaults here apply; each is documented where
``Settings`` will define it.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.i18n import _, ngettext
from idp.settings import Settings


@dataclass(frozen=True)
class PrivacyDetails:
    academy: str
    controller: str
    dpo: str
    ticket_retention_days: int
    assistance_phone: str
    assistance_hours: str


def privacy_details(settings: Settings) -> PrivacyDetails:
    return PrivacyDetails(
        academy=settings.academy_name,
        controller=settings.data_controller,
        dpo=settings.dpo_contact,
        ticket_retention_days=settings.support_ticket_retention_days,
        assistance_phone=settings.assistance_phone,
        assistance_hours=settings.assistance_hours,
    )


def retention_label(days: int) -> str:
    """``365`` → ``un an``; ``730`` → ``2 ans``; otherwise in days."""
    if days % 365 == 0:
        years = days // 365
        return _("un an") if years == 1 else _("%(n)s ans") % {"n": years}
    return ngettext("%(n)s jour", "%(n)s jours", days) % {"n": days}
