"""Stored experiments: create one, assign units to arms, log exposures, assign a whole audience
file. Units are identified like customers (trimmed; e-mail addresses in lower case), and their
exposures are stored under the same keyed hash, so outcomes can be joined from conversions."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ibis
import pyarrow as pa

from crosspromo.analytics.experiments.moments import MetricKind, Moments
from crosspromo.analytics.experiments.report import ExperimentReport, MetricSpec, analyze
from crosspromo.analytics.experiments.warehouse import arm_sums, moments_of
from crosspromo.domain.experiments import (
    CROSS_PROMOTION_ARMS,
    Arm,
    Design,
    Experiment,
    check_layer,
)
from crosspromo.engine.backend import Engine, connect
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.security import customer_id_hashes, normalize_external_id
from crosspromo.services.conversions import EARLIEST, LATEST
from crosspromo.services.tabular import check_format, read_table, require_columns, write_table
from crosspromo.store.database import Database
from crosspromo.store.repositories import ExperimentOutcomeRepository, ExperimentRepository

MAX_EXPOSURES = 10_000


def create_experiment(
    db: Database,
    org_id: int,
    name: str,
    arms: Sequence[tuple[str, float]] | None = None,
    *,
    layer: str = "default",
    traffic: tuple[float, float] = (0.0, 1.0),
    holdout: float = 0.0,
) -> Experiment:
    """A running experiment; by default the three-arm cross-promotion design. Experiments of
    one layer must not overlap in traffic and share the layer's holdout."""
    if not 1 <= len(name.strip()) <= 200:
        raise InvalidInputError("the name must be 1-200 characters", field="name")
    if not 1 <= len(layer) <= 64:
        raise InvalidInputError("the layer must be 1-64 characters", field="layer")
    chosen = tuple(Arm(n, w) for n, w in arms) if arms else CROSS_PROMOTION_ARMS
    if any(len(a.name) > 64 for a in chosen):
        raise InvalidInputError("arm names must be at most 64 characters", field="arms")
    design = Design(f"x{secrets.token_hex(12)}", chosen, layer, traffic, holdout)
    with db.transaction() as session:
        repository = ExperimentRepository(session)
        others = [e.design for e in repository.for_org(org_id) if e.status == "running"]
        try:
            check_layer([*others, design])
        except InvalidInputError as exc:
            raise ConflictError(str(exc)) from None
        return repository.add(org_id, name.strip(), design)


def list_experiments(db: Database, org_id: int) -> list[Experiment]:
    with db.transaction() as session:
        return ExperimentRepository(session).for_org(org_id)


def get_experiment(db: Database, org_id: int, experiment_id: int) -> Experiment:
    with db.transaction() as session:
        return ExperimentRepository(session).get_for_org(org_id, experiment_id)


def assign(experiment: Experiment, unit: str) -> str | None:
    """The unit's arm (``holdout``, or None when outside the experiment's traffic)."""
    normalized = normalize_external_id(unit)
    if not 1 <= len(normalized) <= 320:
        raise InvalidInputError("a unit id is 1-320 characters", field="unit")
    return experiment.design.assign(normalized)


@dataclass(frozen=True)
class Exposures:
    recorded: int
    already: int
    outside: int  # units the experiment does not take (outside its slice, or held out)
    by_arm: dict[str, int]


def log_exposures(
    db: Database,
    org_id: int,
    experiment_id: int,
    units: Sequence[tuple[str, datetime | None]],
) -> Exposures:
    """Record that ``units`` saw their arm (now, unless a time is given). The arm is always the
    assigned one; a unit's first exposure counts, replays add nothing."""
    if len(units) > MAX_EXPOSURES:
        raise InvalidInputError(f"at most {MAX_EXPOSURES:,} exposures at once", field="items")
    now = datetime.now(UTC)
    with db.transaction() as session:
        repository = ExperimentRepository(session)
        experiment = repository.get_for_org(org_id, experiment_id)
        arms = [assign(experiment, unit) for unit, _ in units]
        taken = [
            (unit, at, arm)
            for (unit, at), arm in zip(units, arms, strict=True)
            if arm is not None and arm != "holdout"
        ]
        for _, at, _ in taken:
            if at is not None and (at.tzinfo is None or not EARLIEST <= at <= LATEST):
                raise InvalidInputError(
                    "exposed_at needs a time zone and must lie between 2000 and 2100",
                    field="exposed_at",
                )
        secret = db.settings.secret_key.get_secret_value()
        hashes = customer_id_hashes(secret, org_id, [u for u, _, _ in taken])
        rows = [
            {
                "org_id": org_id,
                "experiment_id": experiment_id,
                "unit_hash": unit_hash,
                "arm": arm,
                "exposed_at": (at or now).astimezone(UTC),
            }
            for (_, at, arm), unit_hash in zip(taken, hashes, strict=True)
        ]
        recorded = repository.add_exposures(rows)
    return Exposures(
        recorded,
        len(taken) - recorded,
        len(units) - len(taken),
        dict(Counter(a for *_, a in taken)),
    )


def assign_file(
    db: Database, org_id: int, experiment_id: int, path: Path, unit_column: str, out: Path
) -> dict[str, int]:
    """Add an ``arm`` column to an audience file (CSV or Parquet) and write it to ``out``;
    returns the units per arm (``outside`` for units the experiment does not take)."""
    check_format(out, output=True)
    experiment = get_experiment(db, org_id, experiment_id)
    table = read_table(path)
    require_columns(path.name, table.column_names, [unit_column])
    if "arm" in table.column_names:
        raise InvalidInputError(f"{path.name} already has an arm column", field="file")
    units = table.column(unit_column).cast(pa.string()).to_pylist()
    arms = []
    for number, unit in enumerate(units, start=1):
        if unit is None or not unit.strip():
            raise InvalidInputError(f"{path.name}, row {number}: no unit id", row=number)
        arms.append(assign(experiment, unit))
    write_table(table.append_column("arm", pa.array(arms, pa.string())), out)
    return dict(Counter(a or "outside" for a in arms))


def experiment_results(
    db: Database,
    org_id: int,
    experiment_id: int,
    *,
    window_days: int = 30,
    alpha: float = 0.05,
    engine: Engine | None = None,
) -> tuple[Experiment, ExperimentReport]:
    """Each exposed unit's sales within ``window_days`` of its exposure (joined by the
    customer id's keyed hash), analyzed arm against control: ``converted`` (made a sale) and
    ``value`` (sales, minor units per unit)."""
    if not 1 <= window_days <= 366:
        raise InvalidInputError("window_days must be 1-366", field="window_days")
    with db.transaction() as session:
        experiment = ExperimentRepository(session).get_for_org(org_id, experiment_id)
        units = ExperimentOutcomeRepository(session).unit_outcomes(
            experiment_id, org_id, timedelta(days=window_days)
        )
    metrics = [MetricSpec("converted", MetricKind.BINARY), MetricSpec("value", MetricKind.MEAN)]
    design = experiment.design
    runner = engine or connect(db.settings)
    try:
        sums = arm_sums(ibis.memtable(units), "arm", metrics)
        moments = moments_of(runner.to_arrow(sums).to_pylist(), metrics)
    finally:
        if engine is None:
            runner.close()
    empty = {m.name: Moments(0, 0.0, 0.0) for m in metrics}
    everyone = {arm.name: moments.get(arm.name, empty) for arm in design.arms}
    report = analyze(everyone, metrics, design.control, shares=design.shares, alpha=alpha)
    return experiment, report
