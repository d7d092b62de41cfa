"""The families' assistance form, the personal-data notice, and the desk's ticket pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.db import transaction
from idp.outbox.models import OutboxMessage
from idp.support.models import SupportTicket, TicketReply, TicketStatus
from idp.support.routes import TICKETS_PER_ADDRESS
from tests.admin.helpers import A, C, add_staff, staff_login, text_of
from tests.support.oidc import csrf_of

GOOD = {
    "name": "Camille Martin",
    "email": "Camille.Martin@Example.fr",
    "phone": "06 12 34 56 78",
    "school": A.lower(),
    "category": "identifiant",
    "message": "Je n'ai pas reçu le courrier de l'école pour activer mon compte.",
}


def _send(client, **overrides):
    page = client.get("/assistance")
    return client.post("/assistance", data={"csrf_token": csrf_of(page.text), **GOOD, **overrides})


def _tickets(state) -> list[SupportTicket]:
    with transaction(state.sessions) as db:
        return list(db.scalars(select(SupportTicket).order_by(SupportTicket.created_at)))


class TestForm:
    def test_a_request_becomes_a_ticket_and_an_acknowledgement(self, client, state, world):
        response = _send(client)
        assert response.status_code == 200 and "Demande envoyée" in response.text
        (ticket,) = _tickets(state)
        assert ticket.reference in response.text
        assert (ticket.email, ticket.phone, ticket.school_uai, ticket.academy) == (
            "Camille.Martin@example.fr",
            "+33612345678",
            A,
            "Paris",
        )
        assert ticket.status == TicketStatus.new
        with transaction(state.sessions) as db:
            mail = db.scalar(
                select(OutboxMessage).where(OutboxMessage.template == "support_received")
            )
        assert mail.recipient == ticket.email and ticket.reference in mail.body

    def test_an_unknown_school_is_kept_as_typed(self, client, state):
        assert _send(client, school="École du Centre, Beaune").status_code == 200
        assert _tickets(state)[0].school_uai is None

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("name", "", "Indiquez votre nom et votre prénom."),
            ("email", "camille@", "Adresse électronique invalide."),
            ("phone", "12", "Numéro de téléphone invalide."),
            ("school", "", "Indiquez l'école ou l'établissement de votre enfant"),
            ("category", "urgent", "Choisissez l'objet de votre demande."),
            ("message", "Aidez-moi", "Décrivez votre demande en quelques phrases"),
        ],
    )
    def test_validation_in_french(self, client, state, field, value, message):
        response = _send(client, **{field: value})
        assert response.status_code == 400
        assert f'id="{field}-error"' in response.text and message in text_of(response.text)
        assert 'aria-invalid="true"' in response.text
        assert not _tickets(state)

    def test_csrf_is_required(self, client, state):
        response = client.post("/assistance", data=GOOD)
        assert response.status_code == 403 and not _tickets(state)

    def test_rate_limited_per_address(self, client, state):
        for _ in range(TICKETS_PER_ADDRESS):
            assert _send(client).status_code == 200
        refused = _send(client)
        assert refused.status_code == 429 and "Trop de tentatives" in refused.text
        assert len(_tickets(state)) == TICKETS_PER_ADDRESS

    def test_the_page_links_the_notice(self, client):
        page = client.get("/assistance")
        assert 'href="/donnees-personnelles"' in page.text and "conservées un an" in page.text


def test_the_personal_data_notice(client, settings):
    text = text_of(client.get("/donnees-personnelles").text)
    for expected in (
        "Utilisation des données à caractère personnel",
        "mission d'intérêt public",
        "article 6",
        "conservés un an",
        "rectifier",
        "effacer",
        "limitation",
        "vous y opposer",
        "délégué à la protection des données",
        "CNIL",
        settings.academy_name,
        settings.assistance_phone,
    ):
        assert expected in text, expected


class TestDesk:
    def test_assistance_sees_its_academy_and_answers(self, client, state, world, clock):
        _send(client)
        _send(client, school=C)  # another académie (Dijon)
        _send(client, school="une école inconnue")
        add_staff(state, world, "academy_paris")
        staff_login(client, world, "academy_paris", clock)
        by_school = {t.school_text: t for t in _tickets(state)}
        paris, dijon, unknown = by_school[A.lower()], by_school[C], by_school["une école inconnue"]
        listing = client.get("/admin/assistance").text
        assert (
            paris.reference in listing
            and unknown.reference in listing
            and dijon.reference not in listing
        )
        assert client.get(f"/admin/assistance/{dijon.id}").status_code == 404

        page = client.get(f"/admin/assistance/{paris.id}")
        assert page.status_code == 200, text_of(page.text)[:800]
        data = {
            "csrf_token": csrf_of(page.text),
            "reponse": "Votre identifiant vous a été renvoyé.",
            "envoi": "courriel",
            "statut": "closed",
        }
        assert (
            client.post(
                f"/admin/assistance/{paris.id}", data=data, follow_redirects=False
            ).status_code
            == 303
        )
        with transaction(state.sessions) as db:
            ticket = db.get(SupportTicket, paris.id)
            assert ticket.status == TicketStatus.closed and ticket.closed_at is not None
            assert db.scalar(select(TicketReply)).sent
            mail = db.scalar(select(OutboxMessage).where(OutboxMessage.template == "support_reply"))
            assert (
                "Votre identifiant vous a été renvoyé." in mail.body
                and paris.reference in mail.subject
            )
        assert (
            "Votre identifiant vous a été renvoyé."
            in client.get(f"/admin/assistance/{paris.id}").text
        )

    def test_an_internal_note_is_not_sent(self, client, state, world, clock):
        _send(client)
        add_staff(state, world, "national")
        staff_login(client, world, "national", clock)
        (ticket,) = _tickets(state)
        page = client.get(f"/admin/assistance/{ticket.id}")
        data = {
            "csrf_token": csrf_of(page.text),
            "reponse": "Rappeler demain.",
            "envoi": "note",
            "statut": "in_progress",
        }
        client.post(f"/admin/assistance/{ticket.id}", data=data)
        with transaction(state.sessions) as db:
            assert not db.scalar(select(TicketReply)).sent
            assert (
                db.scalar(select(OutboxMessage).where(OutboxMessage.template == "support_reply"))
                is None
            )

    def test_directors_have_no_desk(self, client, state, world, clock):
        add_staff(state, world, "director_a")
        staff_login(client, world, "director_a", clock)
        assert client.get("/admin/assistance").status_code == 404
