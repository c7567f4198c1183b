"""One compatibility score per candidate partner, with each factor's part shown.

Factors, each on [0, 1]: audience overlap against a target band (20-40% of our customers is a
common target: enough to matter, not so much that the partner reaches no one new),
complementarity, reputation, engagement against the category, and reach (audience size). The
score is the weighted mean of the factors that are known; weights are configurable, or learned
from past partnerships' outcomes with a logistic regression (then the score is the predicted
probability of success and each part is the factor's term in the log-odds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from crosspromo.errors import InvalidInputError

FACTORS = ("overlap", "complementarity", "reputation", "engagement", "reach")
DEFAULT_WEIGHTS = {
    "overlap": 0.30,
    "complementarity": 0.30,
    "reputation": 0.15,
    "engagement": 0.15,
    "reach": 0.10,
}
OVERLAP_BAND = (0.20, 0.40)


def overlap_fit(rate: float, band: tuple[float, float] = OVERLAP_BAND) -> float:
    """1 inside the target band, falling linearly to 0 at no overlap and at full overlap."""
    low, high = band
    if rate < low:
        return max(rate, 0.0) / low
    if rate > high:
        return max(0.0, (1.0 - rate) / (1.0 - high))
    return 1.0


def engagement_fit(ratio: float) -> float:
    """Engagement against the category: 0.5 at the benchmark, 1 at 2x or more."""
    return min(1.0, max(ratio, 0.0) / 2.0)


def reach_fit(size: int, largest: int) -> float:
    """Audience size on a log scale against the largest candidate's."""
    if largest <= 0 or size <= 0:
        return 0.0
    return math.log1p(size) / math.log1p(largest)


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(weights) - set(FACTORS))
    if unknown:
        raise InvalidInputError(
            f"unknown factor(s) {', '.join(unknown)}; the factors are {', '.join(FACTORS)}",
            field="weights",
        )
    if any(not math.isfinite(w) or w < 0 for w in weights.values()):
        raise InvalidInputError("weights must be finite and not negative", field="weights")
    merged = {**DEFAULT_WEIGHTS, **weights}
    if sum(merged.values()) <= 0:
        raise InvalidInputError("at least one weight must be above zero", field="weights")
    return merged


@dataclass(frozen=True, slots=True)
class Scored:
    score: float
    parts: dict[str, float]  # each factor's share of the score (or log-odds term)
    values: dict[str, float | None]
    missing: tuple[str, ...] = field(default=())


def weighted(values: Mapping[str, float | None], weights: Mapping[str, float]) -> Scored:
    """The weighted mean of the known factors; unknown ones are left out and named."""
    known = {f: v for f, v in values.items() if v is not None and weights.get(f, 0) > 0}
    total = sum(weights[f] for f in known)
    missing = tuple(f for f in FACTORS if values.get(f) is None)
    if total <= 0:
        return Scored(0.0, {}, dict(values), missing)
    parts = {f: weights[f] * v / total for f, v in known.items()}
    return Scored(sum(parts.values()), parts, dict(values), missing)


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """Logistic regression of success on the factors (missing factors at the training mean)."""

    intercept: float
    coefficients: dict[str, float]
    means: dict[str, float]
    trained_on: int
    successes: int

    def score(self, values: Mapping[str, float | None]) -> Scored:
        filled = {f: _or(values.get(f), self.means[f]) for f in FACTORS}
        parts = {f: self.coefficients[f] * (filled[f] - self.means[f]) for f in FACTORS}
        base = self.intercept + sum(self.coefficients[f] * self.means[f] for f in FACTORS)
        logit = base + sum(parts.values())
        missing = tuple(f for f in FACTORS if values.get(f) is None)
        return Scored(1.0 / (1.0 + math.exp(-logit)), parts, dict(values), missing)


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def learn(
    rows: Sequence[Mapping[str, float | None]], success: Sequence[bool], penalty: float = 1.0
) -> LearnedModel:
    """Fit success ~ factors on past partnerships (scikit-learn's L2 logistic regression with
    inverse strength ``1 / penalty``; ``penalty=0`` is plain maximum likelihood)."""
    from sklearn.linear_model import LogisticRegression

    if len(rows) != len(success):
        raise InvalidInputError("one success label per partnership", field="success")
    wins = int(sum(bool(s) for s in success))
    if len(rows) < 4 or wins == 0 or wins == len(rows):
        raise InvalidInputError(
            f"learning needs successes and failures among at least 4 past partnerships "
            f"(got {len(rows)}, {wins} successful)",
            field="outcomes",
        )
    means = {}
    for f in FACTORS:
        known = [float(v) for r in rows if (v := r.get(f)) is not None]
        means[f] = float(np.mean(known)) if known else 0.0
    x = np.array([[_or(r.get(f), means[f]) for f in FACTORS] for r in rows])
    strength = 1.0 / penalty if penalty > 0 else np.inf  # C = inf: no penalty
    model = LogisticRegression(C=strength, max_iter=10_000, tol=1e-10)
    model.fit(x, np.array([bool(s) for s in success]))
    coefficients = {f: float(c) for f, c in zip(FACTORS, model.coef_[0], strict=True)}
    return LearnedModel(float(model.intercept_[0]), coefficients, means, len(rows), wins)
