"""Commission computation, as a ratio to one SQL ``INSERT ... SELECT`` that applies a single
flat percentage rule to the same conversions on the same database.

    .venv/bin/python benchmarks/commissions.py [--rows 1000000] [--sqlite]

crosspromo runs `commissions compute` as a user would (``services.pay.commissions.compute``):
it reads the conversions credited to the partner, applies the agreed terms (10% of each sale,
half to even), runs the fraud checks, writes one line per sale and approves and posts what is
due, in one transaction. The anchor writes the same lines into a table made ``LIKE
commission_lines INCLUDING ALL`` (same columns, indexes, unique key) with one statement.
Both results are checked to hold the same amounts. Goal: at most 3x on PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
from _common import SECRET, postgres_url, sqlite_url
from sqlalchemy import text

from crosspromo.config import load_settings
from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.agree.agreements import accept, propose
from crosspromo.services.agree.terms import parse_terms, template
from crosspromo.services.pay.commissions import compute
from crosspromo.store.database import Database
from crosspromo.store.repositories import ConversionRepository

AS_OF = date(2026, 11, 30)
COMMISSION = {
    "currency": "EUR",
    "rounding": "half_even",
    "holding_days": 30,
    "clawback_days": 90,
    "rules": [{"applies_to": "sale", "kind": "percent", "rate_bp": 1000, "recurring_months": 120}],
}


def load(db: Database, rows: int) -> tuple[int, int]:
    """A brand and a partner under terms paying 10% of each sale, and ``rows`` sales."""
    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    partner = create_organization(db, "beans", "Beans", OrgKind.PARTNER).id
    terms = parse_terms(
        template("acme", "beans").document() | {"start": "2026-01-01", "commission": COMMISSION}
    )
    made = propose(db, brand, "beans", terms)
    accept(db, partner, made.partnership_id, made.version or 1)
    rng = np.random.default_rng(7)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    step = 200_000
    with db.transaction() as session:
        repository = ConversionRepository(session)
        for start in range(0, rows, step):
            n = min(step, rows - start)
            seconds = rng.integers(0, 300 * 86_400, n)
            repository.add_tables(
                [
                    pa.table(
                        {
                            "org_id": pa.array([brand] * n, pa.int32()),
                            "kind": ["sale"] * n,
                            "partner_org_id": pa.array([partner] * n, pa.int32()),
                            "order_id": [f"o{start + i}" for i in range(n)],
                            "amount_minor": pa.array(rng.integers(100, 50_000, n), pa.int64()),
                            "currency": ["EUR"] * n,
                            "occurred_at": [first + timedelta(seconds=int(s)) for s in seconds],
                        }
                    )
                ]
            )
    return brand, partner


def anchor(db: Database, brand: int, partner: int) -> float:
    """One INSERT ... SELECT of the same lines (10%, half to even) into a twin table."""
    with db.transaction() as session:
        session.execute(
            text("CREATE TABLE anchor_lines (LIKE commission_lines INCLUDING ALL)")
            if not db.settings.is_sqlite
            else text("CREATE TABLE anchor_lines AS SELECT * FROM commission_lines WHERE 0")
        )
        if db.settings.is_sqlite:
            session.execute(
                text(
                    "CREATE UNIQUE INDEX anchor_place ON anchor_lines "
                    "(conversion_id, version, rule, seq)"
                )
            )
    half_even = (
        "(amount_minor * 1000 / 10000 + CASE WHEN amount_minor * 1000 % 10000 > 5000 OR "
        "(amount_minor * 1000 % 10000 = 5000 AND (amount_minor * 1000 / 10000) % 2 = 1) "
        "THEN 1 ELSE 0 END)"
    )
    # our own columns and arithmetic, no input
    insert = (
        "INSERT INTO anchor_lines (org_id, partner_org_id, partnership_id, conversion_id, "  # noqa: S608
        "version, rule, seq, currency, amount_minor, period, occurred_at, due_on, status, "
        "run_id, created_at) "
        f"SELECT org_id, partner_org_id, 1, id, 1, 0, 0, currency, {half_even}, '2026-01', "
        "occurred_at, :day, 'pending', 1, occurred_at FROM conversions "
        "WHERE org_id = :brand AND partner_org_id = :partner AND kind = 'sale' "
        f"AND {half_even} > 0"
    )
    started = time.perf_counter()
    with db.transaction() as session:
        session.execute(text(insert), {"brand": brand, "partner": partner, "day": AS_OF})
    return time.perf_counter() - started


def measure(url: str, rows: int) -> tuple[float, float]:
    settings = load_settings(database_url=url, secret_key=SECRET)
    upgrade_database(settings)
    db = open_database(settings)
    brand, partner = load(db, rows)
    started = time.perf_counter()
    done = compute(db, brand, AS_OF)
    ours = time.perf_counter() - started
    theirs = anchor(db, brand, partner)
    with db.reading() as session:
        sums = session.execute(
            text(
                "SELECT (SELECT sum(amount_minor) FROM commission_lines), "
                "(SELECT sum(amount_minor) FROM anchor_lines)"
            )
        ).one()
    assert done.lines == rows, done
    assert sums[0] == sums[1], sums
    db.dispose()
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="also on SQLite")
    args = parser.parse_args()
    print(f"commissions for {args.rows:,} sales (10% of each), as of {AS_OF}")
    with postgres_url() as url:
        if url is None:
            sys.exit("no PostgreSQL at CROSSPROMO_TEST_POSTGRES_URL")
        ours, theirs = measure(url, args.rows)
        print(
            f"PostgreSQL  compute {ours:7.2f} s   INSERT ... SELECT {theirs:6.2f} s   "
            f"ratio {ours / theirs:5.2f}x (goal <= 3)"
        )
    if args.sqlite:
        with sqlite_url() as url:
            ours, theirs = measure(url, args.rows)
            print(
                f"SQLite      compute {ours:7.2f} s   INSERT ... SELECT {theirs:6.2f} s   "
                f"ratio {ours / theirs:5.2f}x"
            )


if __name__ == "__main__":
    main()
