"""kill -9 a real process in the middle of ``commissions compute`` and of a series of
``payouts mark-paid``: after a restart nothing is lost, doubled or half-posted. The commands run
as their own processes because the point is what a process killed mid-transaction leaves in the
database (an in-process call cannot be killed)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text

from crosspromo.config import Settings
from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database
from crosspromo.services.pay import payouts
from crosspromo.services.pay.commissions import compute
from crosspromo.store.database import Database
from crosspromo.store.repositories import ConversionRepository
from tests.conftest import TEST_SECRET, agreed

SALES = 40_000
TERMS = {
    "currency": "EUR",
    "rounding": "half_up",
    "holding_days": 0,
    "clawback_days": 30,
    "rules": [{"applies_to": "sale", "kind": "percent", "rate_bp": 1000, "recurring_months": 120}],
}
AS_OF = date(2026, 6, 30)


def _program(db: Database, sales: int = SALES, every: int = 3) -> int:
    """A brand paying 10% of every sale to a partner, and ``sales`` sales ``every`` minutes
    from 2026-01-01 on."""
    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    partner = create_organization(db, "beans", "Beans", OrgKind.PARTNER).id
    agreed(db, brand, "beans", start="2026-01-01", commission=TERMS)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    table = pa.table(
        {
            "org_id": [brand] * sales,
            "kind": ["sale"] * sales,
            "partner_org_id": [partner] * sales,
            "order_id": [f"o{i}" for i in range(sales)],
            "amount_minor": [1_000 + i % 997 for i in range(sales)],
            "currency": ["EUR"] * sales,
            "occurred_at": [first + timedelta(minutes=every * i) for i in range(sales)],
        }
    )
    with db.transaction() as session:
        ConversionRepository(session).add_tables([table])
    return brand


def _command(settings: Settings, *args: str, script: str | None = None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CROSSPROMO_DATABASE_URL": settings.database_url,
        "CROSSPROMO_SECRET_KEY": TEST_SECRET,
    }
    argv = [sys.executable, "-c", script] if script else [sys.executable, "-m", "crosspromo", *args]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def _writing(db: Database) -> bool:
    """Whether another process is inside a write transaction (holds the brand's lock)."""
    if db.settings.is_sqlite:
        path = db.settings.database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as raw:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # "database is locked": a writer is at work
                return True
            raw.execute("ROLLBACK")
            return False
    with db.engine.connect() as connection:
        held = connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 19")
        ).scalar_one()
        return bool(held)


def _kill_while_writing(db: Database, process: subprocess.Popen[bytes], after: float) -> None:
    deadline = time.monotonic() + 120
    while not _writing(db):
        assert process.poll() is None, process.stdout.read() if process.stdout else b""
        assert time.monotonic() < deadline, "the command never began writing"
        time.sleep(0.02)
    time.sleep(after)
    assert process.poll() is None, "the command finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _lines(db: Database, brand: int) -> tuple[int, int, int]:
    """(lines, distinct conversions, their sum) of the brand's commission lines."""
    with db.reading() as session:
        found = session.execute(
            text(
                "SELECT count(*), count(DISTINCT conversion_id), coalesce(sum(amount_minor), 0) "
                "FROM commission_lines WHERE org_id = :b"
            ),
            {"b": brand},
        ).one()
    return int(found[0]), int(found[1]), int(found[2])


def _unbalanced(db: Database) -> list[object]:
    with db.reading() as session:
        return list(
            session.execute(
                text(
                    "SELECT transaction_id FROM ledger_postings "
                    "GROUP BY transaction_id, org_id, currency HAVING sum(amount_minor) <> 0"
                )
            )
        )


