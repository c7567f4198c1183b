"""Durable click logging by group commit (``tracking.batches``): each redirect is answered
only after its click is committed, and the clicks arriving together share one commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from crosspromo.errors import DatabaseError
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository
from crosspromo.tracking.batches import GroupWriter, Outcome
from crosspromo.tracking.journal import decode

log = logging.getLogger("crosspromo.tracking")


class ClickWriter(GroupWriter[dict[str, Any], None]):
    """The process's click writer thread, storing clicks itself (where no click mover runs:
    ``tracking.journal``)."""

    def __init__(self, db: Database, max_batch: int = 2000) -> None:
        super().__init__(self._store, name="click writer", max_batch=max_batch, around=db.holding)
        self.db = db

    def _store(self, rows: Sequence[dict[str, Any]]) -> list[Outcome[None]]:
        try:
            with self.db.transaction() as session:
                ClickRepository(session).add_many(rows)
        except Exception as exc:
            if len(rows) > 1:  # isolate the bad row: the others still get written
                return [outcome for row in rows for outcome in self._store([row])]
            log.error("click not stored: %s", exc)
            return [DatabaseError(f"the click could not be stored: {str(exc).splitlines()[0]}")]
        return [None] * len(rows)

    def then_line(self, line: bytes, done: Callable[[BaseException | None], None]) -> None:
        """``then`` for a click given as its journal line (``journal.encode``)."""
        self.then(decode(line.rstrip(b"\n")), done)


class ClickSink(Protocol):
    """Where the redirect hands its clicks: ``ClickWriter`` or ``journal.JournalWriter``."""

    @property
    def running(self) -> bool: ...

    def enqueue(self, row: dict[str, Any]) -> asyncio.Future[None]: ...

    def then_line(self, line: bytes, done: Callable[[BaseException | None], None]) -> None:
        """Store the click of the journal line ``line`` (``journal.encode``), then call
        ``done`` on the loop's thread: None once it is stored (a redirect may be answered),
        else the error."""

    async def submit(self, row: dict[str, Any]) -> None: ...
