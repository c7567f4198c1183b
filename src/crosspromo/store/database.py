"""Engine and transactions. One Database per process, built from Settings and passed in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crosspromo.config import Settings
from crosspromo.errors import DatabaseError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling ignores SAVEPOINT scoping; we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a commit is on disk before we answer
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_READING = "crosspromo_reading"


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so a transaction
    # that reads and then writes cannot fail with 'database is locked' halfway. A reading
    # (``Database.reading``) takes no lock: in WAL mode it reads one snapshot while writers
    # go on, and nobody waits for it.
    reading = connection.get_execution_options().get(_READING, False)
    connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None and not path.parent.exists():
            raise DatabaseError(f"the folder for the SQLite database does not exist: {path.parent}")
        engine = create_engine(settings.database_url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        # UTC sessions: date() of a timestamp means the UTC day, as on SQLite
        connect_args={"connect_timeout": 5, "options": "-c timezone=UTC"},
    )


class Database:
    """Owns the engine; ``transaction()`` is the unit of work every service uses."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()
        self.memo: dict[str, object] = {}  # values this process keeps once read from the store

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit when the block succeeds, roll back (writing nothing) when it raises.

        One transaction per thread at a time: a second one opened inside the first would wait
        on the first's lock (SQLite) or see different data, so it is refused outright.
        """
        if getattr(self._local, "open", False):
            raise RuntimeError("a transaction is already open on this thread: pass its session on")
        self._local.open = True
        held = self._held()
        session = self._sessions() if held is None else self._sessions(bind=held)
        try:
            with session.begin():
                yield session
        except OperationalError as exc:
            if held is not None:  # gone or broken: the next transaction checks out another
                held.invalidate()
                held.close()
                self._local.held = None
            raise self.unavailable_error(exc) from exc
        finally:
            session.close()
            self._local.open = False

    def _held(self) -> Connection | None:
        if not getattr(self._local, "holding", False):
            return None
        held: Connection | None = getattr(self._local, "held", None)
        if held is None or held.closed or held.invalidated:
            held = self._local.held = self.engine.connect()
        return held

    @contextmanager
    def holding(self) -> Iterator[None]:
        """On this thread, until the block ends, transactions share one connection, checked
        out (and, on PostgreSQL, pinged) once instead of once a transaction: for a thread that
        commits small transactions back to back (the click and conversion writers). A
        connection that fails is dropped and the next transaction checks out another."""
        self._local.holding = True
        try:
            yield
        finally:
            held: Connection | None = getattr(self._local, "held", None)
            if held is not None:
                held.close()
            self._local.held = None
            self._local.holding = False

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: one consistent snapshot (repeatable read on
        PostgreSQL) and, on SQLite, no write lock, so a long analysis read (a whole purchase
        log) holds up no request, click or delivery. Only for reading: on SQLite a write inside
        it would fail as soon as another write came first ('database is locked'), so anything
        that writes uses ``transaction``."""
        if getattr(self._local, "open", False):
            raise RuntimeError("a transaction is already open on this thread: pass its session on")
        self._local.open = True
        try:
            with self.engine.connect() as connection:
                options: dict[str, Any] = {_READING: True}
                if not self.settings.is_sqlite:  # one snapshot, as SQLite's deferred reading
                    options["isolation_level"] = "REPEATABLE READ"
                connection.execution_options(**options)
                with connection.begin(), Session(bind=connection) as session:
                    yield session
        except OperationalError as exc:
            raise self.unavailable_error(exc) from exc
        finally:
            self._local.open = False

    def unavailable_error(self, exc: OperationalError) -> DatabaseError:
        url = self.engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return DatabaseError(f"cannot use the database at {url}: {reason}")

    def dispose(self) -> None:
        self.engine.dispose()
