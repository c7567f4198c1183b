"""Experiments (their design) and exposures (each unit's first, append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Interval, Row, and_, func, literal, select

from crosspromo.domain.experiments import (
    Arm,
    Design,
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
)
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class ExperimentRepository(Repository):
    def add(
        self, org_id: int, name: str, design: Design, *, start: bool = True,
        partner_org_id: int | None = None,
        metric: ExperimentMetric = ExperimentMetric.CONVERTED,
    ) -> Experiment:  # fmt: skip
        now = utcnow()
        status = ExperimentStatus.RUNNING if start else ExperimentStatus.DRAFT
        values = {
            "org_id": org_id,
            "name": name,
            "salt": design.salt,
            "arms": [{"name": a.name, "weight": a.weight} for a in design.arms],
            "layer": design.layer,
            "traffic_start": design.traffic[0],
            "traffic_stop": design.traffic[1],
            "holdout": design.holdout,
            "status": str(status),
            "created_at": now,
            "started_at": now if start else None,
            "partner_org_id": partner_org_id,
            "primary_metric": str(metric),
        }
        new_id = self._insert(t.experiments, values, f"the salt {design.salt!r} is taken")
        return self.get_for_org(org_id, new_id)

    def set_status(
        self, experiment: Experiment, status: ExperimentStatus, shipped_arm: str | None = None
    ) -> Experiment:
        """Move to ``status``, stamping when it started or stopped."""
        now = utcnow()
        values: dict[str, Any] = {"status": str(status)}
        if status is ExperimentStatus.RUNNING:
            values["started_at"] = now
        if status in (ExperimentStatus.STOPPED, ExperimentStatus.SHIPPED):
            values["stopped_at"] = experiment.stopped_at or now
        if status is ExperimentStatus.SHIPPED:
            values["shipped_arm"] = shipped_arm
        self.session.execute(
            t.experiments.update().where(t.experiments.c.id == experiment.id).values(**values)
        )
        return self.get_for_org(experiment.org_id, experiment.id)

    def get_for_org(self, org_id: int, experiment_id: int) -> Experiment:
        row = self.session.execute(
            select(t.experiments).where(
                t.experiments.c.id == experiment_id, t.experiments.c.org_id == org_id
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no experiment {experiment_id}", experiment_id=experiment_id)
        return _experiment(row)

    def for_org(self, org_id: int) -> list[Experiment]:
        rows = self.session.execute(
            select(t.experiments)
            .where(t.experiments.c.org_id == org_id)
            .order_by(t.experiments.c.id)
        )
        return [_experiment(r) for r in rows]

    def add_exposures(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store first exposures; units already exposed in the experiment are skipped."""
        return self._insert_new(t.exposures, rows, ["experiment_id", "unit_hash"])

    def exposure_counts(self, experiment_id: int) -> dict[str, int]:
        e = t.exposures.c
        rows = self.session.execute(
            select(e.arm, func.count()).where(e.experiment_id == experiment_id).group_by(e.arm)
        )
        return {r[0]: int(r[1]) for r in rows}


def _experiment(row: Row[Any]) -> Experiment:
    design = Design(
        salt=row.salt,
        arms=tuple(Arm(a["name"], float(a["weight"])) for a in row.arms),
        layer=row.layer,
        traffic=(row.traffic_start, row.traffic_stop),
        holdout=row.holdout,
    )
    return Experiment(
        row.id, row.org_id, row.name, design, ExperimentStatus(row.status), row.created_at,
        row.started_at, row.stopped_at, row.shipped_arm, row.partner_org_id,
        ExperimentMetric(row.primary_metric),
    )  # fmt: skip


class ExperimentOutcomeRepository(Repository):
    def unit_outcomes(
        self, experiment_id: int, org_id: int, window: timedelta, kind: str = "sale"
    ) -> pa.Table:
        """One row per exposed unit: ``arm``, ``exposed_at`` (UTC, without zone), ``converted``
        (1 when the unit made a conversion of ``kind`` within ``window`` of its exposure) and
        ``value`` (their amounts, minor units). The database joins and sums; a row per unit
        comes back."""
        e, v = t.exposures.c, t.conversions.c
        joined = t.exposures.outerjoin(
            t.conversions,
            and_(
                v.org_id == org_id,
                v.customer_hash == e.unit_hash,
                v.kind == kind,
                v.occurred_at >= e.exposed_at,
                self._within(v.occurred_at, e.exposed_at, window),
            ),
        )
        rows = self.session.execute(
            select(
                e.arm,
                e.exposed_at,
                func.count(v.id),
                func.coalesce(func.sum(v.amount_minor), 0),
            )
            .select_from(joined)
            .where(e.experiment_id == experiment_id, e.org_id == org_id)
            .group_by(e.id, e.arm, e.exposed_at)
        ).all()
        arms, exposed, hits, value = zip(*rows, strict=True) if rows else ((), (), (), ())
        return pa.table(
            {
                "arm": pa.array(arms, pa.string()),
                "exposed_at": pa.array(
                    [x.replace(tzinfo=None) for x in exposed], pa.timestamp("us")
                ),
                "converted": pa.array([1 if h else 0 for h in hits], pa.int64()),
                "value": pa.array([float(x) for x in value], pa.float64()),
            }
        )

    def _within(self, later: Any, start: Any, window: timedelta) -> Any:
        """``later <= start + window``, in the database's own date arithmetic."""
        if self.session.get_bind().dialect.name == "sqlite":
            days = window.total_seconds() / 86_400
            return func.julianday(later) <= func.julianday(start) + days
        return later <= start + literal(window, Interval())
