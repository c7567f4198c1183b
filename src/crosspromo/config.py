"""One Settings object, read from the environment (prefix ``CROSSPROMO_``) once and passed in."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crosspromo.errors import ConfigError

SUPPORTED_DRIVERS = ("sqlite", "postgresql", "postgresql+psycopg")
DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - documented development default
STRONG_SECRET_BITS = 256  # production's secret key: at least 32 random bytes
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
_HEX = frozenset("0123456789abcdefABCDEF")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``CROSSPROMO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CROSSPROMO_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///./crosspromo.db"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    # earlier secret keys, comma-separated: accepted to verify and unseal, never to sign or seal
    old_secret_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    environment: str = Field(default="development", pattern="^(development|production|test)$")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # identifier lists and overlap protocol messages (32 bytes a customer, plus the lists)
    overlap_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)  # absolute, from the login
    session_idle_seconds: int = Field(default=2 * 3600, ge=60)  # since the last request
    # where short links and inbound webhook URLs point; `serve` and `demo` default it to the
    # address they bind
    public_url: str = DEFAULT_PUBLIC_URL
    # Strict-Transport-Security on HTTPS responses in production (0: not sent)
    hsts_max_age_seconds: int = Field(default=365 * 86400, ge=0)
    # a client must have sent a request's headers within this many seconds
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    sample_seed: int = 42
    webhook_dispatch_seconds: float = Field(default=1.0, ge=0)  # 0: the server sends none
    # a dashboard page waits this long for a result computed for the first time, then shows
    # its progress and reloads itself until it is there
    progress_after_seconds: float = Field(default=0.5, ge=0)
    engine: str = Field(default="duckdb", pattern="^(duckdb|spark)$")  # runs analytics queries
    spark_master: str = "local[2]"
    # co-branded assets: any fsspec URL (file://, s3://, gcs:// ... with its package); empty:
    # a folder beside the SQLite file, or ./crosspromo-assets
    asset_store_url: str = ""
    # where `serve` journals each click before its redirect (see tracking.mover)
    click_journal_dir: str = ""
    asset_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)  # one upload
    # checklist reminders by e-mail: empty host, none are sent
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    mail_from: str = "crosspromo@localhost"

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

    @field_validator("old_secret_keys", mode="before")
    @classmethod
    def _split_old_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or "\\" in value:
            raise ValueError(f"must be an http(s) URL, e.g. {DEFAULT_PUBLIC_URL}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_a_strong_secret(self) -> Settings:
        if self.environment == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET or secret_bits(secret) < STRONG_SECRET_BITS:
                raise ValueError(
                    "CROSSPROMO_SECRET_KEY must hold at least 32 random bytes in production "
                    "(the development default is public); make one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
                )
        return self

    @property
    def verification_keys(self) -> tuple[str, ...]:
        """The secret key, then the old ones: what a signature or a sealed value may be under."""
        keys = (self.secret_key, *self.old_secret_keys)
        return tuple(k.get_secret_value() for k in keys)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def assets_url(self) -> str:
        """Where co-branded assets are kept: the setting, else a folder beside the SQLite
        file, else ``./crosspromo-assets``."""
        if self.asset_store_url:
            return self.asset_store_url
        path = self.sqlite_path()
        folder = path.with_name(f"{path.stem}-assets") if path else Path("crosspromo-assets")
        return str(folder.resolve())

    def click_journal(self) -> Path:
        """Where the server journals clicks: the setting, else a folder beside the SQLite
        file, else ``./crosspromo-clicks``."""
        if self.click_journal_dir:
            return Path(self.click_journal_dir).resolve()
        path = self.sqlite_path()
        folder = path.with_name(f"{path.stem}-clicks") if path else Path("crosspromo-clicks")
        return folder.resolve()

    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite URL, else None."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)


def secret_bits(secret: str) -> float:
    """A generous estimate of the randomness in ``secret``: its length times the bits of the
    smallest alphabet it is written in (hex, base64, printable ASCII); a secret of few distinct
    characters, or one that repeats itself, counts as none."""
    grams = {secret[i : i + 4] for i in range(len(secret) - 3)}
    if len(set(secret)) < 8 or len(grams) < len(secret) // 2:
        return 0.0
    chars = set(secret)
    per_char = 4.0 if chars <= _HEX else 6.0 if chars <= _BASE64 else math.log2(95)
    return len(secret) * per_char


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
            (f"CROSSPROMO_{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
