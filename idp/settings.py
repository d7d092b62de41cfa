"""The one settings class. Every value comes from the environment (prefix ``EDUCONNECT_``).

Development defaults are convenient on purpose; outside ``development``/``test`` the ones that
must never reach production make the app refuse to start (see ``check_production``).
"""

from __future__ import annotations

import json
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from idp.i18n import _

REPO_ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = REPO_ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDUCONNECT_", extra="ignore")

    #: development | test | production. Production refuses development defaults.
    env: Literal["development", "test", "production"] = "development"
    #: SQLAlchemy URL. SQLite (WAL) by default; PostgreSQL with ``postgresql+psycopg://``.
    database_url: str = f"sqlite:///{VAR_DIR / 'educonnect.db'}"
    #: Optional Redis URL: when set, SSO sessions, throttle counters and OTP state live there.
    redis_url: str | None = None
    #: Prefix of every Redis key (lets several deployments or test workers share a server).
    redis_prefix: str = "educonnect:"
    #: The issuer identifier; every endpoint URL is derived from it.
    issuer: str = "http://localhost:8000"

    #: Secret from which the keys of CSRF tokens, sealed browser state and one-time codes are
    #: derived (``idp.security.sealing.derive_key``). Generated and kept in ``var/`` in
    #: development; required in production. Rotating it logs nobody out for long and changes
    #: no ``sub``: pairwise subjects have their own key below.
    secret_key: str | None = None
    #: Key of pairwise subject identifiers (OIDC Core §8.1). Changing it changes every ``sub``
    #: relying parties know, so it never rotates. Required in production; a deployment that
    #: ran without it must set it to its SECRET_KEY followed by ``/pairwise`` (the value used
    #: before it existed) so that no relying party sees its users' ``sub`` change.
    pairwise_key: str | None = None
    #: Key (any string, stretched with HKDF) that encrypts signing keys at rest.
    key_encryption_key: str | None = None

    #: argon2id parameters (OWASP minimum: m=19 MiB, t=2, p=1). Tests may lower them.
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19 * 1024
    argon2_parallelism: int = 1

    #: Lifetimes, in seconds.
    authorization_code_ttl: int = 60
    access_token_ttl: int = 600
    id_token_ttl: int = 600
    refresh_token_ttl: int = 30 * 24 * 3600
    session_ttl: int = 8 * 3600
    #: How long a rotated-out signing key stays published (must exceed every token TTL it signed).
    key_retention: int = 2 * 24 * 3600

    #: Login throttling (idp/accounts/login/throttling.py; the numbers and why in
    #: docs/operations.md). Per account: failures before a lock that doubles per lock-out of
    #: the day, from ``login_lock_base_seconds`` up to ``login_lock_max_seconds``.
    login_max_failures_account: int = 5
    login_lock_base_seconds: int = 30
    login_lock_max_seconds: int = 3600
    #: Per address: failures allowed in a window (a collège, a mobile operator share one
    #: address) before each further attempt waits a delay growing by 1 s per failure past
    #: the allowance, up to ``login_address_max_delay_seconds``. Never a hard block.
    login_max_failures_address: int = 100
    login_address_window_seconds: int = 600
    login_address_max_delay_seconds: int = 60

    #: Whether to register the development relying party ("LSUN démo") and its routes.
    demo_enabled: bool = True
    #: Messaging backends: ``outbox`` (development: stored, see ``educonnect outbox``), ``smtp``,
    #: ``http`` (SMS only).
    sms_backend: Literal["outbox", "http"] = "outbox"
    mail_backend: Literal["outbox", "smtp"] = "outbox"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    mail_from: str = "EduConnect <ne-pas-repondre@educonnect.localhost>"
    sms_http_url: str | None = None
    sms_http_token: str | None = None
    #: Whether ``educonnect serve`` also runs the worker (outbox delivery, periodic jobs) in
    #: its own process. Unset: yes in ``development`` (``make run`` serves everything from one
    #: command), no otherwise: run ``educonnect worker`` beside the servers.
    worker_in_process: bool | None = None

    #: FranceConnect (upstream OIDC provider).
    franceconnect_enabled: bool = False
    #: Discovery URL of FranceConnect v2; defaults to the simulator when it is enabled.
    franceconnect_discovery_url: str | None = None
    franceconnect_client_id: str = "educonnect-dev"
    franceconnect_client_secret: str | None = None
    #: The FranceConnect simulator (a development tool, never allowed in production).
    franceconnect_simulator: bool = False

    #: Académie-specific contact details shown on help pages.
    assistance_phone: str = "03 80 44 84 20"
    assistance_hours: str = _("du lundi au vendredi, de 8h00 à 12h30 et de 13h30 à 17h30")
    academy_name: str = _("Académie de démonstration")
    #: Personal-data notice: who decides the processing (RGPD art. 4(7)) and how to reach the
    #: data protection officer (art. 37-39); how long support tickets are kept.
    data_controller: str = _(
        "le recteur de l'académie, pour le ministère chargé de l'éducation nationale"
    )
    dpo_contact: str = _(
        "le délégué à la protection des données de l'académie, par le formulaire de contact "
        "ou par courrier au rectorat"
    )
    support_ticket_retention_days: int = 365

    #: PEM certificate of a SAML federation: signed SP metadata must verify against it.
    saml_federation_cert: str | None = None

    log_level: str = "INFO"
    #: ``text`` (development) or ``json``: one JSON object per stdout line (time, level, event,
    #: request id, route, status, duration, client id), for a log collector.
    log_format: Literal["text", "json"] = "text"
    #: Comma-separated addresses or CIDRs of the proxies (load balancers) whose forwarding
    #: header is believed for the client's address; everyone else's is ignored.
    trusted_proxies: str = "127.0.0.1,::1"
    #: Which header those proxies write: ``x-forwarded-for`` (HAProxy ``option forwardfor``,
    #: nginx) or ``forwarded`` (RFC 7239). Only one is read, so a client cannot slip in the other.
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    #: Comma-separated CIDRs that may read ``/metrics`` besides loopback (always allowed).
    metrics_allowed: str = ""
    extra_trusted_hosts: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies", "metrics_allowed")
    @classmethod
    def _networks(cls, value: str) -> str:
        from idp.observability.net import parse_networks

        parse_networks(value)  # a typo in a CIDR refuses to start rather than trusting nobody
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple:
        from idp.observability.net import parse_networks

        return parse_networks(self.trusted_proxies)

    @cached_property
    def metrics_networks(self) -> tuple:
        from idp.observability.net import parse_networks

        return parse_networks("127.0.0.0/8,::1," + self.metrics_allowed)

    @cached_property
    def issuer_url(self) -> str:
        return self.issuer.rstrip("/")

    @cached_property
    def runs_worker_in_process(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.env == "development"

    @cached_property
    def franceconnect_discovery(self) -> str | None:
        if self.franceconnect_discovery_url:
            return self.franceconnect_discovery_url
        if self.franceconnect_simulator:
            return f"{self.issuer_url}/fc/api/v2/.well-known/openid-configuration"
        return None

    @cached_property
    def is_local(self) -> bool:
        host = urlsplit(self.issuer_url).hostname or ""
        return host in {"localhost", "127.0.0.1", "::1"} or host.endswith(".localhost")

    @cached_property
    def cookie_secure(self) -> bool:
        return urlsplit(self.issuer_url).scheme == "https" or not self.is_local

    @cached_property
    def secrets(self) -> dict[str, str]:
        """Secret values, generated once per checkout in development."""
        given = {
            "secret_key": self.secret_key,
            "key_encryption_key": self.key_encryption_key,
            "pairwise_key": self.pairwise_key,
        }
        if all(given.values()):
            return given  # type: ignore[return-value]
        if self.env == "production":
            raise RuntimeError(
                "EDUCONNECT_SECRET_KEY, EDUCONNECT_KEY_ENCRYPTION_KEY and "
                "EDUCONNECT_PAIRWISE_KEY are required"
            )
        path = VAR_DIR / "dev-secrets.json"
        stored: dict[str, str] = {}
        if path.exists():
            stored = json.loads(path.read_text())
        changed = False
        for name in given:
            if not stored.get(name):
                # A checkout from before the pairwise key keeps its subjects.
                stored[name] = (
                    f"{stored['secret_key']}/pairwise"
                    if name == "pairwise_key" and stored.get("secret_key")
                    else secrets.token_urlsafe(32)
                )
                changed = True
        if changed:
            VAR_DIR.mkdir(exist_ok=True)
            path.write_text(json.dumps(stored))
            path.chmod(0o600)
        return {name: given[name] or stored[name] for name in given}

    def check_production(self) -> None:
        """Refuse settings that only make sense on a developer's machine."""
        if self.env != "production":
            return
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL is SQLite")
        if self.franceconnect_simulator:
            problems.append("the FranceConnect simulator is enabled")
        if self.demo_enabled:
            problems.append("the demo relying party is enabled")
        if self.sms_backend == "outbox" or self.mail_backend == "outbox":
            problems.append("messages would go to the development outbox")
        if not self.secret_key or not self.key_encryption_key:
            problems.append("SECRET_KEY and KEY_ENCRYPTION_KEY must be set")
        if not self.pairwise_key:
            problems.append(
                "PAIRWISE_KEY must be set (to SECRET_KEY + '/pairwise' for a deployment that "
                "ran without it, so that no subject changes)"
            )
        if urlsplit(self.issuer_url).scheme != "https":
            problems.append("ISSUER must be https")
        if problems:
            raise RuntimeError("refusing to start in production: " + "; ".join(problems))
