"""Regenerate the initial migration from the models (only while nothing has been released).

Once a database in the wild has run a migration, add new revisions with
``alembic revision --autogenerate`` instead.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from idp.migrate import alembic_config
from idp.settings import REPO_ROOT

versions = REPO_ROOT / "migrations" / "versions"
for old in versions.glob("*_initial.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    cfg = alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}")
    command.revision(cfg, message="initial", autogenerate=True, rev_id="0001")
sys.exit(0)
