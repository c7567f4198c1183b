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
from typing import Annotated

import ibis
import pyarrow as pa
from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.analytics.experiments.moments import MetricKind, Moments
from crosspromo.analytics.experiments.report import ExperimentReport, MetricSpec, analyze
from crosspromo.analytics.experiments.warehouse import arm_sums, cumulative_looks
from crosspromo.domain.choices import one_of
from crosspromo.domain.clock import aware_time
from crosspromo.domain.conversions import ConversionKind
from crosspromo.domain.experiments import (
    CROSS_PROMOTION_ARMS,
    Arm,
    Design,
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    check_layer,
    experiment_steps,
)
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import ConflictError, InvalidInputError, InvalidTransitionError
from crosspromo.security import customer_id_hashes, normalize_external_id
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.agree.partnerships import open_partners
from crosspromo.services.files.tabular import check_format, read_table, require_columns, write_table
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ExperimentOutcomeRepository,
    ExperimentRepository,
    JourneyRepository,
    OrganizationRepository,
    PartnershipRepository,
)

MAX_EXPOSURES = 10_000
MIN_UNITS_PER_ARM = 100  # fewer in an arm: "collecting data", not a decision


@dataclass(frozen=True, slots=True)
class ExperimentView:
    """A stored experiment: its arms (control first), its slice of the layer, and the salt
    units are hashed with (anyone with it assigns units the same way)."""

    id: int
    name: str
    status: ExperimentStatus
    control: str
    arms: list[Arm]
    layer: str
    traffic: tuple[float, float]
    holdout: float
    salt: str
    created_at: datetime
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    shipped_arm: Annotated[str | None, Field(description="the arm all units get once shipped")] = (
        None
    )
    partner: Annotated[str | None, Field(description="slug of the partner it involves")] = None
    metric: Annotated[
        ExperimentMetric, Field(description="what the decision follows (the other is reported)")
    ] = ExperimentMetric.CONVERTED

    @classmethod
    def of(cls, e: Experiment, partner: str | None = None) -> ExperimentView:
        d = e.design
        return cls(
            e.id, e.name, e.status, d.control, list(d.arms), d.layer, d.traffic, d.holdout,
            d.salt, e.created_at, e.started_at, e.stopped_at, e.shipped_arm, partner, e.metric,
        )  # fmt: skip

    def steps(self) -> list[ExperimentStatus]:
        """The statuses it may move to next, in lifecycle order."""
        return [s for s in ExperimentStatus if s in experiment_steps(self.status)]


@dataclass(frozen=True, slots=True)
class Assignment:
    experiment_id: int
    unit: str
    arm: Annotated[str | None, Field(description="null when the experiment does not take the unit")]


@dataclass(frozen=True, slots=True)
class AssignedFile:
    """An audience file written with each unit's arm, and the units per arm (``outside``:
    units the experiment does not take)."""

    file: str
    by_arm: dict[str, int]


def create_experiment(
    db: Database,
    org_id: int,
    name: str,
    arms: Sequence[tuple[str, float]] | None = None,
    *,
    layer: str = "default",
    traffic: tuple[float, float] = (0.0, 1.0),
    holdout: float = 0.0,
    start: bool = True,
    partner: str | None = None,
    metric: ExperimentMetric | str = ExperimentMetric.CONVERTED,
) -> ExperimentView:
    """An experiment, running at once unless ``start`` is false (a draft, started later); by
    default the three-arm cross-promotion design. Running experiments of one layer must not
    overlap in traffic and share the layer's holdout. ``partner``: the slug of the partner
    it involves (one with a partnership); ``metric``: what its decision follows."""
    primary = parse_metric(metric)
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
        partner_id = None if partner is None else _partner_id(session, org_id, partner)
        if start:
            _check_layer(repository, org_id, design)
        made = repository.add(org_id, name.strip(), design, start=start,
                              partner_org_id=partner_id, metric=primary)  # fmt: skip
        return _views(session, [made])[0]


