"""Customer lifetime value from a transaction log or a ready summary: the engine summarizes
each customer, BG/NBD and Gamma-Gamma are fitted, and customers are scored."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import ibis
import numpy as np
import pyarrow as pa

from crosspromo.analytics.clv.bgnbd import BGNBD, BGNBDResult
from crosspromo.analytics.clv.gamma_gamma import GammaGamma, GammaGammaResult
from crosspromo.analytics.clv.rfm import RFM
from crosspromo.analytics.clv.summary import (
    EPOCH,
    HOLDOUT_COLUMNS,
    PERIODS,
    SUMMARY_COLUMNS,
    customer_summary,
    daily_purchases,
)
from crosspromo.analytics.clv.value import HoldoutRow, calibration_holdout, lifetime_value
from crosspromo.config import Settings
from crosspromo.domain.clock import parse_date
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import InvalidInputError
from crosspromo.services.files.tabular import check_format, read_table, require_columns, write_table
from crosspromo.services.results.shown import WHEN_GIVEN
from crosspromo.store.database import Database
from crosspromo.store.repositories import JourneyRepository


@dataclass(frozen=True)
class TransactionColumns:
    customer: str
    date: str
    amount: str | None = None
    source: str | None = None  # acquisition source (partner, organic, paid ...)
    missing_source: str = "unknown"  # the source of purchases without one

    @property
    def names(self) -> list[str]:
        return [c for c in (self.customer, self.date, self.amount, self.source) if c]


@dataclass(frozen=True)
class ClvFit:
    period: str
    bgnbd: BGNBDResult
    gamma_gamma: GammaGammaResult
    holdout: list[HoldoutRow]
    purchases: BGNBD
    spend: GammaGamma
    summary: pa.Table
    value: Value | None = None  # customers' mean discounted value, when asked for
    sources: dict[str, ClvFit] = field(default_factory=dict)

    @property
    def customers(self) -> int:
        return int(self.summary.num_rows)

    def report(self) -> ClvReport:
        """The fit as the API and the CLI show it."""
        return ClvReport(
            self.bgnbd, self.gamma_gamma, self.customers, self.bgnbd.repeat_buyers, self.period,
            self.gamma_gamma.frequency_spend_correlation, self.holdout,
            [n for n in (self.bgnbd.note, self.gamma_gamma.note) if n], self.value,
            {k: v.report() for k, v in self.sources.items()} if self.sources else None,
        )  # fmt: skip


@dataclass(frozen=True)
class Value:
    """Mean discounted value per customer over ``months``, with a 95% interval from the spread
    of customers' values (the models' parameter uncertainty is not in it)."""

    months: int
    monthly_discount: float
    mean: float
    lower: float
    upper: float


@dataclass(frozen=True)
class ClvReport:
    """BG/NBD's and Gamma-Gamma's parameters, the calibration-versus-holdout table when there
    is a holdout, notes on what could not be fitted, the mean value per customer when asked
    for, and the same per acquisition source when fitted by source."""

    bgnbd: BGNBDResult
    gamma_gamma: GammaGammaResult
    customers: int
    repeat_buyers: int
    period: str
    frequency_spend_correlation: float | None
    calibration_holdout: list[HoldoutRow]
    notes: list[str]
    value: Annotated[Value | None, WHEN_GIVEN] = None
    by_source: Annotated[dict[str, ClvReport] | None, WHEN_GIVEN] = None


def parse_day(text: str | None, field: str) -> int | None:
    """``YYYY-MM-DD`` as a day number (days since 1970-01-01), or a clear error."""
    day = parse_date(text, field)
    return None if day is None else (day - EPOCH).days


def summarize_file(
    settings: Settings,
    path: Path | StoredLog,
    columns: TransactionColumns,
    *,
    period: str = "week",
    calibration_end: str | None = None,
    holdout_end: str | None = None,
    engine: Engine | None = None,
) -> pa.Table:
    """The customer summary of a transaction log (CSV or Parquet), computed by the engine.
    Without ``calibration_end`` the calibration runs to the log's last day."""
    if period not in PERIODS:
        raise InvalidInputError(f"period must be one of {', '.join(PERIODS)}", field="period")
    end, last = parse_day(calibration_end, "calibration_end"), parse_day(holdout_end, "holdout_end")
    if end is not None and last is not None and last <= end:
        raise InvalidInputError("holdout_end must come after calibration_end", field="holdout_end")
    with engine_for(settings, engine) as runner:
        daily, end = read_log(runner, path, columns, end, "calibration_end")
        summary = runner.to_arrow(customer_summary(daily, period, end, last))
    return summary.sort_by("customer")


@dataclass(frozen=True)
class StoredLog:
    """Purchases already in memory (an organization's sales), named for messages."""

    name: str
    table: pa.Table


