"""The SAML services of the app state (built by ``idp.services``); ``ensure_saml`` creates the
keys at start, in the app's lifespan or a command (a request must not open a second, writing
transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from idp.clock import Clock
from idp.saml.keys import SamlKeys
from idp.saml.server import IdPs
from idp.security.sealing import Seals
from idp.settings import Settings

if TYPE_CHECKING:
    from idp.state import AppState


@dataclass
class Saml:
    keys: SamlKeys
    idps: IdPs


def make_saml(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, seals: Seals
) -> Saml:
    keys = SamlKeys(settings, sessions, clock, seals.at_rest("saml-key"))
    return Saml(keys, IdPs(settings, keys))


def saml_of(state: AppState) -> Saml:
    return state.saml


def ensure_saml(state: AppState) -> None:
    state.saml.keys.ensure()
