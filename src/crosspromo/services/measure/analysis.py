"""Analyze an experiment from a file of units (CSV or Parquet): the warehouse sums each arm, the
statistics run on the sums. Also the sample-size calculator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from crosspromo.analytics.experiments.moments import MetricKind
from crosspromo.analytics.experiments.report import ExperimentReport, MetricSpec, analyze
from crosspromo.analytics.experiments.warehouse import (
    arm_sums,
    columns_needed,
    cumulative_looks,
    moments_of,
)
from crosspromo.config import Settings
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import InvalidInputError
from crosspromo.services.files.tabular import (
    check_format,
    is_parquet,
    read_table,
    require_columns,
    write_table,
)


def parse_metric(text: str, *, guardrail: bool = False) -> MetricSpec:
    """``NAME:KIND`` (binary or mean) or ``NAME:ratio:DENOMINATOR``; NAME is the column. A
    ratio is reported as ``NAME/DENOMINATOR``."""
    parts = text.split(":")
    kinds = ", ".join(MetricKind)
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidInputError(
            f"metric {text!r}: expected NAME:KIND or NAME:ratio:DENOMINATOR (KIND: {kinds})",
            field="metric",
        )
    name, kind_text, *rest = parts
    try:
        kind = MetricKind(kind_text)
    except ValueError:
        raise InvalidInputError(
            f"metric {text!r}: unknown kind {kind_text!r}; expected one of {kinds}",
            field="metric",
        ) from None
    if (kind is MetricKind.RATIO) != bool(rest):
        raise InvalidInputError(
            f"metric {text!r}: a ratio names its denominator column (NAME:ratio:DENOMINATOR), "
            "other kinds do not",
            field="metric",
        )
    if kind is MetricKind.RATIO:
        return MetricSpec(f"{name}/{rest[0]}", kind, rest[0], guardrail=guardrail, column=name)
    return MetricSpec(name, kind, guardrail=guardrail)


def parse_weights(texts: Sequence[str]) -> dict[str, float] | None:
    """``ARM=WEIGHT`` texts as designed arm weights; None when there are none."""
    weights: dict[str, float] = {}
    for text in texts:
        arm, _, number = text.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not arm or not value > 0 or arm in weights:
            raise InvalidInputError(
                f"weight {text!r}: expected ARM=WEIGHT with a positive weight, once per arm",
                field="weight",
            )
        weights[arm] = value
    return weights or None


def with_covariates(metrics: Sequence[MetricSpec], covariates: Sequence[str]) -> list[MetricSpec]:
    """``COLUMN`` (every binary and mean metric) or ``METRIC=COLUMN``, for CUPED."""
    chosen: dict[str, str] = {}
    for text in covariates:
        metric, _, column = text.rpartition("=")
        targets = (
            [metric] if metric else [m.name for m in metrics if m.kind is not MetricKind.RATIO]
        )
        for target in targets:
            if target not in {m.name for m in metrics}:
                raise InvalidInputError(
                    f"covariate {text!r}: no metric {target!r}", field="covariate"
                )
            chosen[target] = column
    return [replace(m, covariate=chosen.get(m.name, m.covariate)) for m in metrics]


def analyze_file(
    settings: Settings,
    path: Path,
    arm_column: str,
    control: str,
    metrics: Sequence[MetricSpec],
    *,
    alpha: float = 0.05,
    shares: Mapping[str, float] | None = None,
    planned_per_arm: int | None = None,
    look_column: str | None = None,
    segment_column: str | None = None,
    engine: Engine | None = None,
) -> ExperimentReport:
    """With ``look_column`` (each unit's date or time of entry), every comparison also gets an
    always-valid (mSPRT) p-value over the daily looks. With ``segment_column``, the report also
    holds one report per value of that column (at most MAX_SEGMENTS)."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}", field="file")
    check_format(path)
    if not metrics:
        raise InvalidInputError("name at least one metric", field="metric")
    if len({m.name for m in metrics}) != len(metrics):
        raise InvalidInputError("a metric is named twice", field="metric")
    if not 0 < alpha < 1:
        raise InvalidInputError("alpha must lie between 0 and 1", field="alpha")
    with engine_for(settings, engine) as runner:
        try:
            table = runner.read_file(str(path))
        except Exception as exc:
            raise InvalidInputError(f"{path.name} cannot be read: {exc}", field="file") from None
        extra = [c for c in (look_column, segment_column) if c]
        needed = columns_needed(arm_column, metrics) + extra
        require_columns(path.name, list(table.columns), needed)
        complete, zero_one = _proven_by_parquet_statistics(path)
        sums = arm_sums(
            table, arm_column, metrics, complete=complete, zero_one=zero_one,
            look_column=look_column,
        )  # fmt: skip
        by_segment = None
        if segment_column is not None:
            by_segment = arm_sums(
                table, arm_column, metrics, complete=complete, zero_one=zero_one,
                segment_column=segment_column,
            )  # fmt: skip
        try:
            rows = runner.to_arrow(sums).to_pylist()
            segment_rows = runner.to_arrow(by_segment).to_pylist() if by_segment is not None else []
        except Exception as exc:
            raise InvalidInputError(
                f"{path.name}: a metric column is not numeric ({exc})", field="metric"
            ) from None
    _check_values(path.name, rows, metrics, arm_column)
    looks = cumulative_looks(rows, metrics)
    moments = {arm: days[-1][1] for arm, days in looks.items()}
    if control not in moments:
        raise InvalidInputError(
            f"{path.name}: no unit in the control arm {control!r}; arms: "
            f"{', '.join(sorted(moments))}",
            field="control",
        )
    if len(moments) < 2:
        raise InvalidInputError(f"{path.name}: only the control arm has units", field="arm")
    if shares is not None and set(shares) != set(moments):
        raise InvalidInputError(
            f"weights name the arms {', '.join(sorted(shares))} but the file has "
            f"{', '.join(sorted(moments))}",
            field="weight",
        )
    daily = {arm: [m for _, m in days] for arm, days in looks.items()} if look_column else None
    report = analyze(
        moments, metrics, control, shares=shares, alpha=alpha, planned_per_arm=planned_per_arm,
        looks=daily,
    )  # fmt: skip
    if segment_column is None:
        return report
    return replace(report, segments=_segments(segment_rows, metrics, control, shares, alpha))


