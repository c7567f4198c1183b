"""The click journal and its mover: journalled clicks reach the store exactly once, whatever
stops when; a line cut short is left out; a finished journal is deleted with its position."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from crosspromo.domain.links import new_click_id
from crosspromo.errors import DatabaseError
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository, LinkRepository
from crosspromo.tracking import mover as mover_module
from crosspromo.tracking.journal import (
    COLUMNS,
    JOURNAL_BYTES,
    JournalWriter,
    decode,
    decode_values,
    encode,
    whole_lines,
)
from crosspromo.tracking.mover import Mover
from crosspromo.tracking.uring import Ring
from tests.conftest import issued_link, run_async


@pytest.fixture
def link(db: Database) -> Any:
    code = issued_link(db)
    with db.transaction() as session:
        return LinkRepository(session).by_code(code)


_NO_LINK = SimpleNamespace(id=1, org_id=1, partner_org_id=1)  # for clicks never stored


def _click(link: Any, referer: str | None = None) -> dict[str, Any]:
    return {
        "link_id": link.id,
        "org_id": link.org_id,
        "partner_org_id": link.partner_org_id,
        "click_id": new_click_id(),
        "clicked_at": datetime.now(UTC),
        "visitor_hash": "ab" * 32,
        "visit_key": "ab" * 16 + ":2026120316",
        "referer": referer,
        "is_bot": False,
    }


def _journal(folder: Path, rows: list[dict[str, Any]]) -> JournalWriter:
    """A journal holding ``rows``, written as the server writes it; still open (locked)."""
    writer = JournalWriter(folder)
    writer.start()

    async def write() -> None:
        await asyncio.gather(*(writer.submit(row) for row in rows))

    run_async(write())
    return writer


def _stored(db: Database, rows: list[dict[str, Any]]) -> dict[str, int]:
    with db.transaction() as session:
        return ClickRepository(session).count_by_click_ids([r["click_id"] for r in rows])


def _positions(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        found = session.execute(t.click_journals.select()).all()
    return dict(found)


def _kept_until_the_writer_goes(
    db: Database, mover: Mover, writer: JournalWriter, folder: Path, rows: list[dict[str, Any]]
) -> None:
    """Everything moved: only the journal still written and the next one made ready (empty)
    are left; once the writer stops, the mover deletes them, and each click is stored once."""
    left = set(folder.iterdir()) - {writer.path}
    assert len(left) <= 1, "only the journal still written, and the next made ready, are kept"
    assert all(not path.read_bytes().strip(b"\0") for path in left)
    writer.stop()
    mover.step()
    assert list(folder.iterdir()) == []
    assert _stored(db, rows) == {r["click_id"]: 1 for r in rows}
    mover.close()


_TEXT = st.text(st.characters(max_codepoint=0x2FFFF, exclude_categories=["Cs"]), max_size=40)


@given(
    ids=st.tuples(*[st.integers(1, 2**63 - 1)] * 3),
    texts=st.tuples(_TEXT, _TEXT, _TEXT),
    referer=st.none() | _TEXT,
    at=st.datetimes(timezones=st.just(UTC)),
    bot=st.booleans(),
)
def test_a_line_says_what_the_click_is(
    ids: tuple[int, int, int],
    texts: tuple[str, str, str],
    referer: str | None,
    at: datetime,
    bot: bool,
) -> None:
    row = dict(zip(COLUMNS[:3], ids, strict=True)) | {"clicked_at": at, "is_bot": bot}
    row |= dict(zip(("click_id", "visitor_hash", "visit_key"), texts, strict=True))
    row["referer"] = referer
    line = encode(row)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert line.isascii()
    assert decode(line[:-1]) == row
    values = [row[name] for name in COLUMNS]  # the line JSON's encoder writes: lines written
    values[4] = at.isoformat(timespec="microseconds")  # before and after the line was
    # formatted directly are alike
    assert line == json.dumps(values, separators=(",", ":")).encode() + b"\n"


def test_a_line_that_is_not_a_click_is_refused() -> None:
    with pytest.raises(ValueError, match="not a click"):
        decode(b'["too", "short"]')


@given(referers=st.lists(st.none() | _TEXT, min_size=1, max_size=20))
def test_lines_decoded_together_are_the_lines_decoded_one_by_one(
    referers: list[str | None],
) -> None:
    lines = b"".join(encode(_click(_NO_LINK, referer)) for referer in referers)
    assert decode_values(lines) == [decode_values(line + b"\n")[0] for line in lines.splitlines()]
    assert [decode(line) for line in lines.splitlines()] == [
        dict(zip(COLUMNS, v, strict=True)) | {"clicked_at": datetime.fromisoformat(v[4])}
        for v in decode_values(lines)
    ]


@pytest.mark.parametrize(
    "bad",
    [
        b'["too", "short"]',
        b"1,2",
        b"[1,2,3,4,5,6,7,8,9],[1,2,3,4,5,6,7,8,9]",
        b"{",
        b"",
        b'[1,1,1,"c",5,"v","k",null,false]',  # a time that is not text
        b'[1,1,1,"c","2026-12-04T01:02:03+00:00","v","k",null,"yes"]',  # a flag not a bool
    ],
)
def test_lines_decoded_together_refuse_what_is_not_one_click_a_line(bad: bytes) -> None:
    good = encode(_click(_NO_LINK))
    with pytest.raises(ValueError, match=r"click|Expecting"):
        decode_values(good + bad + b"\n" + good)


def test_the_mover_leaves_out_only_the_line_that_is_not_a_click(
    db: Database, link: Any, tmp_path: Path
) -> None:
    rows = [_click(link) for _ in range(3)]
    lines = [encode(row) for row in rows]
    (tmp_path / "clicks-1-x.log").write_bytes(lines[0] + b"1,2\n" + lines[1] + lines[2])
    mover = Mover(db, tmp_path)
    assert mover.step() == 3
    assert mover.skipped == 1
    assert _stored(db, rows) == {r["click_id"]: 1 for r in rows}
    mover.close()


def test_a_moved_click_is_stored_as_it_was_made(db: Database, link: Any, tmp_path: Path) -> None:
    """Every column of a journalled click comes back from the store as the click had it:
    the time to the microsecond (one on a whole second too), the referer, the bot flag."""
    rows = [_click(link, referer=r) for r in (None, "https://news.example/a?b=c", "ü")]
    rows[1]["is_bot"] = True
    rows[2]["clicked_at"] = datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC)
    writer = _journal(tmp_path, rows)
    mover = Mover(db, tmp_path)
    assert mover.step() == 3
    c = t.clicks.c
    with db.transaction() as session:
        stored = {
            r.click_id: r._asdict() for r in session.execute(select(*(c[name] for name in COLUMNS)))
        }
    assert stored == {r["click_id"]: r for r in rows}
    writer.stop()
    mover.close()


def test_a_click_the_store_cannot_read_is_left_out_alone(
    db: Database, link: Any, tmp_path: Path
) -> None:
    """A line of a click's shape whose time has no zone, or is not a time, is left out; the
    clicks around it are stored and the mover goes on (it stopped at such a line before)."""
    rows = [_click(link) for _ in range(3)]
    naive, nonsense = (
        json.dumps([link.id, link.org_id, link.partner_org_id, new_click_id(), at, "h", "k",
                    None, False]).encode() + b"\n"
        for at in ("2026-12-04T01:02:03.000004", "soon")
    )  # fmt: skip
    path = tmp_path / "clicks-4-odd.log"
    path.write_bytes(encode(rows[0]) + naive + encode(rows[1]) + nonsense + encode(rows[2]))
    mover = Mover(db, tmp_path)
    assert mover.step() == 5
    assert mover.skipped == 2
    assert _stored(db, rows) == {r["click_id"]: 1 for r in rows}
    mover.step()
    assert not path.exists()
    mover.close()


@pytest.mark.parametrize("chunk", [100, "exact", 4096])
def test_a_step_reads_the_journal_a_chunk_at_a_time(
    db: Database, link: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: Any
) -> None:
    """A step reads on past full chunks to where the clicks end (a chunk ending exactly there
    included), and at most about READ_BYTES: the rest is the next step's."""
    rows = [_click(link) for _ in range(80)]  # about 16 KB
    writer = _journal(tmp_path, rows)
    assert writer.path is not None
    written = whole_lines(writer.path.read_bytes())
    size = len(encode(rows[0]))
    monkeypatch.setattr(mover_module, "CHUNK_BYTES", written // 4 if chunk == "exact" else chunk)
    monkeypatch.setattr(mover_module, "READ_BYTES", 25 * size)  # 25 clicks, give or take
    mover = Mover(db, tmp_path)
    steps = [mover.step() for _ in range(5)]
    assert 20 <= steps[0] < 80
    assert sum(steps) == 80
    assert steps[-1] == 0
    assert _stored(db, rows) == {r["click_id"]: 1 for r in rows}
    writer.stop()
    mover.step()
    assert not writer.path.exists(), "finished: deleted"
    mover.close()


def test_journalled_clicks_are_stored_once(db: Database, link: Any, tmp_path: Path) -> None:
    rows = [_click(link, referer=f"https://r{i}.example/") for i in range(50)]
    writer = _journal(tmp_path, rows)
    assert writer.written == 50
    assert writer.batches == 1
    mover = Mover(db, tmp_path)
    assert mover.step() == 50
    assert mover.step() == 0
    assert _stored(db, rows) == {r["click_id"]: 1 for r in rows}
    assert writer.path is not None
    assert writer.path.exists(), "still written: kept"
    mover.close()

    # a mover started again (after a kill, say) goes on from the stored position
    again = Mover(db, tmp_path)
    assert again.step() == 0
    more = [_click(link) for _ in range(3)]

    async def write() -> None:
        await asyncio.gather(*(writer.submit(row) for row in more))

    run_async(write())
    assert again.step() == 3
    writer.stop()  # its process ends: the journal is finished
    again.step()
    assert not writer.path.exists()
    assert _positions(db) == {}
    assert set(_stored(db, rows + more).values()) == {1}
    with db.transaction() as session:
        stored = ClickRepository(session).count_by_click_ids([rows[7]["click_id"]])
        assert stored == {rows[7]["click_id"]: 1}
    again.close()


def test_a_line_cut_short_is_left_out(db: Database, link: Any, tmp_path: Path) -> None:
    """A writer killed in the middle of a line never acknowledged it: the whole lines before
    it are stored, the rest is not, and the journal is deleted."""
    whole = [_click(link), _click(link)]
    cut = encode(_click(link))
    path = tmp_path / "clicks-1-dead.log"
    path.write_bytes(b"".join(encode(r) for r in whole) + cut[: len(cut) // 2])
    mover = Mover(db, tmp_path)
    assert mover.step() == 2
    mover.step()  # nothing more, and no one holds its lock: finished
    assert not path.exists()
    assert _stored(db, whole) == {r["click_id"]: 1 for r in whole}
    assert _positions(db) == {}
    mover.close()


def test_a_journal_still_written_is_kept(db: Database, link: Any, tmp_path: Path) -> None:
    path = tmp_path / "clicks-2-alive.log"
    path.write_bytes(encode(_click(link)))
    holder = os.open(path, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as a living writer holds it
    try:
        mover = Mover(db, tmp_path)
        assert mover.step() == 1
        assert mover.step() == 0
        assert path.exists()
        assert _positions(db) == {path.name: path.stat().st_size}
    finally:
        os.close(holder)
    mover.step()
    assert not path.exists()
    mover.close()


def test_a_refused_click_does_not_hold_the_others(db: Database, link: Any, tmp_path: Path) -> None:
    """A click whose link was deleted since (the store refuses it) and a line that is not a
    click are left out; the others are stored and the journal moves on."""
    rows = [_click(link), {**_click(link), "link_id": 999_999}, _click(link)]
    path = tmp_path / "clicks-3-mixed.log"
    path.write_bytes(encode(rows[0]) + b"not json\n" + encode(rows[1]) + encode(rows[2]))
    mover = Mover(db, tmp_path)
    assert mover.step() == 3  # read: two stored, one refused
    assert _stored(db, rows) == {rows[0]["click_id"]: 1, rows[2]["click_id"]: 1}
    assert mover.skipped == 2
    mover.step()
    assert not path.exists()
    mover.close()


def test_a_closed_journal_takes_no_click(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path)

    async def write() -> None:
        with pytest.raises(DatabaseError, match="not open"):
            writer.enqueue({})

    run_async(write())


def test_a_long_journal_is_closed_for_a_new_one(
    db: Database, link: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past JOURNAL_BYTES the worker goes on in a new journal; the mover deletes the old one
    once moved, while the new one, still written, stays."""
    monkeypatch.setattr("crosspromo.tracking.journal.JOURNAL_BYTES", 1000)
    folder = tmp_path / "journals"
    writer = JournalWriter(folder)
    writer.start()
    rows = [_click(link) for _ in range(12)]

    async def write() -> None:
        for row in rows:  # one turn each: a sync each
            await writer.submit(row)

    run_async(write())
    assert len(list(folder.iterdir())) >= 2
    mover = Mover(db, folder)
    assert mover.step() == 12
    mover.step()
    _kept_until_the_writer_goes(db, mover, writer, folder, rows)


def test_a_new_journal_is_locked_before_the_mover_sees_it(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a journal seen under its name before its lock, the mover could take it for one
    whose writer is gone, and delete it before the first click went in."""
    folder = tmp_path / "journals"
    locked: list[tuple[str, list[str]]] = []  # the file locked, the journals seen then
    lock = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
        locked.append((name, [p.name for p in folder.iterdir() if p.suffix == ".log"]))
        lock(fd, operation)

    monkeypatch.setattr("crosspromo.tracking.journal.fcntl.flock", flock)
    writer = JournalWriter(folder)
    writer.start()
    writer.stop()  # waits for the next journal too: two made
    assert len(locked) == 2
    for name, seen in locked:
        assert name.startswith(".clicks-"), name
        assert name.endswith(".new"), name
        assert name[1:].removesuffix(".new") + ".log" not in seen
    monkeypatch.undo()
    assert oct(folder.stat().st_mode & 0o777) == "0o700", "clicks are no one else's to read"
    mover = Mover(db, folder)
    mover.step()
    assert list(folder.iterdir()) == []
    mover.close()


def test_a_journal_is_made_whole_before_its_first_click(
    db: Database, link: Any, tmp_path: Path
) -> None:
    """A journal is JOURNAL_BYTES of zeros, synced, before a click goes in (a click's sync
    then writes no length); the mover reads up to the first zero byte, and keeps a journal
    still written, and the next one made ready, until their writer is gone."""
    rows = [_click(link) for _ in range(5)]
    folder = tmp_path / "journals"
    writer = _journal(folder, rows)
    assert writer.path is not None
    data = writer.path.read_bytes()
    assert len(data) == JOURNAL_BYTES
    lines = b"".join(encode(r) for r in rows)
    assert len(data) > len(lines)
    assert data.startswith(lines)
    assert data.count(0) == len(data) - len(lines)
    mover = Mover(db, folder)
    assert mover.step() == 5
    mover.step()
    assert len([p for p in folder.iterdir() if p.suffix == ".log"]) == 2, "this one and next"
    assert _positions(db) == {writer.path.name: len(lines)}
    _kept_until_the_writer_goes(db, mover, writer, folder, rows)


def test_a_line_cut_short_before_the_zeros_is_left_out(
    db: Database, link: Any, tmp_path: Path
) -> None:
    """A writer killed while writing a group leaves a line without its newline before the
    journal's zeros: the lines before it are stored, the part line is not."""
    whole = [_click(link), _click(link)]
    cut = encode(_click(link))
    path = tmp_path / "clicks-4-dead.log"
    written = b"".join(encode(r) for r in whole) + cut[: len(cut) // 2]
    path.write_bytes(written + bytes(4096) + encode(_click(link)))  # never past the zeros
    mover = Mover(db, tmp_path)
    assert mover.step() == 2
    mover.step()
    assert not path.exists()
    assert _stored(db, whole) == {r["click_id"]: 1 for r in whole}
    mover.close()


@pytest.mark.parametrize("ring", [True, False], ids=["io_uring", "loop-thread"])
def test_groups_in_flight_across_journals(
    db: Database, link: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ring: bool
) -> None:
    """A group a turn, none waited for before the next: with io_uring several syncs are in
    flight at once, across journals that fill up; a full journal is closed only once its
    syncs are done, and every click is stored once."""
    monkeypatch.setattr("crosspromo.tracking.journal.JOURNAL_BYTES", 1000)
    folder = tmp_path / "journals"
    writer = JournalWriter(folder, ring=ring)
    writer.start()
    if ring and not writer.ring:
        pytest.skip("no io_uring here: the journal syncs on the loop's thread")
    assert writer.ring is ring
    rows = [_click(link) for _ in range(30)]
    in_flight: list[int] = []

    async def write() -> None:
        futures = []
        for row in rows:
            futures.append(writer.enqueue(row))
            await asyncio.sleep(0)  # the next turn: this group is written and its sync asked
            in_flight.append(sum(not f.done() for f in futures))
        await asyncio.gather(*futures)

    run_async(write())
    assert writer.written == 30
    if ring:
        assert max(in_flight) >= 2, "groups waited for their syncs while the loop went on"
    assert len(list(folder.iterdir())) >= 5, "journals filled up while syncs were in flight"
    mover = Mover(db, folder)
    assert mover.step() == 30
    mover.step()  # the full ones, their writer done with them: finished
    _kept_until_the_writer_goes(db, mover, writer, folder, rows)


def test_without_io_uring_the_loop_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused(*_args: Any) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr("crosspromo.tracking.journal.Ring", refused)
    writer = JournalWriter(tmp_path / "journals")
    writer.start()
    assert not writer.ring
    assert "no io_uring" in caplog.text
    run_async(writer.submit(_click(_NO_LINK)))
    assert writer.written == 1
    writer.stop()


def test_a_failed_sync_fails_its_clicks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's error for a group's sync reaches the group's requests (their redirects
    answer 500); the next group is synced as before."""
    writer = JournalWriter(tmp_path / "journals")
    writer.start()
    if not writer.ring:
        pytest.skip("no io_uring here: the journal syncs on the loop's thread")
    row = _click(_NO_LINK)
    submit = Ring.submit
    monkeypatch.setattr(Ring, "submit", lambda ring, _fd, token: submit(ring, 987_654, token))

    async def failing() -> None:
        with pytest.raises(DatabaseError, match="could not be stored: Bad file descriptor"):
            await writer.submit(row)

    run_async(failing())
    monkeypatch.undo()
    run_async(writer.submit(row))
    assert writer.written == 1
    writer.stop()


def test_a_writer_stopped_in_the_turn_of_a_click_makes_no_journal(tmp_path: Path) -> None:
    """``stop`` syncs the clicks of the turn itself; the sync the loop was asked for at the
    first of them then finds nothing to do. Were it to make a journal, that one would stay
    locked until the process ended, after the mover's last pass, and be left behind."""
    folder = tmp_path / "journals"
    writer = JournalWriter(folder)
    writer.start()

    async def write() -> None:
        done = writer.enqueue(_click(_NO_LINK))
        writer.stop()
        await done
        await asyncio.sleep(0.05)  # the sync asked for at the enqueue has run

    run_async(write())
    assert writer.written == 1
    time.sleep(0.2)  # a journal being made would be locked by now
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if this process holds it
        finally:
            os.close(fd)


@pytest.mark.parametrize("fail", [False, True])
def test_a_callback_is_called_once_its_click_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    """``then`` (the redirect's direct path): each callback is called on the loop's thread
    once its click's line is written and synced, with None, or with the sync's error; one
    callback that raises does not keep the others from being called."""
    writer = JournalWriter(tmp_path / "journals")
    writer.start()
    if fail:
        if not writer.ring:
            pytest.skip("no io_uring here: the journal syncs on the loop's thread")
        submit = Ring.submit
        monkeypatch.setattr(Ring, "submit", lambda ring, _fd, token: submit(ring, 987_654, token))
    rows = [_click(_NO_LINK) for _ in range(3)]
    called: list[tuple[str, BaseException | None, bool]] = []

    async def write() -> None:
        loop, done = asyncio.get_running_loop(), asyncio.Event()

        def told(row: dict[str, Any]) -> Any:
            def then(error: BaseException | None) -> None:
                assert writer.path is not None
                journalled = row["click_id"].encode() in writer.path.read_bytes()
                called.append((row["click_id"], error, journalled))
                assert asyncio.get_running_loop() is loop
                if len(called) == len(rows):
                    done.set()
                if row is rows[0]:
                    raise RuntimeError("a callback that fails")

            return then

        for row in rows:
            writer.then_line(encode(row), told(row))
        assert not called, "not before the end of the turn"
        await asyncio.wait_for(done.wait(), 5)

    run_async(write())
    writer.stop()
    assert [click_id for click_id, _, _ in called] == [row["click_id"] for row in rows]
    assert all(journalled for _, _, journalled in called)
    errors = [error for _, error, _ in called]
    if fail:
        assert all(isinstance(e, DatabaseError) for e in errors)
    else:
        assert errors == [None, None, None]
