"""Storing clicks as the table grows: time-ordered click ids against random ones.

    .venv/bin/python benchmarks/click_ids.py [--clicks 600000] [--batch 1000] [--rate 30000]

The click mover stores each step's clicks in one transaction (``ClickRepository.add_many``).
The clicks table has a unique index on the click id: with random ids each insert lands on a
page of its own, and a commit writes every page it touched; with ids that begin with the second
they were made in (``new_click_id``), the index grows at its end. Both kinds go through the
same repository call, in batches of ``--batch`` clicks, ``--rate`` clicks to a second of
clicked time, into a store of their own (SQLite, and PostgreSQL when one answers at
CROSSPROMO_TEST_POSTGRES_URL). Printed per store: the milliseconds a batch takes (insert and
commit) at each tenth of the run, and the ratio random / time-ordered over the last fifth.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from _common import SECRET, postgres_url, sqlite_url
from redirect import prepare

from crosspromo.config import load_settings
from crosspromo.domain.links import CLICK_ID_LENGTH, new_click_id, new_code
from crosspromo.services.admin.database import open_database
from crosspromo.store.repositories import ClickRepository, LinkRepository

START = datetime(2026, 12, 1, tzinfo=UTC)


def timings(
    database_url: str, make_id: Callable[[float], str], args: argparse.Namespace
) -> list[float]:
    """Seconds per batch, in order, storing ``args.clicks`` clicks with ids from ``make_id``."""
    code = prepare(database_url)
    db = open_database(load_settings(database_url=database_url, secret_key=SECRET))
    with db.transaction() as session:
        link = LinkRepository(session).by_code(code)
        assert link is not None
    spent = []
    for first in range(0, args.clicks, args.batch):
        rows = []
        for number in range(first, first + args.batch):
            at = START + timedelta(seconds=number / args.rate)
            visitor = f"{number % 5000:064x}"
            rows.append(
                {
                    "link_id": link.id,
                    "org_id": link.org_id,
                    "partner_org_id": link.partner_org_id,
                    "click_id": make_id(at.timestamp()),
                    "clicked_at": at,
                    "visitor_hash": visitor,
                    "visit_key": f"{visitor[:32]}:{at:%Y%m%d%H}",
                    "referer": None,
                    "is_bot": False,
                }
            )
        started = time.perf_counter()
        with db.transaction() as session:
            ClickRepository(session).add_many(rows)
        spent.append(time.perf_counter() - started)
    db.dispose()
    return spent


def random_id(_: float) -> str:
    """A click id as made before ids were time-ordered: random base62."""
    return new_code(CLICK_ID_LENGTH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=600_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=30_000, help="clicks a second")
    args = parser.parse_args()
    for store, context in (("SQLite", sqlite_url), ("PostgreSQL", postgres_url)):
        results: dict[str, list[float]] = {}
        for kind, make_id in (("random", random_id), ("time-ordered", new_click_id)):
            with context() as database_url:
                if database_url is None:
                    break
                results[kind] = timings(database_url, make_id, args)
        if not results:
            print(f"{store}: PostgreSQL not reachable, skipped")
            continue
        for kind, spent in results.items():
            tenths = [spent[len(spent) * k // 10 - 1] for k in range(1, 11)]
            shown = " ".join(f"{1000 * s:6.1f}" for s in tenths)
            print(f"{store:10s} {kind:12s} ms a batch of {args.batch} at each tenth: {shown}")
        last = {kind: sum(s[len(s) * 4 // 5 :]) for kind, s in results.items()}
        ratio = last["random"] / last["time-ordered"]
        print(f"{store:10s} random / time-ordered over the last fifth: {ratio:5.2f}x")


if __name__ == "__main__":
    main()
