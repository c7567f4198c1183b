"""The sufficient statistics of an experiment as one Ibis aggregate: a row per arm with, for
each metric, the sums the tests need. The warehouse reads every unit; Python gets a few numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

import ibis

from crosspromo.analytics.experiments.moments import MetricKind, Moments
from crosspromo.analytics.experiments.report import MetricSpec

ARM = "arm"
LOOK = "look"
SEGMENT = "segment"


def columns_needed(arm_column: str, metrics: Sequence[MetricSpec]) -> list[str]:
    needed = [arm_column]
    for spec in metrics:
        needed += [c for c in (spec.source, spec.denominator, spec.covariate) if c]
    return list(dict.fromkeys(needed))


def arm_sums(
    table: ibis.Table,
    arm_column: str,
    metrics: Sequence[MetricSpec],
    *,
    complete: Set[str] = frozenset(),
    zero_one: Set[str] = frozenset(),
    look_column: str | None = None,
    segment_column: str | None = None,
) -> ibis.Table:
    """Per arm: ``n``, and per metric ``i``: sums of y, y^2 (and d, d^2, yd for a ratio;
    x, x^2, xy with a covariate); ``i_present``, the units with every value present, unless all
    its columns are known ``complete``; for a binary metric ``i_not01``, the values other than 0
    and 1, unless its column is known to hold only those (``zero_one``). Integer columns are
    summed as integers; only products are taken in floating point. With ``look_column`` (a
    date or time) the rows are per arm and day, in column ``look``; with ``segment_column``, per
    arm and segment value (as text), in column ``segment``."""
    aggregates: dict[str, Any] = {"n": table.count()}
    for i, spec in enumerate(metrics):
        column = table[spec.source]
        if column.type().is_boolean():
            column = column.cast("int8")
        y = column.cast("float64")
        integer = column.type().is_integer()
        aggregates[f"{i}_y"] = column.sum() if integer else y.sum()
        if spec.kind is not MetricKind.BINARY or not integer:
            aggregates[f"{i}_yy"] = (y * y).sum()  # an integer 0/1 column is its own square
        if spec.kind is MetricKind.BINARY and spec.source not in zero_one:
            aggregates[f"{i}_not01"] = ((column != 0) & (column != 1)).sum()
        present = column.notnull()
        needed = [spec.source]
        for key, other in (("d", spec.denominator), ("x", spec.covariate)):
            if other is None:
                continue
            z = table[other].cast("float64")
            present &= table[other].notnull()
            needed.append(other)
            aggregates[f"{i}_{key}"] = z.sum()
            aggregates[f"{i}_{key}{key}"] = (z * z).sum()
            aggregates[f"{i}_{'yd' if key == 'd' else 'xy'}"] = (y * z).sum()
        if not set(needed) <= complete:
            aggregates[f"{i}_present"] = present.sum() if len(needed) > 1 else column.count()
    keys = [table[arm_column].cast("string").name(ARM)]
    if look_column is not None:
        keys.append(table[look_column].cast("date").name(LOOK))
    if segment_column is not None:
        keys.append(table[segment_column].cast("string").name(SEGMENT))
    return table.group_by(keys).aggregate(**aggregates)


def moments_of(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[MetricSpec]
) -> dict[str, dict[str, Moments]]:
    """``moments[arm][metric]`` from the rows of :func:`arm_sums` (days added up)."""
    return {arm: looks[-1][1] for arm, looks in cumulative_looks(rows, metrics).items()}


Looks = list[tuple[Any, dict[str, Moments]]]


def cumulative_looks(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[MetricSpec]
) -> dict[str, Looks]:
    """Per arm and day (in order), the moments of every unit up to and including that day. All
    arms have the same days: a day without units in an arm repeats the arm's day before."""
    per_day: dict[str, dict[Any, dict[str, Moments]]] = {}
    for arm, day, moments in _per_row(rows, metrics):
        per_day.setdefault(arm, {})[day] = moments
    days = sorted({d for found in per_day.values() for d in found}, key=lambda d: (d is None, d))
    looks: dict[str, Looks] = {}
    for arm, found in per_day.items():
        running: dict[str, Moments] = {
            spec.name: Moments(0, 0.0, 0.0) for spec in metrics
        }  # fmt: skip
        looks[arm] = []
        for day in days:
            if day in found:
                running = {k: running[k] + found[day][k] for k in running}
            looks[arm].append((day, running))
    return looks


def _per_row(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[MetricSpec]
) -> list[tuple[str, Any, dict[str, Moments]]]:

    def value(row: Mapping[str, Any], key: str) -> float:
        found = row.get(key)
        return float(found) if found is not None else 0.0

    return [
        (
            str(row[ARM]),
            row.get(LOOK),
            {
                spec.name: Moments(
                    int(row["n"]),
                    value(row, f"{i}_y"),
                    value(row, f"{i}_yy") if f"{i}_yy" in row else value(row, f"{i}_y"),
                    value(row, f"{i}_d"),
                    value(row, f"{i}_dd"),
                    value(row, f"{i}_yd"),
                    value(row, f"{i}_x"),
                    value(row, f"{i}_xx"),
                    value(row, f"{i}_xy"),
                )
                for i, spec in enumerate(metrics)
            },
        )
        for row in rows
    ]
