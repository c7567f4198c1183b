"""Shared fixtures: settings on a temporary SQLite file, and a real PostgreSQL database
(a fresh one per test, cloned from a migrated template). Without PostgreSQL the tests that
need it skip with the reason, except under CI=true, where that is a failure."""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crosspromo.config import Settings
from crosspromo.engine.backend import Engine
from crosspromo.services.database import open_database, upgrade_database
from crosspromo.store.database import Database

TEST_SECRET = "test-secret-key-0123456789"
PG_URL = os.environ.get(
    "CROSSPROMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(reason: str) -> None:
    """Skip with ``reason``, or fail under CI=true where every service must be present."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def make_settings(database_url: str, **extra: object) -> Settings:
    extra.setdefault("webhook_dispatch_seconds", 0)  # tests dispatch explicitly
    return Settings(database_url=database_url, secret_key=TEST_SECRET, environment="test", **extra)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'crosspromo.db'}")


class PostgresServer:
    """Creates throwaway databases on the test server from a migrated template."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.template = f"crosspromo_tpl_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def prepare_template(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        upgrade_database(make_settings(self.url_for(self.template)))

    def fresh(self) -> str:
        name = f"crosspromo_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in [*self.created, self.template]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(PG_URL)
    try:
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        server.admin.dispose()
        require(f"PostgreSQL is not reachable at {PG_URL}: {str(exc).splitlines()[0]}")
    server.prepare_template()
    yield server
    server.drop_all()


@pytest.fixture
def postgres_settings(postgres_server: PostgresServer) -> Settings:
    """Settings for a fresh, migrated PostgreSQL database of this test's own."""
    return make_settings(postgres_server.fresh())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "postgres":
        value = request.getfixturevalue("postgres_settings")
        assert isinstance(value, Settings)
        return value
    result = make_settings(f"sqlite:///{tmp_path / 'crosspromo.db'}")
    upgrade_database(result)
    return result


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_settings: Settings) -> Iterator[Database]:
    upgrade_database(sqlite_settings)
    database = open_database(sqlite_settings)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def spark_engine() -> Engine:
    """One Spark ``local[2]`` session for the whole run (it takes seconds to start)."""
    if importlib.util.find_spec("pyspark") is None:
        require("pyspark is not installed (extra 'spark')")
    if shutil.which("java") is None:
        require("Spark needs a Java runtime and none is on PATH")
    return Engine.spark("local[2]")
