"""Sufficient statistics of one metric in one arm, and the estimates they give.

The warehouse reduces any number of units to these sums; every test in ``analysis`` works from
them alone, so an experiment of ten million units costs the same as one of a thousand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class MetricKind(StrEnum):
    BINARY = "binary"  # 0 or 1 per unit: a conversion rate
    MEAN = "mean"  # any number per unit: revenue, orders
    RATIO = "ratio"  # sum of a numerator over sum of a denominator (e.g. revenue per order)


@dataclass(frozen=True, slots=True)
class Moments:
    """``n`` units with values y: their sum and sum of squares. A ratio metric adds the
    denominator d (``d_sum``, ``d_sum_sq``, ``yd_sum``); a pre-period covariate x adds
    ``x_sum``, ``x_sum_sq``, ``xy_sum``."""

    n: int
    y_sum: float
    y_sum_sq: float
    d_sum: float = 0.0
    d_sum_sq: float = 0.0
    yd_sum: float = 0.0
    x_sum: float = 0.0
    x_sum_sq: float = 0.0
    xy_sum: float = 0.0

    def __add__(self, other: Moments) -> Moments:
        return Moments(*(a + b for a, b in zip(_fields(self), _fields(other), strict=True)))

    def mean(self, kind: MetricKind) -> float:
        if kind is MetricKind.RATIO:
            return self.y_sum / self.d_sum if self.d_sum else math.nan
        return self.y_sum / self.n if self.n else math.nan

    def variance(self) -> float:
        """Sample variance of y (n - 1 in the denominator)."""
        if self.n < 2:
            return math.nan
        return max(self.y_sum_sq - self.y_sum**2 / self.n, 0.0) / (self.n - 1)

    def x_variance(self) -> float:
        return max(self.x_sum_sq - self.x_sum**2 / self.n, 0.0) / (self.n - 1)

    def xy_covariance(self) -> float:
        return (self.xy_sum - self.x_sum * self.y_sum / self.n) / (self.n - 1)

    def mean_variance(self, kind: MetricKind) -> float:
        """Variance of the arm's mean estimate."""
        if self.n < 2:
            return math.nan
        if kind is MetricKind.BINARY:
            p = self.y_sum / self.n
            return p * (1 - p) / self.n
        if kind is MetricKind.MEAN:
            return self.variance() / self.n
        # ratio: delta method on (mean y) / (mean d), unit by unit
        n = self.n
        ratio = self.mean(kind)
        d_mean = self.d_sum / n
        var_y = (self.y_sum_sq - self.y_sum**2 / n) / (n - 1)
        var_d = (self.d_sum_sq - self.d_sum**2 / n) / (n - 1)
        cov = (self.yd_sum - self.y_sum * self.d_sum / n) / (n - 1)
        return max(var_y - 2 * ratio * cov + ratio**2 * var_d, 0.0) / (n * d_mean**2)


def _fields(m: Moments) -> tuple[Any, ...]:
    return (
        m.n, m.y_sum, m.y_sum_sq, m.d_sum, m.d_sum_sq, m.yd_sum, m.x_sum, m.x_sum_sq, m.xy_sum
    )  # fmt: skip
