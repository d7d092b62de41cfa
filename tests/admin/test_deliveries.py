"""The assistance desk sees a family's messages and how they went, never what they said."""

from __future__ import annotations

from idp.messaging.gateways import DeliveryError
from idp.messaging.messenger import messenger
from idp.worker.delivery import Deliverer
from tests.admin.helpers import add_staff, staff_login, text_of


class Refusing:
    name = "http"
    keeps_body = False

    def send(self, *args, message_id: str) -> None:
        raise DeliveryError("SMS provider answered HTTP 400", permanent=True)


def _queue(state) -> None:
    with state.uow() as db:
        messenger(state).sms(db, "+33612345678", "otp", code="246810", minutes=10, purpose="x")
        messenger(state).mail(
            db, "parent.alice@example.fr", "forgot_username", usernames=["p.alice"]
        )
        messenger(state).mail(db, "someone.else@example.fr", "forgot_username", usernames=["x"])


def test_academy_assistance_sees_the_state_of_each_message(client, state, world, clock):
    _queue(state)
    Deliverer(state, sms=Refusing()).deliver_one()  # the SMS: refused by the provider
    add_staff(state, world, "academy_paris")
    staff_login(client, world, "academy_paris", clock)
    page = client.get(f"/admin/responsables/{world.guardians['alice']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Messages envoyés" in text
    assert "Code de vérification" in text and "Non envoyé" in text and "HTTP 400" in text
    assert "Identifiant oublié" in text and "En attente" in text
    assert "246810" not in page.text and "p.alice" not in text.split("Messages envoyés")[1]
    assert "someone.else@example.fr" not in text


def test_school_directors_do_not_run_the_desk(client, state, world, clock):
    _queue(state)
    add_staff(state, world, "director_a")
    staff_login(client, world, "director_a", clock)
    page = client.get(f"/admin/responsables/{world.guardians['alice']}")
    assert page.status_code == 200
    assert "Messages envoyés" not in text_of(page.text)
