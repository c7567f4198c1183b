"""Churn by acquisition source from a transaction log: the engine's counts give the curves
lifelines gives on lifetimes computed row by row in pandas, cohorts match a direct count, and
Spark agrees with DuckDB."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv
import pytest
from lifelines import KaplanMeierFitter

from crosspromo.cli.output import jsonable
from crosspromo.config import Settings
from crosspromo.engine.backend import Engine
from crosspromo.errors import InvalidInputError
from crosspromo.sample.purchases import Truth, transaction_log
from crosspromo.services.measure.churn import churn_file
from crosspromo.services.measure.clv import TransactionColumns
from tests.cli.test_cli import cli
from tests.compare import close

TRUTHS = {
    "organic": Truth(0.8, 5.0, 0.9, 3.0),
    "partner_a": Truth(1.2, 5.0, 0.7, 3.5),
    "paid": Truth(0.6, 5.0, 1.2, 2.0),
}
COLUMNS = TransactionColumns("customer", "date", "amount", "source")


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sizes = {"organic": 1500, "partner_a": 1000, "paid": 800}
    log = transaction_log(TRUTHS, sizes, date(2025, 1, 1), 78, np.random.default_rng(4))
    path = tmp_path_factory.mktemp("churn") / "log.csv"
    pa_csv.write_csv(log, path)
    return path


def lifetimes_by_hand(path: Path, inactivity: int) -> pd.DataFrame:
    log = pd.read_csv(path, parse_dates=["date"]).sort_values(["customer", "date"])
    end = log["date"].max()
    per = log.groupby("customer").agg(
        first=("date", "min"), last=("date", "max"), source=("source", "first")
    )
    per["duration"] = (per["last"] - per["first"]).dt.days
    per["event"] = (per["last"] + pd.Timedelta(days=inactivity) <= end).astype(int)
    return per


def test_curves_equal_lifelines_on_lifetimes_by_hand(log_file: Path) -> None:
    report = churn_file(Settings(), log_file, COLUMNS, inactivity_days=60)
    by_hand = lifetimes_by_hand(log_file, 60)
    assert set(report.sources) == set(TRUTHS)
    for source, curve in report.sources.items():
        part = by_hand[by_hand["source"] == source]
        assert curve.customers == len(part)
        assert curve.events == int(part["event"].sum())
        fitted = KaplanMeierFitter().fit(part["duration"], part["event"]).survival_function_
        for time in (0, 30, 90, 200, 400):
            assert curve.at(time) == pytest.approx(float(fitted.loc[:time].iloc[-1, 0]))
    assert report.log_rank.p_value is not None
    assert report.log_rank.p_value < 1e-6  # the sources differ by construction
    assert report.cox.baseline == "organic"
    ratios = {r.group: r.hazard_ratio for r in report.cox.hazard_ratios}
    assert ratios["paid"] > 1 > ratios["partner_a"]  # paid churn faster, partner customers slower


def test_cohorts_equal_a_direct_count(log_file: Path) -> None:
    cohorts = churn_file(Settings(), log_file, COLUMNS).cohorts
    log = pd.read_csv(log_file, parse_dates=["date"])
    log["month"] = log["date"].dt.year * 12 + log["date"].dt.month
    log["cohort"] = log.groupby("customer")["month"].transform("min")
    active = log.groupby(["cohort", "month"])["customer"].nunique()
    first_cohort = int(log["cohort"].min())
    assert cohorts.months[0] == "2025-01"
    for row, (size, shares) in enumerate(zip(cohorts.sizes, cohorts.retention, strict=True)):
        cohort = first_cohort + row
        assert size == active.loc[(cohort, cohort)]
        for age, share in enumerate(shares):
            if share is None:
                assert cohort + age > int(log["month"].max())
            else:
                assert share == pytest.approx(active.get((cohort, cohort + age), 0) / size)


def test_cli_and_spark_agree(log_file: Path, spark_engine: Engine) -> None:
    done = cli("churn", str(log_file), "--source-column", "source", "--inactivity-days", "60",
               "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    duck = json.loads(done.stdout)
    spark = churn_file(Settings(), log_file, COLUMNS, inactivity_days=60, engine=spark_engine)
    assert close(jsonable(spark), duck)


def test_bad_options_are_named(log_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no customer came from 'tv'"):
        churn_file(Settings(), log_file, COLUMNS, baseline="tv")
    with pytest.raises(InvalidInputError, match="inactivity_days"):
        churn_file(Settings(), log_file, COLUMNS, inactivity_days=0)
    with pytest.raises(InvalidInputError, match="no purchase by the end"):
        churn_file(Settings(), log_file, COLUMNS, end="2020-01-01")
    plain = churn_file(Settings(), log_file, TransactionColumns("customer", "date"))
    assert list(plain.sources) == ["all"]
    assert plain.cox.note is not None
    missing = tmp_path / "log.csv"
    missing.write_text("customer,date\nc1,2025-01-01\n")
    with pytest.raises(InvalidInputError, match="source"):
        churn_file(Settings(), missing, COLUMNS)
