"""What the personal-data notice (``/donnees-personnelles``) states, from the settings.

The académie's own details (who is responsible, whom to ask) are deployment settings. Until
``Settings`` carries the fields named below, the defaults here apply; each is documented where
``Settings`` will define it.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.settings import Settings

#: Settings this notice reads, with the value used while ``Settings`` lacks them.
DEFAULTS = {
    # Who decides why and how the data is processed (RGPD art. 4(7)).
    "data_controller": "le recteur de l'académie, pour le ministère chargé de l'éducation nationale",
    # How to reach the data protection officer (RGPD art. 37-39).
    "dpo_contact": "le délégué à la protection des données de l'académie, par le formulaire de contact ou par courrier au rectorat",
    # Days a support ticket is kept after its last activity, then deleted by the janitor.
    "support_ticket_retention_days": 365,
}


@dataclass(frozen=True)
class PrivacyDetails:
    academy: str
    controller: str
    dpo: str
    ticket_retention_days: int
    assistance_phone: str
    assistance_hours: str


def privacy_details(settings: Settings) -> PrivacyDetails:
    def value(name: str):
        return getattr(settings, name, None) or DEFAULTS[name]

    return PrivacyDetails(
        academy=settings.academy_name,
        controller=value("data_controller"),
        dpo=value("dpo_contact"),
        ticket_retention_days=int(value("support_ticket_retention_days")),
        assistance_phone=settings.assistance_phone,
        assistance_hours=settings.assistance_hours,
    )


def retention_label(days: int) -> str:
    """``365`` → ``un an``; ``730`` → ``2 ans``; otherwise in days."""
    if days % 365 == 0:
        years = days // 365
        return "un an" if years == 1 else f"{years} ans"
    return f"{days} jours"
