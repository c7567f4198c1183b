from __future__ import annotations

import pytest

from crosspromo.config import load_settings
from crosspromo.errors import ConfigError


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
