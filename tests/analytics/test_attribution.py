"""Attribution models against exact counting, an independent dense solution of the Markov
chain, a chain solved by hand, and Shapley values by enumerating every coalition."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from crosspromo.analytics.attribution import (
    MarkovAttribution,
    Paths,
    conversion_probability,
    heuristic,
    markov,
    shapley,
)
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.attribution import ModelOptions, attribute, read_paths
from tests.conftest import require

SHARED = Path(
    os.environ.get(
        "CROSSPROMO_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"
    )
)
PATHS_FILE = SHARED / "channelattribution_paths.csv"


@pytest.fixture(scope="module")
def published() -> Paths:
    """The ChannelAttribution example paths (GPL data: read in place, never copied here)."""
    if not PATHS_FILE.is_file():
        require(f"{PATHS_FILE} is absent (set CROSSPROMO_SHARED_DATA to the shared data folder)")
    return read_paths(PATHS_FILE)


def _rows(paths: Paths) -> list[tuple[list[str], float, float, float]]:
    return [
        ([paths.channels[i] for i in p], n, v, m)
        for p, n, v, m in zip(paths.paths, paths.conversions, paths.value, paths.nulls, strict=True)
    ]


def test_published_totals(published: Paths) -> None:
    assert len(published.channels) == 12
    assert published.total_conversions == 19_785
    assert published.nulls.sum() == 68_602
    assert published.total_value == pytest.approx(74_802.97, abs=0.01)


def test_heuristics_equal_exact_counting(published: Paths) -> None:
    first: Counter[str] = Counter()
    last: Counter[str] = Counter()
    linear: Counter[str] = Counter()
    for touches, conversions, _, _ in _rows(published):
        first[touches[0]] += conversions
        last[touches[-1]] += conversions
        for touch in touches:
            linear[touch] += conversions / len(touches)
    for model, expected in (("first", first), ("last", last), ("linear", linear)):
        result = heuristic(model, published)
        credited = dict(zip(result.channels, result.conversions, strict=True))
        assert credited == pytest.approx({c: expected.get(c, 0.0) for c in published.channels})
    for result in attribute(published, "all", ModelOptions(order=2)):
        assert result.conversions.sum() == pytest.approx(published.total_conversions, rel=1e-12)
        assert result.value.sum() == pytest.approx(published.total_value, rel=1e-12)


def test_position_and_time_decay_weights() -> None:
    paths = Paths.from_rows(
        [(["a", "b", "c", "d"], 10, 100, 0), (["a"], 1, 1, 0), (["a", "b"], 2, 2, 0)]
    )
    position = dict(zip(paths.channels, heuristic("position", paths).conversions, strict=True))
    assert position == pytest.approx({"a": 4 + 1 + 1, "b": 1 + 1, "c": 1, "d": 4})
    decay = heuristic("time_decay", paths, half_life=1.0)
    weights = np.array([1 / 8, 1 / 4, 1 / 2, 1]) / (15 / 8)
    assert decay.conversions[3] == pytest.approx(10 * weights[3])
    direct = Paths.from_rows([(["a", "direct"], 1, 1, 0), (["direct"], 1, 1, 0)])
    credited = dict(
        zip(direct.channels, heuristic("last_non_direct", direct).conversions, strict=True)
    )
    assert credited == {"a": 1.0, "direct": 1.0}


def _dense_probability(
    rows: list[tuple[list[str], float, float, float]], order: int, removed: str | None
) -> float:
    """An independent exact solution: journeys walked one by one into a dense transition matrix
    over named states, then the fundamental matrix N = (I - Q)^-1 (Kemeny & Snell)."""
    counts: dict[str, Counter[str]] = {}
    for touches, conversions, _, nulls in rows:
        states = ["START"] + [
            " > ".join(touches[max(0, i + 1 - order) : i + 1]) for i in range(len(touches))
        ]
        for here, there in itertools.pairwise(states):
            counts.setdefault(here, Counter())[there] += conversions + nulls
        counts.setdefault(states[-1], Counter())["CONVERSION"] += conversions
        counts[states[-1]]["NULL"] += nulls
    transient = sorted(counts)

    def dead(state: str) -> bool:
        return removed is not None and removed in state.split(" > ")

    index = {s: i for i, s in enumerate(transient)}
    q = np.zeros((len(transient), len(transient)))
    r = np.zeros(len(transient))
    for state, outgoing in counts.items():
        if dead(state):
            continue
        total = sum(outgoing.values())
        for target, weight in outgoing.items():
            if target == "CONVERSION":
                r[index[state]] += weight / total
            elif target != "NULL" and not dead(target):
                q[index[state], index[target]] += weight / total
    fundamental = np.linalg.inv(np.eye(len(transient)) - q)
    return float((fundamental @ r)[index["START"]])


@pytest.mark.parametrize("solver", ["sparse", "dense"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_sparse_solution_equals_a_dense_one(
    published: Paths, order: int, solver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways the chain is solved (sparse LU, and dense for small chains) give the
    fundamental matrix's answer, whatever the chain's size."""
    monkeypatch.setattr(markov, "DENSE_STATES", 0 if solver == "sparse" else 10**9)
    rows = _rows(published)
    if order == 3:  # the dense inverse grows with the cube of the states: a third of the paths
        rows = rows[::3]
    paths = Paths.from_rows(rows)
    for removed in (None, *paths.channels):
        exact = conversion_probability(paths, order, removed)
        assert exact == pytest.approx(_dense_probability(rows, order, removed), abs=1e-9)
    model = MarkovAttribution(order).fit(paths)
    result = model.attribution()
    assert result.conversions.sum() == pytest.approx(paths.total_conversions, rel=1e-12)
    # Flow conservation: a chain estimated from the journeys converts at their observed rate.
    journeys = paths.total_conversions + paths.nulls.sum()
    assert model.conversion_probability_ == pytest.approx(paths.total_conversions / journeys)