MAX_SEGMENTS = 50


def _segments(
    rows: list[dict[str, Any]],
    metrics: Sequence[MetricSpec],
    control: str,
    shares: Mapping[str, float] | None,
    alpha: float,
) -> dict[str, ExperimentReport]:
    """One report per segment value, from rows of arm_sums per arm and segment."""
    values = sorted({str(r["segment"]) for r in rows})
    if len(values) > MAX_SEGMENTS:
        raise InvalidInputError(
            f"the segment column has {len(values)} values; at most {MAX_SEGMENTS}",
            field="segment",
        )
    reports = {}
    for value in values:
        moments = moments_of([r for r in rows if str(r["segment"]) == value], metrics)
        if control not in moments or len(moments) < 2:
            continue  # a segment without the control or without a treatment compares nothing
        reports[value] = analyze(moments, metrics, control, shares=shares, alpha=alpha)
    return reports


def _check_values(
    name: str, rows: list[dict[str, Any]], metrics: Sequence[MetricSpec], arm_column: str
) -> None:
    totals: dict[Any, dict[str, int]] = {}
    for row in rows:  # rows may be per arm and day: add the days up first
        counts = totals.setdefault(row["arm"], {})
        for key, value in row.items():
            if key == "n" or key.endswith(("_present", "_not01")):
                counts[key] = counts.get(key, 0) + int(value or 0)
    for arm, counts in totals.items():
        if arm is None:
            raise InvalidInputError(
                f"{name}: {counts['n']} unit(s) have no {arm_column}", field="arm"
            )
        for i, spec in enumerate(metrics):
            missing = counts["n"] - counts.get(f"{i}_present", counts["n"])
            if missing:
                raise InvalidInputError(
                    f"{name}: {missing} unit(s) in arm {arm!r} miss a value for {spec.name}",
                    field="metric",
                )
            if counts.get(f"{i}_not01"):
                raise InvalidInputError(
                    f"{name}: {spec.source} is binary but {counts[f'{i}_not01']} value(s) in arm "
                    f"{arm!r} are neither 0 nor 1",
                    field="metric",
                )


