"""French labels of states, routes and audit events, as the administration pages show them."""

from __future__ import annotations

from idp.admin.stats.figures import ROUTE_LABELS, STATE_LABELS

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
    "admin.account.notified": "Compte notifié (courrier)",
    "admin.account.renotified": "Nouveau courrier de notification",
    "admin.password.reset": "Mot de passe réinitialisé",
    "admin.account.unlocked": "Compte débloqué",
    "admin.account.disabled": "Compte désactivé",
    "admin.account.enabled": "Compte réactivé",
    "admin.identifier.shown": "Identifiant consulté",
    "admin.school.notified": "Notification d'une école ou d'une classe",
    "admin.report.resolved": "Signalement traité",
    "admin.staff.created": "Personnel créé",
    "admin.staff.totp_reset": "Double authentification réinitialisée",
    "admin.letters.downloaded": "Courriers téléchargés",
    "support.ticket.created": "Demande d'assistance reçue",
    "support.ticket.updated": "Demande d'assistance mise à jour",
    "login.succeeded": "Connexion réussie",
    "login.failed": "Échec de connexion",
    "login.locked": "Connexions bloquées (trop d'échecs)",
    "password.changed": "Mot de passe changé",
    "totp.enrolled": "Double authentification activée",
    "totp.verified": "Code de double authentification accepté",
    "totp.failed": "Code de double authentification refusé",
    "totp.locked": "Double authentification bloquée (trop d'échecs)",
    "account.expired": "Courrier expiré",
}


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)
