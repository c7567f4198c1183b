"""Adaptive allocation: Thompson sampling over offers or creatives with 0/1 rewards.

Each arm's conversion rate has a Beta posterior (uniform prior). For every unit, one rate is
drawn from each posterior and the unit goes to the arm with the highest draw (Thompson 1933;
Chapelle & Li 2011), so arms get traffic in proportion to their chance of being the best.
Traffic can be decided in batches (all units of a batch see the same posteriors), as it is when
results arrive daily.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import computed_field

Array = np.ndarray[Any, Any]


@dataclass
class ThompsonSampler:
    arms: Sequence[str]
    seed: int = 0
    successes: Array = field(init=False)
    failures: Array = field(init=False)

    def __post_init__(self) -> None:
        if len(self.arms) < 2 or len(set(self.arms)) != len(self.arms):
            raise ValueError("Thompson sampling needs at least two distinct arms")
        self.successes = np.zeros(len(self.arms))
        self.failures = np.zeros(len(self.arms))
        self._random = np.random.default_rng(self.seed)

    def allocate(self, units: int) -> Array:
        """The arm index for each of ``units`` units, from the current posteriors."""
        draws = self._random.beta(
            1 + self.successes, 1 + self.failures, size=(units, len(self.arms))
        )
        chosen: Array = draws.argmax(axis=1)
        return chosen

    def update(self, arm: Array, reward: Array) -> None:
        """Add observed 0/1 rewards of units given to ``arm`` (indices)."""
        size = len(self.arms)
        won = np.bincount(arm, weights=reward, minlength=size)
        self.successes += won
        self.failures += np.bincount(arm, minlength=size) - won

    def prob_best(self, draws: int = 20_000) -> dict[str, float]:
        """Each arm's posterior probability of having the highest rate (Monte Carlo)."""
        best = self.allocate(draws)
        shares = np.bincount(best, minlength=len(self.arms)) / draws
        return dict(zip(self.arms, shares.tolist(), strict=True))


@dataclass(frozen=True)
class ArmOutcome:
    arm: str
    true_rate: float
    thompson_units: int


@dataclass(frozen=True)
class Simulation:
    """Thompson sampling against a uniform split: units each arm got, and the regret (expected
    conversions lost against always choosing the best arm) of each way."""

    units: int
    arms: list[ArmOutcome]
    thompson_regret: float
    uniform_regret: float
    thompson_conversions: float
    uniform_conversions: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def regret_ratio(self) -> float | None:
        return self.thompson_regret / self.uniform_regret if self.uniform_regret else None


def simulate(
    true_rates: Sequence[float], units: int, batch: int = 100, seed: int = 0
) -> Simulation:
    """Send ``units`` units in batches by Thompson sampling and, for comparison, uniformly at
    random; regret is the expected conversions lost against always choosing the best arm."""
    rates = np.asarray(true_rates, dtype=np.float64)
    if len(rates) < 2 or not ((rates >= 0) & (rates <= 1)).all():
        raise ValueError("give at least two true rates between 0 and 1")
    if units < 1 or batch < 1:
        raise ValueError("units and batch must be positive")
    arms = [f"arm {i + 1}" for i in range(len(rates))]
    sampler = ThompsonSampler(arms, seed)
    outcomes = np.random.default_rng([seed, 1])
    pulls = np.zeros(len(rates), dtype=np.int64)
    for start in range(0, units, batch):
        chosen = sampler.allocate(min(batch, units - start))
        sampler.update(chosen, (outcomes.random(len(chosen)) < rates[chosen]).astype(float))
        pulls += np.bincount(chosen, minlength=len(rates))
    uniform = np.random.default_rng([seed, 2]).integers(0, len(rates), units)
    uniform_pulls = np.bincount(uniform, minlength=len(rates))
    best = rates.max()
    outcome = zip(arms, rates.tolist(), pulls.tolist(), strict=True)
    return Simulation(
        units,
        [ArmOutcome(*arm) for arm in outcome],
        float((pulls * (best - rates)).sum()),
        float((uniform_pulls * (best - rates)).sum()),
        float((pulls * rates).sum()),
        float((uniform_pulls * rates).sum()),
    )
