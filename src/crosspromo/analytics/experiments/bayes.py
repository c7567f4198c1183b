"""Exact Bayesian comparison of two conversion rates with Beta posteriors.

With Beta(a1, b1) and Beta(a2, b2) posteriors (uniform prior: a = 1 + successes,
b = 1 + failures) and integer parameters, P(X2 > X1) is a finite sum (Evan Miller, "Formulas
for Bayesian A/B testing", 2015):

    P(X2 > X1) = sum_{i=0}^{a2-1} B(a1 + i, b1 + b2) / ((b2 + i) B(1 + i, b2) B(a1, b1))

Swapping the arms (1 - P(X1 > X2)) or the outcomes (X' = 1 - X is Beta(b, a)) gives three other
sums of the same value with a1, b1 or b2 terms; the shortest is used. The expected loss of
choosing arm 2, E[max(X1 - X2, 0)], follows from the same sum (Chris Stucchio, "Bayesian A/B
testing at VWO", 2015). Terms are added in log space, so millions of units are no problem.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import betaln


def _log_term(a1: int, b1: int, b2: int, i: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    result: np.ndarray[Any, Any] = (
        betaln(a1 + i, b1 + b2) - np.log(b2 + i) - betaln(1 + i, b2) - betaln(a1, b1)
    )
    return result


def _log_term_at(a1: int, b1: int, b2: int, i: int) -> float:
    """One term from ``math.lgamma``, many times faster than ``_log_term`` on a one-element
    array. It only finds the peak's height and where the terms fall 50 below it, where its
    rounding (below 1e-6 in the log even for millions of units) changes nothing: the sum is
    taken with ``_log_term`` and does not depend on the height chosen."""
    lg = math.lgamma
    return (
        lg(a1 + i) + lg(b1 + b2) - lg(a1 + b1 + b2 + i) - math.log(b2 + i)
        - lg(1 + i) - lg(b2) + lg(1 + i + b2) - lg(a1) - lg(b1) + lg(a1 + b1)
    )  # fmt: skip


def _greater(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X2 > X1): the sum over i < a2. Successive terms differ by the factor
    (a1 + i)(b2 + i) / ((a1 + b1 + b2 + i)(1 + i)), which falls below 1 once and for all, so the
    terms rise to one peak and fall. Only the stretch within e^-50 of the peak is summed; what is
    left out is below 1e-15 of the total even over millions of terms."""
    last = a2 - 1
    peak = int(min(max((a1 * b2 - a1 - b1 - b2) // (b1 + 1) + 1, 0), last))
    height = _log_term_at(a1, b1, b2, peak)

    def reach(direction: int) -> int:
        step = 1
        while True:
            k = min(max(peak + direction * step, 0), last)
            if k in (0, last) or _log_term_at(a1, b1, b2, k) < height - 50:
                return k
            step *= 2

    low, high = reach(-1), reach(1)
    terms = _log_term(a1, b1, b2, np.arange(low, high + 1, dtype=np.float64))
    return float(np.exp(height) * np.exp(terms - height).sum())


def prob_greater(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X2 > X1) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), integer parameters >= 1."""
    options = {
        a2: lambda: _greater(a1, b1, a2, b2),
        a1: lambda: 1 - _greater(a2, b2, a1, b1),
        b1: lambda: _greater(b2, a2, b1, a1),  # 1 - X: X2 > X1 iff 1 - X1 > 1 - X2
        b2: lambda: 1 - _greater(b1, a1, b2, a2),
    }
    value = options[min(options)]()
    return min(max(value, 0.0), 1.0)


def expected_loss(a1: int, b1: int, a2: int, b2: int) -> float:
    """E[max(X1 - X2, 0)]: what choosing arm 2 costs, in rate, when arm 1 is better."""
    above = a1 / (a1 + b1) * prob_greater(a2, b2, a1 + 1, b1)  # E[X1 1{X1 > X2}]
    below = a2 / (a2 + b2) * prob_greater(a2 + 1, b2, a1, b1)  # E[X2 1{X1 > X2}]
    return max(above - below, 0.0)


def binary_posteriors(successes: int, n: int) -> tuple[int, int]:
    """Beta parameters after a uniform prior."""
    return 1 + successes, 1 + n - successes
