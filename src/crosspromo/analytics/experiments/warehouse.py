"""The sufficient statistics of an experiment as one Ibis aggregate: a row per arm with, for
each metric, the sums the tests need. The warehouse reads every unit; Python gets a few numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis

from crosspromo.analytics.experiments.moments import MetricKind, Moments
from crosspromo.analytics.experiments.report import MetricSpec

ARM = "arm"


def columns_needed(arm_column: str, metrics: Sequence[MetricSpec]) -> list[str]:
    needed = [arm_column]
    for spec in metrics:
        needed += [c for c in (spec.source, spec.denominator, spec.covariate) if c]
    return list(dict.fromkeys(needed))


def arm_sums(table: ibis.Table, arm_column: str, metrics: Sequence[MetricSpec]) -> ibis.Table:
    """Per arm: ``n``, and per metric ``i``: sums of y, y^2 (and d, d^2, yd for a ratio;
    x, x^2, xy with a covariate), plus ``i_missing`` (units with a missing value) and, for a
    binary metric, ``i_not01`` (values other than 0 and 1)."""
    aggregates: dict[str, Any] = {"n": table.count()}
    for i, spec in enumerate(metrics):
        y = table[spec.source].cast("float64")
        missing = y.isnull()
        aggregates[f"{i}_y"] = y.sum()
        aggregates[f"{i}_yy"] = (y * y).sum()
        if spec.kind is MetricKind.BINARY:
            aggregates[f"{i}_not01"] = ((y != 0) & (y != 1)).cast("int64").sum()
        if spec.denominator is not None:
            d = table[spec.denominator].cast("float64")
            missing |= d.isnull()
            aggregates[f"{i}_d"] = d.sum()
            aggregates[f"{i}_dd"] = (d * d).sum()
            aggregates[f"{i}_yd"] = (y * d).sum()
        if spec.covariate is not None:
            x = table[spec.covariate].cast("float64")
            missing |= x.isnull()
            aggregates[f"{i}_x"] = x.sum()
            aggregates[f"{i}_xx"] = (x * x).sum()
            aggregates[f"{i}_xy"] = (x * y).sum()
        aggregates[f"{i}_missing"] = missing.cast("int64").sum()
    arm = table[arm_column].cast("string").name(ARM)
    return table.group_by(arm).aggregate(**aggregates)


def moments_of(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[MetricSpec]
) -> dict[str, dict[str, Moments]]:
    """``moments[arm][metric]`` from the rows of :func:`arm_sums`."""

    def value(row: Mapping[str, Any], key: str) -> float:
        found = row.get(key)
        return float(found) if found is not None else 0.0

    return {
        str(row[ARM]): {
            spec.name: Moments(
                int(row["n"]),
                value(row, f"{i}_y"),
                value(row, f"{i}_yy"),
                value(row, f"{i}_d"),
                value(row, f"{i}_dd"),
                value(row, f"{i}_yd"),
                value(row, f"{i}_x"),
                value(row, f"{i}_xx"),
                value(row, f"{i}_xy"),
            )
            for i, spec in enumerate(metrics)
        }
        for row in rows
    }
