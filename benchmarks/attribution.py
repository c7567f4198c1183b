"""Attribution speed and exactness against the ChannelAttribution package (PyPI 2.2.5).

    .venv/bin/python benchmarks/attribution.py [--journeys 1000000] [--scales 10000,...]

Generates journeys over 8 channels (seeded). Ours: aggregate the journeys into distinct paths
(DuckDB through the engine), then the exact first-order Markov removal effect and every heuristic
model. Anchor: ChannelAttribution's ``markov_model`` (order 1, with nulls) and
``heuristic_models`` on the same aggregated paths, in its own virtual environment
(``benchmarks/.venv-channelattribution``, made on first use from the pinned requirements); only
the two calls are timed there, not reading the paths. Printed: both times, their ratio, the
relative error of the anchor's simulated Markov credit against our exact one, our peak memory,
a whole-process line, and a scale line (each size in a fresh process) showing how the cost
follows distinct paths.

The whole-process line is what a user waits for: ``crosspromo attribution run --paths FILE
--format json`` (every model: the six heuristics, exact Markov and Shapley) against a Python
process that imports pandas and ChannelAttribution, reads the same file and runs
``markov_model`` and ``heuristic_models``; each the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from _common import anchor_python, peak_mb, reset_peak

from crosspromo.analytics.attribution import HEURISTICS, MarkovAttribution, heuristic
from crosspromo.analytics.attribution.journeys import aggregate_paths
from crosspromo.engine.backend import Engine
from crosspromo.services.measure.journeys import paths_from_table

HERE = Path(__file__).parent
ANCHOR_REQUIREMENTS = HERE / "channelattribution-requirements.txt"
CHANNELS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
SHARES = np.array([0.22, 0.18, 0.15, 0.12, 0.11, 0.09, 0.08, 0.05])
LIFTS = np.array([0.08, 0.05, 0.03, 0.06, 0.02, 0.04, 0.01, 0.10])
MAX_TOUCHES = 12

ANCHOR_PROCESS = """
import sys
import pandas as pd
from ChannelAttribution import heuristic_models, markov_model
paths = pd.read_csv(sys.argv[1], sep=";")
markov_model(paths, "path", "total_conversions", var_value="total_conversion_value",
             var_null="total_null", order=1, verbose=0, flg_pro=False)
heuristic_models(paths, "path", "total_conversions", var_value="total_conversion_value",
                 flg_pro=False)
"""
ANCHOR_SCRIPT = """
import json, sys, time
import pandas as pd
from ChannelAttribution import heuristic_models, markov_model
paths = pd.read_csv(sys.argv[1], sep=";")
started = time.perf_counter()
markov = markov_model(paths, "path", "total_conversions", var_value="total_conversion_value",
                      var_null="total_null", order=1, verbose=0, flg_pro=False)
heuristics = heuristic_models(paths, "path", "total_conversions",
                              var_value="total_conversion_value", flg_pro=False)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "markov": dict(zip(markov["channel_name"],
                  markov["total_conversions"])), "heuristic_rows": len(heuristics)}))
