"""Durable click logging by group commit.

Requests hand their click to one writer thread and wait. Clicks arriving in the same turn of
the event loop travel to the writer together; the writer takes everything queued, inserts it
in one transaction and commits (one fsync for the whole group), then wakes the waiting
requests with one call per event loop. Each redirect is answered only after its click is on
disk, and a commit's cost is shared by every click that arrived while the last one was written.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from crosspromo.errors import DatabaseError
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository

log = logging.getLogger("crosspromo.tracking")


@dataclass(slots=True)
class _Group:
    """Clicks of one event-loop turn, and the futures their requests wait on."""

    loop: asyncio.AbstractEventLoop
    rows: list[dict[str, Any]] = field(default_factory=list)
    futures: list[asyncio.Future[None]] = field(default_factory=list)


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # the client went away; the click is stored all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


class ClickWriter:
    """One writer thread per process, fed by a queue of groups."""

    def __init__(self, db: Database, max_batch: int = 2000) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Group | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._open: _Group | None = None
        self.batches = 0
        self.written = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    async def record(self, row: dict[str, Any]) -> None:
        """Return once ``row`` is committed; raise DatabaseError if it could not be."""
        if self._thread is None:
            raise DatabaseError("the click writer is not running")
        group = self._open
        if group is None:
            group = self._open = _Group(asyncio.get_running_loop())
            group.loop.call_soon(self._hand_over)
        done: asyncio.Future[None] = group.loop.create_future()
        group.rows.append(row)
        group.futures.append(done)
        await asyncio.shield(done)

    def _hand_over(self) -> None:
        group, self._open = self._open, None
        if group is not None:
            self._queue.put(group)

    def _run(self) -> None:
        running = True
        while running:
            first = self._queue.get()
            if first is None:
                break
            groups = [first]
            size = len(first.rows)
            while size < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    running = False
                    break
                groups.append(item)
                size += len(item.rows)
            self._write(groups)

    def _write(self, groups: list[_Group]) -> None:
        rows = [row for group in groups for row in group.rows]
        try:
            with self.db.transaction() as session:
                ClickRepository(session).add_many(rows)
        except Exception as exc:
            if len(rows) > 1:  # isolate the bad row: the others still get written
                for group in groups:
                    for row, future in zip(group.rows, group.futures, strict=True):
                        self._write([_Group(group.loop, [row], [future])])
                return
            log.error("click not stored: %s", exc)
            error = DatabaseError(f"the click could not be stored: {str(exc).splitlines()[0]}")
            groups[0].loop.call_soon_threadsafe(_settle, groups[0].futures, error)
            return
        self.batches += 1
        self.written += len(rows)
        futures: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for group in groups:
            futures.setdefault(group.loop, []).extend(group.futures)
        for loop, waiting in futures.items():  # one wake-up per event loop, not per click
            loop.call_soon_threadsafe(_settle, waiting, None)
