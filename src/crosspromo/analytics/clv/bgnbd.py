"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy
way: an alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284).

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after
each purchase they drop out with probability p ~ Beta(a, b). The four parameters are fitted
by maximum likelihood (equation 6 of the paper), on distinct (x, t_x, T) rows weighted by
their counts, with the analytic gradient, over the logarithms of the parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from crosspromo.analytics.clv.optimize import verdict
from crosspromo.analytics.clv.rfm import RFM, FloatArray

NEWTON_ROWS = 50_000  # above this many distinct rows, fit a sample, then take Newton steps
NEWTON_STEPS = 12
SAMPLE = 0.02  # of the customers, for the start and the Hessian
NO_REPEAT_BUYERS = "no customer bought twice: the drop-out process cannot be estimated"


@dataclass(frozen=True)
class BGNBDResult:
    """The fitted parameters (None, with ``note`` saying why, when they cannot be fitted)."""

    r: float | None
    alpha: float | None
    a: float | None
    b: float | None
    log_likelihood: float | None
    customers: Annotated[int, Field(exclude=True)]  # the parameters alone are shown
    repeat_buyers: Annotated[int, Field(exclude=True)]
    converged: Annotated[bool, Field(exclude=True)]
    note: Annotated[str | None, Field(exclude=True)] = None

    def summary(self) -> str:
        if self.r is None:
            return f"BG/NBD: not fitted ({self.note})"
        return (
            f"BG/NBD on {self.customers:,} customers: r={self.r:.4g} alpha={self.alpha:.4g} "
            f"a={self.a:.4g} b={self.b:.4g} log-likelihood={self.log_likelihood:.6g}"
        )


def log_likelihood(params: FloatArray, data: RFM) -> tuple[float, FloatArray]:
    """The log-likelihood of every customer (equation 6, summed with the rows' weights) and its
    gradient over (r, alpha, a, b). Terms of one column alone are computed once per distinct
    value and summed through that value's total weight; only the mixing of the two terms of
    equation 6 is computed per row."""
    r, alpha, a, b = params
    xs, ts, ages = data.x.values, data.t_x.values, data.T.values
    xi, ti, ai = data.x.index, data.t_x.index, data.T.index
    w = data.weights
    w_x, w_age = data.x.totals(w), data.T.totals(w)
    repeat = xs > 0
    xm1 = np.where(repeat, xs - 1, 0.0)  # where x = 0 the second term is absent
    ln_beta = betaln(a, b)
    common = digamma(a + b) - digamma(a + b + xs)
    d_b2 = digamma(b + xs) - digamma(b)
    d_b3 = np.where(repeat, digamma(b + xm1), 0.0) - digamma(b)
    log_at, log_atx = np.log(alpha + ages), np.log(alpha + ts)
    inv_at, inv_atx = 1 / (alpha + ages), 1 / (alpha + ts)
    # per row: the two terms of equation 6 and the second one's share, w3
    x = xs[xi]
    rx = r + x
    la, lt = log_at[ai], log_atx[ti]
    a2 = (betaln(a, b + xs) - ln_beta)[xi] - rx * la
    a3 = np.where(repeat, betaln(a + 1, b + xm1) - ln_beta, -np.inf)[xi] - rx * lt
    both = np.logaddexp(a2, a3)
    share = w * np.exp(a3 - both)  # weight times w3
    k1 = gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
    total = float(w_x @ k1 + w @ both)
    grad = np.empty(4)
    grad[0] = w_x @ (digamma(r + xs) - digamma(r) + np.log(alpha)) - w_age @ log_at
    grad[0] += share @ (la - lt)
    grad[1] = (
        r / alpha * w.sum() - w_age @ inv_at * r - data.T.totals(w * x) @ inv_at
        - share @ (rx * (inv_atx[ti] - inv_at[ai]))
    )  # fmt: skip
    shares_x = data.x.totals(share)
    grad[2] = w_x @ common + shares_x.sum() * (digamma(a + 1) - digamma(a))
    grad[3] = w_x @ (common + d_b2) + shares_x @ (d_b3 - d_b2)
    return total, grad


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
        scale = 10.0 / float(data.T.values.max())  # times near 10: sane optimizer steps
        scaled = data.scaled(scale)

        theta, success, note = None, True, None
        if len(data.weights) > NEWTON_ROWS:
            theta = self._sample_then_newton(scaled)
        if theta is None:
            found = self._optimize(scaled)
            theta = found.x
            success, note = verdict(found)
        r, alpha, a, b = np.exp(theta)
        alpha /= scale
        ll, _ = log_likelihood(np.array([r, alpha, a, b]), data)
        return BGNBDResult(
            float(r), float(alpha), float(a), float(b), ll,
            customers, repeat, success, note,
        )  # fmt: skip

    def _objective(self, data: RFM) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        """Minus the mean log-likelihood (plus the penalty) over the logarithms of the
        parameters, with its gradient."""
        total = data.weights.sum()

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            ll, grad = log_likelihood(params, data)
            value = -ll / total + self.penalizer * float(params @ params)
            gradient = -grad / total + 2 * self.penalizer * params
            return value, gradient * params  # chain rule through exp

        return objective

    def _optimize(self, data: RFM, tolerance: float = 1e-9) -> OptimizeResult:
        """L-BFGS-B from all parameters at 1, to a gradient below ``tolerance``."""
        return minimize(
            self._objective(data), np.zeros(4), jac=True, method="L-BFGS-B",
            bounds=[(-15.0, 15.0)] * 4,
            options={"maxiter": 2000, "ftol": tolerance**2 / 100, "gtol": tolerance},
        )  # fmt: skip

    def _sample_then_newton(self, data: RFM) -> FloatArray | None:
        """For many distinct rows: L-BFGS-B on a small sample of the customers, whose optimum is
        near the full one and whose Hessian (the mean log-likelihood's, so the same in
        expectation) drives Newton steps on all the rows: a handful of full evaluations instead
        of a few dozen. None when the steps fail to converge (then L-BFGS-B runs on all)."""
        sample = data.thinned(SAMPLE, np.random.default_rng(0))
        if sample.repeat_buyers == 0:
            return None
        theta = self._optimize(sample, tolerance=1e-5).x  # Newton polishes it
        rough = self._objective(sample)
        hessian = np.empty((4, 4))
        for i in range(4):
            step = np.zeros(4)
            step[i] = 1e-5
            hessian[:, i] = (rough(theta + step)[1] - rough(theta - step)[1]) / 2e-5
        hessian = (hessian + hessian.T) / 2
        if np.any(np.linalg.eigvalsh(hessian) <= 0):
            return None
        objective = self._objective(data)
        value, gradient = objective(theta)
        for _ in range(NEWTON_STEPS):
            if np.max(np.abs(gradient)) < 1e-9:
                return np.asarray(theta, dtype=np.float64)
            move = np.linalg.solve(hessian, gradient)
            for _ in range(20):  # halve the step until the objective falls
                proposal = np.clip(theta - move, -15.0, 15.0)
                new_value, new_gradient = objective(proposal)
                if new_value <= value:
                    break
                move /= 2
            else:
                return None
            theta, value, gradient = proposal, new_value, new_gradient
        return None

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
