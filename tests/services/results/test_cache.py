"""The result cache behind the heavy dashboard pages: computed once per data version, the
kept result shown (marked stale) while a newer one is computed, one computation for many
askers, and progress instead of a wait when the asker chooses so."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from crosspromo.errors import DatabaseError, NotFoundError
from crosspromo.services.results.cache import Computing, ResultCache, progress_after, progress_wait


class Counted:
    """A computation that counts its runs and, when ``gate`` is given, waits for it."""

    def __init__(self, value: object = "result", gate: threading.Event | None = None) -> None:
        self.value = value
        self.gate = gate
        self.runs = 0

    def __call__(self) -> object:
        self.runs += 1
        if self.gate is not None:
            assert self.gate.wait(30)
        return self.value


def test_kept_while_the_data_version_holds() -> None:
    cache, compute = ResultCache(), Counted()
    first = cache.latest((1, "ranking"), (5,), compute)
    again = cache.latest((1, "ranking"), (5,), compute)
    assert (first.value, again.value, compute.runs) == ("result", "result", 1)
    assert not again.stale
    assert again.computed_at == first.computed_at


def test_new_data_shows_the_kept_result_as_stale_while_the_new_one_is_computed() -> None:
    cache = ResultCache()
    cache.latest((1, "sources"), (5,), Counted("old"))
    gate = threading.Event()
    newer = Counted("new", gate)
    shown = cache.latest((1, "sources"), (6,), newer)
    assert (shown.value, shown.stale) == ("old", True)
    assert cache.latest((1, "sources"), (6,), newer).value == "old"  # still computing: once
    gate.set()
    deadline = time.monotonic() + 30
    while (found := cache.latest((1, "sources"), (6,), newer)).stale:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert (found.value, newer.runs) == ("new", 1)


def test_many_first_askers_share_one_computation() -> None:
    cache, gate = ResultCache(), threading.Event()
    compute = Counted("once", gate)
    with ThreadPoolExecutor(8) as pool:
        asked = [pool.submit(cache.latest, (2, "kpis"), (1,), compute) for _ in range(8)]
        time.sleep(0.05)
        gate.set()
        answers = [a.result(timeout=30).value for a in asked]
    assert answers == ["once"] * 8
    assert compute.runs == 1


def test_an_asker_that_will_not_wait_gets_the_progress() -> None:
    cache, gate = ResultCache(), threading.Event()
    compute = Counted("ranked", gate)
    with pytest.raises(Computing) as first:
        cache.latest((3, "ranking"), (1,), compute, what="the ranking", wait=0)
    assert (first.value.what, first.value.expected_seconds) == ("the ranking", None)
    time.sleep(0.2)
    with pytest.raises(Computing) as later:  # the same computation, not a second one
        cache.latest((3, "ranking"), (1,), compute, what="the ranking", wait=0.05)
    assert later.value.started_at == first.value.started_at
    assert later.value.elapsed_seconds >= 0.2
    gate.set()
    assert cache.latest((3, "ranking"), (1,), compute, wait=30).value == "ranked"
    assert compute.runs == 1
    # the next first computation of the same kind says how long the last one took
    other = Counted("ranked again", threading.Event())
    with pytest.raises(Computing) as next_kind:
        cache.latest((3, "ranking", "other"), (1,), other, what="the ranking", wait=0)
    assert next_kind.value.expected_seconds is not None
    assert next_kind.value.expected_seconds >= 0.2
    assert other.gate is not None
    other.gate.set()


def test_a_refusal_is_raised_and_kept_for_its_data_version() -> None:
    """A computation the data refuse is refused again for the same data without running
    again, and computed anew when the data change; a database failure is tried again."""
    cache, runs = ResultCache(), []

    def fail() -> object:
        runs.append(1)
        raise NotFoundError("no customers yet")

    for _ in range(2):
        with pytest.raises(NotFoundError, match="no customers yet"):
            cache.latest((4, "sources"), (1,), fail)
    assert len(runs) == 1
    assert cache.latest((4, "sources"), (2,), Counted("fitted")).value == "fitted"

    def down() -> object:
        runs.append(1)
        raise DatabaseError("database unavailable")

    for _ in range(2):
        with pytest.raises(DatabaseError):
            cache.latest((4, "other"), (1,), down)
    assert len(runs) == 3


def test_an_asker_that_will_not_wait_gets_the_refusal_once_it_is_known() -> None:
    """A page that shows progress rather than wait (a dashboard page on a new server) gets the
    refusal once the computation has failed: not progress again, with the computation started
    anew on every reload (a new organization's partnership page looped so for ever)."""
    cache, gate, runs = ResultCache(), threading.Event(), []

    def slow_refusal() -> object:
        runs.append(1)
        assert gate.wait(30)
        raise NotFoundError("no purchases to fit")

    with pytest.raises(Computing):
        cache.latest((5, "kpis"), (1,), slow_refusal, wait=0)
    gate.set()
    deadline = time.monotonic() + 30
    while True:
        try:
            cache.latest((5, "kpis"), (1,), slow_refusal, wait=0)
        except NotFoundError:
            break
        except Computing:
            assert time.monotonic() < deadline, "still computing"
            time.sleep(0.01)
    assert len(runs) == 1


def test_one_page_waits_once_for_all_its_results() -> None:
    """A page needing two results computed for the first time waits for both together no
    longer than the budget: what the first took is not waited again for the second."""
    cache = ResultCache()

    def slow() -> object:
        time.sleep(0.3)
        return "kpis"

    gated = Counted("attribution", threading.Event())
    began = time.monotonic()
    with progress_after(0.5):
        assert cache.latest((5, "kpis"), (1,), slow, wait=progress_wait()).value == "kpis"
        with pytest.raises(Computing):
            cache.latest((5, "attribution"), (1,), gated, wait=progress_wait())
    assert time.monotonic() - began < 0.5 + 0.15
    assert progress_wait() is None  # outside a page view: no limit
    assert gated.gate is not None
    gated.gate.set()
