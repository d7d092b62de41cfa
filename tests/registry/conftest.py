"""Registry fixtures: the fixture files, a session factory, and a CLI runner bound to the test
database (``ctx.obj`` carries the test settings)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from idp.db import make_session_factory
from idp.registry.cli import accounts_group, import_group
from tests.conftest import FIXTURES

REGISTRY = FIXTURES / "registry"
COLLEGE = "0219999E"


@pytest.fixture
def sessions(engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A writable copy of the fixture files (tests derive variants from them)."""
    target = tmp_path / "registry"
    shutil.copytree(REGISTRY, target)
    return target


def rewrite(path: Path, old: str, new: str, encoding: str = "iso-8859-15") -> Path:
    text = path.read_text(encoding=encoding)
    assert old in text, old
    path.write_text(text.replace(old, new), encoding=encoding)
    return path


class Cli:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        group = {"import": import_group, "accounts": accounts_group}[args[0]]
        return self.runner.invoke(group, list(args[1:]), obj=self.settings, catch_exceptions=False)

    def json(self, *args: str, code: int = 0):
        result = self(*args, "--json")
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(settings, engine) -> Cli:
    return Cli(settings)


def siecle_args(
    files: Path,
    eleves: str = "ElevesSansAdresses.xml",
    responsables: str = "ResponsablesAvecAdresses.xml",
) -> list[str]:
    return [
        "import",
        "siecle",
        "--eleves",
        str(files / eleves),
        "--responsables",
        str(files / responsables),
    ]
