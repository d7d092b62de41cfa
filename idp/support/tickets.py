"""Assistance tickets: validating the contact form, storing a ticket, the desk's replies.

The form asks for the least that lets the desk help (RGPD minimisation): a name, an e-mail
address to answer to, optionally a phone number, the child's school, a category and a message.
Validation messages are French sentences, keyed by field.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from idp.admin.audit import StaffAudit
from idp.admin.roles import Role, Staff
from idp.i18n import _
from idp.messaging.messenger import messenger
from idp.registry.identifiers import normalize_email
from idp.registry.models import School
from idp.settings import Settings
from idp.state import AppState
from idp.support.models import SupportTicket, TicketReply, TicketStatus
from idp.support.notice import privacy_details

CATEGORIES = {
    "activation": _("Activer mon compte (courrier de l'école)"),
    "identifiant": _("Identifiant oublié"),
    "mot_de_passe": _("Mot de passe oublié ou compte bloqué"),
    "enfants": _("Un enfant manque ou est en trop sur mon compte"),
    "sms": _("Inscription par SMS, code non reçu"),
    "franceconnect": _("Connexion avec FranceConnect"),
    "autre": _("Autre question"),
}
STATUS_LABELS = {
    TicketStatus.new: _("Nouvelle"),
    TicketStatus.in_progress: _("En cours"),
    TicketStatus.closed: _("Close"),
}
MESSAGE_MIN, MESSAGE_MAX = 20, 4000
_UAI = re.compile(r"^\s*(\d{7}[A-Za-z])\s*$")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class ContactForm:
    name: str = ""
    email: str = ""
    phone: str = ""
    school: str = ""
    category: str = ""
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, data: dict[str, str]) -> ContactForm:
        values = {
            k: (data.get(k) or "").strip()
            for k in ("name", "email", "phone", "school", "category", "message")
        }
        return cls(**values)


def validate(form: ContactForm) -> ContactForm:
    """Normalise the fields in place and fill ``form.errors`` (French)."""
    errors = form.errors
    if not form.name:
        errors["name"] = _("Indiquez votre nom et votre prénom.")
    elif len(form.name) > 200:
        errors["name"] = _("Le nom est trop long (200 caractères au plus).")
    if not form.email:
        errors["email"] = _("Indiquez votre adresse électronique : la réponse y sera envoyée.")
    else:
        try:
            form.email = normalize_email(form.email)
        except ValueError:
            errors["email"] = _("Adresse électronique invalide. Exemple : nom@exemple.fr")
    if form.phone:
        try:
            number = phonenumbers.parse(form.phone, "FR")
            if not phonenumbers.is_valid_number(number):
                raise ValueError
            form.phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except (phonenumbers.NumberParseException, ValueError):
            errors["phone"] = _("Numéro de téléphone invalide. Exemple : 06 12 34 56 78")
    if not form.school:
        errors["school"] = _(
            "Indiquez l'école ou l'établissement de votre enfant (nom et ville, ou code UAI)."
        )
    elif len(form.school) > 200:
        errors["school"] = _("Le nom de l'école est trop long (200 caractères au plus).")
    if form.category not in CATEGORIES:
        errors["category"] = _("Choisissez l'objet de votre demande.")
    if len(form.message) < MESSAGE_MIN:
        errors["message"] = _(
            "Décrivez votre demande en quelques phrases (%(n)s caractères au moins)."
        ) % {"n": MESSAGE_MIN}
    elif len(form.message) > MESSAGE_MAX:
        errors["message"] = _("Votre message est trop long (%(n)s caractères au plus).") % {
            "n": MESSAGE_MAX
        }
    return form


def _school(db: Session, text: str) -> School | None:
    """The school the family named, when it is unambiguous (a UAI, or an exact name)."""
    if match := _UAI.match(text):
        return db.get(School, match.group(1).upper())
    found = list(db.scalars(select(School).where(func.lower(School.name) == text.lower()).limit(2)))
    return found[0] if len(found) == 1 else None


def _reference() -> str:
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"AS-{chars[:4]}-{chars[4:]}"


def create_ticket(state: AppState, db: Session, form: ContactForm) -> SupportTicket:
    now = state.clock.now()
    school = _school(db, form.school)
    ticket = SupportTicket(
        reference=_reference(),
        status=TicketStatus.new,
        category=form.category,
        name=form.name,
        email=form.email,
        phone=form.phone or None,
        school_text=form.school,
        school_uai=school.uai if school else None,
        academy=school.academy if school else None,
        message=form.message,
        created_at=now,
        updated_at=now,
    )
    db.add(ticket)
    db.flush()
    state.audit.record(
        db,
        "support.ticket.created",
        target_type="ticket",
        target_id=ticket.id,
        school_uai=ticket.school_uai,
    )
    return ticket


# -- the desk ------------------------------------------------------------------------------------
def visible(staff: Staff):
    """Tickets a staff member may handle: those of their académies, and those whose school was
    not recognised (any assistance member triages them); national administrators see all."""
    roles = {a.role for a in staff.assignments}
    if Role.national in roles:
        return select(SupportTicket)
    academies = [s for a in staff.assignments if a.role == Role.academy for s in a.scope]
    return select(SupportTicket).where(
        or_(SupportTicket.academy.in_(academies), SupportTicket.academy.is_(None))
    )


def ticket_for(db: Session, staff: Staff, ticket_id: str) -> SupportTicket | None:
    return db.scalar(visible(staff).where(SupportTicket.id == ticket_id))


def replies(db: Session, ticket_id: str) -> list[TicketReply]:
    return list(
        db.scalars(
            select(TicketReply)
            .where(TicketReply.ticket_id == ticket_id)
            .order_by(TicketReply.created_at, TicketReply.id)
        )
    )


def answer(
    state: AppState,
    db: Session,
    staff: Staff,
    ticket: SupportTicket,
    body: str,
    send: bool,
    status: TicketStatus,
    ip: str | None,
) -> TicketReply | None:
    """Add a reply (e-mailed to the family when ``send``: queued in ``db``) and/or move the
    ticket's status."""
    now = state.clock.now()
    reply = None
    if body:
        reply = TicketReply(
            ticket_id=ticket.id,
            author_account_id=staff.account_id,
            author_name=staff.name,
            body=body,
            sent=send,
            created_at=now,
        )
        db.add(reply)
        if send:
            messenger(state).mail(
                db,
                ticket.email,
                "support_reply",
                name=ticket.name,
                reference=ticket.reference,
                body=body,
            )
    before = ticket.status
    ticket.status = status
    ticket.updated_at = now
    ticket.closed_at = now if status == TicketStatus.closed else None
    StaffAudit(state, db, staff, ip).record(
        "support.ticket.updated",
        "ticket",
        ticket.id,
        ticket.school_uai,
        before={"status": before.value},
        after={"status": status.value},
        reply=bool(body),
        sent=send,
    )
    return reply


def retention(settings: Settings) -> timedelta:
    """How long a ticket is kept after its last activity (stated on the privacy notice)."""
    return timedelta(days=privacy_details(settings).ticket_retention_days)