def _proven_by_parquet_statistics(path: Path) -> tuple[set[str], set[str]]:
    """Columns a Parquet file's own statistics show to have no nulls, and integer columns they
    show to lie within [0, 1]: checks the warehouse can skip. Nothing for CSV."""
    if not is_parquet(path):
        return set(), set()
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    complete: set[str] = set()
    zero_one: set[str] = set()
    for c in range(metadata.num_columns):
        chunks = [metadata.row_group(g).column(c) for g in range(metadata.num_row_groups)]
        if any(chunk.path_in_schema.count(".") for chunk in chunks):
            continue  # nested: not a plain column
        statistics = [chunk.statistics for chunk in chunks]
        if not statistics or any(s is None or not s.has_null_count for s in statistics):
            continue
        name = chunks[0].path_in_schema
        if all(s.null_count == 0 for s in statistics):
            complete.add(name)
        kind = chunks[0].physical_type
        if kind == "BOOLEAN" or (
            kind in ("INT32", "INT64")
            and all(
                s.has_min_max and type(s.min) is int and s.min >= 0 and s.max <= 1
                for s in statistics
            )  # dates and times are stored as integers too
        ):
            zero_one.add(name)
    return complete, zero_one


@dataclass(frozen=True)
class UpliftResult:
    learner: str
    units: int
    held_out: int
    qini_coefficient: float
    auuc: float
    top_decile_uplift: float
    overall_uplift: float
    scores_file: str | None


def uplift_file(
    path: Path,
    arm_column: str,
    control: str,
    treatment: str,
    outcome: str,
    features: Sequence[str],
    *,
    learner: str = "x",
    out: Path | None = None,
    seed: int = 0,
) -> UpliftResult:
    """Fit an uplift model on half the units of ``treatment`` and ``control`` (chosen at
    random with ``seed``), judge it on the other half, and (with ``out``) write every unit's
    predicted uplift from a model fit on all of them."""
    from crosspromo.analytics.experiments.uplift import LEARNERS, curves

    if learner not in LEARNERS:
        raise InvalidInputError(f"unknown learner {learner!r}; expected t or x", field="learner")
    if not features:
        raise InvalidInputError("name at least one feature column", field="features")
    if out is not None:
        check_format(out, output=True)
    table = read_table(path)
    require_columns(path.name, table.column_names, [arm_column, outcome, *features])
    arms = np.asarray(table.column(arm_column).cast(pa.string()).to_pylist(), dtype=object)
    keep = (arms == control) | (arms == treatment)
    if not (arms == treatment).any() or not (arms == control).any():
        raise InvalidInputError(
            f"{path.name}: needs units in both {control!r} and {treatment!r}", field="arm"
        )
    try:
        x = np.column_stack(
            [table.column(f).cast(pa.float64()).to_numpy(zero_copy_only=False) for f in features]
        )[keep]
        y = table.column(outcome).cast(pa.float64()).to_numpy(zero_copy_only=False)[keep]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(f"{path.name}: a column is not numeric ({exc})") from None
    if np.isnan(y).any():
        raise InvalidInputError(f"{path.name}: {outcome} has missing values", field="outcome")
    treated = arms[keep] == treatment
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    half = np.random.default_rng(seed).random(len(y)) < 0.5
    try:
        model = LEARNERS[learner](binary).fit(x[half], treated[half], y[half])
    except ValueError as exc:
        raise InvalidInputError(f"{path.name}: {exc}") from None
    judged = curves(model.predict(x[~half]), treated[~half], y[~half])
    scores_file = None
    if out is not None:
        everything = LEARNERS[learner](binary).fit(x, treated, y)
        scored = table.filter(pa.array(keep)).append_column(
            "uplift", pa.array(everything.predict(x))
        )
        write_table(scored, out)
        scores_file = str(out)
    overall = float(y[~half][treated[~half]].mean() - y[~half][~treated[~half]].mean())
    return UpliftResult(
        learner, int(keep.sum()), int((~half).sum()), judged.qini_coefficient, judged.auuc,
        judged.top_share_uplift(0.1), overall, scores_file,
    )  # fmt: skip
