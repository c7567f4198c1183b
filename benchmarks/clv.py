"""BG/NBD fitting speed and accuracy against the ``lifetimes`` package (PyPI 0.11.3).

    .venv/bin/python benchmarks/clv.py [--customers 1000000] [--seed 7]

Draws customers from the BG/NBD generative process with CDNOW's published parameters (seeded):
customers joined over 39 weeks and are observed for 39 to 78 weeks (CDNOW's whole span),
purchases are recorded by day, and the summary is in weeks (as a daily transaction log gives
it). The distance from the truth is the sample's own (about 1% at this size, up to 2% from seed
to seed); the distance between the two fits shows whether both found the same optimum. Ours:
``BGNBD().fit`` on the summary (checks, compression to distinct rows and the fit). Anchor:
``lifetimes.BetaGeoFitter().fit`` on the same summary, in its own virtual environment
(``benchmarks/.venv-lifetimes``, made on first use from the pinned requirements; lifetimes needs
``setuptools<70``); only the fit is timed there. Printed: both times, the ratio, and each fit's
largest relative parameter error against the truth.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from _common import anchor_python, peak_mb, reset_peak

from crosspromo.analytics.clv.bgnbd import BGNBD
from crosspromo.sample.purchases import Truth, summaries

HERE = Path(__file__).parent
REQUIREMENTS = HERE / "lifetimes-requirements.txt"
TRUTH = Truth(r=0.243, alpha=4.414, a=0.793, b=2.426)
NAMES = ("r", "alpha", "a", "b")

ANCHOR_SCRIPT = """
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter
data = pd.read_csv(sys.argv[1])
started = time.perf_counter()
fitted = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "params": {k: float(v) for k, v in fitted.params_.items()}}))
"""


def draw(customers: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = rng.integers(39 * 7, 78 * 7 + 1, customers)  # age at the end, in days
    x, t_x = summaries(TRUTH, days / 7.0, rng)  # the truth's rates are per week
    recency_days = np.minimum(np.round(t_x * 7), days)  # purchases are recorded by day
    return {"frequency": x, "recency": recency_days / 7.0, "T": days / 7.0}


def error(params: dict[str, float]) -> float:
    return max(abs(params[n] / getattr(TRUTH, n) - 1) for n in NAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = draw(args.customers, args.seed)
    reset_peak()
    started = time.perf_counter()
    result = BGNBD().fit(data["frequency"], data["recency"], data["T"]).result_
    ours_seconds = time.perf_counter() - started
    our_peak = peak_mb()
    ours = {n: float(getattr(result, n)) for n in NAMES}
    distinct = len(np.unique(np.stack([data[k] for k in ("frequency", "recency", "T")]), axis=1).T)
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "summary.csv"
        pa_csv.write_csv(pa.table(data), file)
        script = Path(folder) / "anchor.py"
        script.write_text(ANCHOR_SCRIPT)
        done = subprocess.run(
            [str(anchor_python("lifetimes", REQUIREMENTS)), str(script), str(file)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    anchor = json.loads(done.stdout.strip().splitlines()[-1])
    truth = " ".join(f"{n}={getattr(TRUTH, n)}" for n in NAMES)
    print(f"customers              {args.customers:>12,}   ({distinct:,} distinct rows)")
    print(f"truth                  {truth}")
    print(f"crosspromo BGNBD       {ours_seconds:>10.3f} s   (checks, compression, fit)")
    print(f"lifetimes BetaGeo      {anchor['seconds']:>10.3f} s   (0.11.3)")
    print(f"speed-up               {anchor['seconds'] / ours_seconds:>10.1f}x  (goal >= 10x)")
    print(f"ours: largest error    {error(ours):>10.2%}   " + _params(ours))
    print(f"lifetimes: error       {error(anchor['params']):>10.2%}   " + _params(anchor["params"]))
    apart = max(abs(ours[n] / anchor["params"][n] - 1) for n in NAMES)
    print(f"fits differ by         {apart:>10.2e}   (largest relative parameter difference)")
    print(f"our peak memory        {our_peak:>10.0f} MB  (the drawn customers included)")
    print(f"log-likelihood         {result.log_likelihood:>14,.1f}")


def _params(params: dict[str, float]) -> str:
    return " ".join(f"{n}={params[n]:.4f}" for n in NAMES)


if __name__ == "__main__":
    main()
