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
