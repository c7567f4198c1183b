"""The click journal: each server process appends its clicks to a file of its own and syncs it
to disk before their redirects are answered; the click mover (``tracking.mover``, a process of
its own) moves them into the store.

A group of clicks costs one ``write`` and one ``fdatasync`` of a few kilobytes (0.3 ms here),
where committing them to SQLite rewrites a page of every index they touch (3.6 ms for 32): the
redirect's acknowledgement waits only for the journal, and the store's work leaves the server's
process, its GIL and its event loop.

A journal is ``clicks-<process>-<random>.log`` in the journal folder, one JSON array per line
(``COLUMNS``, the time in ISO 8601). Its process holds an exclusive ``flock`` on it while it
lives: the kernel drops the lock however the process ends, so the mover knows a journal no one
writes any more. A line is whole once it ends in a newline; a line cut short by a killed
process was never acknowledged, and is left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
import select
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from crosspromo.errors import DatabaseError
from crosspromo.tracking.batches import settle

log = logging.getLogger("crosspromo.tracking")
COLUMNS = (
    "link_id",
    "org_id",
    "partner_org_id",
    "click_id",
    "clicked_at",
    "visitor_hash",
    "visit_key",
    "referer",
    "is_bot",
)
SUFFIX = ".log"
ROTATE_BYTES = 64 << 20  # a journal this long is closed, and the next clicks go to a new one
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def encode(row: dict[str, Any]) -> bytes:
    """One journal line for a click ``row``."""
    values = [row[name] for name in COLUMNS]
    values[4] = values[4].isoformat()
    return _encode(values).encode("ascii") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """The click row of a journal line (without its newline)."""
    values = json.loads(line)
    if not isinstance(values, list) or len(values) != len(COLUMNS):
        raise ValueError(f"not a click: {line[:80]!r}")
    row = dict(zip(COLUMNS, values, strict=True))
    row["clicked_at"] = datetime.fromisoformat(row["clicked_at"])
    return row


def stdin_closed(fd: int) -> Callable[[], bool]:
    """Whether ``fd`` (a helper's standard input, a pipe from ``crosspromo serve``) has ended:
    serve closed it to stop the helper, or is gone."""

    def closed() -> bool:
        readable, _, _ = select.select([fd], [], [], 0)
        return bool(readable) and not os.read(fd, 4096)

    return closed


class JournalWriter:
    """The process's click writer when a click mover runs. The clicks of a turn of the event
    loop are appended to this process's journal and synced at the end of that turn, on the
    loop's own thread. Measured on the redirect (one worker, ``wrk -c32``): this way 5,500
    redirects/s; a writer thread to sync in, 4,700 (the GIL passed back and forth for every
    group); a scribe process syncing for every worker, acknowledging over a socket, 3,800 to
    4,100 (a sync here takes 1-2 ms under load, by strace, whoever makes it, and the hops
    between processes add to it). A journal past ``ROTATE_BYTES`` is closed and the next
    clicks go to a new one, so the mover can delete what it has moved."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._fd = -1
        self._size = 0
        self._started = False
        self._lines: list[bytes] = []
        self._futures: list[asyncio.Future[None]] = []
        self.batches = 0
        self.written = 0

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        if not self._started:
            self._create()
            self._started = True

    def stop(self) -> None:
        """Close the journal (the lock goes with it: the mover may finish it)."""
        if self._lines:
            self._sync()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._started = False

    def enqueue(self, row: dict[str, Any]) -> asyncio.Future[None]:
        """Journal ``row`` at the end of this turn of the loop: the future is done once it is
        on disk (or holds the error)."""
        if not self._started:
            raise DatabaseError("the click journal is not open")
        loop = asyncio.get_running_loop()
        if not self._lines:
            loop.call_soon(self._sync)
        self._lines.append(encode(row))
        done = loop.create_future()
        self._futures.append(done)
        return done

    async def submit(self, row: dict[str, Any]) -> None:
        await asyncio.shield(self.enqueue(row))

    def _create(self) -> None:
        """A new journal, locked before the mover can see it: made under a name the mover
        ignores, locked, then renamed (else the mover could find it unlocked and empty, and
        delete it before its first click)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"clicks-{os.getpid()}-{secrets.token_hex(6)}"
        making = self.folder / f".{name}.new"
        fd = os.open(making, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.path = self.folder / f"{name}{SUFFIX}"
            making.rename(self.path)
            folder = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(folder)  # the journal's name is on disk before any click in it
            finally:
                os.close(folder)
        except OSError:
            os.close(fd)
            raise
        self._fd, self._size = fd, 0

    def _sync(self) -> None:
        lines, futures = b"".join(self._lines), self._futures
        self._lines, self._futures = [], []
        error = self._append(lines)
        settle(futures, [error] * len(futures))  # None: journalled
        if error is None:
            self.batches += 1
            self.written += len(futures)

    def _append(self, lines: bytes) -> DatabaseError | None:
        data = memoryview(lines)
        try:
            if self._fd < 0:  # the last one was long enough
                self._create()
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
            os.fdatasync(self._fd)
        except OSError as exc:
            log.error("clicks not journalled: %s", exc)
            with contextlib.suppress(OSError):  # no part of a line before the next group's
                os.ftruncate(self._fd, self._size)
            return DatabaseError(f"the click could not be stored: {exc.strerror}")
        self._size += len(lines)
        if self._size >= ROTATE_BYTES:  # the mover finishes it; the next clicks go to a new one
            os.close(self._fd)
            self._fd, self._size = -1, 0
        return None
