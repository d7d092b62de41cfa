"""French labels of states, routes and audit events, as the administration pages show them."""

from __future__ import annotations

from idp.admin.stats.figures import ROUTE_LABELS, STATE_LABELS
from idp.i18n import _

__all__ = ["EVENT_LABELS", "ROUTE_LABELS", "STATE_BADGES", "STATE_LABELS", "event_label"]

#: DSFR badge modifier per account state.
STATE_BADGES = {
    "not_created": "",
    "notified": "fr-badge--info",
    "active": "fr-badge--success",
    "expired": "fr-badge--warning",
    "locked": "fr-badge--error",
    "disabled": "fr-badge--new",
    "retired": "",
}

EVENT_LABELS = {
    "admin.account.notified": _("Compte notifié (courrier)"),
    "admin.account.renotified": _("Nouveau courrier de notification"),
    "admin.password.reset": _("Mot de passe réinitialisé"),
    "admin.account.unlocked": _("Compte débloqué"),
    "admin.account.disabled": _("Compte désactivé"),
    "admin.account.enabled": _("Compte réactivé"),
    "admin.identifier.shown": _("Identifiant consulté"),
    "admin.school.notified": _("Notification d'une école ou d'une classe"),
    "admin.report.resolved": _("Signalement traité"),
    "admin.staff.created": _("Personnel créé"),
    "admin.staff.totp_reset": _("Double authentification réinitialisée"),
    "admin.letters.downloaded": _("Courriers téléchargés"),
    "support.ticket.created": _("Demande d'assistance reçue"),
    "support.ticket.updated": _("Demande d'assistance mise à jour"),
    "login.succeeded": _("Connexion réussie"),
    "login.failed": _("Échec de connexion"),
    "login.locked": _("Connexions bloquées (trop d'échecs)"),
    "password.changed": _("Mot de passe changé"),
    "totp.enrolled": _("Double authentification activée"),
    "totp.verified": _("Code de double authentification accepté"),
    "totp.failed": _("Code de double authentification refusé"),
    "totp.locked": _("Double authentification bloquée (trop d'échecs)"),
    "account.expired": _("Courrier expiré"),
}


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)