def test_markov_on_a_chain_solved_by_hand() -> None:
    """Five journeys: a (converts), a (null), a > b (converts), a > b (null), b (null).
    start -> a 4/5, -> b 1/5; a -> conversion 1/4, -> b 1/2, -> null 1/4; b -> conversion 1/3.
    P(b) = 1/3, P(a) = 1/4 + 1/2 * 1/3 = 5/12, P(start) = 4/5 * 5/12 + 1/5 * 1/3 = 2/5.
    Without a: 1/5 * 1/3 = 1/15, removal effect 1 - (1/15)/(2/5) = 5/6. Without b:
    4/5 * 1/4 = 1/5, removal effect 1/2. Two conversions split 5/6 : 1/2, so 1.25 and 0.75."""
    paths = Paths.from_rows(
        [(["a"], 1, 10, 1), (["a", "b"], 1, 20, 0), (["a", "b"], 0, 0, 1), (["b"], 0, 0, 1)]
    )
    assert conversion_probability(paths) == pytest.approx(2 / 5, abs=1e-15)
    assert conversion_probability(paths, removed="a") == pytest.approx(1 / 15, abs=1e-15)
    assert conversion_probability(paths, removed="b") == pytest.approx(1 / 5, abs=1e-15)
    model = MarkovAttribution().fit(paths)
    assert model.removal_effects_ == pytest.approx({"a": 5 / 6, "b": 1 / 2})
    assert model.attribution().conversions == pytest.approx([1.25, 0.75])


def test_no_conversions_says_why() -> None:
    paths = Paths.from_rows([(["a", "b"], 0, 0, 5)])
    result = MarkovAttribution().fit(paths).attribution()
    assert result.conversions.tolist() == [0.0, 0.0]
    assert "no journey converts" in result.note


def _brute_force_shapley(paths: Paths) -> dict[str, float]:
    channels = paths.channels

    def worth(coalition: frozenset[int]) -> float:
        return float(
            sum(
                n
                for p, n in zip(paths.paths, paths.conversions, strict=True)
                if set(p) <= coalition
            )
        )

    n = len(channels)
    values = {}
    for c in range(n):
        others = [i for i in range(n) if i != c]
        total = 0.0
        for size in range(n):
            for members in itertools.combinations(others, size):
                s = frozenset(members)
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                total += weight * (worth(s | {c}) - worth(s))
        values[channels[c]] = total
    return values


def test_shapley_equals_enumerating_every_coalition(published: Paths) -> None:
    keep = set(published.channels[:7])  # 2^7 coalitions per channel: enumeration stays quick
    rows = [r for r in _rows(published) if set(r[0]) <= keep]
    paths = Paths.from_rows(rows)
    result = shapley(paths)
    assert dict(zip(paths.channels, result.conversions, strict=True)) == pytest.approx(
        _brute_force_shapley(paths), rel=1e-12
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("path;total_conversions\n;1\n", "paths.csv, line 2: an empty cell"),
        ("path;total_conversions\na;1\nb;\n", "paths.csv, line 3: an empty cell"),
        ("path;total_conversions\na >  > b;1\n", "an empty channel"),
        ("path;conversions\na;1\n", "missing column"),
        ("path;total_conversions\na;-1\n", "not negative"),
        ("path;total_conversions\na;x\n", "column total_conversions"),
    ],
)
def test_bad_path_files(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "paths.csv"
    file.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        read_paths(file)


def test_bad_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = tmp_path / "paths.parquet"
    pq.write_table(pa.table({"path": ["a > b", "a >  > c"], "total_conversions": [1, 2]}), file)
    with pytest.raises(InvalidInputError, match=r"paths.parquet, row 2: an empty channel"):
        read_paths(file)


def test_models_are_checked() -> None:
    paths = Paths.from_rows([(["a"], 1, 1, 0)])
    with pytest.raises(InvalidInputError, match="unknown model"):
        attribute(paths, "magic")
    with pytest.raises(InvalidInputError, match="order must be 1, 2 or 3"):
        MarkovAttribution(4).fit(paths)


def test_cli_json_and_csv(tmp_path: Path) -> None:
    from tests.cli.test_cli import cli_here

    file = tmp_path / "paths.csv"
    file.write_text(
        "path;total_conversions;total_conversion_value;total_null\na > b;2;30;1\nb;1;5;3\n"
    )
    done = cli_here(
        "attribution", "run", "--paths", str(file), "--model", "markov", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"] == "markov_1"
    assert [c["channel"] for c in result["channels"]] == ["a", "b"]
    assert sum(c["conversions"] for c in result["channels"]) == pytest.approx(3)
    every = cli_here("attribution", "run", "--paths", str(file), "--format", "csv")
    lines = every.stdout.splitlines()
    assert lines[0] == "model,channel,conversions,value"
    assert len(lines) == 1 + 2 * 8  # every model, two channels each
    bad = cli_here("attribution", "run", "--paths", str(file), "--model", "magic")
    assert bad.returncode != 0
    assert "unknown model 'magic'" in bad.stderr
