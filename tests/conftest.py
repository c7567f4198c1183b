"""Shared fixtures: settings on a temporary SQLite file, and a real PostgreSQL database
(a fresh one per test, cloned from a migrated template). Without PostgreSQL the tests that
need it skip with the reason, except under CI=true, where that is a failure.

Expensive set-up is built once per test process and copied for each test that asks for it
(``snapshot``): a SQLite file is copied, a PostgreSQL database is created from the built one as
its template. Under pytest-xdist every worker builds its own; tests that share a Spark session
or the demo server and browser run on one worker each (``xdist_group``)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from _pytest.nodeid import NodeId
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crosspromo.config import Settings
from crosspromo.engine.backend import Engine
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.sample.build import build_sample
from crosspromo.store.database import Database

TEST_SECRET = "test-secret-key-0123456789"
TEST_ASSETS = Path(tempfile.gettempdir()) / "crosspromo-test-assets"
PG_URL = os.environ.get(
    "CROSSPROMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
# The xdist workers are the parallel streams. OpenMP pools (scikit-learn's boosting) in every
# worker and CLI process would oversubscribe the cores, and their spinning threads then wait on
# each other (an uplift command took 60 s instead of 6). Workers and their subprocesses inherit
# this; the results do not depend on it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
T = TypeVar("T")
# Tests that use one of these fixtures run on one xdist worker (the group), so the expensive
# thing is started once per run, not once per worker.
GROUPS = {"spark_engine": "spark", "demo_server": "browser", "browser": "browser"}


def require(reason: str) -> None:
    """Skip with ``reason``, or fail under CI=true where every service must be present."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def make_settings(database_url: str, **extra: object) -> Settings:
    extra.setdefault("webhook_dispatch_seconds", 0)  # tests dispatch explicitly
    # pages wait for their results (a loaded machine must not turn a result into a progress
    # page); tests/web/test_progress.py shows progress with 0
    extra.setdefault("progress_after_seconds", 600)
    # uploads are kept by their SHA-256, so every test may share one store: a database copied
    # from a snapshot finds the files its builder kept
    extra.setdefault("asset_store_url", str(TEST_ASSETS))
    return Settings(database_url=database_url, secret_key=TEST_SECRET, environment="test", **extra)  # type: ignore[arg-type]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, group in GROUPS.items():
            if fixture in fixtures:
                item.add_marker(pytest.mark.xdist_group(group))
                item.add_marker(getattr(pytest.mark, group))
                if getattr(config.option, "loadgroup", False):
                    # pytest 9 keeps a node's id in ``_id``; xdist 3.8 still writes the group
                    # into ``_nodeid``, so its scheduler never sees it. The group goes into the
                    # id here, as xdist means it to.
                    item._id = NodeId.parse(f"{item.nodeid}@{group}")
                break


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'crosspromo.db'}")


