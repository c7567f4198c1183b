"""Survival of customers by acquisition source from counts: Kaplan-Meier curves with
Greenwood intervals, the log-rank test across groups, and Cox proportional hazards.

Kaplan-Meier and the log-rank test only need, per group and time, how many ended (events) and
how many were last seen (censored): the warehouse computes those counts, so the curves of
millions of customers cost what their distinct durations cost. Cox regression is lifelines'
``CoxPHFitter`` on a row per customer rebuilt from the counts (its weighted rows handle tied
times differently from repeated rows, so they are not used).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Counts:
    """One group's distinct ``times`` (ascending) with ``events`` and ``censored`` at each."""

    times: FloatArray
    events: FloatArray
    censored: FloatArray

    @classmethod
    def of(cls, times: Any, events: Any, censored: Any) -> Counts:
        t = np.asarray(times, dtype=np.float64)
        d = np.asarray(events, dtype=np.float64)
        c = np.asarray(censored, dtype=np.float64)
        if not len(t) == len(d) == len(c):
            raise ValueError("times, events and censored must have the same length")
        if np.any(t < 0) or np.any(d < 0) or np.any(c < 0) or not np.isfinite(t).all():
            raise ValueError("times and counts must be finite and >= 0")
        distinct, index = np.unique(t, return_inverse=True)
        return cls(
            distinct,
            np.bincount(index, weights=d, minlength=len(distinct)).astype(np.float64),
            np.bincount(index, weights=c, minlength=len(distinct)).astype(np.float64),
        )

    @property
    def size(self) -> float:
        return float(self.events.sum() + self.censored.sum())

    def at_risk(self, times: FloatArray) -> FloatArray:
        """How many have a time >= each of ``times``."""
        total = self.events + self.censored
        later = np.concatenate([np.cumsum(total[::-1])[::-1], [0.0]])
        return np.asarray(later[np.searchsorted(self.times, times, side="left")])


@dataclass(frozen=True)
class SurvivalCurve:
    """S(t) after each event time, with a pointwise interval, and the median lifetime (None
    while the curve stays above one half)."""

    times: FloatArray
    survival: FloatArray
    lower: FloatArray
    upper: FloatArray
    at_risk: FloatArray
    customers: int
    events: int
    median: float | None

    def at(self, when: float) -> float:
        """S(when): the value after the last event time at or before ``when``."""
        return step_at(self.times, self.survival, when)


def step_at(times: Sequence[float] | FloatArray, values: Sequence[float] | FloatArray,
            when: float) -> float:  # fmt: skip
    """A step function (1 before the first of ``times``, then ``values``) at ``when``."""
    i = int(np.searchsorted(times, when, side="right"))
    return 1.0 if i == 0 else float(values[i - 1])


def kaplan_meier(counts: Counts, alpha: float = 0.05) -> SurvivalCurve:
    """The Kaplan-Meier product-limit estimate (Kaplan & Meier 1958) with Greenwood's variance
    on the log(-log S) scale for the interval (Kalbfleisch & Prentice 2002, section 1.4), as
    lifelines reports it."""
    has_event = counts.events > 0
    times = counts.times[has_event]
    d = counts.events[has_event]
    n = counts.at_risk(times)
    survival = np.cumprod(1 - d / n).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(d / (n * (n - d)))
        log_s = np.log(survival)
        spread = stats.norm.ppf(1 - alpha / 2) * np.sqrt(greenwood) / np.abs(log_s)
        centre = np.log(-log_s)
        lower = np.exp(-np.exp(centre + spread))
        upper = np.exp(-np.exp(centre - spread))
    ended = survival <= 0
    lower, upper = np.where(ended, 0.0, lower), np.where(ended, 0.0, upper)
    lower = np.where(np.isfinite(lower), lower, survival)
    upper = np.where(np.isfinite(upper), upper, survival)
    below = np.flatnonzero(survival <= 0.5)
    median = float(times[below[0]]) if len(below) else None
    return SurvivalCurve(
        times, survival, lower, upper, n, round(counts.size), round(float(d.sum())), median
    )


@dataclass(frozen=True)
class LogRank:
    statistic: float | None
    degrees_of_freedom: int
    p_value: float | None
    observed: dict[str, float]
    expected: dict[str, float]
    note: str | None = None


