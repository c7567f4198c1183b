"""The conversions API under a burst, as a ratio to a bare single-insert endpoint.

    .venv/bin/python benchmarks/conversions_api.py [--duration 12] [--connections 32] [--rounds 3]

All get the same `wrk -t1 -c32` load, taking turns (``--rounds`` of them, so that a slow
spell of a noisy machine falls on all alike): every request posts a sale with a fresh
Idempotency-Key, order and customer. The anchor (`bare_insert.py`, one uvicorn worker) does one
durable `INSERT ... ON CONFLICT` into PostgreSQL per request; crosspromo (`crosspromo serve`,
one worker) authenticates the key, checks idempotency, attributes the sale by its referral
code, stores it append-only with its outbox rows and answers with the stored conversion. The
script prints requests/s, p99 (the worst round's), the ratio, errors, and the rows stored
against the 201 answers (PostgreSQL, and SQLite beside it); rows beyond the answers are the
requests in flight when wrk stopped waiting, stored all the same (at most one a connection a
round).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2 as httpx
from _common import (
    SECRET,
    Load,
    brand_with_partner,
    crosspromo_server,
    ensure_debian_packages,
    free_port,
    interleaved,
    postgres_url,
    sqlite_url,
    wrk,
)
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from crosspromo.config import load_settings
from crosspromo.domain.conversions import CodeKind
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.track.conversions import create_code
from crosspromo.store import tables as t

HERE = Path(__file__).parent
SCRIPT = """
counter = 0
math.randomseed(os.time())
request = function()
  counter = counter + 1
  local id = string.format("%d-%d", math.random(1, 2000000000), counter)
  local body = '{"type":"sale","occurred_at":"2026-11-01T10:00:00Z","amount_minor":4999,' ..
    '"currency":"EUR","order_id":"o-' .. id .. '","referral_code":"BENCH10",' ..
    '"customer_external_id":"c-' .. id .. '"}'
  return wrk.format("POST", "/api/v1/conversions", {
    ["Content-Type"] = "application/json", ["Authorization"] = "Bearer KEY",
    ["Idempotency-Key"] = id}, body)
end
"""


BARE, POSTGRES, SQLITE = (
    "bare INSERT (PostgreSQL)",
    "crosspromo + PostgreSQL",
    "crosspromo + SQLite",
)


def lua(key: str, folder: Path, name: str) -> Path:
    path = folder / f"post-{name}.lua"
    path.write_text(SCRIPT.replace("KEY", key))
    return path


def prepare(database_url: str) -> str:
    """A brand, its partner with a referral code, and the brand's API key."""
    settings = load_settings(database_url=database_url, secret_key=SECRET)
    upgrade_database(settings)
    db = open_database(settings)
    create_code(db, brand_with_partner(db), "partner", "BENCH10", CodeKind.REFERRAL)
    key = create_api_key(db, "brand").key
    db.dispose()
    return key


def count(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        if table == "conversions":
            found = conn.execute(select(func.count()).select_from(t.conversions)).scalar_one()
        else:
            found = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    engine.dispose()
    return int(found)


@contextmanager
def bare_server(database_url: str) -> Iterator[str]:
    port = free_port()
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_insert:app", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        cwd=HERE, env={**os.environ, "BARE_DSN": dsn},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{url}/api/v1/conversions", json={"order_id": "warm"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the bare endpoint did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def line(name: str, load: Load, stored: int, anchor: Load | None) -> str:
    ratio = f"ratio {load.rps / anchor.rps:5.3f}x bare" if anchor else "anchor          "
    answered = load.requests - load.non_3xx
    return (
        f"{name:<26} {load.rps:7.0f} req/s   p99 {load.p99_ms:6.2f} ms   {ratio}   "
        f"errors {load.non_3xx + load.socket_errors}   rows stored {stored} / 201 answers "
        f"{answered} (in flight when wrk stopped: {stored - answered})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=12, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="turns the targets take")
    args = parser.parse_args()
    ensure_debian_packages("wrk")
    with tempfile.TemporaryDirectory(prefix="bench-conv-") as folder, ExitStack() as stack:
        bare = stack.enter_context(postgres_url())
        if bare is None:
            sys.exit("the anchor needs PostgreSQL at CROSSPROMO_TEST_POSTGRES_URL")
        targets: dict[str, tuple[str, Path | None]] = {
            BARE: (stack.enter_context(bare_server(bare)), lua("unused", Path(folder), "bare"))
        }
        databases = {BARE: (bare, "bare_conversions")}
        for name, context in ((POSTGRES, postgres_url), (SQLITE, sqlite_url)):
            database_url = stack.enter_context(context())
            if database_url is None:
                print(f"{name}: PostgreSQL not reachable, line skipped")
                continue
            script = lua(prepare(database_url), Path(folder), name.split()[-1])
            targets[name] = (stack.enter_context(crosspromo_server(database_url)).url, script)
            databases[name] = (database_url, "conversions")
        for url, script in targets.values():
            wrk(url, 2, args.connections, script)  # warm-up
        before = {name: count(*where) for name, where in databases.items()}
        loads = interleaved(targets, args.duration, args.connections, args.rounds)
        for name, load in loads.items():
            stored = count(*databases[name]) - before[name]
            print(line(name, load, stored, None if name == BARE else loads[BARE]))


if __name__ == "__main__":
    main()
