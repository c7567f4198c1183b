"""Churn and retention by acquisition source from a transaction log: survival curves per
source, the log-rank test, Cox hazard ratios against a baseline source, and monthly cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crosspromo.analytics.clv.summary import EPOCH
from crosspromo.analytics.retention import cohort_activity, lifetime_counts
from crosspromo.analytics.survival import (
    Counts,
    CoxResult,
    LogRank,
    SurvivalCurve,
    cox_by_group,
    kaplan_meier,
    log_rank,
    step_at,
)
from crosspromo.config import Settings
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.clv import (
    STORED_COLUMNS,
    StoredLog,
    TransactionColumns,
    organization_log,
    parse_day,
    read_log,
)
from crosspromo.store.database import Database

MAX_SOURCES = 50


@dataclass(frozen=True)
class Cohorts:
    """Row per acquisition month: its customers, and the share active k months later (None
    where that month lies after the data)."""

    months: list[str]
    sizes: list[int]
    retention: list[list[float | None]]


@dataclass(frozen=True)
class SourceCurve:
    """The survival curve of one acquisition source's customers: S(t) after each event time
    with its 95% interval, the median lifetime (None while S stays above one half), and the
    share retained at 90 and 365 days."""

    customers: int
    events: int
    median: float | None
    times: list[float]
    survival: list[float]
    lower: list[float]
    upper: list[float]
    retained_90: float
    retained_365: float

    @classmethod
    def of(cls, curve: SurvivalCurve) -> SourceCurve:
        return cls(
            curve.customers, curve.events, curve.median, curve.times.tolist(),
            curve.survival.tolist(), curve.lower.tolist(), curve.upper.tolist(), curve.at(90),
            curve.at(365),
        )  # fmt: skip

    def at(self, when: float) -> float:
        return step_at(self.times, self.survival, when)


@dataclass(frozen=True)
class ChurnReport:
    inactivity_days: int
    end: date
    sources: dict[str, SourceCurve]
    log_rank: LogRank
    cox: CoxResult
    cohorts: Cohorts

    def percent_retained(self, days: Sequence[float]) -> dict[str, list[int]]:
        """Each source's share still active (whole percent) at each of ``days`` (charts)."""
        return {
            name: [round(100 * curve.at(day)) for day in days]
            for name, curve in self.sources.items()
        }


def churn_file(
    settings: Settings,
    path: Path | StoredLog,
    columns: TransactionColumns,
    *,
    inactivity_days: int = 90,
    end: str | None = None,
    baseline: str | None = None,
    alpha: float = 0.05,
    engine: Engine | None = None,
) -> ChurnReport:
    """Survival and retention of a log's customers by the source of their first purchase
    (one group, "all", without a source column). ``end`` (default: the last purchase day)
    closes the data; ``baseline`` (default: "organic" when present, else the largest source)
    is the reference of the hazard ratios."""
    if not 1 <= inactivity_days <= 3650:
        raise InvalidInputError("inactivity_days must be 1-3650", field="inactivity_days")
    if not 0 < alpha < 1:
        raise InvalidInputError("alpha must lie between 0 and 1", field="alpha")
    end_day = parse_day(end, "end")
    with engine_for(settings, engine) as runner:
        daily, end_day = read_log(runner, path, columns, end_day, "end")
        counts = runner.to_arrow(lifetime_counts(daily, end_day, inactivity_days)).to_pylist()
        activity = runner.to_arrow(cohort_activity(daily, end_day)).to_pylist()
    groups = _groups(counts, columns.source is not None)
    if len(groups) > MAX_SOURCES:
        raise InvalidInputError(
            f"{len(groups)} acquisition sources; at most {MAX_SOURCES}",
            field="source",
        )
    if baseline is not None and baseline not in groups:
        raise InvalidInputError(
            f"no customer came from {baseline!r}; sources: {', '.join(sorted(groups))}",
            field="baseline",
        )
    reference = baseline or ("organic" if "organic" in groups else _largest(groups))
    return ChurnReport(
        inactivity_days,
        EPOCH + timedelta(days=end_day),
        {name: SourceCurve.of(kaplan_meier(c, alpha)) for name, c in groups.items()},
        log_rank(groups),
        cox_by_group(groups, reference, alpha),
        _cohorts(activity, end_day),
    )


def _groups(rows: list[dict[str, Any]], by_source: bool) -> dict[str, Counts]:
    per: dict[str, list[tuple[float, float, float]]] = {}
    for row in rows:
        name = row["source"] if by_source else "all"
        events = float(row["customers"]) if row["event"] else 0.0
        censored = 0.0 if row["event"] else float(row["customers"])
        per.setdefault(name, []).append((float(row["duration"]), events, censored))
    return {name: Counts.of(*zip(*per[name], strict=True)) for name in sorted(per)}


def _largest(groups: dict[str, Counts]) -> str:
    return max(sorted(groups), key=lambda g: groups[g].size)


def _cohorts(rows: list[dict[str, Any]], end_day: int) -> Cohorts:
    last = EPOCH + timedelta(days=end_day)
    last_month = (last.year - EPOCH.year) * 12 + last.month - 1
    active = {(int(r["cohort"]), int(r["age"])): int(r["active"]) for r in rows}
    cohorts = sorted({c for c, _ in active})
    sizes = [active.get((c, 0), 0) for c in cohorts]
    width = last_month - cohorts[0] + 1 if cohorts else 0
    retention = [
        [active.get((c, k), 0) / size if c + k <= last_month else None for k in range(width)]
        for c, size in zip(cohorts, sizes, strict=True)
    ]
    months = [f"{1970 + c // 12}-{c % 12 + 1:02d}" for c in cohorts]
    return Cohorts(months, sizes, retention)


def organization_churn(
    db: Database,
    org_id: int,
    *,
    inactivity_days: int = 90,
    end: str | None = None,
    baseline: str | None = None,
    currency: str | None = None,
    engine: Engine | None = None,
) -> ChurnReport:
    """Churn of the organization's customers by acquisition source (from their sales)."""
    return churn_file(
        db.settings, organization_log(db, org_id, currency), STORED_COLUMNS,
        inactivity_days=inactivity_days, end=end, baseline=baseline, engine=engine,
    )  # fmt: skip
