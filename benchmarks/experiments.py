"""Experiment analysis end to end, as a ratio to a bare DuckDB GROUP BY over the same file.

    .venv/bin/python benchmarks/experiments.py [--units 10000000]

Writes (once, cached in a temporary folder per size) a Parquet file of units in three arms with
a binary metric (converted) and a revenue metric. Times, in this run: crosspromo's
``analyze_file`` (reading the file, every arm's sufficient statistics for both metrics, all
tests, Holm, SRM, decision) against DuckDB alone running
``SELECT arm, count(*), sum(converted), sum(revenue) ... GROUP BY arm`` on the file. Each is run
three times; the best times are compared. Also prints our peak memory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import peak_mb, reset_peak

from crosspromo.config import Settings
from crosspromo.services.measure.analysis import analyze_file, parse_metric

ARMS = np.array(["control", "partner", "brand"])


def write_units(path: Path, units: int, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    with pq.ParquetWriter(path, pa.schema([("arm", pa.string()), ("converted", pa.int8()),
                                           ("revenue", pa.float64())])) as writer:  # fmt: skip
        for start in range(0, units, 1_000_000):
            size = min(1_000_000, units - start)
            arm = rng.integers(0, 3, size)
            rate = np.array([0.05, 0.056, 0.053])[arm]
            converted = rng.random(size) < rate
            revenue = np.where(converted, rng.lognormal(4, 0.6, size), 0.0)
            writer.write_table(
                pa.table(
                    {"arm": ARMS[arm], "converted": converted.astype(np.int8), "revenue": revenue}
                )
            )


def best_of(runs: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "crosspromo-bench"
    folder.mkdir(exist_ok=True)
    file = folder / f"units-{args.units}.parquet"
    if not file.exists():
        write_units(file, args.units)
    anchor_sql = (
        "SELECT arm, count(*), sum(converted), sum(revenue) FROM read_parquet($1) GROUP BY arm"
    )
    connection = duckdb.connect()

    def anchor() -> None:
        connection.execute(anchor_sql, [str(file)]).fetchall()

    metrics = [parse_metric("converted:binary"), parse_metric("revenue:mean")]
    settings = Settings()

    def ours() -> None:
        analyze_file(settings, file, "arm", "control", metrics)

    reset_peak()
    ours_seconds = best_of(args.runs, ours)
    our_peak = peak_mb()
    anchor_seconds = best_of(args.runs, anchor)
    report = analyze_file(settings, file, "arm", "control", metrics)
    print(
        f"units                  {args.units:>12,}   ({file.stat().st_size / 1e6:,.0f} MB Parquet)"
    )
    print(f"DuckDB GROUP BY arm    {anchor_seconds:>10.3f} s")
    print(f"experiment analyze     {ours_seconds:>10.3f} s   (sums, tests, Holm, SRM, decision)")
    print(f"ratio                  {ours_seconds / anchor_seconds:>10.2f}x  (goal <= 1.5x)")
    print(f"our peak memory        {our_peak:>10.0f} MB  (goal < 2048 MB)")
    print(f"decision               {report.decision.action}: {report.decision.reason}")


if __name__ == "__main__":
    main()
