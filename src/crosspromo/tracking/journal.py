"""The click journal: each server process appends its clicks to a file of its own and syncs it
to disk before their redirects are answered; the click mover (``tracking.mover``, a process of
its own) moves them into the store.

A group of clicks costs one ``write`` and one ``fdatasync`` of a few kilobytes, where
committing them to SQLite rewrites a page of every index they touch (3.6 ms for 32): the
redirect's acknowledgement waits only for the journal, and the store's work leaves the server's
process, its GIL and its event loop.

A journal is ``clicks-<process>-<random>.log`` in the journal folder, one JSON array per line
(``COLUMNS``, the time in ISO 8601). It is made ``JOURNAL_BYTES`` long and filled with zeros
(synced) before its first click, as a database makes its write-ahead log: a click then
overwrites blocks already on disk, so its ``fdatasync`` writes the data alone, where an append
must also commit the file's new size to the file system's journal (measured here: 0.10 ms
against 0.19-0.26 ms at the median, and a quarter of the worst cases). The next journal is made
ready by a thread meanwhile. Its process holds an exclusive ``flock`` on each journal while it
lives: the kernel drops the lock however the process ends, so the mover knows a journal no one
writes any more. A line is whole once it ends in a newline before the first zero byte; a line
cut short by a killed process was never acknowledged, and is left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import json
import logging
import os
import secrets
import select
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from crosspromo.errors import DatabaseError
from crosspromo.tracking.batches import Waiter, settle
from crosspromo.tracking.uring import Ring

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
JOURNAL_BYTES = 32 << 20  # a journal's length: the clicks that do not fit go to the next one
_ZEROS = bytes(1 << 20)
_string = json.encoder.encode_basestring_ascii  # JSON's own, in C
_WIDTH, _TIME, _BOT = len(COLUMNS), COLUMNS.index("clicked_at"), COLUMNS.index("is_bot")


def encode(row: dict[str, Any]) -> bytes:
    """One journal line for a click ``row``: the JSON array of its ``COLUMNS`` (what
    ``json.dumps(..., separators=(",", ":"))`` writes), the time with its microseconds
    always, formatted directly, at a third of the encoder's cost on the redirect's path."""
    referer, bot = row["referer"], row["is_bot"]  # bot: a bool
    return (
        f"[{row['link_id']:d},{row['org_id']:d},{row['partner_org_id']:d},"
        f'{_string(row["click_id"])},"{row["clicked_at"].isoformat(timespec="microseconds")}",'
        f"{_string(row['visitor_hash'])},{_string(row['visit_key'])},"
        f"{'null' if referer is None else _string(referer)},"
        f"{'true' if bot else 'false'}]\n"
    ).encode("ascii")


def decode(line: bytes) -> dict[str, Any]:
    """The click row of a journal line (without its newline)."""
    return _row(decode_values(line + b"\n")[0])


def decode_values(lines: bytes) -> list[list[Any]]:
    """The clicks of whole journal ``lines`` as they are written: a list of ``COLUMNS``
    values each, the time as ISO 8601 text (``ClickRepository.add_values`` takes them so).
    The lines are parsed as one JSON document: one call of the parser for them all, a third
    of the cost of a call a line for the mover. ValueError if any line is not a click of the
    journal's shape (``decode`` a line at a time then tells which)."""
    count = lines.count(b"\n")
    values: list[list[Any]] = json.loads(b"[" + lines.rstrip(b"\n").replace(b"\n", b",") + b"]")
    if len(values) != count:  # a line that was not one array
        raise ValueError("not one click a line")
    for value in values:
        if (
            type(value) is not list
            or len(value) != _WIDTH
            or type(value[_TIME]) is not str
            or type(value[_BOT]) is not bool
        ):
            raise ValueError(f"not a click: {json.dumps(value)[:80]}")
    return values


def _row(values: list[Any]) -> dict[str, Any]:
    row = dict(zip(COLUMNS, values, strict=True))
    row["clicked_at"] = datetime.fromisoformat(row["clicked_at"])
    return row


def whole_lines(data: bytes) -> int:
    """How much of ``data`` (a journal read from a position) is whole lines: up to the last
    newline before the first zero byte (the part of the journal not yet written)."""
    end = data.find(0)
    return data.rfind(b"\n", 0, len(data) if end < 0 else end) + 1