def log_rank(groups: Mapping[str, Counts]) -> LogRank:
    """The log-rank test that every group has the same hazard (Mantel 1966; Peto & Peto 1972):
    observed against expected events per group, chi-square with groups - 1 degrees of freedom
    from the hypergeometric covariance."""
    names = list(groups)
    if len(names) < 2:
        return LogRank(None, 0, None, {}, {}, "the log-rank test needs two groups or more")
    times = np.unique(np.concatenate([g.times[g.events > 0] for g in groups.values()]))
    if len(times) == 0:
        return LogRank(None, len(names) - 1, None, {}, {}, "no group has an event")
    at_risk = np.stack([groups[g].at_risk(times) for g in names])
    events = np.stack([_events_at(groups[g], times) for g in names])
    n, d = at_risk.sum(axis=0), events.sum(axis=0)
    share = np.divide(at_risk, n, out=np.zeros_like(at_risk), where=n > 0)
    observed, expected = events.sum(axis=1), (share * d).sum(axis=1)
    scale = np.divide(d * (n - d), n - 1, out=np.zeros_like(d), where=n > 1)
    covariance = np.einsum("t,gt,ht->gh", scale, share, -share)
    covariance[np.diag_indices(len(names))] += (scale * share).sum(axis=1)
    difference = (observed - expected)[:-1]
    try:
        statistic = float(difference @ np.linalg.solve(covariance[:-1, :-1], difference))
    except np.linalg.LinAlgError:
        return LogRank(None, len(names) - 1, None, {}, {}, "the groups' risk sets do not overlap")
    p_value = float(stats.chi2.sf(statistic, len(names) - 1))
    return LogRank(
        statistic, len(names) - 1, p_value,
        dict(zip(names, observed.tolist(), strict=True)),
        dict(zip(names, expected.tolist(), strict=True)),
    )  # fmt: skip


def _events_at(counts: Counts, times: FloatArray) -> FloatArray:
    index = np.searchsorted(counts.times, times)
    found = (index < len(counts.times)) & (
        counts.times[np.minimum(index, len(counts.times) - 1)] == times
    )
    return np.where(found, counts.events[np.minimum(index, len(counts.times) - 1)], 0.0)


@dataclass(frozen=True)
class HazardRatio:
    group: str
    hazard_ratio: float
    lower: float
    upper: float
    p_value: float


@dataclass(frozen=True)
class CoxResult:
    baseline: str
    hazard_ratios: list[HazardRatio]
    concordance: float | None
    note: str | None = None


def cox_by_group(groups: Mapping[str, Counts], baseline: str, alpha: float = 0.05) -> CoxResult:
    """Cox proportional hazards (Cox 1972) with one indicator per group against ``baseline``,
    fitted by lifelines on a row per customer (Efron's method for ties): each group's
    hazard ratio with its interval and Wald p-value."""
    from lifelines import CoxPHFitter
    from pandas import DataFrame, concat

    others = [g for g in groups if g != baseline]
    if baseline not in groups or not others:
        return CoxResult(baseline, [], None, "Cox regression needs the baseline and one more group")
    parts = []
    for name, counts in groups.items():  # one row per customer: lifelines' Efron ties then
        for flag, column in ((1, counts.events), (0, counts.censored)):  # match row data's
            repeat = np.round(column).astype(np.int64)
            durations = np.repeat(counts.times, repeat)
            part = {"duration": durations, "event": np.full(len(durations), flag)}
            part.update({f"g_{o}": np.full(len(durations), float(name == o)) for o in others})
            parts.append(DataFrame(part))
    frame = concat(parts, ignore_index=True)
    fitter = CoxPHFitter(alpha=alpha)
    try:
        fitter.fit(frame, "duration", "event")
    except Exception as exc:  # lifelines raises its own convergence errors
        return CoxResult(baseline, [], None, f"Cox regression failed: {exc}")
    summary = fitter.summary
    ratios = [
        HazardRatio(
            o,
            float(summary.loc[f"g_{o}", "exp(coef)"]),
            float(summary.loc[f"g_{o}", f"exp(coef) lower {100 * (1 - alpha):g}%"]),
            float(summary.loc[f"g_{o}", f"exp(coef) upper {100 * (1 - alpha):g}%"]),
            float(summary.loc[f"g_{o}", "p"]),
        )
        for o in others
    ]
    return CoxResult(baseline, ratios, float(fitter.concordance_index_))


def survival_table(groups: Mapping[str, Counts], at: Sequence[float]) -> dict[str, list[float]]:
    """Each group's S(t) at the times ``at`` (for tables and charts)."""
    return {g: [kaplan_meier(c).at(t) for t in at] for g, c in groups.items()}
