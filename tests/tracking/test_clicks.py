"""The click writer that stores clicks itself (no mover): ``then`` calls back once stored,
``then_line`` likewise for a click given as its journal line (the direct redirect's)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from crosspromo.store import tables as t
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository, LinkRepository
from crosspromo.tracking.clicks import ClickWriter
from crosspromo.tracking.journal import COLUMNS, encode
from tests.conftest import issued_link, run_async
from tests.tracking.test_journal import _click


def test_then_calls_back_once_the_click_is_committed(db: Database) -> None:
    code = issued_link(db)
    with db.transaction() as session:
        link = LinkRepository(session).by_code(code)
    good, bad = _click(link), {**_click(link), "link_id": 10**9}  # bad: no such link
    writer = ClickWriter(db)
    writer.start()
    told: dict[str, Any] = {}

    async def write() -> None:
        done = asyncio.Event()

        def then(row: dict[str, Any]) -> Any:
            def called(error: BaseException | None) -> None:
                with db.transaction() as session:
                    stored = ClickRepository(session).count_by_click_ids([row["click_id"]])
                told[row["click_id"]] = (error, stored.get(row["click_id"], 0))
                if len(told) == 2:
                    done.set()

            return called

        writer.then(good, then(good))
        writer.then(bad, then(bad))
        await asyncio.wait_for(done.wait(), 10)

    try:
        run_async(write())
    finally:
        writer.stop()
    assert told[good["click_id"]] == (None, 1)
    error, stored = told[bad["click_id"]]
    assert error is not None
    assert stored == 0


def test_a_click_given_as_its_journal_line_is_stored_as_that_click(db: Database) -> None:
    code = issued_link(db)
    with db.transaction() as session:
        link = LinkRepository(session).by_code(code)
    row = {**_click(link), "referer": "https://a.example/\u00e9", "is_bot": True}
    writer = ClickWriter(db)
    writer.start()
    told: list[BaseException | None] = []

    async def write() -> None:
        done = asyncio.Event()

        def called(error: BaseException | None) -> None:
            told.append(error)
            done.set()

        writer.then_line(encode(row), called)
        await asyncio.wait_for(done.wait(), 10)

    try:
        run_async(write())
    finally:
        writer.stop()
    assert told == [None]
    c = t.clicks.c
    with db.transaction() as session:
        [stored] = session.execute(select(*(c[name] for name in COLUMNS))).all()
    assert stored._asdict() == row
