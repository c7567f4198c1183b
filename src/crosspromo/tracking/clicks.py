"""Durable click logging by group commit.

Requests hand their click to one writer thread and wait. The writer takes everything queued,
inserts it in one transaction and commits (one fsync for the whole group), then releases the
waiting requests: each redirect is answered only after its click is on disk, and the cost of a
commit is shared by all clicks that arrived while the previous one was being written.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from crosspromo.errors import DatabaseError
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository

log = logging.getLogger("crosspromo.tracking")


@dataclass(slots=True)
class _Pending:
    row: dict[str, Any]
    done: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the client went away; the click is stored all the same
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class ClickWriter:
    """One writer thread per process, fed by a queue."""

    def __init__(self, db: Database, max_batch: int = 2000) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
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
        if self._thread is None or not self._thread.is_alive():
            raise DatabaseError("the click writer is not running")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Pending(row, done, loop))
        await asyncio.shield(done)

    def _run(self) -> None:
        running = True
        while running:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    running = False
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self.db.transaction() as session:
                ClickRepository(session).add_many([p.row for p in batch])
        except Exception as exc:
            if len(batch) > 1:  # isolate the bad row: the others still get written
                for pending in batch:
                    self._write([pending])
                return
            log.error("click not stored: %s", exc)
            error = DatabaseError(f"the click could not be stored: {str(exc).splitlines()[0]}")
            batch[0].loop.call_soon_threadsafe(_settle, batch[0].done, error)
            return
        self.batches += 1
        self.written += len(batch)
        for pending in batch:
            pending.loop.call_soon_threadsafe(_settle, pending.done, None)
