"""The click mover: a process beside the server's workers that moves the clicks they journal
(``tracking.journal``) into the store, exactly once.

Each step reads the whole lines past where each journal was last read, stores their clicks and
the new positions in one transaction (table ``click_journals``), and only then counts them as
moved: after a kill -9 of any process the next mover starts where the store says, so a click
is neither lost nor stored twice. A journal whose writer is gone (its ``flock`` is free) and
that holds nothing more is deleted, with its position. ``crosspromo serve`` starts the mover
(``Helper``), starts it again if it dies, and stops it last, after the workers (by closing
its standard input, which the end of the server closes too: a
mover never outlives its server); it moves what is left, then exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crosspromo.config import load_settings
from crosspromo.errors import DatabaseError
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickJournalRepository, ClickRepository
from crosspromo.tracking.journal import COLUMNS, SUFFIX, decode_values, stdin_closed, whole_lines

log = logging.getLogger("crosspromo.tracking")
# A step at most every STEP_SECONDS: the store's commits (a sync each) share the disk with
# the journals' syncs, which redirects wait for; 0.05 s keeps them few and the store
# behind the journals by about that much.
STEP_SECONDS = 0.05
READ_BYTES = 1 << 20  # at most this much of a journal a step
# read a chunk at a time, up to the first that shows where the clicks written end: a step then
# copies what was written since the last, not a megabyte of each journal (measured under load:
# the fresh pages of those reads were a twentieth of the mover's CPU)
CHUNK_BYTES = 64 << 10
_CLICK_ID = COLUMNS.index("click_id")


@dataclass(slots=True)
class _Journal:
    fd: int
    position: int  # what the store holds: the journal up to here


class Mover:
    """Moves the journals of ``folder`` into ``db`` (``step``, repeatedly)."""

    def __init__(self, db: Database, folder: Path) -> None:
        self.db = db
        self.folder = folder
        self._journals: dict[str, _Journal] = {}
        self.moved = 0
        self.skipped = 0

    def close(self) -> None:
        for journal in self._journals.values():
            os.close(journal.fd)
        self._journals.clear()

    def step(self) -> int:
        """Move the whole lines written since the last step; the number of clicks moved."""
        self._discover()
        rows: list[list[Any]] = []
        positions: dict[str, int] = {}
        idle: list[str] = []
        for name, journal in self._journals.items():
            data = _unread(journal)
            whole = whole_lines(data)
            if not whole:
                idle.append(name)
                continue
            rows.extend(self._rows(name, data[:whole]))
            positions[name] = journal.position + whole
        if positions:
            self._store(rows, positions)
            for name, position in positions.items():
                self._journals[name].position = position
            self.moved += len(rows)
        for name in idle:
            self._finish_if_done(name)
        return len(rows)

    def _discover(self) -> None:
        names = [
            entry.name
            for entry in os.scandir(self.folder)
            if entry.name.endswith(SUFFIX) and entry.name not in self._journals
        ]
        if not names:
            return
        with self.db.transaction() as session:
            known = ClickJournalRepository(session).positions(names)
        for name in names:
            try:
                fd = os.open(self.folder / name, os.O_RDONLY)
            except FileNotFoundError:
                continue
            self._journals[name] = _Journal(fd, known.get(name, 0))

    def _rows(self, name: str, lines: bytes) -> list[list[Any]]:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            return decode_values(lines)
        rows = []  # one at a time, to leave out only what is not a click
        for line in lines.splitlines():
            try:
                rows.extend(decode_values(line + b"\n"))
            except (ValueError, TypeError, KeyError) as exc:  # not written by a journal
                self.skipped += 1
                log.error("journal %s: line left out: %s", name, exc)
        return rows

    def _store(self, rows: Sequence[list[Any]], positions: dict[str, int]) -> None:
        try:
            with self.db.transaction() as session:
                ClickRepository(session).add_values(COLUMNS, rows)
                ClickJournalRepository(session).set_positions(positions)
            return
        except (SQLAlchemyError, ValueError) as exc:
            if len(rows) <= 1:
                log.error("click left out of the store: %s", str(exc).splitlines()[0])
                self.skipped += len(rows)
                rows = []
        # one refused click (its link deleted since, say) does not hold the others back
        with self.db.transaction() as session:
            clicks = ClickRepository(session)
            for row in rows:
                try:
                    with session.begin_nested():
                        clicks.add_values(COLUMNS, [row])
                except (SQLAlchemyError, ValueError) as exc:
                    self.skipped += 1
                    log.error("click %s left out: %s", row[_CLICK_ID], str(exc).splitlines()[0])
            ClickJournalRepository(session).set_positions(positions)

    def _finish_if_done(self, name: str) -> None:
        """Delete the journal ``name`` if its writer is gone and all of it is stored."""
        journal = self._journals[name]
        try:
            fcntl.flock(journal.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # still written
        if whole_lines(_unread(journal)):
            return  # written just before its writer went: moved next step
        with self.db.transaction() as session:
            ClickJournalRepository(session).forget(name)
        with contextlib.suppress(FileNotFoundError):
            (self.folder / name).unlink()
        os.close(journal.fd)
        del self._journals[name]


def _unread(journal: _Journal) -> bytes:
    """What ``journal`` holds past its stored position, read ``CHUNK_BYTES`` at a time until a
    chunk holds a zero byte (the part not yet written) or ends the file: at most about
    ``READ_BYTES``."""
    chunks: list[bytes] = []
    read = 0
    while read < READ_BYTES:
        chunk = os.pread(journal.fd, CHUNK_BYTES, journal.position + read)
        chunks.append(chunk)
        read += len(chunk)
        if len(chunk) < CHUNK_BYTES or chunk.find(0) >= 0:
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def run(db: Database, folder: Path, until: Callable[[], bool]) -> None:
    """Move clicks until ``until()`` says to stop, moving what is left first."""
    folder.mkdir(parents=True, exist_ok=True)
    mover = Mover(db, folder)
    try:
        with db.holding():
            while True:
                started = time.monotonic()
                try:
                    moved = mover.step()
                except (OSError, SQLAlchemyError, DatabaseError) as exc:  # away: again soon
                    log.error("click mover: %s", str(exc).splitlines()[0])
                    moved = 0
                    time.sleep(1.0)
                if not moved and until():
                    return
                time.sleep(max(0.0, started + STEP_SECONDS - time.monotonic()))
    finally:
        mover.close()
        log.info("click mover: %d clicks moved, %d left out", mover.moved, mover.skipped)


class Helper:
    """A helper process of ``crosspromo serve`` (the click mover): the module ``module`` run
    with ``environment``, started again if it dies (after a second);
    ``stop`` closes its standard input, its sign to finish, and waits for it."""

    def __init__(self, module: str, environment: dict[str, str]) -> None:
        self.module = module
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name=self.module, daemon=True)
        self._watcher.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()

    def _spawn(self) -> None:
        command = [sys.executable, "-m", self.module, str(os.getpid())]  # the pid: for ps
        self.process = subprocess.Popen(  # noqa: S603 - our own module
            command, env=self.environment, stdin=subprocess.PIPE
        )

    def _watch(self) -> None:
        while not self._stopping.is_set():
            assert self.process is not None
            code = self.process.wait()
            if self._stopping.wait(1.0):
                return
            log.error("%s exited (%s): started again", self.module, code)
            self._spawn()


def main() -> None:
    """The mover process: it stops once its standard input ends (``Helper.stop`` closes
    it; so does the end of the server, however it ends). Signals to the server's
    process group are the server's: the mover finishes the journals only after the workers
    have stopped writing them."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    settings = load_settings()
    db = Database(settings)
    # what a step makes (a list a click) is garbage once it is stored, and never a cycle:
    # the collector is kept from walking it and the modules every 700 allocations (-10% of
    # the mover's CPU a click)
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    try:
        run(db, settings.click_journal(), stdin_closed(sys.stdin.fileno()))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
