"""The SAML services of an app state, built on first use (which creates the keys if missing)."""

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
                keys = SamlKeys(state.settings, state.sessions, state.clock)
                keys.ensure()
                found = Saml(keys, IdPs(state.settings, keys))
                state.extras["saml"] = found
    return found
