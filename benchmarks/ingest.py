"""Conversion import throughput, as a ratio to PostgreSQL's own COPY of the same CSV file.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000]

Both load into a fresh PostgreSQL database (CROSSPROMO_TEST_POSTGRES_URL): crosspromo through
`conversions import` (every row validated, customer ids hashed, all-or-nothing), the anchor as
`COPY ... FROM STDIN (FORMAT csv)` into a plain table with the same columns.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from _common import SECRET, postgres_url
from sqlalchemy.engine import make_url

from crosspromo.config import load_settings
from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.track.imports import import_conversions

COLUMNS = ["type", "occurred_at", "amount_minor", "currency", "order_id", "customer_external_id"]
STORED = (
    "org_id, kind, partner_org_id, link_id, click_id, code_id, order_id, customer_hash, "
    "amount_minor, currency, occurred_at, recorded_at"
)


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            kind = "sale" if rng.random() < 0.7 else "lead"
            amount = rng.randint(100, 20_000) if kind == "sale" else 0
            when = f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T1{rng.randint(0, 9)}:00:00Z"
            currency = "EUR" if kind == "sale" else ""
            customer = f"customer{rng.randint(0, 10**6)}@x.test"
            writer.writerow([kind, when, amount, currency, f"o{i}", customer])


def copy_anchor(url: str, path: Path) -> float:
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute(
            "CREATE TABLE copy_anchor (type text, occurred_at timestamptz, amount_minor bigint, "
            "currency text, order_id text, customer_external_id text)"
        )
        started = time.perf_counter()
        statement = "COPY copy_anchor FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor().copy(statement) as copy, path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def stored_rows(url: str) -> bytes:
    """The conversions crosspromo stored, as CSV, to measure PostgreSQL loading them alone."""
    with psycopg.connect(conninfo(url)) as conn, conn.cursor() as cursor:
        data = bytearray()
        query = f"COPY (SELECT {STORED} FROM conversions) TO STDOUT (FORMAT csv)"  # noqa: S608
        with cursor.copy(query) as copy:
            for chunk in copy:
                data += chunk
        return bytes(data)


def store_floor(url: str, data: bytes) -> float:
    """COPY of the already prepared rows into a fresh conversions table (indexes and all)."""
    upgrade_database(load_settings(database_url=url, secret_key=SECRET))
    with psycopg.connect(conninfo(url)) as conn:
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY conversions ({STORED}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])
        conn.commit()
        return time.perf_counter() - started


def ours(url: str, path: Path) -> float:
    settings = load_settings(database_url=url, secret_key=SECRET)
    upgrade_database(settings)
    db = open_database(settings)
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    started = time.perf_counter()
    count = import_conversions(db, org.id, path).imported
    elapsed = time.perf_counter() - started
    db.dispose()
    assert count > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        path = Path(folder) / "conversions.csv"
        write_csv(path, args.rows)
        with postgres_url() as url:
            if url is None:
                sys.exit("PostgreSQL is not reachable: this benchmark needs it")
            anchor = copy_anchor(url, path)
            mine = ours(url, path)
            data = stored_rows(url)
        with postgres_url() as url:
            assert url is not None
            floor = store_floor(url, data)
    print(f"rows                    {args.rows:>10,}")
    print(f"PostgreSQL COPY         {anchor:10.2f} s   {args.rows / anchor:12,.0f} rows/s")
    print(f"crosspromo import       {mine:10.2f} s   {args.rows / mine:12,.0f} rows/s")
    print(f"ratio                   {mine / anchor:10.2f}x COPY   (goal <= 3x)")
    print(
        f"floor: PostgreSQL alone COPYing the prepared rows into conversions (3 indexes) "
        f"{floor:.2f} s = {floor / anchor:.2f}x COPY"
    )


if __name__ == "__main__":
    main()