def read_log(
    runner: Engine, log: Path | StoredLog, columns: TransactionColumns, end: int | None, field: str
) -> tuple[Any, int]:
    """The purchase days of a transaction log (a CSV or Parquet file, or stored purchases) as
    an expression, and the day the data ends (``end``, named ``field`` in messages; the last
    purchase day by default), or an error naming what is wrong with it."""
    if isinstance(log, StoredLog):
        path, table = Path(log.name), ibis.memtable(log.table)
    else:
        path = log
        if not path.is_file():
            raise InvalidInputError(f"no such file: {path}", field="file")
        check_format(path)
        try:
            table = runner.read_file(str(path))
        except Exception as exc:
            raise InvalidInputError(f"{path.name} cannot be read: {exc}", field="file") from None
    require_columns(path.name, list(table.columns), columns.names)
    try:
        daily = daily_purchases(
            table, columns.customer, columns.date, columns.amount, columns.source,
            columns.missing_source,
        )  # fmt: skip
        checks = runner.to_arrow(_checks(table, columns, daily)).to_pylist()[0]
    except Exception as exc:
        raise InvalidInputError(
            f"{path.name}: the date column must hold dates and the amount column numbers ({exc})",
            field="file",
        ) from None
    _check(path.name, columns, checks)
    if end is None:
        end = int(checks["last_day"])
    if end < int(checks["first_day"]):
        raise InvalidInputError(f"no purchase by the {field.replace('_', ' ')}", field=field)
    return daily, end


def _checks(table: Any, columns: TransactionColumns, daily: Any) -> Any:
    amount = table[columns.amount] if columns.amount else None
    return table.aggregate(
        rows=table.count(),
        no_customer=table[columns.customer].isnull().sum(),
        no_date=table[columns.date].isnull().sum(),
        negative=(amount < 0).sum() if amount is not None else 0,
        no_amount=amount.isnull().sum() if amount is not None else 0,
    ).cross_join(daily.aggregate(first_day=daily.day.min(), last_day=daily.day.max()))


def _check(name: str, columns: TransactionColumns, checks: dict[str, Any]) -> None:
    if not checks["rows"]:
        raise InvalidInputError(f"{name} has no rows", field="file")
    for key, column, what in (
        ("no_customer", columns.customer, "no customer"),
        ("no_date", columns.date, "no date"),
        ("no_amount", columns.amount, "no amount"),
        ("negative", columns.amount, "a negative amount (leave refunds out)"),
    ):
        if checks[key]:
            raise InvalidInputError(
                f"{name}: {checks[key]:,} row(s) have {what} in column {column}", column=column
            )


def read_summary(path: Path, source: str | None = None) -> pa.Table:
    """A ready summary: columns frequency, recency, T, monetary_value (customer optional; and
    ``source``, when named, as the acquisition source)."""
    table = read_table(path)
    require_columns(path.name, table.column_names, [*SUMMARY_COLUMNS[1:], *filter(None, [source])])
    if "customer" not in table.column_names:
        table = table.append_column("customer", pa.array(range(1, table.num_rows + 1)))
    numbers = table.select(list(SUMMARY_COLUMNS)).cast(
        pa.schema([("customer", pa.string()), *((c, pa.float64()) for c in SUMMARY_COLUMNS[1:])])
    )
    if source is None:
        return numbers
    return numbers.append_column("source", table.column(source).cast(pa.string()))


def fit(
    summary: pa.Table,
    period: str = "week",
    penalizer: float = 0.0,
    *,
    by_source: bool = False,
    months: int = 12,
    monthly_discount: float = 0.01,
) -> ClvFit:
    """BG/NBD on every customer, Gamma-Gamma on the repeat buyers, and the calibration-versus-
    holdout table when the summary has holdout columns. ``by_source``: also the models and
    the mean value over ``months`` of each acquisition source's customers (the summary's
    ``source`` column), and of all of them, for comparing partner-acquired with organic."""
    overall = _fit_one(summary, period, penalizer)
    if not by_source:
        return overall
    if "source" not in summary.column_names:
        raise InvalidInputError("name the source column to compare sources", field="source")
    sources = summary.column("source").to_pylist()
    per = {}
    for name in sorted(set(sources)):
        chosen = summary.filter(pa.array([s == name for s in sources]))
        part = _fit_one(chosen, period, penalizer)
        per[name] = replace(part, value=_value(part, months, monthly_discount))
    return replace(overall, value=_value(overall, months, monthly_discount), sources=per)


def _value(fitted: ClvFit, months: int, monthly_discount: float) -> Value | None:
    """None when the fit gives no finite value (no parameters, or parameters at their bounds
    on too few customers)."""
    if fitted.bgnbd.r is None:
        return None
    values = predict(fitted, 1.0, months=months, monthly_discount=monthly_discount)
    clv = _column(values, "clv")
    if not np.isfinite(clv).all():
        return None
    half = 1.959964 * float(clv.std(ddof=1)) / np.sqrt(len(clv)) if len(clv) > 1 else 0.0
    mean = float(clv.mean())
    return Value(months, monthly_discount, mean, float(mean - half), float(mean + half))


