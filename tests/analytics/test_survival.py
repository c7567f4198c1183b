"""Kaplan-Meier, the log-rank test and Cox regression from counts, against lifelines on the
same customers one row each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from crosspromo.analytics.survival import Counts, cox_by_group, kaplan_meier, log_rank


def customers(seed: int = 0) -> pd.DataFrame:
    """Three sources with different churn hazards, durations on a coarse grid (many ties)."""
    rng = np.random.default_rng(seed)
    frames = []
    for source, scale, size in (("organic", 200, 900), ("partner_a", 300, 600), ("paid", 120, 500)):
        lifetime = np.round(rng.exponential(scale, size) / 7) * 7
        seen = rng.uniform(0, 500, size).round()
        frames.append(
            pd.DataFrame(
                {
                    "source": source,
                    "duration": np.minimum(lifetime, seen),
                    "event": (lifetime <= seen).astype(int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def counts_of(frame: pd.DataFrame) -> dict[str, Counts]:
    groups = {}
    for source, part in frame.groupby("source", sort=False):
        grouped = part.groupby("duration")["event"].agg(["sum", "count"])
        events = grouped["sum"].to_numpy(float)
        groups[str(source)] = Counts.of(grouped.index, events, grouped["count"] - events)
    return groups


def test_kaplan_meier_equals_lifelines() -> None:
    frame = customers()
    for source, counts in counts_of(frame).items():
        part = frame[frame["source"] == source]
        ours = kaplan_meier(counts)
        theirs = KaplanMeierFitter().fit(part["duration"], part["event"])
        table = theirs.survival_function_.iloc[:, 0]
        bounds = theirs.confidence_interval_survival_function_
        for i, time in enumerate(ours.times):
            assert ours.survival[i] == pytest.approx(table.loc[time], rel=1e-12)
            assert ours.lower[i] == pytest.approx(bounds.iloc[:, 0].loc[time], rel=1e-9)
            assert ours.upper[i] == pytest.approx(bounds.iloc[:, 1].loc[time], rel=1e-9)
        median = theirs.median_survival_time_
        assert ours.median == (None if np.isinf(median) else pytest.approx(median))
        assert ours.at(10_000) == pytest.approx(float(table.iloc[-1]))


def test_log_rank_equals_lifelines() -> None:
    frame = customers(1)
    ours = log_rank(counts_of(frame))
    theirs = multivariate_logrank_test(frame["duration"], frame["source"], frame["event"])
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.p_value, rel=1e-6)
    assert ours.degrees_of_freedom == 2
    same = customers(2)
    same["source"] = np.where(np.arange(len(same)) % 2 == 0, "a", "b")  # one population
    assert log_rank(counts_of(same)).p_value > 0.01


def test_cox_on_counts_equals_cox_on_rows() -> None:
    frame = customers(3)
    ours = cox_by_group(counts_of(frame), "organic")
    rows = frame.assign(
        g_partner_a=(frame["source"] == "partner_a").astype(float),
        g_paid=(frame["source"] == "paid").astype(float),
    ).drop(columns="source")
    theirs = CoxPHFitter().fit(rows, "duration", "event").summary
    assert ours.note is None
    for ratio in ours.hazard_ratios:
        assert ratio.hazard_ratio == pytest.approx(
            theirs.loc[f"g_{ratio.group}", "exp(coef)"], rel=1e-6
        )
        assert ratio.p_value == pytest.approx(theirs.loc[f"g_{ratio.group}", "p"], rel=1e-4)
    by_group = {r.group: r for r in ours.hazard_ratios}
    assert by_group["paid"].hazard_ratio > 1 > by_group["partner_a"].hazard_ratio


def test_degenerate_groups_say_why() -> None:
    one = {"organic": Counts.of([1, 2], [1, 0], [0, 1])}
    assert log_rank(one).note is not None
    none = {"a": Counts.of([1], [0], [3]), "b": Counts.of([2], [0], [1])}
    assert log_rank(none).note == "no group has an event"
    assert cox_by_group(one, "organic").note is not None
    curve = kaplan_meier(Counts.of([5], [0], [4]))
    assert curve.median is None
    assert curve.at(10) == 1.0
    with pytest.raises(ValueError, match=">= 0"):
        Counts.of([-1], [1], [0])
