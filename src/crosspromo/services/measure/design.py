"""Designing an experiment before it runs: the units each arm needs, and what adaptive
allocation (Thompson sampling) would save against an even split on arms of known rates."""

from __future__ import annotations

from collections.abc import Sequence

from crosspromo.analytics.experiments import power
from crosspromo.analytics.experiments.bandit import Simulation, simulate
from crosspromo.analytics.experiments.power import SampleSize
from crosspromo.errors import InvalidInputError


def sample_size(
    baseline: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power_level: float = 0.8,
    arms: int = 2,
    sd: float | None = None,
) -> SampleSize:
    """Units per arm: for a rate without ``sd``, for a mean with it."""
    if sd is None:
        return power.proportions(baseline, mde, alpha, power_level, arms)
    return power.means(baseline, sd, mde, alpha, power_level, arms)


def bandit_regret(rates: Sequence[float], units: int, batch: int, seed: int = 0) -> Simulation:
    """Thompson sampling against an even split on arms with the given true rates."""
    try:
        return simulate(rates, units, batch, seed)
    except ValueError as exc:
        raise InvalidInputError(str(exc), field="rate") from None
