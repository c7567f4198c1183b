"""Group commit: requests of the event loop hand their work to one writer thread and wait.

Work arriving in the same turn of the event loop travels to the writer together; the writer
takes everything queued (up to ``max_batch``), does it in one call (one transaction, one
commit: one fsync for the whole group), then wakes the waiting requests with one call per
event loop. Each request is answered only after its work is committed, and a commit's cost is
shared by every request that arrived while the last one was written. The clicks of the
redirect and the conversions of the API are written this way.

The handler gets the items of a group and returns one outcome per item, in order: a result,
or an exception to raise in that item's request alone. If the handler itself raises, every
item of the group gets that error.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from crosspromo.errors import DatabaseError

log = logging.getLogger("crosspromo.tracking")
Item = TypeVar("Item")
Result = TypeVar("Result")
Outcome: TypeAlias = Result | BaseException
Handler: TypeAlias = Callable[[Sequence[Item]], Sequence[Outcome[Result]]]
# what waits for an item's outcome: a future, or a callback told only its error (None: done)
Waiter: TypeAlias = asyncio.Future[Result] | Callable[[BaseException | None], None]


@dataclass(slots=True)
class _Group(Generic[Item, Result]):
    """The items of one event-loop turn, and what their requests wait on."""

    loop: asyncio.AbstractEventLoop
    items: list[Item] = field(default_factory=list)
    waiters: list[Waiter[Result]] = field(default_factory=list)


_Waiting: TypeAlias = tuple[list[Waiter[Result]], list[Outcome[Result]]]


def settle(waiters: Sequence[Waiter[Result]], outcomes: Sequence[Outcome[Result]]) -> None:
    """Give each waiting request its outcome (from the loop's thread). A callback that raises
    is logged; the others are told all the same."""
    for waiter, outcome in zip(waiters, outcomes, strict=True):
        if not isinstance(waiter, asyncio.Future):
            try:
                waiter(outcome if isinstance(outcome, BaseException) else None)
            except Exception:  # one answer's failure is not the others'
                log.exception("a waiting request's callback failed")
        elif waiter.done():  # the client went away; its work is done all the same
            continue
        elif isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


class GroupWriter(Generic[Item, Result]):
    """One writer thread, fed by a queue of groups, calling ``handler`` once a batch."""

    def __init__(
        self,
        handler: Handler[Item, Result],
        *,
        name: str,
        max_batch: int = 2000,
        threads: int = 1,
        around: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.handler = handler
        self.name = name
        self.max_batch = max_batch
        self.threads = threads
        self.around = around  # what each writer thread runs within (a held connection)
        self._queue: queue.SimpleQueue[_Group[Item, Result] | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._open: _Group[Item, Result] | None = None
        self.batches = 0
        self.written = 0

    @property
    def running(self) -> bool:
        return bool(self._workers)

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                threading.Thread(target=self._run, name=self.name, daemon=True)
                for _ in range(self.threads)
            ]
            for worker in self._workers:
                worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop."""
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout)
        self._workers = []

    async def submit(self, item: Item) -> Result:
        """The outcome of ``item`` once its batch is committed (or its error, raised)."""
        return await asyncio.shield(self.enqueue(item))

    def enqueue(self, item: Item) -> asyncio.Future[Result]:
        """Queue ``item`` (from the event loop's thread): the future is done once its batch
        is committed, with its outcome."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._add(item, done)
        return done

    def then(self, item: Item, done: Callable[[BaseException | None], None]) -> None:
        """Queue ``item`` (from the event loop's thread), then call ``done`` on that thread
        once its batch is committed: with None, or with its error. For callers that answer
        from a callback."""
        self._add(item, done)

    def _add(self, item: Item, waiter: Waiter[Result]) -> None:
        if not self._workers:
            raise DatabaseError(f"the {self.name} is not running")
        group = self._open
        if group is None:
            group = self._open = _Group(asyncio.get_running_loop())
            group.loop.call_soon(self._hand_over)
        group.items.append(item)
        group.waiters.append(waiter)

    def _hand_over(self) -> None:
        group, self._open = self._open, None
        if group is not None:
            self._queue.put(group)

    def _run(self) -> None:
        with self.around():
            self._serve()

    def _serve(self) -> None:
        running = True
        while running:
            first = self._queue.get()
            if first is None:
                break
            groups = [first]
            size = len(first.items)
            while size < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    running = False
                    break
                groups.append(more)
                size += len(more.items)
            self._write(groups)

    def _write(self, groups: list[_Group[Item, Result]]) -> None:
        items = [item for group in groups for item in group.items]
        try:
            outcomes: Sequence[Outcome[Result]] = self.handler(items)
        except Exception as exc:  # the handler could not even isolate the failure
            log.error("%s: batch of %d not written: %s", self.name, len(items), exc)
            outcomes = [exc] * len(items)
        else:
            self.batches += 1
            self.written += sum(not isinstance(o, BaseException) for o in outcomes)
        start = 0
        settled: dict[asyncio.AbstractEventLoop, _Waiting[Result]] = {}
        for group in groups:
            waiters, results = settled.setdefault(group.loop, ([], []))
            waiters.extend(group.waiters)
            results.extend(outcomes[start : start + len(group.items)])
            start += len(group.items)
        for loop, (waiters, results) in settled.items():  # one wake-up per loop, not per item
            loop.call_soon_threadsafe(settle, waiters, results)
