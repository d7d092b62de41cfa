"""The app under test for the OIDC benchmarks: a seeded SQLite database in a temporary directory
and ``uvicorn idp.main:app`` in a child process on 127.0.0.1.

Production-like settings: default argon2id parameters, no access log, ``env=test`` (templates are
not re-read from disk), the demo relying party off. Seeding goes through the app's own services
(``create_client``, ``Passwords``, ``TokenService``), so rows look exactly like the server's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from idp.accounts.models import Account, AccountKind, AccountState  # noqa: E402
from idp.migrate import upgrade  # noqa: E402
from idp.oidc.clients import ClientSpec, create_client  # noqa: E402
from idp.services import build_state  # noqa: E402
from idp.settings import Settings  # noqa: E402
from idp.state import AppState  # noqa: E402

PASSWORD = "correct horse battery staple"
SECRET_KEY = "bench-secret-key-" + "s" * 32
KEY_ENCRYPTION_KEY = "bench-kek-" + "k" * 32
PAIRWISE_KEY = "bench-pairwise-" + "p" * 32
RP_ID = "bench-rp"
SERVICE_ID = "bench-service"
USER_SCOPE = "openid profile email"


@dataclass
class Seeded:
    rp_secret: str
    service_secret: str
    usernames: list[str]
    account_ids: list[str]
    #: (access token, refresh token) of grant families issued without a browser.
    families: list[tuple[str, str]] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database_url: str, issuer: str) -> dict[str, str]:
    return {
        "EDUCONNECT_ENV": "test",
        "EDUCONNECT_DATABASE_URL": database_url,
        "EDUCONNECT_ISSUER": issuer,
        "EDUCONNECT_SECRET_KEY": SECRET_KEY,
        "EDUCONNECT_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
        "EDUCONNECT_PAIRWISE_KEY": PAIRWISE_KEY,
        "EDUCONNECT_DEMO_ENABLED": "false",
        "EDUCONNECT_LOG_LEVEL": "WARNING",
    }


def settings_for(database_url: str, issuer: str) -> Settings:
    env = environment(database_url, issuer)
    return Settings(**{k.removeprefix("EDUCONNECT_").lower(): v for k, v in env.items()})


def seed(state: AppState, accounts: int, families: int) -> Seeded:
    """Two clients (a first-party RP, a service with the introspection scope), ``accounts``
    active accounts sharing one password, and ``families`` refresh-token families."""
    key = state.settings.secrets["secret_key"]
    issuer = state.settings.issuer_url
    with state.uow() as db:
        _, rp_secret = create_client(
            db,
            ClientSpec(
                name="Banc d'essai",
                client_id=RP_ID,
                redirect_uris=[f"{issuer}/cb"],
                grant_types=["authorization_code", "refresh_token"],
                scopes=USER_SCOPE.split(),
                first_party=True,
            ),
            state.clock,
            key,
        )
        _, service_secret = create_client(
            db,
            ClientSpec(
                name="Service du banc d'essai",
                client_id=SERVICE_ID,
                redirect_uris=[],
                grant_types=["client_credentials"],
                scopes=["introspection"],
            ),
            state.clock,
            key,
        )
    password_hash = state.passwords.hash(PASSWORD)  # default argon2id parameters
    now = state.clock.now()
    rows = [
        Account(
            kind=AccountKind.guardian,
            username=f"bench.user{i}",
            password_hash=password_hash,
            state=AccountState.active,
            given_name="Camille",
            family_name=f"Essai{i}",
            email=f"bench.user{i}@example.fr",
            email_verified=True,
            created_at=now,
            updated_at=now,
            activated_at=now - timedelta(days=1),
            password_changed_at=now - timedelta(days=1),
        )
        for i in range(accounts)
    ]
    with state.uow() as db:
        db.add_all(rows)
    assert rp_secret and service_secret
    seeded = Seeded(rp_secret, service_secret, [a.username for a in rows], [a.id for a in rows])
    seeded.families = issue_families(state, rows, families)
    return seeded


def issue_families(state: AppState, accounts: list[Account], count: int) -> list[tuple[str, str]]:
    """What a code exchange leaves behind (a grant, an access and a refresh token), per account
    in turn, through ``TokenService``; in batches so that SQLite commits stay small."""
    from idp.oidc.models import Client

    out: list[tuple[str, str]] = []
    auth_time = state.clock.timestamp()
    while len(out) < count:
        with state.uow() as db:
            client = db.get(Client, RP_ID)
            for i in range(len(out), min(count, len(out) + 2000)):
                account = accounts[i % len(accounts)]
                grant = state.tokens.new_grant(
                    db,
                    client,
                    account.id,
                    USER_SCOPE,
                    auth_time=auth_time,
                    acr="urn:educonnect:loa:basic",
                    amr=["pwd"],
                )
                token = state.tokens.issue(
                    db, client, account, USER_SCOPE, grant, include_refresh=True
                )
                out.append((token["access_token"], token["refresh_token"]))
    return out


@dataclass
class ServerConfig:
    http: str = "h11"  # h11 | httptools
    loop: str = "asyncio"  # asyncio | uvloop
    workers: int = 1
    #: What-if changes of bench/oidc_variants.py (empty: the app as it is).
    variants: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.http}+{self.loop}" + "".join(f"+{v}" for v in self.variants)


class BenchServer:
    """A fresh database, seeded, served by uvicorn until ``stop()``."""

    def __init__(self, workdir: Path, config: ServerConfig, accounts: int = 64, families: int = 0):
        self.config = config
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite:///{workdir / 'bench.db'}"
        self.workdir = workdir
        upgrade(self.database_url)
        state = build_state(settings_for(self.database_url, self.issuer))
        state.keys.ensure_keys()
        self.seeded = seed(state, accounts, families)
        state.engine.dispose()
        self.process: subprocess.Popen | None = None

    def start(self) -> BenchServer:
        app = "oidc_variants:app" if self.config.variants else "idp.main:app"
        cmd = [
            sys.executable, "-m", "uvicorn", app, "--app-dir", str(ROOT / "bench"),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", str(self.config.workers),
            "--http", self.config.http, "--loop", self.config.loop,
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, **environment(self.database_url, self.issuer)}
        env["BENCH_VARIANTS"] = ",".join(self.config.variants)
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.workdir / 'server.log').read_text()}")
            try:
                if (
                    httpx.get(
                        f"{self.issuer}/.well-known/openid-configuration", timeout=1
                    ).status_code
                    == 200
                ):
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError("server did not start")

    @property
    def pid(self) -> int:
        assert self.process
        return self.process.pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        text = (self.workdir / "server.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
