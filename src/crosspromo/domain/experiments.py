"""Experiments: designs (arms with weights, deterministic assignment, holdouts and layers) and
stored experiments.

A unit's place is decided by hashing, never by a random draw or a stored table, so any process
on any machine assigns it the same way: SHA-256 of ``salt:unit`` read as a number in [0, 1).

- The **holdout** (a share of a layer's units, hashed with the layer's own salt) takes no part in
  any experiment of the layer: the long-run baseline.
- A **layer** makes its experiments mutually exclusive: each experiment owns a slice
  ``traffic = (start, stop)`` of the layer's hash, and slices of one layer must not overlap.
- Inside its slice, a unit's arm comes from a second hash with the experiment's salt, so arm
  shares do not depend on the slice, and two experiments never share a pattern.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crosspromo.errors import InvalidInputError

_SCALE = float(2**64)
HOLDOUT = "holdout"


def unit_hash(salt: str, unit: str) -> float:
    """A number in [0, 1) fixed by ``salt`` and ``unit``."""
    digest = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


@dataclass(frozen=True, slots=True)
class Arm:
    name: str
    weight: float = 1.0


CROSS_PROMOTION_ARMS = (Arm("control"), Arm("partner"), Arm("brand"))
"""The standard three-arm design: nothing, the offer sent by the partner, by our own brand."""


@dataclass(frozen=True)
class Design:
    """Arms (the first one is the control) and where the experiment sits in its layer."""

    salt: str
    arms: tuple[Arm, ...] = CROSS_PROMOTION_ARMS
    layer: str = "default"
    traffic: tuple[float, float] = (0.0, 1.0)
    holdout: float = 0.0

    def __post_init__(self) -> None:
        if not self.salt:
            raise InvalidInputError("an experiment needs a salt", field="salt")
        names = [a.name for a in self.arms]
        if len(names) < 2:
            raise InvalidInputError("an experiment needs at least two arms", field="arms")
        if len(set(names)) != len(names) or HOLDOUT in names or "" in names:
            raise InvalidInputError(
                f"arm names must be distinct, non-empty and not {HOLDOUT!r}", field="arms"
            )
        if any(not a.weight > 0 for a in self.arms):
            raise InvalidInputError("arm weights must be positive", field="arms")
        start, stop = self.traffic
        if not 0 <= start < stop <= 1:
            raise InvalidInputError(
                "traffic must be a slice 0 <= start < stop <= 1", field="traffic"
            )
        if not 0 <= self.holdout < 1:
            raise InvalidInputError("the holdout share must be in [0, 1)", field="holdout")

    @property
    def control(self) -> str:
        return self.arms[0].name

    @property
    def shares(self) -> dict[str, float]:
        """Each arm's expected share of the units the experiment takes."""
        total = sum(a.weight for a in self.arms)
        return {a.name: a.weight / total for a in self.arms}

    def assign(self, unit: str) -> str | None:
        """The unit's arm; ``holdout`` for the layer's holdout; None outside the slice."""
        if self.holdout and unit_hash(f"{self.layer}:holdout", unit) < self.holdout:
            return HOLDOUT
        start, stop = self.traffic
        if not start <= unit_hash(f"{self.layer}:layer", unit) < stop:
            return None
        point = unit_hash(self.salt, unit) * sum(a.weight for a in self.arms)
        for arm in self.arms:
            if point < arm.weight:
                return arm.name
            point -= arm.weight
        return self.arms[-1].name  # pragma: no cover - rounding at the very top

    def assign_many(self, units: Iterable[str]) -> list[str | None]:
        return [self.assign(u) for u in units]


def check_layer(designs: Sequence[Design]) -> None:
    """Experiments of one layer must own disjoint slices and share its holdout."""
    by_layer: dict[str, list[Design]] = {}
    for design in designs:
        by_layer.setdefault(design.layer, []).append(design)
    for layer, members in by_layer.items():
        if len({d.holdout for d in members}) > 1:
            raise InvalidInputError(
                f"experiments in layer {layer!r} disagree on its holdout share", field="holdout"
            )
        ordered = sorted(members, key=lambda d: d.traffic)
        for left, right in itertools.pairwise(ordered):
            if right.traffic[0] < left.traffic[1]:
                raise InvalidInputError(
                    f"experiments {left.salt!r} and {right.salt!r} overlap in layer {layer!r}",
                    field="traffic",
                )


class ExperimentStatus(StrEnum):
    """An experiment's lifecycle: a draft takes no units; a running one assigns and logs
    exposures; a stopped one keeps its results and takes no more; a shipped one gives every
    unit the chosen arm."""

    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    SHIPPED = "shipped"


_NEXT: dict[ExperimentStatus, frozenset[ExperimentStatus]] = {
    ExperimentStatus.DRAFT: frozenset({ExperimentStatus.RUNNING}),
    ExperimentStatus.RUNNING: frozenset({ExperimentStatus.STOPPED, ExperimentStatus.SHIPPED}),
    ExperimentStatus.STOPPED: frozenset({ExperimentStatus.SHIPPED}),
    ExperimentStatus.SHIPPED: frozenset(),
}


class ExperimentMetric(StrEnum):
    """What a stored experiment decides on: the share of units that made a sale within the
    window, or the sales value per unit (refunds net). The other is still reported."""

    CONVERTED = "converted"
    VALUE = "value"

    @property
    def words(self) -> str:
        return _METRIC_WORDS[self]


_METRIC_WORDS = {
    ExperimentMetric.CONVERTED: "share of customers who buy",
    ExperimentMetric.VALUE: "sales per customer",
}


def experiment_steps(status: ExperimentStatus) -> frozenset[ExperimentStatus]:
    """The statuses an experiment in ``status`` may move to."""
    return _NEXT[status]


@dataclass(frozen=True, slots=True)
class Experiment:
    id: int
    org_id: int
    name: str
    design: Design
    status: ExperimentStatus
    created_at: datetime
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    shipped_arm: str | None = None
    partner_org_id: int | None = None
    metric: ExperimentMetric = ExperimentMetric.CONVERTED
