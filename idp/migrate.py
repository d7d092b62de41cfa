"""Run Alembic migrations programmatically (``educonnect db upgrade`` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from idp.settings import REPO_ROOT


def alembic_config(url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
