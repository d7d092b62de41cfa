"""A FranceConnect v2 simulator: a real OIDC provider for development and tests.

Never enable it in production: it hands out identities to whoever clicks a button.
"""

from federation.simulator.app import create_simulator_app
from federation.simulator.identities import IDENTITIES, TestIdentity
from federation.simulator.store import SimulatorClient
from federation.simulator.tokens import FAULTS

__all__ = ["FAULTS", "IDENTITIES", "SimulatorClient", "TestIdentity", "create_simulator_app"]
