from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crosspromo.config import load_settings, secret_bits
from crosspromo.errors import ConfigError
from crosspromo.services.sample.demo import local_secret


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./crosspromo.db"
    assert settings.is_sqlite


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", "postgresql://u:p@db.example/prod")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://u:p@db.example/prod"
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("postgresql://u@h", "must name a database"),
    ],
)
def test_malformed_database_url_is_one_clear_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match="CROSSPROMO_DATABASE_URL") as info:
        load_settings(database_url=url)
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"CROSSPROMO_SECRET_KEY: .*16 characters"):
        load_settings(secret_key="short")


def test_production_refuses_the_public_development_key() -> None:
    """Finding 1: production started silently with the constant anyone can read in the code."""
    with pytest.raises(ConfigError, match="32 random bytes in production"):
        load_settings(environment="production")


@pytest.mark.parametrize(
    "weak", ["x" * 64, "0123456789abcdef" * 4, "correct-horse-battery", "a1b2c3d4e5f6g7h8"]
)
def test_production_refuses_a_weak_key(weak: str) -> None:
    with pytest.raises(ConfigError, match="CROSSPROMO_SECRET_KEY must hold"):
        load_settings(environment="production", secret_key=weak)


def test_production_accepts_32_random_bytes() -> None:
    for key in (secrets.token_urlsafe(32), secrets.token_hex(32)):
        assert load_settings(environment="production", secret_key=key).environment == "production"


def test_serving_production_with_the_default_key_exits_3(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPROMO_")}
    env |= {"CROSSPROMO_ENVIRONMENT": "production",
            "CROSSPROMO_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "crosspromo", "serve", "--port", "1"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "[config_error]" in done.stderr
    assert "CROSSPROMO_SECRET_KEY" in done.stderr


def test_old_keys_verify_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSPROMO_SECRET_KEY", "current-key-0123456789")
    monkeypatch.setenv("CROSSPROMO_OLD_SECRET_KEYS", "older-key-0123456789, oldest-key-0123456789")
    settings = load_settings()
    assert settings.verification_keys == (
        "current-key-0123456789", "older-key-0123456789", "oldest-key-0123456789"
    )  # fmt: skip
    assert settings.secret_key.get_secret_value() == "current-key-0123456789"


def test_the_demo_key_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / ".crosspromo-secret"
    first = local_secret(path)
    assert local_secret(path) == first
    assert secret_bits(first) >= 256
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(environment="production", secret_key=first).secret_key
