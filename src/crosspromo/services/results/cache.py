"""Heavy results (the partner ranking, customer value and churn, attribution) computed once per
data change, not once per page view.

Each result is kept with the *data version* it was computed from: the newest id or update time
of every table the analyses read. A page asks for the latest result of a key:

- the version is unchanged: the kept result, at once;
- the data changed and a result is kept: the kept one, marked ``stale`` with the time it was
  computed, while one background thread per key computes the new one (the page says so and
  offers a reload);
- nothing is kept yet: computed now (concurrent askers of the same key wait for one
  computation rather than each doing it). A computation these data refuse (no customers yet)
  is kept as a refusal for their version, like a result. A page view that may show progress instead
  (``progress_after``: a dashboard page's GET) waits only that long, then gets ``Computing``:
  what is being computed, since when, and how long the last computation of its kind took, so
  the page can show progress and come back.

The cache lives in the process's ``Database`` (one per process), so it holds nothing another
process could see; every key starts with the organization it was computed for.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select

from crosspromo.errors import CrossPromoError, DatabaseError
from crosspromo.store import tables as t
from crosspromo.store.database import Database

T = TypeVar("T")
MAX_KEPT = 256  # results kept per process; the least recently used go first
_LOG = logging.getLogger("crosspromo.results")
_WORKER = "crosspromo-results"

# Appended tables: their newest id changes with every new row.
_APPENDED = (
    t.clicks, t.conversions, t.touchpoints, t.exposures, t.customers, t.mentions, t.events,
    t.organizations, t.links, t.experiments, t.overlap_sessions,
)  # fmt: skip
# Updated tables: their newest update time changes with every change.
_UPDATED = (t.partnerships, t.profiles, t.scoring, t.overlap_sharing)


def data_version(db: Database) -> tuple[Any, ...]:
    """The newest id of every appended table and the newest update of every updated one: two
    equal versions mean the analyses would read the same rows (one indexed lookup a table)."""
    columns = [select(func.max(table.c.id)).scalar_subquery() for table in _APPENDED]
    columns += [select(func.max(table.c.updated_at)).scalar_subquery() for table in _UPDATED]
    with db.reading() as session:
        row = session.execute(select(*columns)).one()
    return tuple(row)


_PROGRESS_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "crosspromo_progress_deadline", default=None
)


@contextmanager
def progress_after(seconds: float | None) -> Iterator[None]:
    """Within the block, first computations are waited for until ``seconds`` from now (all of
    them together: a page that needs two results waits no longer than one that needs one),
    then ``Computing`` is raised; None: waited for to the end, as the API and the CLI do."""
    token = _PROGRESS_DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _PROGRESS_DEADLINE.reset(token)


def progress_wait() -> float | None:
    """Seconds left to wait for a first computation in this request (None: no limit)."""
    deadline = _PROGRESS_DEADLINE.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class Computing(Exception):  # a state the page shows, not a failure
    """A result is being computed for the first time and the asker chose not to wait for it:
    ``what`` is computed, since ``started_at``, and the last computation of its kind took
    ``expected_seconds`` (None when there was none)."""

    def __init__(self, what: str, started_at: datetime, expected_seconds: float | None) -> None:
        super().__init__(f"computing {what}")
        self.what = what
        self.started_at = started_at
        self.expected_seconds = expected_seconds

    @property
    def elapsed_seconds(self) -> float:
        return max(0.0, (datetime.now(UTC) - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Latest(Generic[T]):
    """A result and when it was computed; ``stale`` while a newer one is being computed."""

    value: T
    computed_at: datetime
    stale: bool


@dataclass(slots=True)
class _Entry:
    version: tuple[Any, ...]
    value: Any
    computed_at: datetime
    error: CrossPromoError | None = None  # what the computation refused (kept like a result)


class ResultCache:
    """Results by key with the data version they were computed from (see the module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._running: dict[Hashable, tuple[Future[_Entry], datetime]] = {}
        self._took: dict[Hashable, float] = {}  # seconds the last computation of a kind took
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=_WORKER)

    def latest(
        self,
        key: tuple[Hashable, ...],
        version: tuple[Any, ...],
        compute: Callable[[], T],
        *,
        what: str = "the results",
        wait: float | None = None,
    ) -> Latest[T]:
        """See the module; ``wait``: seconds to wait for a first computation before raising
        ``Computing`` (None: to the end)."""
        if threading.current_thread().name.startswith(_WORKER):
            # asked from inside another result's computation: computed here, so a full pool
            # never waits on itself
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                return _answer(entry)
            done = _Entry(version, compute(), datetime.now(UTC))
            self._store(key, done)
            return Latest(done.value, done.computed_at, stale=False)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                if entry.version == version:
                    return _answer(entry)
                if entry.error is not None:  # nothing to show meanwhile
                    entry = None
            running = self._running.get(key)
            if running is None:
                future = self._pool.submit(self._compute, key, version, compute)
                running = self._running.setdefault(key, (future, datetime.now(UTC)))
            expected = self._took.get(key[:2])
        if entry is not None:
            return Latest(entry.value, entry.computed_at, stale=True)
        future, started_at = running
        try:
            done = future.result(timeout=wait)  # the first computation of this key
        except WaitedTooLong:
            raise Computing(what, started_at, expected) from None
        return Latest(done.value, done.computed_at, stale=False)

    def _compute(
        self, key: tuple[Hashable, ...], version: tuple[Any, ...], compute: Callable[[], T]
    ) -> _Entry:
        began = time.monotonic()
        try:
            entry = _Entry(version, compute(), datetime.now(UTC))
            with self._lock:
                self._took[key[:2]] = time.monotonic() - began
            self._store(key, entry)  # kept before the key stops running: no second start
            return entry
        except CrossPromoError as refused:  # the page shows it, as it would without the cache;
            # a refusal of these data is kept for their version, so an asker who would not
            # wait gets it next time rather than a computation started again (and again, for
            # ever); a database failure may pass, so it is tried again
            if not isinstance(refused, DatabaseError):
                self._store(key, _Entry(version, None, datetime.now(UTC), refused))
            raise
        except Exception:
            _LOG.exception("computing %r failed", key)
            raise
        finally:
            with self._lock:
                self._running.pop(key, None)

    def _store(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_KEPT:
                self._entries.popitem(last=False)


def _answer(entry: _Entry) -> Latest[Any]:
    if entry.error is not None:
        raise entry.error
    return Latest(entry.value, entry.computed_at, stale=False)


_CACHE = "results"


def latest(
    db: Database, key: tuple[Hashable, ...], compute: Callable[[], T], what: str
) -> Latest[T]:
    """The latest result of ``compute`` for ``key`` (the organization's id, then the kind of
    result) at the database's current data version; see the module for when it is computed.
    ``what``: the result in words, for a page showing its progress."""
    cache = db.memo.get(_CACHE)
    if not isinstance(cache, ResultCache):
        cache = db.memo.setdefault(_CACHE, ResultCache())
    assert isinstance(cache, ResultCache)
    return cache.latest(key, data_version(db), compute, what=what, wait=progress_wait())
