"""Churn and retention from purchase days, as Ibis expressions the engine executes: survival
counts per acquisition source, and the cohort retention matrix.

In a log of purchases nobody announces leaving: a customer counts as churned when ``inactivity``
days pass after their last purchase without another, within the data. Their lifetime runs from
the first purchase to the last; customers still within ``inactivity`` days of their last
purchase at the end of the data are censored there. A customer's acquisition source is the
source of their first purchase day.
"""

from __future__ import annotations

import ibis


def lifetime_counts(daily: ibis.Table, end_day: int, inactivity: int) -> ibis.Table:
    """Per ``source``, ``duration`` (days) and ``event`` (1 churned, 0 censored): ``customers``.
    ``daily`` is :func:`crosspromo.analytics.clv.summary.daily_purchases` with a source; days
    after ``end_day`` are ignored."""
    seen = daily.filter(daily.day <= end_day)
    per = seen.group_by("customer").aggregate(
        first=seen.day.min(), last=seen.day.max(), source=seen.source.argmin(seen.day)
    )
    lifetimes = per.select(
        "source",
        duration=per["last"] - per["first"],
        event=ibis.ifelse(per["last"] + inactivity <= end_day, 1, 0),
    )
    return lifetimes.group_by(["source", "duration", "event"]).aggregate(
        customers=lifetimes.count()
    )


def cohort_activity(daily: ibis.Table, end_day: int) -> ibis.Table:
    """Per acquisition ``cohort`` (month of the first purchase, months since January 1970) and
    ``age`` (months since that one): ``active``, the customers who bought in that month."""
    seen = daily.filter(daily.day <= end_day)
    first = seen.group_by("customer").aggregate(cohort=seen.month.min())
    joined = seen.join(first, "customer")
    active = joined.select("customer", "cohort", age=joined.month - joined.cohort).distinct()
    return active.group_by(["cohort", "age"]).aggregate(active=active.count())