"""


def journeys(count: int, seed: int = 11) -> pa.Table:
    """``count`` journeys: a path of 1-12 touches, whether it converted, and its value."""
    rng = np.random.default_rng(seed)
    codes, converted, value = [], [], []
    for start in range(0, count, 1_000_000):  # in slices, to keep the generator's memory low
        size = min(1_000_000, count - start)
        lengths = np.minimum(rng.geometric(0.45, size), MAX_TOUCHES)
        touches = rng.choice(len(CHANNELS), size=(size, MAX_TOUCHES), p=SHARES)
        used = np.arange(MAX_TOUCHES) < lengths[:, None]
        # a path as one integer: base-9 digits, 0 meaning no touch
        codes.append((np.where(used, touches + 1, 0) * (9 ** np.arange(MAX_TOUCHES))).sum(axis=1))
        missed = np.ones(size)
        for c, lift in enumerate(LIFTS):
            missed *= np.where(((touches == c) & used).any(axis=1), 1 - lift, 1.0)
        won = rng.random(size) < 1 - missed
        converted.append(won)
        value.append(np.where(won, rng.lognormal(4, 0.5, size), 0.0))
    distinct, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    names = [_path_name(int(code)) for code in distinct]
    path = pa.DictionaryArray.from_arrays(pa.array(inverse, pa.int32()), pa.array(names))
    return pa.table(
        {
            "path": pc.cast(path, pa.string()),  # plain text: our aggregation does the grouping
            "converted": np.concatenate(converted),
            "value": np.concatenate(value),
        }
    )


def _path_name(code: int) -> str:
    names = []
    while code:
        code, digit = divmod(code, 9)
        names.append(CHANNELS[digit - 1])
    return " > ".join(names)


def ours(table: pa.Table) -> dict[str, Any]:
    reset_peak()  # count what attribution needs, not the generator's scratch arrays
    engine = Engine.duckdb()
    started = time.perf_counter()
    aggregated = engine.to_arrow(aggregate_paths(ibis.memtable(table)))
    paths = paths_from_table(aggregated)
    assert paths is not None
    grouped = time.perf_counter()
    markov = MarkovAttribution(1).fit(paths).attribution()
    for name in HEURISTICS:
        heuristic(name, paths)
    done = time.perf_counter()
    engine.close()
    return {
        "seconds": done - started,
        "aggregation_seconds": grouped - started,
        "model_seconds": done - grouped,
        "paths": len(paths.lengths),
        "aggregated": aggregated,
        "markov": dict(zip(markov.channels, markov.conversions.tolist(), strict=True)),
        "peak_mb": peak_mb(),
    }


def anchor(aggregated: pa.Table) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "paths.csv"
        renamed = aggregated.rename_columns(
            ["path", "total_conversions", "total_conversion_value", "total_null"]
        )
        pa_csv.write_csv(renamed, file, pa_csv.WriteOptions(delimiter=";"))
        script = Path(folder) / "anchor.py"
        script.write_text(ANCHOR_SCRIPT)
        done = subprocess.run(
            [str(anchor_python("channelattribution", ANCHOR_REQUIREMENTS)), str(script), str(file)],
            capture_output=True,
            text=True,
            check=True,
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def whole_processes(aggregated: pa.Table, runs: int) -> tuple[float, float]:
    """Median seconds of our command and of the anchor's process on the same path file."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "paths.csv"
        renamed = aggregated.rename_columns(
            ["path", "total_conversions", "total_conversion_value", "total_null"]
        )
        pa_csv.write_csv(renamed, file, pa_csv.WriteOptions(delimiter=";"))
        script = Path(folder) / "anchor_process.py"
        script.write_text(ANCHOR_PROCESS)
        command = Path(sys.executable).with_name("crosspromo")
        ours = _median_seconds([str(command), "attribution", "run", "--paths", str(file),
                                "--format", "json"], runs)  # fmt: skip
        anchor_python_path = anchor_python("channelattribution", ANCHOR_REQUIREMENTS)
        theirs = _median_seconds([str(anchor_python_path), str(script), str(file)], runs)
    return ours, theirs


def scale_line(count: int) -> None:
    """One size, in this (fresh) process: print one JSON line."""
    table = journeys(count)
    result = ours(table)
    result.pop("aggregated")
    result.pop("markov")
    print(json.dumps({"journeys": count, **result}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument(
        "--scales",
        default="10000,100000,1000000,10000000",
        help="journeys per scale line (comma-separated; empty: no scale lines)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each whole process")
    parser.add_argument("--one-scale", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_scale:
        scale_line(args.one_scale)
        return
    table = journeys(args.journeys)
    mine = ours(table)
    theirs = anchor(mine["aggregated"])
    exact, simulated = mine["markov"], theirs["markov"]
    error = max(abs(simulated[c] - exact[c]) / exact[c] for c in exact if exact[c] > 0)
    print(f"journeys                 {args.journeys:>12,}   distinct paths {mine['paths']:,}")
    print(
        f"crosspromo               {mine['seconds']:>10.3f} s   (aggregation "
        f"{mine['aggregation_seconds']:.3f} s, exact Markov + 6 heuristics "
        f"{mine['model_seconds']:.3f} s)"
    )
    print(
        f"ChannelAttribution 2.2.5 {theirs['seconds']:>10.3f} s   (markov_model + heuristic_models)"
    )
    print(
        f"ratio                    {mine['seconds'] / theirs['seconds']:>10.3f}x   (goal <= 0.7x)"
    )
    print(f"anchor's Markov error    {error:>10.2%}   largest relative error of its simulation")
    print(
        f"our peak memory          {mine['peak_mb']:>10.0f} MB  (goal < 1024 MB; the journeys "
        f"in memory included, the generator's scratch not)"
    )
    ours_process, anchor_process = whole_processes(mine["aggregated"], args.runs)
    print(
        f"whole process            {ours_process:>10.3f} s   crosspromo attribution run --paths "
        f"(every model) against {anchor_process:.3f} s for ChannelAttribution (median of "
        f"{args.runs})"
    )
    print(f"whole-process ratio      {ours_process / anchor_process:>10.3f}x   (goal <= 0.7x)")
    if not args.scales:
        return
    print("scale (each in a fresh process):")
    for count in (int(s) for s in args.scales.split(",")):
        done = subprocess.run(
            [sys.executable, __file__, "--one-scale", str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        line = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  {count:>11,} journeys  {line['paths']:>9,} paths  aggregation "
            f"{line['aggregation_seconds']:7.3f} s  models {line['model_seconds']:7.3f} s  "
            f"peak {line['peak_mb']:6.0f} MB"
        )


if __name__ == "__main__":
    main()
