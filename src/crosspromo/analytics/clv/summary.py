"""A transaction log reduced to one row per customer (frequency, recency, T, monetary value,
and the holdout's purchases) as one Ibis expression, executed by the engine.

As in Fader, Hardie & Lee (2005), purchases on the same day count as one transaction (their
amounts added up); ``frequency`` counts repeat transactions, ``recency`` is the time from the
first to the last of them, ``T`` the time from the first purchase to the end of calibration, and
``monetary_value`` the mean of the repeat transactions (0 without one).
"""

from __future__ import annotations

from datetime import date

import ibis

PERIODS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
EPOCH = date(1970, 1, 1)
SUMMARY_COLUMNS = ("customer", "frequency", "recency", "T", "monetary_value")
HOLDOUT_COLUMNS = ("frequency_holdout", "monetary_value_holdout", "duration_holdout")


def daily_purchases(
    table: ibis.Table,
    customer: str,
    when: str,
    amount: str | None = None,
    source: str | None = None,
    missing_source: str = "",
) -> ibis.Table:
    """One row per customer and day: ``customer`` (text), ``day`` (days since 1970-01-01),
    ``month`` (months since January 1970), ``amount`` (their sum; 0 without an amount column)
    and ``source``: the day's (the largest, if several), else ``missing_source`` (also
    without a source column)."""
    date = table[when].cast("date")
    rows = table.select(
        customer=table[customer].cast("string"),
        day=date.delta(ibis.date(EPOCH), unit="day"),
        month=(date.year() - EPOCH.year) * 12 + date.month() - 1,
        amount=table[amount].cast("float64") if amount else ibis.literal(0.0),
        source=table[source].cast("string") if source else ibis.null("string"),
    )
    return rows.group_by(["customer", "day", "month"]).aggregate(
        amount=rows.amount.sum(), source=rows.source.max().fill_null(missing_source)
    )


def customer_summary(
    daily: ibis.Table, period: str, calibration_end: int, holdout_end: int | None = None
) -> ibis.Table:
    """Per customer who bought by ``calibration_end`` (a day number, inclusive): the summary
    columns in ``period`` units and ``source``, that of the first purchase; with
    ``holdout_end``, also the transactions after calibration up to that day, their mean value
    and the holdout's length."""
    unit = ibis.literal(PERIODS[period], type="float64")  # a double, not Spark's decimal
    calibration = daily.filter(daily.day <= calibration_end)
    per = calibration.group_by("customer").aggregate(
        first=calibration.day.min(),
        last=calibration.day.max(),
        days=calibration.count(),
        total=calibration.amount.sum(),
        first_amount=calibration.amount.argmin(calibration.day),
        source=calibration.source.argmin(calibration.day),
    )
    repeat = per.days - 1
    summary = per.select(
        "customer",
        "source",
        frequency=repeat,
        recency=(per["last"] - per["first"]).cast("float64") / unit,
        T=(ibis.literal(calibration_end) - per["first"]).cast("float64") / unit,
        monetary_value=ibis.ifelse(
            repeat > 0, (per.total - per.first_amount) / repeat.cast("float64"), 0.0
        ),
    )
    if holdout_end is None:
        return summary
    later = daily.filter((daily.day > calibration_end) & (daily.day <= holdout_end))
    holdout = later.group_by("customer").aggregate(
        frequency_holdout=later.count(), monetary_value_holdout=later.amount.mean()
    )
    joined = summary.left_join(holdout, "customer")
    return joined.select(
        *SUMMARY_COLUMNS,
        "source",
        frequency_holdout=joined.frequency_holdout.fill_null(0),
        monetary_value_holdout=joined.monetary_value_holdout.fill_null(0.0),
        duration_holdout=ibis.literal((holdout_end - calibration_end) / PERIODS[period]),
    )
