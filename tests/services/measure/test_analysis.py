"""Analyzing an experiment file: the warehouse sums equal the raw data's, bad files and options
get errors naming what is wrong, and the decision follows the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from statsmodels.stats.proportion import proportions_ztest

from crosspromo.cli.output import jsonable
from crosspromo.config import Settings
from crosspromo.engine.backend import Engine
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.analysis import (
    analyze_file,
    parse_metric,
    parse_weights,
    with_covariates,
)
from tests.cli.test_cli import cli_here
from tests.compare import close

CONVERTED = parse_metric("converted:binary")


def write(path: Path, n: int = 30_000, seed: int = 0, lift: float = 0.2) -> pa.Table:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "partner", "brand"], n)
    rate = np.select([arm == "control", arm == "partner"], [0.05, 0.05 * (1 + lift)], 0.05)
    pre = rng.gamma(2, 10, n)
    table = pa.table(
        {
            "arm": arm,
            "converted": (rng.random(n) < rate).astype(np.int64),
            "revenue": 0.5 * pre + rng.exponential(5, n),
            "orders": rng.poisson(1, n) + 1,
            "pre_revenue": pre,
            "unsubscribed": (rng.random(n) < 0.01).astype(np.int64),
        }
    )
    if path.suffix == ".csv":
        pa_csv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return table


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_sums_and_tests_match_the_raw_data(tmp_path: Path, suffix: str) -> None:
    file = tmp_path / f"units{suffix}"
    table = write(file)
    metrics = with_covariates(
        [CONVERTED, parse_metric("revenue:mean"), parse_metric("revenue:ratio:orders")],
        ["revenue=pre_revenue"],
    )
    report = analyze_file(Settings(), file, "arm", "control", metrics)
    arm = np.array(table.column("arm").to_pylist())
    converted = table.column("converted").to_numpy()
    partner = next(a for a in report.arms if a.arm == "partner")
    assert partner.n == int((arm == "partner").sum())
    counts = [converted[arm == a].sum() for a in ("partner", "control")]
    _, p = proportions_ztest(counts, [(arm == a).sum() for a in ("partner", "control")])
    comparison = partner.metrics["converted"].comparison
    assert comparison is not None
    assert comparison.p_value == pytest.approx(p, rel=1e-9)
    revenue = table.column("revenue").to_numpy()
    assert partner.metrics["revenue"].mean == pytest.approx(revenue[arm == "partner"].mean())
    orders = table.column("orders").to_numpy()
    ratio = revenue[arm == "partner"].sum() / orders[arm == "partner"].sum()
    assert partner.metrics["revenue/orders"].mean == pytest.approx(ratio)


def test_decisions(tmp_path: Path) -> None:
    file = tmp_path / "units.parquet"
    write(file, n=60_000, lift=0.3)
    report = analyze_file(
        Settings(), file, "arm", "control", [CONVERTED, parse_metric("unsubscribed:binary",
                                                                     guardrail=True)],
    )  # fmt: skip
    assert (report.decision.action, report.decision.arm) == ("ship", "partner")
    flat = tmp_path / "flat.parquet"
    write(flat, n=3_000, lift=0.0, seed=5)
    report = analyze_file(Settings(), flat, "arm", "control", [CONVERTED], planned_per_arm=5_000)
    assert report.decision.action == "keep_running"
    assert "of 5,000 planned units per arm" in report.decision.reason
    report = analyze_file(Settings(), flat, "arm", "control", [CONVERTED])
    assert report.decision.action == "keep_control"


def test_sample_ratio_mismatch_stops_the_decision(tmp_path: Path) -> None:
    file = tmp_path / "skewed.parquet"
    n = 40_000
    arm = np.where(np.arange(n) % 100 < 53, "control", "partner")
    pq.write_table(pa.table({"arm": arm, "converted": np.arange(n) % 7 == 0}), file)
    report = analyze_file(Settings(), file, "arm", "control", [CONVERTED])
    assert report.decision.action == "investigate"
    assert report.srm_p_value is not None
    assert report.srm_p_value < 0.001
    assert any("sample ratio mismatch" in w for w in report.warnings)
    planned = parse_weights(["control=53", "partner=47"])
    designed = analyze_file(Settings(), file, "arm", "control", [CONVERTED], shares=planned)
    assert designed.srm_p_value is not None
    assert designed.srm_p_value > 0.5
    with pytest.raises(InvalidInputError, match="weights name the arms control but the file"):
        analyze_file(Settings(), file, "arm", "control", [CONVERTED], shares={"control": 1.0})
    with pytest.raises(InvalidInputError, match="expected ARM=WEIGHT"):
        parse_weights(["control=-1"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arm_column": "group"}, "no column(s) group; it has arm, converted"),
        ({"control": "nobody"}, "no unit in the control arm 'nobody'; arms: brand, control"),
        ({"metrics": [parse_metric("missing:mean")]}, "no column(s) missing"),
        ({"metrics": [parse_metric("revenue:binary")]}, "revenue is binary but"),
    ],
)
def test_bad_requests(tmp_path: Path, change: dict[str, object], message: str) -> None:
    file = tmp_path / "units.parquet"
    write(file, n=2_000)
    arguments: dict[str, object] = {
        "arm_column": "arm",
        "control": "control",
        "metrics": [CONVERTED],
    } | change
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        analyze_file(Settings(), file, **arguments)  # type: ignore[arg-type]


def test_missing_values_and_bad_metric_texts(tmp_path: Path) -> None:
    file = tmp_path / "gaps.csv"
    file.write_text("arm,converted\ncontrol,1\npartner,\ncontrol,0\npartner,1\n")
    with pytest.raises(InvalidInputError, match="1 unit\\(s\\) in arm 'partner' miss a value"):
        analyze_file(Settings(), file, "arm", "control", [CONVERTED])
    for text, message in (
        ("converted", "expected NAME:KIND"),
        ("converted:count", "unknown kind 'count'"),
        ("revenue:ratio", "a ratio names its denominator"),
        ("revenue:mean:orders", "a ratio names its denominator"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            parse_metric(text)


def test_cli_json_shape_and_power(tmp_path: Path) -> None:
    file = tmp_path / "units.parquet"
    write(file, n=20_000)
    done = cli_here(
        "experiment", "analyze", str(file), "--arm-column", "arm", "--control", "control",
        "--metric", "converted:binary", "--metric", "revenue:mean", "--covariate", "pre_revenue",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [a["arm"] for a in data["arms"]] == ["control", "brand", "partner"]
    control, partner = data["arms"][0], data["arms"][2]
    assert control["metrics"]["converted"]["lift_rel"] is None
    fields = {"mean", "lift_abs", "lift_rel", "ci_rel", "p_value", "prob_beat_control"}
    assert fields <= set(partner["metrics"]["revenue"])
    assert len(partner["metrics"]["converted"]["ci_rel"]) == 2
    assert set(data["omnibus_p_value"]) == {"converted", "revenue"}
    assert 0 <= data["srm_p_value"] <= 1
    table = cli_here(
        "experiment", "analyze", str(file), "--arm-column", "arm", "--control", "control",
        "--metric", "converted:binary",
    )  # fmt: skip
    assert "decision" in table.stdout
    power = cli_here(
        "experiment", "power", "--baseline", "0.05", "--mde", "0.10", "--alpha", "0.05",
        "--power", "0.8", "--arms", "3", "--format", "json",
    )  # fmt: skip
    assert json.loads(power.stdout)["per_arm"] == 37824
    bad = cli_here("experiment", "power", "--baseline", "1.5", "--mde", "0.1")
    assert bad.returncode != 0
    assert "baseline" in bad.stderr


def test_parquet_statistics_only_skip_what_they_prove(tmp_path: Path) -> None:
    flags = tmp_path / "flags.parquet"
    arm = ["control", "partner"] * 500
    pq.write_table(pa.table({"arm": arm, "converted": [i % 9 == 0 for i in range(1000)]}), flags)
    report = analyze_file(Settings(), flags, "arm", "control", [CONVERTED])
    assert report.arms[0].metrics["converted"].mean == pytest.approx(56 / 500)
    counts = tmp_path / "counts.parquet"
    pq.write_table(pa.table({"arm": arm, "converted": [i % 3 for i in range(1000)]}), counts)
    with pytest.raises(InvalidInputError, match="are neither 0 nor 1"):
        analyze_file(Settings(), counts, "arm", "control", [CONVERTED])
    gaps = tmp_path / "gaps.parquet"
    values = [None if i == 7 else i % 2 for i in range(1000)]
    pq.write_table(pa.table({"arm": arm, "converted": values}), gaps)
    with pytest.raises(InvalidInputError, match="1 unit\\(s\\) in arm 'partner' miss a value"):
        analyze_file(Settings(), gaps, "arm", "control", [CONVERTED])


def test_daily_looks_give_always_valid_p_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n = 40_000
    arm = rng.choice(["control", "partner"], n)
    day = np.datetime64("2026-03-01") + rng.integers(0, 14, n).astype("timedelta64[D]")
    converted = rng.random(n) < np.where(arm == "partner", 0.06, 0.05)
    file = tmp_path / "daily.parquet"
    pq.write_table(pa.table({"arm": arm, "day": day, "converted": converted}), file)
    daily = analyze_file(Settings(), file, "arm", "control", [CONVERTED], look_column="day")
    once = analyze_file(Settings(), file, "arm", "control", [CONVERTED])
    c, plain = daily.arms[1].metrics["converted"].comparison, once.arms[1].metrics["converted"]
    assert c is not None
    assert plain.comparison is not None
    assert c.p_value == pytest.approx(plain.comparison.p_value)  # the same units in the end
    assert c.sequential_p_value is not None
    assert plain.comparison.p_value <= c.sequential_p_value < 0.05
    assert daily.arms[1].n == int((arm == "partner").sum())
    done = cli_here(
        "experiment", "analyze", str(file), "--arm-column", "arm", "--control", "control",
        "--metric", "converted:binary", "--look-column", "day",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "always" in done.stdout  # the extra column, however the table wraps its title


def test_spark_gives_the_same_report(tmp_path: Path, spark_engine: Engine) -> None:
    file = tmp_path / "units.parquet"
    write(file, n=5_000)
    metrics = with_covariates(
        [CONVERTED, parse_metric("revenue:mean"), parse_metric("revenue:ratio:orders")],
        ["revenue=pre_revenue"],
    )
    on_duckdb = analyze_file(Settings(), file, "arm", "control", metrics)
    on_spark = analyze_file(Settings(), file, "arm", "control", metrics, engine=spark_engine)
    ours, theirs = jsonable(on_duckdb), jsonable(on_spark)
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True) or (
        close(ours, theirs)
    )


def test_segments_are_analyzed_apart(tmp_path: Path) -> None:
    """The offer works for new customers only; the breakdown shows it, the total blurs it."""
    rng = np.random.default_rng(21)
    n = 80_000
    arm = rng.choice(["control", "partner"], n)
    segment = rng.choice(["new", "returning"], n)
    rate = np.where((arm == "partner") & (segment == "new"), 0.08, 0.05)
    file = tmp_path / "segments.parquet"
    pq.write_table(
        pa.table({"arm": arm, "segment": segment, "converted": rng.random(n) < rate}), file
    )
    report = analyze_file(Settings(), file, "arm", "control", [CONVERTED], segment_column="segment")
    assert set(report.segments) == {"new", "returning"}
    new, returning = report.segments["new"], report.segments["returning"]
    assert (new.decision.action, new.decision.arm) == ("ship", "partner")
    assert returning.decision.action == "keep_control"
    assert new.arms[1].n + returning.arms[1].n == report.arms[1].n
    lift = new.arms[1].metrics["converted"].comparison
    assert lift is not None
    assert lift.ci_abs is not None
    assert lift.ci_abs[0] < 0.03 < lift.ci_abs[1]
    done = cli_here(
        "experiment", "analyze", str(file), "--arm-column", "arm", "--control", "control",
        "--metric", "converted:binary", "--segment", "segment", "--format", "json",
    )  # fmt: skip
    assert set(json.loads(done.stdout)["segments"]) == {"new", "returning"}
