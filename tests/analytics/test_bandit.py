"""Thompson sampling finds the best offer and loses far fewer conversions than a uniform split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crosspromo.analytics.experiments.bandit import ThompsonSampler, simulate
from tests.cli.test_cli import cli_here


def test_thompson_regret_is_a_fraction_of_uniform() -> None:
    ratios = []
    for seed in range(5):
        result = simulate([0.04, 0.05, 0.065], units=30_000, batch=200, seed=seed)
        assert result.arms[2].thompson_units > 0.6 * result.units  # most traffic to the best arm
        assert result.thompson_regret < result.uniform_regret
        ratios.append(result.thompson_regret / result.uniform_regret)
    assert np.mean(ratios) < 0.35


def test_sampler_posteriors() -> None:
    sampler = ThompsonSampler(["a", "b"], seed=1)
    arms = np.array([0] * 100 + [1] * 100)
    rewards = np.array([1.0] * 10 + [0.0] * 90 + [1.0] * 30 + [0.0] * 70)
    sampler.update(arms, rewards)
    assert sampler.successes.tolist() == [10, 30]
    assert sampler.failures.tolist() == [90, 70]
    assert sampler.prob_best()["b"] > 0.99
    with pytest.raises(ValueError, match="two distinct arms"):
        ThompsonSampler(["a"])


def test_simulation_command() -> None:
    done = cli_here(
        "experiment", "bandit-simulate", "--rate", "0.04", "--rate", "0.06", "--units", "5000",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["regret_ratio"] < 1
    assert sum(a["thompson_units"] for a in result["arms"]) == 5000
    bad = cli_here("experiment", "bandit-simulate", "--rate", "0.04")
    assert bad.returncode != 0
    assert "at least two true rates" in bad.stderr
