"""Each treatment arm against the control, per metric, from sufficient statistics alone.

- Binary metrics: two-proportion z-test (pooled variance), chi-square omnibus over all arms,
  exact Beta-Binomial probability to beat the control and expected loss (``bayes``).
- Mean metrics: Welch's t-test, one-way ANOVA omnibus; probability to beat the control from the
  normal posterior of the difference (flat prior).
- Ratio metrics: z-test on delta-method variances, Wald chi-square omnibus.
- Lifts: absolute with its interval; relative (treated / control - 1) with a delta-method
  interval.
- CUPED (Deng, Xu, Kohavi & Walker 2013): with a pre-period covariate x, y - theta (x - mean x),
  theta the pooled within-arm slope, which makes the lift the regression-adjusted (ANCOVA)
  estimate. Binary and mean metrics.
- Always-valid p-values: mixture sequential probability ratio test (Johari, Pekelis & Walsh
  2017, "Always valid inference"), normal mixture with variance ``tau**2``, over cumulative looks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import special, stats

from crosspromo.analytics.experiments.bayes import binary_posteriors, expected_loss, prob_greater
from crosspromo.analytics.experiments.moments import MetricKind, Moments

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """One treatment arm against the control on one metric. Fields are None when the data
    cannot give them; ``note`` then says why."""

    lift_abs: float | None = None
    ci_abs: tuple[float, float] | None = None
    lift_rel: float | None = None
    ci_rel: tuple[float, float] | None = None
    p_value: float | None = None
    p_adjusted: float | None = None  # Holm, over every arm and metric of the experiment
    prob_beat_control: float | None = None
    expected_loss: float | None = None
    sequential_p_value: float | None = None
    note: str = ""


def compare(
    control: Moments,
    treated: Moments,
    kind: MetricKind,
    *,
    alpha: float = 0.05,
    theta: float | None = None,
    pooled_x_mean: float = 0.0,
) -> Comparison:
    """``treated`` against ``control``; with ``theta``, CUPED-adjusted."""
    for moments, label in ((control, "the control"), (treated, "the arm")):
        if moments.n < 2:
            return Comparison(note=f"{label} has {moments.n} unit(s): nothing to compare")
    if kind is MetricKind.RATIO and (control.d_sum == 0 or treated.d_sum == 0):
        return Comparison(note="a denominator sums to 0: the ratio is undefined")
    if kind is MetricKind.BINARY and control.y_sum + treated.y_sum == 0:
        return Comparison(note="no conversions in either arm: nothing to compare")
    m_c, m_t = control.mean(kind), treated.mean(kind)
    v_c, v_t = control.mean_variance(kind), treated.mean_variance(kind)
    if theta is not None:
        m_c, v_c = _adjusted(control, theta, pooled_x_mean)
        m_t, v_t = _adjusted(treated, theta, pooled_x_mean)
    diff = m_t - m_c
    se = math.sqrt(v_c + v_t)
    if se == 0:
        return Comparison(lift_abs=diff, note="no variation in either arm: no test possible")
    if kind is MetricKind.MEAN or (kind is MetricKind.BINARY and theta is not None):
        df = _welch_df(v_c, control.n, v_t, treated.n)
        critical = float(stats.t.isf(alpha / 2, df))
        p_value = float(2 * stats.t.sf(abs(diff) / se, df))
    else:  # the standard normal's tails by scipy.special: stats.norm's, without its overhead
        critical = float(-special.ndtri(alpha / 2))
        test_se = se
        if kind is MetricKind.BINARY:  # the null variance pools both arms
            pooled = (control.y_sum + treated.y_sum) / (control.n + treated.n)
            test_se = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treated.n))
        p_value = float(2 * special.ndtr(-abs(diff) / test_se))
    lift_rel = ci_rel = None
    if m_c != 0:
        lift_rel = m_t / m_c - 1
        rel_se = math.sqrt(v_t / m_c**2 + m_t**2 * v_c / m_c**4)
        ci_rel = (lift_rel - critical * rel_se, lift_rel + critical * rel_se)
    if kind is MetricKind.BINARY and theta is None:
        a_c, b_c = binary_posteriors(round(control.y_sum), control.n)
        a_t, b_t = binary_posteriors(round(treated.y_sum), treated.n)
        beat = prob_greater(a_c, b_c, a_t, b_t)
        loss = expected_loss(a_c, b_c, a_t, b_t)
    else:  # normal posterior of the difference, flat prior
        beat = float(stats.norm.cdf(diff / se))
        loss = se * float(stats.norm.pdf(diff / se)) - diff * float(stats.norm.cdf(-diff / se))
    return Comparison(
        lift_abs=diff,
        ci_abs=(diff - critical * se, diff + critical * se),
        lift_rel=lift_rel,
        ci_rel=ci_rel,
        p_value=p_value,
        prob_beat_control=beat,
        expected_loss=loss,
        note="" if m_c != 0 else "the control's mean is 0: no relative lift",
    )


def cuped_theta(arms: Sequence[Moments]) -> tuple[float, float]:
    """The pooled within-arm slope of y on x, and the mean of x over all units."""
    sxy = sum(m.xy_sum - m.x_sum * m.y_sum / m.n for m in arms if m.n)
    sxx = sum(m.x_sum_sq - m.x_sum**2 / m.n for m in arms if m.n)
    units = sum(m.n for m in arms)
    pooled_x = sum(m.x_sum for m in arms) / units if units else 0.0
    return (sxy / sxx if sxx > 0 else 0.0), pooled_x


def _adjusted(m: Moments, theta: float, pooled_x: float) -> tuple[float, float]:
    mean = m.y_sum / m.n - theta * (m.x_sum / m.n - pooled_x)
    variance = m.variance() - 2 * theta * m.xy_covariance() + theta**2 * m.x_variance()
    return mean, max(variance, 0.0) / m.n


def _welch_df(v1: float, n1: int, v2: float, n2: int) -> float:
    """Welch-Satterthwaite degrees of freedom from the variances of two means."""
    denominator = v1**2 / (n1 - 1) + v2**2 / (n2 - 1)
    return (v1 + v2) ** 2 / denominator if denominator > 0 else float(n1 + n2 - 2)


def omnibus(arms: Sequence[Moments], kind: MetricKind) -> tuple[float | None, str]:
    """p-value that all arms share one mean (chi-square, ANOVA or Wald), or None and why."""
    if len(arms) < 2 or any(m.n < 2 for m in arms):
        return None, "an arm has fewer than 2 units"
    if kind is MetricKind.BINARY:
        successes = np.array([m.y_sum for m in arms])
        table = np.column_stack([successes, [m.n for m in arms] - successes])
        if (table.sum(axis=0) == 0).any():
            return None, "every unit has the same outcome"
        return float(stats.chi2_contingency(table, correction=False).pvalue), ""
    if kind is MetricKind.MEAN:
        n = np.array([m.n for m in arms], dtype=np.float64)
        means = np.array([m.y_sum / m.n for m in arms])
        grand = sum(m.y_sum for m in arms) / n.sum()
        between = float((n * (means - grand) ** 2).sum())
        within = float(sum(m.variance() * (m.n - 1) for m in arms))
        k, total = len(arms), n.sum()
        if within == 0:
            return None, "no variation within arms"
        f = (between / (k - 1)) / (within / (total - k))
        return float(stats.f.sf(f, k - 1, total - k)), ""
    means = np.array([m.mean(kind) for m in arms])
    weights = 1 / np.array([m.mean_variance(kind) for m in arms])
    if not np.isfinite(weights).all():
        return None, "an arm's ratio has no variance"
    center = (weights * means).sum() / weights.sum()
    wald = float((weights * (means - center) ** 2).sum())
    return float(stats.chi2.sf(wald, len(arms) - 1)), ""


def sample_ratio_p_value(counts: Sequence[int], shares: Sequence[float]) -> float | None:
    """Chi-square goodness of fit of the units per arm to the designed shares."""
    total = sum(counts)
    if total == 0:
        return None
    expected = np.array(shares) / sum(shares) * total
    return float(stats.chisquare(np.array(counts, dtype=np.float64), expected).pvalue)


def holm(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """Fill in Holm-adjusted p-values over all comparisons that have a p-value."""
    tested = [i for i, c in enumerate(comparisons) if c.p_value is not None]
    result = list(comparisons)
    order = sorted(tested, key=lambda i: comparisons[i].p_value or 0.0)
    running = 0.0
    for rank, i in enumerate(order):  # step-down: the k-th smallest times (m - k), monotone
        p = comparisons[i].p_value or 0.0
        running = max(running, min(1.0, (len(order) - rank) * p))
        result[i] = replace(result[i], p_adjusted=running)
    return result


def always_valid_p_value(
    looks: Sequence[tuple[Moments, Moments]], kind: MetricKind, tau: float
) -> float | None:
    """mSPRT p-value after the cumulative (control, treated) looks: valid however often one
    looks and stops. ``tau`` is the spread of effects the test is tuned for."""
    if not tau > 0:
        raise ValueError("tau must be positive")
    p = 1.0
    seen = False
    for control, treated in looks:
        if control.n < 2 or treated.n < 2:
            continue
        v = control.mean_variance(kind) + treated.mean_variance(kind)
        if not v > 0:
            continue
        seen = True
        diff = treated.mean(kind) - control.mean(kind)
        t2 = tau**2
        log_lambda = 0.5 * math.log(v / (v + t2)) + t2 * diff**2 / (2 * v * (v + t2))
        p = min(p, math.exp(-log_lambda) if log_lambda > 0 else 1.0)
    return p if seen else None