def stdin_closed(fd: int) -> Callable[[], bool]:
    """Whether ``fd`` (a helper's standard input, a pipe from ``crosspromo serve``) has ended:
    serve closed it to stop the helper, or is gone."""

    def closed() -> bool:
        readable, _, _ = select.select([fd], [], [], 0)
        return bool(readable) and not os.read(fd, 4096)

    return closed


class JournalWriter:
    """The process's click writer when a click mover runs. The clicks of a turn of the event
    loop are written to this process's journal at the end of that turn and synced, their futures
    done (callbacks called) once the sync is: through an io_uring (``tracking.uring``) while the
    loop goes on, where the kernel allows one (``ring``), else on the loop's own thread.
    Measured on the redirect (one worker, SQLite, ``wrk -c32``, interleaved runs): on the loop's
    thread 11,600-11,700 redirects/s, a Python writer thread to sync in 10,700 (its end waits
    for the interpreter's lock, which the busy loop holds), no sync at all 15,400; on an earlier
    machine a scribe process syncing for every worker, acknowledging over a socket, was slower
    than either. Groups are written in order, and each group's sync covers it and all before it;
    several may be in flight at once. A group that does not fit in the journal goes to the next
    one, made ready meanwhile; the full one is closed once its syncs are done, so the mover can
    delete it once moved."""

    def __init__(self, folder: Path, *, ring: bool = True) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._fd = -1
        self._size = 0
        self._started = False
        self._lines: list[bytes] = []
        self._waiting: list[Waiter[None]] = []  # of the lines not yet written
        self._next: _Ready | None = None
        self._use_ring = ring
        self._ring: Ring | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._syncing: dict[int, tuple[list[Waiter[None]], int]] = {}  # token: whose, fd
        self._tokens = itertools.count(1)
        self._full: set[int] = set()  # journals closed for new clicks, their syncs in flight
        self.batches = 0
        self.written = 0

    @property
    def running(self) -> bool:
        return self._started

    @property
    def ring(self) -> bool:
        """Whether syncs go through an io_uring (False: on the loop's thread)."""
        return self._ring is not None

    def start(self) -> None:
        if self._started:
            return
        self._fd, self.path = _made(self.folder)
        self._size = 0
        self._next = _Ready(self.folder)
        if self._use_ring:
            try:
                self._ring = Ring()
            except OSError as exc:
                log.warning("clicks synced on the event loop's thread (no io_uring: %s)", exc)
        self._started = True

    def stop(self) -> None:
        """Sync what is written, close the journals (their locks go with them: the mover may
        finish them)."""
        if self._lines:
            self._sync()
        if self._ring is not None:
            self._completed(self._ring.wait())
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._ring.eventfd)
            self._ring.close()
            self._ring, self._loop = None, None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._next is not None:
            with contextlib.suppress(OSError):
                os.close(self._next.wait()[0])
            self._next = None
        self._started = False

    def enqueue(self, row: dict[str, Any]) -> asyncio.Future[None]:
        """Journal ``row`` at the end of this turn of the loop: the future is done once it is
        on disk (or holds the error)."""
        done = asyncio.get_running_loop().create_future()
        self._add(row, done)
        return done

    def then_line(self, line: bytes, done: Callable[[BaseException | None], None]) -> None:
        """Journal the click ``line`` (as ``encode`` makes it) at the end of this turn of the
        loop, then call ``done`` on the loop's thread: with None once it is on disk, or with
        the error. No future is made (the redirect's direct path: a future, its callback and
        the turn of the loop that runs it cost 1.5 us a redirect)."""
        self._add(line, done)

    def _add(self, click: dict[str, Any] | bytes, waiter: Waiter[None]) -> None:
        """Add ``click`` (a row, or its line) to this turn's group."""
        if not self._started:
            raise DatabaseError("the click journal is not open")
        line = click if isinstance(click, bytes) else encode(click)
        if not self._lines:
            asyncio.get_running_loop().call_soon(self._sync)
        self._lines.append(line)
        self._waiting.append(waiter)

    async def submit(self, row: dict[str, Any]) -> None:
        await asyncio.shield(self.enqueue(row))

    def _sync(self) -> None:
        if not self._lines:  # synced already, by ``stop`` in the turn they came: nothing to do
            return  # (going on would make a new journal for nothing, locked until exit)
        lines, waiting = b"".join(self._lines), self._waiting
        self._lines, self._waiting = [], []
        error = self._write(lines)
        if error is None and self._ring is not None:
            try:
                self._watch(asyncio.get_running_loop())
                token = next(self._tokens)
                self._ring.submit(self._fd, token)
            except (OSError, RuntimeError) as exc:  # full, or no loop (stop): synced here
                log.debug("click sync not submitted (%s): synced at once", exc)
            else:
                self._syncing[token] = (waiting, self._fd)
                return
        if error is None:
            error = self._fdatasync()
        self._done(waiting, error)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hear the ring's completions on ``loop`` (the loop of the clicks being synced)."""
        if loop is not self._loop:
            assert self._ring is not None
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._ring.eventfd)
            loop.add_reader(self._ring.eventfd, self._reap)
            self._loop = loop

    def _reap(self) -> None:
        if self._ring is not None:
            self._completed(self._ring.reap())

    def _completed(self, syncs: list[tuple[int, int]]) -> None:
        for token, result in syncs:
            waiting, fd = self._syncing.pop(token)
            failed = OSError(-result, os.strerror(-result)) if result < 0 else None
            self._done(waiting, None if failed is None else self._failed(failed, 0))
            if fd in self._full and not self._syncs_on(fd):
                self._full.discard(fd)
                os.close(fd)  # its last sync done: the mover may finish it

    def _done(self, waiting: list[Waiter[None]], error: DatabaseError | None) -> None:
        settle(waiting, [error] * len(waiting))  # None: journalled
        if error is None:
            self.batches += 1
            self.written += len(waiting)

    def _write(self, lines: bytes) -> DatabaseError | None:
        """``lines`` written after the lines before (to the next journal if they do not fit);
        not yet synced."""
        try:
            if self._fd < 0 or (self._size and self._size + len(lines) > JOURNAL_BYTES):
                self._close_full()
                ready, self._next = self._next, _Ready(self.folder)  # the one after, whatever
                assert ready is not None  # becomes of this one
                self._fd, self.path = ready.wait()
                self._size = 0
            _write(self._fd, lines, self._size)
        except OSError as exc:
            return self._failed(exc, len(lines))
        self._size += len(lines)
        return None

    def _fdatasync(self) -> DatabaseError | None:
        """The lines written synced on this thread. Lines whose sync failed stay whole in the
        journal (their requests are answered 500; the mover may still store them)."""
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            return self._failed(exc, 0)
        return None

    def _close_full(self) -> None:
        if self._fd < 0:
            return
        if self._syncs_on(self._fd):
            self._full.add(self._fd)  # closed once its syncs are done
        else:
            os.close(self._fd)
        self._fd = -1

    def _syncs_on(self, fd: int) -> bool:
        """Whether a sync of the journal ``fd`` is in flight."""
        return any(fd == other for _, other in self._syncing.values())

    def _failed(self, exc: OSError, length: int) -> DatabaseError:
        log.error("clicks not journalled: %s", exc)
        if self._fd >= 0 and length:
            with contextlib.suppress(OSError):  # no part of a line before the next group's
                _write(self._fd, bytes(length), self._size)
        return DatabaseError(f"the click could not be stored: {exc.strerror}")


