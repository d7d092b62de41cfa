"""The SAML services of an app state, built on first use; ``ensure_saml`` creates the keys at
start (a request must not open a second, writing transaction)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from idp.saml.keys import SamlKeys
from idp.saml.server import IdPs
from idp.state import AppState

_lock = threading.Lock()


@dataclass
class Saml:
    keys: SamlKeys
    idps: IdPs


def saml_of(state: AppState) -> Saml:
    found = state.extras.get("saml")
    if found is None:
        with _lock:
            found = state.extras.get("saml")
            if found is None:
                at_rest = state.seals.at_rest("saml-key")
                keys = SamlKeys(state.settings, state.sessions, state.clock, at_rest)
                found = Saml(keys, IdPs(state.settings, keys))
                state.extras["saml"] = found
    return found


def ensure_saml(state: AppState) -> None:
    saml_of(state).keys.ensure()