def _fit_one(summary: pa.Table, period: str, penalizer: float) -> ClvFit:
    x, t_x, age, money = (_column(summary, c) for c in SUMMARY_COLUMNS[1:])
    try:
        purchases = BGNBD(penalizer).fit_rfm(RFM.of(x, t_x, age))
        spend = GammaGamma(penalizer).fit(x, money)
    except ValueError as exc:
        raise InvalidInputError(f"the customer summary: {exc}", field="file") from None
    holdout: list[HoldoutRow] = []
    if set(HOLDOUT_COLUMNS) <= set(summary.column_names) and purchases.result_.r is not None:
        duration = float(_column(summary, "duration_holdout")[0])
        holdout = calibration_holdout(
            purchases, x, t_x, age, _column(summary, "frequency_holdout"), duration
        )
    return ClvFit(period, purchases.result_, spend.result_, holdout, purchases, spend, summary)


def predict(
    fitted: ClvFit, horizon: float, *, months: int = 12, monthly_discount: float = 0.01
) -> pa.Table:
    """Per customer: expected purchases over ``horizon`` periods, P(alive), expected spend per
    purchase and discounted value over ``months``."""
    if fitted.bgnbd.r is None:
        raise InvalidInputError(f"no prediction: {fitted.bgnbd.note}", field="file")
    if not horizon > 0:
        raise InvalidInputError("horizon must be > 0", field="horizon")
    summary = fitted.summary
    x, t_x, age, money = (_column(summary, c) for c in SUMMARY_COLUMNS[1:])
    model = fitted.purchases
    if fitted.gamma_gamma.p is not None:
        spend = fitted.spend.conditional_expected_spend(x, money)
    else:  # no repeat spend to learn from: each customer's own mean, else nothing
        spend = np.where(x > 0, money, 0.0)
    per_month = 365.25 / 12 / PERIODS[fitted.period]
    value = lifetime_value(
        model, spend, x, t_x, age, months=months, periods_per_month=per_month,
        monthly_discount=monthly_discount,
    )  # fmt: skip
    return pa.table(
        {
            "customer": summary.column("customer"),
            "frequency": x,
            "recency": t_x,
            "T": age,
            "monetary_value": money,
            "expected_purchases": model.conditional_expected_purchases(horizon, x, t_x, age),
            "probability_alive": model.probability_alive(x, t_x, age),
            "expected_spend": spend,
            "clv": value,
        }
    )


@dataclass(frozen=True)
class Predicted:
    """Where the customers' predictions went, how many, and their totals."""

    file: str
    customers: int
    expected_purchases: float
    clv_total: float


def predict_file(
    fitted: ClvFit, horizon: float, out: Path, *, months: int = 12, monthly_discount: float = 0.01
) -> Predicted:
    """``predict`` written to ``out`` (.csv or .parquet)."""
    check_format(out, output=True)
    scored = predict(fitted, horizon, months=months, monthly_discount=monthly_discount)
    write_table(scored, out)
    return Predicted(
        str(out), scored.num_rows,
        round(float(sum(scored.column("expected_purchases").to_pylist())), 3),
        round(float(sum(scored.column("clv").to_pylist())), 2),
    )  # fmt: skip


def _column(table: pa.Table, name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


ORGANIC = "organic"  # the source of customers whose first sale came through no partner
STORED_COLUMNS = TransactionColumns("customer", "date", "amount", "source", ORGANIC)


def organization_log(db: Database, org_id: int, currency: str | None = None) -> StoredLog:
    """The organization's sales by known customers (in one currency) as a purchase log; a
    customer's acquisition source is the partner of their first sale, else organic."""
    with db.reading() as session:
        journeys = JourneyRepository(session)
        chosen = journeys.sales_currency(org_id, currency)
        table = journeys.purchases(org_id, chosen)
    if table.num_rows == 0:
        raise InvalidInputError("no sales by known customers to model yet", field="org")
    return StoredLog("the organization's sales", table)


def organization_clv(
    db: Database,
    org_id: int,
    *,
    period: str = "week",
    calibration_end: str | None = None,
    holdout_end: str | None = None,
    currency: str | None = None,
    engine: Engine | None = None,
) -> ClvFit:
    """The models and values of the organization's customers, by acquisition source."""
    log = organization_log(db, org_id, currency)
    summary = summarize_file(
        db.settings, log, STORED_COLUMNS, period=period, calibration_end=calibration_end,
        holdout_end=holdout_end, engine=engine,
    )  # fmt: skip
    return fit(summary, period, by_source=True)
