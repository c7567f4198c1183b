"""One Settings object, read from the environment (prefix ``CROSSPROMO_``) once and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crosspromo.errors import ConfigError

SUPPORTED_DRIVERS = ("sqlite", "postgresql", "postgresql+psycopg")
DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - documented development default


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``CROSSPROMO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CROSSPROMO_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///./crosspromo.db"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    environment: str = Field(default="development", pattern="^(development|production|test)$")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # identifier lists and overlap protocol messages (32 bytes a customer, plus the lists)
    overlap_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)
    public_url: str = "http://127.0.0.1:8000"
    sample_seed: int = 42
    webhook_dispatch_seconds: float = Field(default=1.0, ge=0)  # 0: the server sends none
    engine: str = Field(default="duckdb", pattern="^(duckdb|spark)$")  # runs analytics queries
    spark_master: str = "local[2]"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite URL, else None."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)


def normalize_database_url(value: str) -> str:
    """Check a database URL and pin PostgreSQL to the psycopg 3 driver.

    Raises ``ValueError`` with the reason, which pydantic reports against the field.
    """
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(
            f"not a database URL: {value!r} (expected e.g. sqlite:///./crosspromo.db)"
        ) from exc
    driver = url.drivername
    if driver not in SUPPORTED_DRIVERS:
        raise ValueError(
            f"unsupported database {driver!r}; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        )
    if driver == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ValueError(
            "a PostgreSQL URL must name a database, e.g. postgresql+psycopg://postgres@127.0.0.1/test"
        )
    return url.render_as_string(hide_password=False)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment plus explicit overrides; ConfigError when invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"CROSSPROMO_{'_'.join(str(p) for p in err['loc']).upper()}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