@pytest.mark.timeout(600)
def test_kill_9_during_commissions_compute(settings: Settings) -> None:
    db = open_database(settings)
    brand = _program(db)
    expected = sum(
        (1_000 + i % 997) * 1000 // 10_000 + ((1_000 + i % 997) % 10 >= 5) for i in range(SALES)
    )  # 10%, half up
    process = _command(
        settings, "commissions", "compute", "--org", "acme", "--as-of", AS_OF.isoformat()
    )
    _kill_while_writing(db, process, after=0.3)
    with db.reading() as session:  # killed inside its transaction: nothing of it is there
        assert session.execute(text("SELECT count(*) FROM commission_runs")).scalar_one() == 0
    assert _lines(db, brand) == (0, 0, 0)
    done = _command(
        settings, "commissions", "compute", "--org", "acme", "--as-of", AS_OF.isoformat()
    )
    assert done.wait(timeout=300) == 0, done.stdout.read() if done.stdout else b""
    assert _lines(db, brand) == (SALES, SALES, expected)  # each sale once, every cent
    assert compute(db, brand, AS_OF).lines == 0
    assert _unbalanced(db) == []
    with db.reading() as session:
        receivable = session.execute(
            text(
                "SELECT sum(amount_minor) FROM ledger_postings WHERE account = "
                "'commission_receivable'"
            )
        ).scalar_one()
    assert receivable == expected


MARK_ALL = """
import sys
from crosspromo.config import Settings
from crosspromo.services.admin.database import open_database
from crosspromo.services.pay import payouts
db = open_database(Settings())
for item in sorted(payouts.payouts(db, {brand}), key=lambda p: p.id):
    payouts.mark_paid(db, {brand}, item.id, f"bank-{{item.id}}")
    print(item.id, flush=True)
"""


@pytest.mark.timeout(600)
def test_kill_9_during_payouts_mark_paid(settings: Settings, tmp_path: Path) -> None:
    db = open_database(settings)
    brand = _program(db, sales=1_600, every=36)  # 40 days of sales: a payout run each day
    made = []
    for day in range(40):
        as_of = date(2026, 1, 1) + timedelta(days=day)
        compute(db, brand, as_of)
        made += payouts.run(db, brand, as_of).payouts
    assert len(made) == 40
    process = _command(settings, script=MARK_ALL.format(brand=brand))
    _kill_while_writing(db, process, after=0.05)

    def states() -> dict[int, str]:
        return {p.id: p.status for p in payouts.payouts(db, brand)}

    half = states()
    assert set(half.values()) <= {"open", "paid"}
    for payout in made:  # each payout is either wholly paid or wholly untouched
        with db.reading() as session:
            statuses = {
                r[0]
                for r in session.execute(
                    text("SELECT status FROM commission_lines WHERE payout_id = :p"),
                    {"p": payout.id},
                )
            }
            posted = session.execute(
                text("SELECT count(*) FROM ledger_transactions WHERE key = :k"),
                {"k": f"payout:{payout.id}:paid"},
            ).scalar_one()
        assert statuses == ({"paid"} if half[payout.id] == "paid" else {"approved"})
        assert posted == (half[payout.id] == "paid")
    again = _command(settings, script=MARK_ALL.format(brand=brand))  # a restart: all of them
    assert again.wait(timeout=300) == 0, again.stdout.read() if again.stdout else b""
    assert set(states().values()) == {"paid"}
    with db.reading() as session:
        paid_twice = session.execute(
            text(
                "SELECT key FROM ledger_transactions WHERE kind = 'payout' GROUP BY key "
                "HAVING count(*) > 1"
            )
        ).all()
        receivable = session.execute(
            text(
                "SELECT coalesce(sum(amount_minor), 0) FROM ledger_postings WHERE account = "
                "'commission_receivable'"
            )
        ).scalar_one()
        transfers = session.execute(
            text("SELECT count(*) FROM ledger_transactions WHERE kind = 'payout'")
        ).scalar_one()
    assert paid_twice == []
    assert transfers == 40
    assert receivable == 0  # all that was approved is paid, once
    assert _unbalanced(db) == []
