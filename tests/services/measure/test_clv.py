"""CLV from files: the CDNOW transaction log gives the published fit end to end (CLI and
service), Spark summarizes exactly as DuckDB does, and bad files get errors naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from crosspromo.cli.output import jsonable
from crosspromo.config import Settings
from crosspromo.engine.backend import Engine
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure import clv
from tests.analytics.test_clv import PUBLISHED, cdnow_transactions
from tests.cli.test_cli import cli_here
from tests.compare import close

COLUMNS = clv.TransactionColumns("customer", "date", "dollars")


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clv") / "cdnow.csv"
    pa_csv.write_csv(cdnow_transactions(), path)
    return path


def test_cli_fits_the_published_parameters_from_transactions(log_file: Path) -> None:
    done = cli_here(
        "clv", "fit", str(log_file), "--customer-column", "customer", "--date-column", "date",
        "--amount-column", "dollars", "--period", "week", "--calibration-end", "1997-09-30",
        "--holdout-end", "1998-06-30", "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["customers"] == 2357
    for name, published in PUBLISHED.items():
        assert data["bgnbd"][name] == pytest.approx(published, rel=0.005)
    assert data["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    spend = data["gamma_gamma"]
    assert (spend["p"], spend["q"], spend["v"]) == pytest.approx((6.25, 3.74, 15.44), rel=0.01)
    rows = data["calibration_holdout"]
    assert [r["frequency"] for r in rows] == list(range(8))
    assert sum(r["customers"] for r in rows) == 2357
    for row in rows:  # the model tracks the holdout (Fader, Hardie & Lee 2005, figure 4)
        assert row["predicted"] == pytest.approx(row["actual"], abs=0.4)


def test_summary_file_and_predictions(tmp_path: Path, log_file: Path) -> None:
    settings = Settings()
    summary = clv.summarize_file(settings, log_file, COLUMNS, calibration_end="1997-09-30")
    path = tmp_path / "summary.parquet"
    pq.write_table(summary, path)
    out = tmp_path / "predictions.csv"
    done = cli_here("clv", "predict", "--summary", str(path), "--horizon", "39", "--out", str(out),
               "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["customers"] == 2357
    scored = pa_csv.read_csv(out).to_pylist()
    example = next(r for r in scored if str(r["customer"]) == "1")  # x=2, t_x=30.43, T=38.86
    assert example["frequency"] == 2
    assert example["expected_purchases"] == pytest.approx(1.226, abs=0.001)
    assert 0 < example["probability_alive"] < 1
    assert example["clv"] > 0
    assert all(r["probability_alive"] == 1.0 for r in scored if r["frequency"] == 0)


def test_spark_summarizes_like_duckdb(log_file: Path, spark_engine: Engine) -> None:
    settings = Settings()
    options = {"period": "week", "calibration_end": "1997-09-30", "holdout_end": "1998-06-30"}
    duck = clv.summarize_file(settings, log_file, COLUMNS, **options)
    spark = clv.summarize_file(settings, log_file, COLUMNS, engine=spark_engine, **options)
    assert duck.num_rows == spark.num_rows == 2357
    assert close(duck.to_pylist(), spark.to_pylist())


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        ("customer,date,dollars\n1,1997-01-01,-5\n", {}, "negative amount"),
        ("customer,date,dollars\n,1997-01-01,5\n", {}, "no customer in column customer"),
        ("customer,date,dollars\n1,soon,5\n", {}, "date column must hold dates"),
        ("customer,day,dollars\n1,1997-01-01,5\n", {}, "date"),
        ("customer,date,dollars\n1,1997-01-01,5\n", {"calibration_end": "30/09/1997"},
         "is not a date"),
        ("customer,date,dollars\n1,1997-01-01,5\n",
         {"calibration_end": "1997-09-30", "holdout_end": "1997-09-01"}, "must come after"),
        ("customer,date,dollars\n1,1997-01-01,5\n", {"calibration_end": "1996-01-01"},
         "no purchase by the calibration end"),
        ("customer,date,dollars\n1,1997-01-01,5\n", {"period": "fortnight"}, "period"),
        ("customer,date,dollars\n1,1997-01-01,5\n", {"holdout_end": "8688-07-19"},
         "between 1900 and 2100"),
    ],
)  # fmt: skip
def test_bad_logs_are_named(
    tmp_path: Path, content: str, options: dict[str, str], message: str
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        clv.summarize_file(Settings(), path, COLUMNS, **options)


def test_bad_summaries_are_named(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("frequency,recency,T,monetary_value\n1,2,3,10\n2,5,4,10\n")
    with pytest.raises(InvalidInputError, match="customer 2: recency must not exceed T"):
        clv.fit(clv.read_summary(path))
    path.write_text("frequency,recency\n1,2\n")
    with pytest.raises(InvalidInputError, match="T, monetary_value"):
        clv.read_summary(path)


def test_no_repeat_buyers_says_why(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("customer,date,dollars\n1,1997-01-01,5\n2,1997-01-03,7\n")
    fitted = clv.fit(clv.summarize_file(Settings(), path, COLUMNS))
    data = jsonable(fitted.report())
    assert data["bgnbd"]["r"] is None
    assert any("bought twice" in note for note in data["notes"])
    with pytest.raises(InvalidInputError, match="no prediction: no customer bought twice"):
        clv.predict(fitted, 39)


def test_too_few_customers_give_no_value_rather_than_nan(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("customer,date,dollars,source\nc1,2025-02-03,25,a\nc1,2025-05-03,25,a\n")
    columns = clv.TransactionColumns("customer", "date", "dollars", "source")
    summary = clv.summarize_file(
        Settings(), path, columns, calibration_end="2025-06-01", holdout_end="2099-07-19"
    )
    fitted = jsonable(clv.fit(summary, by_source=True).report())
    json.dumps(fitted, allow_nan=False)  # every number finite, or null
    value = fitted["by_source"]["a"].get("value")
    assert value is None or all(isinstance(value[k], float) for k in ("mean", "lower", "upper"))