def parse_metric(value: ExperimentMetric | str) -> ExperimentMetric:
    """The primary metric named by ``value``, or an error listing the choices."""
    return one_of(ExperimentMetric, value, "metric")


def parse_arms(text: str) -> list[tuple[str, float]]:
    """Arms written as a manager types them: ``control, partner=2, brand`` (control first; a
    weight is 1 unless given)."""
    arms: list[tuple[str, float]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, has_weight, number = part.partition("=")
        name = name.strip()
        try:
            weight = float(number) if has_weight else 1.0
        except ValueError:
            weight = -1.0
        if not name or not 0 < weight <= 1e6 or name in (a for a, _ in arms):
            raise InvalidInputError(
                f"arm {part!r}: a name, once, with an optional positive weight (name=2)",
                field="arms",
            )
        arms.append((name, weight))
    if not 2 <= len(arms) <= 20:
        raise InvalidInputError("2 to 20 arms, the control first", field="arms")
    return arms


def _check_layer(repository: ExperimentRepository, org_id: int, design: Design) -> None:
    others = [e.design for e in repository.for_org(org_id)
              if e.status is ExperimentStatus.RUNNING and e.design.salt != design.salt]  # fmt: skip
    try:
        check_layer([*others, design])
    except InvalidInputError as exc:
        raise ConflictError(str(exc)) from None


def _partner_id(session: Session, org_id: int, slug: str) -> int:
    """The id of ``slug``, which must be a party to one of the organization's partnerships."""
    other = OrganizationRepository(session).by_slug(slug)
    if PartnershipRepository(session).open_between(org_id, other.id) is None:
        raise InvalidInputError(f"no open partnership with {slug!r}", field="partner")
    return other.id


def _views(session: Session, items: Sequence[Experiment]) -> list[ExperimentView]:
    wanted = {e.partner_org_id for e in items if e.partner_org_id is not None}
    slugs = {i: o.slug for i, o in OrganizationRepository(session).many(wanted).items()}
    return [
        ExperimentView.of(e, None if e.partner_org_id is None else slugs[e.partner_org_id])
        for e in items
    ]


def list_experiments(db: Database, org_id: int) -> list[ExperimentView]:
    with db.transaction() as session:
        return _views(session, ExperimentRepository(session).for_org(org_id))


def get_experiment(db: Database, org_id: int, experiment_id: int) -> ExperimentView:
    with db.transaction() as session:
        found = ExperimentRepository(session).get_for_org(org_id, experiment_id)
        return _views(session, [found])[0]


def move_experiment(
    db: Database, org_id: int, experiment_id: int, target: ExperimentStatus,
    arm: str | None = None,
) -> ExperimentView:  # fmt: skip
    """Start a draft, stop a running experiment, or ship one arm to every unit (``arm``, one of
    the experiment's). Starting checks the layer against the running experiments."""
    with db.transaction() as session:
        repository = ExperimentRepository(session)
        experiment = repository.get_for_org(org_id, experiment_id)
        if target not in experiment_steps(experiment.status):
            allowed = ", ".join(sorted(experiment_steps(experiment.status))) or "none"
            raise InvalidTransitionError(
                f"experiment {experiment_id} is {experiment.status}: it cannot become "
                f"{target} (allowed: {allowed})", current=str(experiment.status),
                target=str(target),
            )  # fmt: skip
        names = [a.name for a in experiment.design.arms]
        if target is ExperimentStatus.SHIPPED and arm not in names:
            raise InvalidInputError(f"ship one of the arms: {', '.join(names)}", field="arm")
        if target is ExperimentStatus.RUNNING:
            _check_layer(repository, org_id, experiment.design)
        moved = repository.set_status(
            experiment, target, arm if target is ExperimentStatus.SHIPPED else None
        )
        return _views(session, [moved])[0]


def assignment(db: Database, org_id: int, experiment_id: int, unit: str) -> Assignment:
    """The unit's arm: stable, computed from the experiment's salt and the unit id."""
    with db.transaction() as session:
        experiment = ExperimentRepository(session).get_for_org(org_id, experiment_id)
    return Assignment(experiment.id, unit, assign(experiment, unit))


def assign(experiment: Experiment, unit: str) -> str | None:
    """The unit's arm (``holdout``, or None when outside the experiment's traffic). A shipped
    experiment gives every unit its shipped arm; a draft or stopped one takes no unit."""
    normalized = normalize_external_id(unit)
    if not 1 <= len(normalized) <= 320:
        raise InvalidInputError("a unit id is 1-320 characters", field="unit")
    if experiment.status is ExperimentStatus.SHIPPED:
        return experiment.shipped_arm
    if experiment.status is not ExperimentStatus.RUNNING:
        return None
    return experiment.design.assign(normalized)


@dataclass(frozen=True)
class Exposures:
    recorded: int
    already_recorded: int
    not_in_experiment: int  # units the experiment does not take (outside its slice, or held out)
    by_arm: dict[str, int]


def log_exposures(
    db: Database,
    org_id: int,
    experiment_id: int,
    units: Sequence[tuple[str, datetime | None]],
    *,
    limit: int = MAX_EXPOSURES,
) -> Exposures:
    """Record that ``units`` saw their arm (now, unless a time is given). The arm is always the
    assigned one; a unit's first exposure counts, replays add nothing. All or nothing."""
    if len(units) > limit:
        raise InvalidInputError(f"at most {limit:,} exposures at once", field="items")
    now = datetime.now(UTC)
    with db.transaction() as session:
        repository = ExperimentRepository(session)
        experiment = repository.get_for_org(org_id, experiment_id)
        if experiment.status is not ExperimentStatus.RUNNING:
            raise ConflictError(
                f"experiment {experiment_id} is {experiment.status}: exposures are logged only "
                "while it runs"
            )
        arms = [assign(experiment, unit) for unit, _ in units]
        taken = [
            (unit, now if at is None else _exposure_time(at), arm)
            for (unit, at), arm in zip(units, arms, strict=True)
            if arm is not None and arm != "holdout"
        ]
        secret = identity_secret(db, session)
        hashes = customer_id_hashes(secret, org_id, [u for u, _, _ in taken])
        rows = [
            {
                "org_id": org_id,
                "experiment_id": experiment_id,
                "unit_hash": unit_hash,
                "arm": arm,
                "exposed_at": at,
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


def _exposure_time(at: datetime) -> datetime:
    try:
        return aware_time(at)
    except ValueError as exc:
        raise InvalidInputError(f"exposed_at {exc}", field="exposed_at") from None


MAX_FILE_EXPOSURES = 1_000_000


def expose_file(
    db: Database,
    org_id: int,
    experiment_id: int,
    path: Path,
    unit_column: str,
    time_column: str | None = None,
) -> Exposures:
    """Log the exposures of a file (CSV or Parquet): a unit per row, and its time of exposure
    in ``time_column`` (ISO 8601 with a zone; now when no column is named). A bad row is named
    and nothing is written."""
    wanted = [unit_column, *([time_column] if time_column else [])]
    table = read_table(path)
    require_columns(path.name, table.column_names, wanted)
    if not 1 <= table.num_rows <= MAX_FILE_EXPOSURES:
        raise InvalidInputError(
            f"{path.name}: 1 to {MAX_FILE_EXPOSURES:,} rows at once", field="file"
        )
    units = table.column(unit_column).cast(pa.string()).to_pylist()
    times = table.column(time_column).to_pylist() if time_column else [None] * len(units)
    items: list[tuple[str, datetime | None]] = []
    for number, (unit, raw) in enumerate(zip(units, times, strict=True), start=1):
        if unit is None or not unit.strip():
            raise InvalidInputError(f"{path.name}, row {number}: no unit id", row=number)
        at = None
        if time_column:
            try:
                at = aware_time(raw)
            except ValueError as exc:
                raise InvalidInputError(
                    f"{path.name}, row {number}, column {time_column}: {exc}", row=number
                ) from None
        items.append((unit, at))
    return log_exposures(db, org_id, experiment_id, items, limit=MAX_FILE_EXPOSURES)


def assign_file(
    db: Database, org_id: int, experiment_id: int, path: Path, unit_column: str, out: Path
) -> AssignedFile:
    """Add an ``arm`` column to an audience file (CSV or Parquet) and write it to ``out``."""
    check_format(out, output=True)
    with db.transaction() as session:
        experiment = ExperimentRepository(session).get_for_org(org_id, experiment_id)
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
    return AssignedFile(str(out), dict(Counter(a or "outside" for a in arms)))


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
    ``value`` (sales, minor units per unit). The days of exposure are the looks: every
    comparison also gets an always-valid p-value, for teams who check every day. The decision
    follows the experiment's primary metric."""
    if not 1 <= window_days <= 366:
        raise InvalidInputError("window_days must be 1-366", field="window_days")
    with db.transaction() as session:
        experiment = ExperimentRepository(session).get_for_org(org_id, experiment_id)
        units = ExperimentOutcomeRepository(session).unit_outcomes(
            experiment_id, org_id, timedelta(days=window_days)
        )
    kinds = {ExperimentMetric.CONVERTED: MetricKind.BINARY, ExperimentMetric.VALUE: MetricKind.MEAN}
    metrics = sorted(
        (MetricSpec(m.value, kind, label=f"the {m.words}") for m, kind in kinds.items()),
        key=lambda m: m.name != experiment.metric,
    )  # the primary first: the decision follows the first metric that is not a guardrail
    design = experiment.design
    with engine_for(db.settings, engine) as runner:
        sums = arm_sums(ibis.memtable(units), "arm", metrics, look_column="exposed_at")
        looks = cumulative_looks(runner.to_arrow(sums).to_pylist(), metrics)
    days = len(next(iter(looks.values()), []))
    empty = [{m.name: Moments(0, 0.0, 0.0) for m in metrics}] * max(days, 1)
    daily = {arm.name: [m for _, m in looks[arm.name]] if arm.name in looks else empty
             for arm in design.arms}  # fmt: skip
    everyone = {arm: found[-1] for arm, found in daily.items()}
    report = analyze(
        everyone, metrics, design.control, shares=design.shares, alpha=alpha,
        looks=daily if days else None, min_units_per_arm=MIN_UNITS_PER_ARM,
    )  # fmt: skip
    return experiment, report


def all_results(
    db: Database, org_id: int, *, window_days: int = 30
) -> list[tuple[ExperimentView, ExperimentReport | None]]:
    """Every experiment of the organization, newest first, with its results (none for a
    draft, which has no units yet)."""
    return [
        (e, None if e.status is ExperimentStatus.DRAFT
         else experiment_results(db, org_id, e.id, window_days=window_days)[1])
        for e in reversed(list_experiments(db, org_id))
    ]  # fmt: skip


@dataclass(frozen=True)
class ExperimentsPage:
    """The dashboard's Experiments tab: each experiment with its results, the currency its
    values are in (the organization's sales currency, when it has one), and the partners an
    experiment may involve."""

    items: list[tuple[ExperimentView, ExperimentReport | None]]
    currency: str | None
    partners: list[str]


def experiments_page(db: Database, org_id: int, *, window_days: int = 30) -> ExperimentsPage:
    items = all_results(db, org_id, window_days=window_days)
    with db.transaction() as session:
        partners = open_partners(session, org_id)
        currencies = JourneyRepository(session).currencies(org_id, ConversionKind.SALE)
    return ExperimentsPage(items, currencies[0] if len(currencies) == 1 else None, partners)