class _Ready:
    """The next journal of this process (``_made``), made on a thread of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: tuple[int, Path] | OSError | None = None
        self._thread = threading.Thread(target=self._make, name="click-journal", daemon=True)
        self._thread.start()

    def wait(self) -> tuple[int, Path]:
        """The journal's descriptor and path, once made (the error if it could not be)."""
        self._thread.join()
        made = self._made
        if isinstance(made, OSError):
            raise made
        assert made is not None
        return made

    def _make(self) -> None:
        try:
            self._made = _made(self.folder)
        except OSError as exc:
            self._made = exc


def _made(folder: Path) -> tuple[int, Path]:
    """A new journal in ``folder``, locked before the mover can see it (made under a name the
    mover ignores, locked, then renamed: else the mover could find it unlocked and empty, and
    delete it before its first click), then filled with ``JOURNAL_BYTES`` of zeros and
    synced."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"clicks-{os.getpid()}-{secrets.token_hex(6)}"
    making = folder / f".{name}.new"
    fd = os.open(making, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = folder / f"{name}{SUFFIX}"
        making.rename(path)
        for start in range(0, JOURNAL_BYTES, len(_ZEROS)):
            _write(fd, memoryview(_ZEROS)[: JOURNAL_BYTES - start], start)
        os.fsync(fd)  # its blocks and its length
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)  # its name
        finally:
            os.close(directory)
    except OSError:
        os.close(fd)
        raise
    return fd, path


def _write(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
