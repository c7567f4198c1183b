"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
using iso-value curves for customer base analysis", Journal of Marketing Research 42(4); the
likelihood as in Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, v) across customers; the
model uses repeat buyers' number of repeat transactions x and their mean value m, and assumes
spend does not depend on how often a customer buys (the fitted result reports that
correlation, so it can be checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from crosspromo.analytics.clv.optimize import verdict
from crosspromo.analytics.clv.rfm import FloatArray

NO_SPEND = "no customer bought twice with a positive amount: spend cannot be estimated"


@dataclass(frozen=True)
class GammaGammaResult:
    p: float | None
    q: float | None
    v: float | None
    log_likelihood: Annotated[float | None, Field(exclude=True)]  # the parameters are shown
    customers: Annotated[int, Field(exclude=True)]
    frequency_spend_correlation: Annotated[float | None, Field(exclude=True)]
    converged: Annotated[bool, Field(exclude=True)]
    note: Annotated[str | None, Field(exclude=True)] = None

    @property
    def mean_spend(self) -> float | None:
        """The population's expected transaction value p v / (q - 1) (infinite when q <= 1)."""
        if self.p is None or self.q is None or self.v is None:
            return None
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")

    def summary(self) -> str:
        if self.p is None:
            return f"Gamma-Gamma: not fitted ({self.note})"
        return (
            f"Gamma-Gamma on {self.customers:,} repeat buyers: p={self.p:.4g} q={self.q:.4g} "
            f"v={self.v:.4g} log-likelihood={self.log_likelihood:.6g}"
        )


def log_likelihood(
    params: FloatArray, x: FloatArray, m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per customer: the log-likelihood of mean spend ``m`` over ``x`` transactions, and its
    gradient over (p, q, v)."""
    p, q, v = params
    px = p * x
    spent = v + x * m
    ll = (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(spent)
    )  # fmt: skip
    psi = digamma(px + q)
    grad = np.empty((3, len(x)))
    grad[0] = x * (psi - digamma(px) + np.log(m) + np.log(x) - np.log(spent))
    grad[1] = psi - digamma(q) + np.log(v) - np.log(spent)
    grad[2] = q / v - (px + q) / spent
    return ll, grad


class GammaGamma:
    """Gamma-Gamma fitted by maximum likelihood on the repeat buyers (customers with x = 0 or
    a mean spend of 0 are left out, as the model requires)."""

    def __init__(self, penalizer: float = 0.0) -> None:
        if penalizer < 0:
            raise ValueError("penalizer must be >= 0")
        self.penalizer = penalizer

    def fit(self, frequency: Any, monetary_value: Any, weights: Any | None = None) -> GammaGamma:
        x = np.asarray(frequency, dtype=np.float64).ravel()
        m = np.asarray(monetary_value, dtype=np.float64).ravel()
        w = np.ones_like(x) if weights is None else np.asarray(weights, np.float64).ravel()
        if not len(x) == len(m) == len(w):
            raise ValueError("frequency, monetary_value and weights must have the same length")
        bad = ~np.isfinite(m) | (m < 0)
        if bad.any():
            raise ValueError(f"customer {int(np.argmax(bad)) + 1}: monetary_value must be >= 0")
        used = (x > 0) & (m > 0) & (w > 0)
        x, m, w = x[used], m[used], w[used]
        self.result_ = self._fit(x, m, w)
        return self

    def _fit(self, x: FloatArray, m: FloatArray, w: FloatArray) -> GammaGammaResult:
        customers = round(float(w.sum()))
        if customers == 0:
            return GammaGammaResult(None, None, None, None, 0, None, False, NO_SPEND)
        correlation = _weighted_correlation(x, m, w) if len(x) > 2 else None
        unique, inverse = np.unique(np.stack([x, m], axis=1), axis=0, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=w, minlength=len(unique))
        ux, scale = unique[:, 0], float(np.average(unique[:, 1], weights=counts))
        um = unique[:, 1] / scale  # spend near 1: v is fitted in that unit, then scaled back
        total = counts.sum()

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            ll, grad = log_likelihood(params, ux, um)
            value = -float(ll @ counts) / total + self.penalizer * float(params @ params)
            gradient = -(grad @ counts) / total + 2 * self.penalizer * params
            return value, gradient * params

        found = minimize(
            objective, np.zeros(3), jac=True, method="L-BFGS-B", bounds=[(-15.0, 15.0)] * 3,
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
        )  # fmt: skip
        p, q, v = np.exp(found.x)
        v *= scale
        ll, _ = log_likelihood(np.array([p, q, v]), ux, unique[:, 1])
        success, note = verdict(found)
        return GammaGammaResult(
            float(p), float(q), float(v), float(ll @ counts), customers, correlation, success,
            note,
        )  # fmt: skip

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any) -> FloatArray:
        """E[M | x, m]: a customer's expected value per transaction, their mean shrunk toward
        the population's (equation 5 of the 2013 note); the population mean when x = 0."""
        result = getattr(self, "result_", None)
        if result is None or result.p is None:
            why = "call fit() first" if result is None else result.note
            raise ValueError(f"the Gamma-Gamma model has no parameters: {why}")
        p, q, v = result.p, result.q, result.v
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        return np.asarray(p * (v + x * m) / (p * x + q - 1), dtype=np.float64)


def _weighted_correlation(x: FloatArray, m: FloatArray, w: FloatArray) -> float | None:
    mx, mm = np.average(x, weights=w), np.average(m, weights=w)
    sx = np.average((x - mx) ** 2, weights=w)
    sm = np.average((m - mm) ** 2, weights=w)
    if sx <= 0 or sm <= 0:
        return None
    return float(np.average((x - mx) * (m - mm), weights=w) / np.sqrt(sx * sm))
