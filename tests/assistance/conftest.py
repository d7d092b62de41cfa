"""The app on a frozen clock, with the admin fixtures (staff, world)."""

from __future__ import annotations

from tests.admin.conftest import app, clock, world  # noqa: F401
from tests.oidc.conftest import browser, client, rp, state  # noqa: F401
