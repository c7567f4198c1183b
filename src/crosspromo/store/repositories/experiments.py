"""Experiments (their design) and exposures (each unit's first, append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Row, and_, func, select

from crosspromo.domain.experiments import Arm, Design, Experiment
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class ExperimentRepository(Repository):
    def add(self, org_id: int, name: str, design: Design) -> Experiment:
        now = utcnow()
        values = {
            "org_id": org_id,
            "name": name,
            "salt": design.salt,
            "arms": [{"name": a.name, "weight": a.weight} for a in design.arms],
            "layer": design.layer,
            "traffic_start": design.traffic[0],
            "traffic_stop": design.traffic[1],
            "holdout": design.holdout,
            "status": "running",
            "created_at": now,
        }
        new_id = self._insert(t.experiments, values, f"the salt {design.salt!r} is taken")
        return Experiment(new_id, org_id, name, design, "running", now)

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
    return Experiment(row.id, row.org_id, row.name, design, row.status, row.created_at)


class ExperimentOutcomeRepository(Repository):
    def unit_outcomes(
        self, experiment_id: int, org_id: int, window: timedelta, kind: str = "sale"
    ) -> pa.Table:
        """One row per exposed unit: ``arm``, ``converted`` (1 when the unit made a conversion
        of ``kind`` within ``window`` of its exposure) and ``value`` (their amounts, minor
        units)."""
        e, v = t.exposures.c, t.conversions.c
        joined = t.exposures.outerjoin(
            t.conversions,
            and_(
                v.org_id == org_id,
                v.customer_hash == e.unit_hash,
                v.kind == kind,
                v.occurred_at >= e.exposed_at,
            ),
        )
        rows = self.session.execute(
            select(e.id, e.arm, e.exposed_at, v.occurred_at, v.amount_minor)
            .select_from(joined)
            .where(e.experiment_id == experiment_id, e.org_id == org_id)
        )
        per_unit: dict[int, list[Any]] = {}
        for unit, arm, exposed, occurred, amount in rows:
            entry = per_unit.setdefault(unit, [arm, 0, 0.0])
            if occurred is not None and _utc(occurred) <= _utc(exposed) + window:
                entry[1] = 1
                entry[2] += float(amount or 0)
        arms, converted, value = zip(*per_unit.values(), strict=True) if per_unit else ((), (), ())
        return pa.table(
            {
                "arm": pa.array(arms, pa.string()),
                "converted": pa.array(converted, pa.int64()),
                "value": pa.array(value, pa.float64()),
            }
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
