"""Private audience overlap: our exact protocol against ``openmined-psi`` (PyPI 2.0.6,
cardinality mode), a scale line, and the sketch mode.

    .venv/bin/python benchmarks/overlap.py [--size 200000] [--common 60000]
        [--scale 1000000] [--sketch 10000000] [--workers N]

Two lists of ``size`` e-mail addresses share ``common`` (in random order). Ours: normalizing
both lists, both sides of the exact protocol in one process (blinding spread over the cores)
with every message sealed and opened; bytes are the three sealed messages. Anchor: openmined-
psi's client and server in one process in its own virtual environment
(``benchmarks/.venv-openmined-psi``, made on first use from pinned requirements), a Golomb-
coded server setup at the same total false-positive rate (1e-9); only the protocol is timed
and its bytes are the serialized setup, request and response. Then our exact mode on
``scale`` x ``scale`` and the sketch mode on ``sketch`` x ``sketch`` (30% shared), each with
its error against the truth.
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
from _common import anchor_python, peak_mb

from crosspromo.analytics.overlap import Audience, normalize, run_exact, run_sketch

HERE = Path(__file__).parent
REQUIREMENTS = HERE / "openmined-psi-requirements.txt"

ANCHOR_SCRIPT = """
import json, sys, time
import private_set_intersection.python as psi
a = open(sys.argv[1]).read().split()
b = open(sys.argv[2]).read().split()
started = time.perf_counter()
client = psi.client.CreateWithNewKey(False)
server = psi.server.CreateWithNewKey(False)
setup = server.CreateSetupMessage(1e-9, len(a), b, psi.DataStructure.GCS)
request = client.CreateRequest(a)
response = server.ProcessRequest(request)
size = client.GetIntersectionSize(setup, response)
elapsed = time.perf_counter() - started
sent = sum(len(m.SerializeToString()) for m in (setup, request, response))
print(json.dumps({"seconds": elapsed, "intersection": size, "bytes": sent}))
"""


def lists(size: int, common: int, seed: int) -> tuple[pa.Array, pa.Array]:
    """Two lists of ``size`` addresses sharing ``common``, some in mixed case with spaces."""
    rng = np.random.default_rng(seed)
    people = rng.permutation(2 * size - common)
    a, b = people[:size], people[size - common :]
    rng.shuffle(b)

    def emails(ids: np.ndarray) -> pa.Array:
        text = np.char.add(np.char.add("person.", ids.astype(str)), "@example.com")
        messy = rng.random(len(ids)) < 0.1  # as exported: mixed case, stray spaces
        text[messy] = np.char.add(np.char.add(" ", np.char.upper(text[messy])), " ")
        return pa.array(text)

    return emails(a), emails(b)


def ours_exact(a: pa.Array, b: pa.Array, workers: int | None) -> tuple[float, int, int]:
    started = time.perf_counter()
    left, right = normalize(a).values.to_pylist(), normalize(b).values.to_pylist()
    result = run_exact(Audience(left), Audience(right), workers=workers)
    return time.perf_counter() - started, result.intersection, result.bytes_exchanged


def anchor(a: pa.Array, b: pa.Array) -> dict[str, float]:
    """openmined-psi on the same lists, normalized as ours are (it does not normalize)."""
    python = anchor_python("openmined-psi", REQUIREMENTS)
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / "a.txt", Path(folder) / "b.txt"]
        for path, values in zip(paths, (a, b), strict=True):
            path.write_text("\n".join(normalize(values).values.to_pylist()))
        out = subprocess.run(
            [str(python), "-c", ANCHOR_SCRIPT, *map(str, paths)],
            check=True,
            capture_output=True,
            text=True,
        )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--common", type=int, default=60_000)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--sketch", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    a, b = lists(args.size, args.common, args.seed)
    seconds, found, sent = ours_exact(a, b, args.workers)
    theirs = anchor(a, b)
    print(f"lists                {args.size:>12,} x {args.size:,}, {args.common:,} shared")
    print(f"crosspromo exact     {seconds:>10.2f} s  {sent / 1e6:>8.2f} MB  found {found:,}")
    print(
        f"openmined-psi 2.0.6  {theirs['seconds']:>10.2f} s  {theirs['bytes'] / 1e6:>8.2f} MB"
        f"  found {int(theirs['intersection']):,}"
    )
    print(f"time ratio           {seconds / theirs['seconds']:>10.2f}x  (goal <= 0.5x)")
    print(f"bytes ratio          {sent / theirs['bytes']:>10.2f}x  (goal <= 1.0x)")
    assert found == args.common == theirs["intersection"], "an intersection is wrong"

    if args.scale:
        common = int(args.scale * 0.3)
        a, b = lists(args.scale, common, args.seed + 1)
        seconds, found, sent = ours_exact(a, b, args.workers)
        print(
            f"exact at scale       {seconds:>10.2f} s  {sent / 1e6:>8.2f} MB  "
            f"{args.scale:,} x {args.scale:,}, found {found:,} of {common:,}"
        )
    if args.sketch:
        common = int(args.sketch * 0.3)
        a, b = lists(args.sketch, common, args.seed + 2)
        started = time.perf_counter()
        left, right = normalize(a, distinct=False).values, normalize(b, distinct=False).values
        result = run_sketch(left, right, workers=args.workers)
        seconds = time.perf_counter() - started
        error = abs(result.intersection - common) / common
        print(
            f"sketch               {seconds:>10.2f} s  {result.bytes_exchanged / 1e6:>8.2f} MB  "
            f"{args.sketch:,} x {args.sketch:,}: {result.intersection:,} +/- "
            f"{result.error_bound:,.0f} (99%) of {common:,}, error {error:.2%}  (goal < 30 s, < 2%)"
        )
    print(f"our peak memory      {peak_mb():>10.0f} MB")


if __name__ == "__main__":
    main()
