"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy
way: an alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284).

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after
each purchase they drop out with probability p ~ Beta(a, b). The four parameters are fitted
by maximum likelihood (equation 6 of the paper), on distinct (x, t_x, T) rows weighted by
their counts, with the analytic gradient, over the logarithms of the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from crosspromo.analytics.clv.rfm import RFM, FloatArray

NO_REPEAT_BUYERS = "no customer bought twice: the drop-out process cannot be estimated"


@dataclass(frozen=True)
class BGNBDResult:
    """The fitted parameters (None, with ``note`` saying why, when they cannot be fitted)."""

    r: float | None
    alpha: float | None
    a: float | None
    b: float | None
    log_likelihood: float | None
    customers: int
    repeat_buyers: int
    converged: bool
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }

    def summary(self) -> str:
        if self.r is None:
            return f"BG/NBD: not fitted ({self.note})"
        return (
            f"BG/NBD on {self.customers:,} customers: r={self.r:.4g} alpha={self.alpha:.4g} "
            f"a={self.a:.4g} b={self.b:.4g} log-likelihood={self.log_likelihood:.6g}"
        )


def log_likelihood(params: FloatArray, data: RFM) -> tuple[FloatArray, FloatArray]:
    """Per distinct row: the log-likelihood (equation 6) and its gradient over (r, alpha, a, b),
    a (4, rows) array."""
    r, alpha, a, b = params
    x, t_x, T = data.x, data.t_x, data.T
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    ln_beta = betaln(a, b)
    a2 = betaln(a, b + x) - ln_beta - (r + x) * np.log(alpha + T)
    xm1 = np.where(repeat, x - 1, 0.0)  # where x = 0 the second term is absent
    a3 = betaln(a + 1, b + xm1) - ln_beta - (r + x) * np.log(alpha + t_x)
    a3 = np.where(repeat, a3, -np.inf)
    top = np.maximum(a2, a3)
    w2, w3 = np.exp(a2 - top), np.exp(a3 - top)
    total = w2 + w3
    ll = a1 + top + np.log(total)
    w2, w3 = w2 / total, w3 / total
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + x)
    grad = np.empty((4, len(x)))
    grad[0] = digamma(r + x) - digamma(r) + np.log(alpha)
    grad[0] -= w2 * np.log(alpha + T) + w3 * np.log(alpha + t_x)
    grad[1] = r / alpha - (r + x) * (w2 / (alpha + T) + w3 / (alpha + t_x))
    common = psi_ab - psi_abx
    grad[2] = w2 * common + w3 * (common + digamma(a + 1) - digamma(a))
    grad[3] = w2 * (common + digamma(b + x) - digamma(b))
    grad[3] += w3 * (common + np.where(repeat, digamma(b + xm1), 0.0) - digamma(b))
    return ll, grad


class BGNBD:
    """BG/NBD fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : L2 penalty on the parameters (0: plain maximum likelihood), which keeps small
        or odd samples from running off to extreme values.
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        if penalizer < 0:
            raise ValueError("penalizer must be >= 0")
        self.penalizer = penalizer

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any | None = None) -> BGNBD:
        data = RFM.of(frequency, recency, T, weights)
        self.result_ = self._fit(data)
        return self

    def fit_rfm(self, data: RFM) -> BGNBD:
        self.result_ = self._fit(data)
        return self

    def _fit(self, data: RFM) -> BGNBDResult:
        customers, repeat = round(data.customers), round(data.repeat_buyers)
        if repeat == 0:
            return BGNBDResult(None, None, None, None, None, customers, 0, False, NO_REPEAT_BUYERS)
        scale = 10.0 / float(data.T.max())  # times near 10: the optimizer's steps stay sane
        scaled = RFM(data.x, data.t_x * scale, data.T * scale, data.weights)
        total = data.weights.sum()

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            ll, grad = log_likelihood(params, scaled)
            value = -float(ll @ data.weights) / total + self.penalizer * float(params @ params)
            gradient = -(grad @ data.weights) / total + 2 * self.penalizer * params
            return value, gradient * params  # chain rule through exp

        start = np.log([1.0, 1.0, 1.0, 1.0])
        found = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=[(-15.0, 15.0)] * 4,
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
        )  # fmt: skip
        r, alpha, a, b = np.exp(found.x)
        alpha /= scale
        ll, _ = log_likelihood(np.array([r, alpha, a, b]), data)
        note = None if found.success else f"the optimizer stopped early: {found.message}"
        return BGNBDResult(
            float(r), float(alpha), float(a), float(b), float(ll @ data.weights),
            customers, repeat, bool(found.success), note,
        )  # fmt: skip

    def _params(self) -> tuple[float, float, float, float]:
        result = getattr(self, "result_", None)
        if result is None or result.r is None:
            why = "call fit() first" if result is None else result.note
            raise ValueError(f"the BG/NBD model has no parameters: {why}")
        return result.r, result.alpha, result.a, result.b

    def expected_purchases(self, t: Any) -> FloatArray:
        """E[X(t)]: purchases a new customer makes in ``t`` periods (equation 9)."""
        r, alpha, a, b = self._params()
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        tail = np.exp(r * np.log(alpha / (alpha + t))) * hyp2f1(r, b, a + b - 1, z)
        return np.asarray((a + b - 1) / (a - 1) * (1 - tail), dtype=np.float64)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """P(alive | x, t_x, T) (Fader, Hardie & Lee 2008, "Computing P(alive) using the BG/NBD
        model", equation 1)."""
        r, alpha, a, b = self._params()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        return 1.0 / (1.0 + self._odds_dead(x, t_x, age, r, alpha, a, b))

    def conditional_expected_purchases(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: purchases in the next ``t`` periods of a customer with that
        history (equation 10)."""
        r, alpha, a, b = self._params()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + age + t)
        ratio = np.exp((r + x) * np.log((alpha + age) / (alpha + age + t)))
        top = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z))
        return np.asarray(top / (1.0 + self._odds_dead(x, t_x, age, r, alpha, a, b)))

    @staticmethod
    def _odds_dead(
        x: FloatArray, t_x: FloatArray, age: FloatArray, r: float, alpha: float, a: float, b: float
    ) -> FloatArray:
        """delta(x > 0) a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)."""
        repeat = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = a / (b + x - 1) * np.exp((r + x) * np.log((alpha + age) / (alpha + t_x)))
        return np.asarray(np.where(repeat, odds, 0.0), dtype=np.float64)