class PostgresServer:
    """Creates throwaway databases on the test server from a migrated template. Dropping a
    database waits for a checkpoint (about 0.15 s here), so drops happen on a thread of their
    own while the tests go on. A copy takes 0.3-0.4 s under the suite's load (measured over
    the 239 PostgreSQL isolation tests: 91 s of their 127), most of it waiting on the disk, so
    the next copy of a template is made on another thread while the test that took the last
    one runs."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.template = f"crosspromo_tpl_{uuid.uuid4().hex[:10]}"
        self.kept: list[str] = []
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper = threading.Thread(target=self._drop_loop, name="pg-drop", daemon=True)
        self._dropper.start()
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-copy")
        self._ahead: dict[str, Future[str]] = {}  # a template: its next copy, being made

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def prepare_template(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        upgrade_database(make_settings(self.url_for(self.template)))

    def fresh(self, template: str | None = None) -> str:
        """A new database copied from ``template`` (the migrated one by default); its name.
        A template must not change once copied: the next copy is made ahead."""
        source = template or self.template
        ahead = self._ahead.pop(source, None)
        name = None
        if ahead is not None:
            with contextlib.suppress(Exception):  # made again below, where its error shows
                name = ahead.result()
        if name is None:
            name = self._copy(source)
        self._ahead[source] = self._maker.submit(self._copy, source)
        return name

    def _copy(self, template: str) -> str:
        name = f"crosspromo_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def drop_later(self, name: str) -> None:
        self._drops.put(name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _drop_loop(self) -> None:
        while (name := self._drops.get()) is not None:
            self._drop(name)

    def drop_all(self) -> None:
        """Drop what is left, several at a time: the drop thread runs behind the tests, and a
        worker's last test would otherwise wait for its whole backlog (20 s and more)."""
        left = []
        while True:
            try:
                name = self._drops.get_nowait()
            except queue.Empty:
                break
            if name is not None:
                left.append(name)
        self._drops.put(None)
        self._dropper.join()  # the drop it was in the middle of
        self._maker.shutdown()
        for ahead in self._ahead.values():  # copies made for tests that did not come
            with contextlib.suppress(Exception):
                left.append(ahead.result())
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._drop, [*left, *self.kept]))
        self._drop(self.template)
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
def postgres_settings(postgres_server: PostgresServer) -> Iterator[Settings]:
    """Settings for a fresh, migrated PostgreSQL database of this test's own."""
    name = postgres_server.fresh()
    yield make_settings(postgres_server.url_for(name))
    postgres_server.drop_later(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The store under test: once SQLite, once PostgreSQL."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a migrated database, once on SQLite and once on PostgreSQL."""
    if backend == "postgres":
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


class Snapshots:
    """Databases built once per test process by a named builder, copied for every test that
    asks: ``builder(settings)`` fills a migrated database and returns what the tests need to
    know of it (keys, ids ...), which is kept with the copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[tuple[str, str], tuple[str, Any]] = {}

    def sqlite(self, name: str, builder: Callable[[Settings], T], into: Path) -> tuple[Settings, T]:
        key = ("sqlite", name)
        if key not in self.built:
            source = self.root / f"{name}.db"
            made = make_settings(f"sqlite:///{source}")
            upgrade_database(made)
            self.built[key] = (str(source), builder(made))
        source, value = self.built[key]
        target = into / "crosspromo.db"
        shutil.copyfile(source, target)
        return make_settings(f"sqlite:///{target}"), value

    def postgres(
        self, name: str, builder: Callable[[Settings], T], server: PostgresServer
    ) -> tuple[str, T]:
        key = ("postgres", name)
        if key not in self.built:
            source = server.fresh()
            server.kept.append(source)
            self.built[key] = (source, builder(make_settings(server.url_for(source))))
        source, value = self.built[key]
        return server.fresh(template=source), value


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


Snapshot = Callable[[str, Callable[[Settings], T]], tuple[Settings, T]]


@pytest.fixture
def snapshot(
    backend: str, snapshots: Snapshots, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Snapshot[Any]]:
    """``snapshot(name, builder)``: settings for this test's own copy of the database that
    ``builder`` made (once per process and backend), and what the builder returned. The builder
    must close every connection it opens (a PostgreSQL template cannot have any)."""
    copies: list[str] = []

    def take(name: str, builder: Callable[[Settings], T]) -> tuple[Settings, T]:
        return snapshot_copy(backend, snapshots, request, tmp_path, name, builder, copies)

    yield take
    drop_copies(request, copies)


def snapshot_copy(
    backend: str,
    snapshots: Snapshots,
    request: pytest.FixtureRequest,
    into: Path,
    name: str,
    builder: Callable[[Settings], T],
    copies: list[str],
) -> tuple[Settings, T]:
    """Settings for a copy of the snapshot ``name`` (a file in ``into`` on SQLite, a database
    added to ``copies`` on PostgreSQL, for ``drop_copies``), and what its builder returned."""
    if backend == "sqlite":
        return snapshots.sqlite(name, builder, into)
    server = request.getfixturevalue("postgres_server")
    database, value = snapshots.postgres(name, builder, server)
    copies.append(database)
    return make_settings(server.url_for(database)), value


def drop_copies(request: pytest.FixtureRequest, copies: list[str]) -> None:
    if copies:
        server = request.getfixturevalue("postgres_server")
        for database in copies:
            server.drop_later(database)


SAMPLE_KEYS = ("trailhead-outfitters", "pixel-pets")


def sample_with_keys(seed: int, scale: int) -> tuple[str, Callable[[Settings], dict[str, str]]]:
    """A snapshot's name and builder: the sample ecosystem with an API key for each of
    ``SAMPLE_KEYS`` (the brand with known purchase parameters, and another brand)."""

    def build(settings: Settings) -> dict[str, str]:
        db = open_database(settings)
        build_sample(db, seed=seed, scale=scale)
        keys = {slug: create_api_key(db, slug).key for slug in SAMPLE_KEYS}
        db.dispose()
        return keys

    return f"sample-{seed}-{scale}", build


@pytest.fixture(scope="session")
def spark_engine() -> Engine:
    """One Spark ``local[2]`` session for the whole run (it takes seconds to start)."""
    if importlib.util.find_spec("pyspark") is None:
        require("pyspark is not installed (extra 'spark')")
    if shutil.which("java") is None:
        require("Spark needs a Java runtime and none is on PATH")
    return Engine.spark("local[2]")


def agreed(db: Database, org_id: int, partner: str, name: str | None = None, **changes: Any) -> int:
    """A partnership of ``org_id`` with ``partner`` (named ``name``) under terms both accepted
    (the template's, with ``changes``): proposed by ``org_id``, accepted by ``partner``."""
    from crosspromo.services.agree.agreements import accept, propose
    from crosspromo.services.agree.terms import parse_terms, template
    from crosspromo.store.repositories import OrganizationRepository

    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        me, other = orgs.get(org_id), orgs.by_slug(partner)
    terms = parse_terms(template(me.slug, partner).document() | changes)
    made = propose(db, org_id, partner, terms, name=name)
    accept(db, other.id, made.partnership_id, made.version or 1)
    return made.partnership_id


def issued_link(db: Database, destination: str = "https://brand.example/") -> str:
    """The code of a link to ``destination`` that a new brand ``brand`` issued to its new
    partner ``partner`` under an agreed partnership (the brand.example domain allowed)."""
    from crosspromo.domain import OrgKind
    from crosspromo.services.accounts.organizations import create_organization
    from crosspromo.services.track.links import add_domain, create_link

    brand = create_organization(db, "brand", "Brand", OrgKind.BRAND)
    create_organization(db, "partner", "Partner", OrgKind.PARTNER)
    agreed(db, brand.id, "partner", name="links")
    add_domain(db, brand.id, "brand.example")
    return create_link(db, brand.id, "partner", destination).code


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)`` on a thread of its own: in a process that runs the browser tests,
    Playwright's sync API keeps an event loop running on the main thread, where asyncio.run
    refuses to start another."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(work))
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="run_async")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
