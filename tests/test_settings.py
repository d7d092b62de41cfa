"""Development defaults must never reach production."""

from __future__ import annotations

import pytest

from idp.settings import Settings


def test_production_refuses_development_defaults():
    settings = Settings(env="production", secret_key="s" * 40, key_encryption_key="k" * 40)
    with pytest.raises(RuntimeError) as error:
        settings.check_production()
    message = str(error.value)
    for problem in ("SQLite", "demo", "outbox", "https"):
        assert problem in message


def test_production_accepts_a_real_configuration():
    Settings(
        env="production",
        database_url="postgresql+psycopg://idp@db/idp",
        issuer="https://educonnect.example.fr",
        secret_key="s" * 40,
        key_encryption_key="k" * 40,
        pairwise_key="p" * 40,
        demo_enabled=False,
        sms_backend="http",
        mail_backend="smtp",
    ).check_production()


def test_production_requires_secrets():
    with pytest.raises(RuntimeError):
        _ = Settings(env="production").secrets


def test_cookies_are_secure_outside_localhost():
    assert Settings(issuer="https://educonnect.example.fr").cookie_secure
    assert not Settings(issuer="http://localhost:8000").cookie_secure


def test_production_requires_the_pairwise_key():
    settings = Settings(env="production", secret_key="s" * 40, key_encryption_key="k" * 40)
    with pytest.raises(RuntimeError, match="PAIRWISE_KEY"):
        settings.check_production()
    with pytest.raises(RuntimeError, match="PAIRWISE_KEY"):
        _ = settings.secrets


def test_rotating_the_secret_key_changes_no_subject():
    from idp.clock import Clock
    from idp.oidc.tokens import TokenService

    class _Client:
        subject_type = "pairwise"
        sector_identifier = "lsun.example.fr"

    def sub(secret_key: str) -> str:
        settings = Settings(
            secret_key=secret_key, key_encryption_key="k" * 40, pairwise_key="p" * 40
        )
        return TokenService(settings, None, Clock()).subject(_Client(), "account-1")

    assert sub("a" * 40) == sub("b" * 40)
