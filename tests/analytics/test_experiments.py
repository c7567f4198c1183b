"""Experiment statistics against scipy/statsmodels on the same data, exact Bayesian
probabilities against numerical integration, CUPED against least squares, and the error rates of
the tests over many simulated A/A experiments."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import (
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)

from crosspromo.analytics.experiments import power
from crosspromo.analytics.experiments.analysis import (
    Comparison,
    always_valid_p_value,
    compare,
    cuped_theta,
    holm,
    omnibus,
    sample_ratio_p_value,
)
from crosspromo.analytics.experiments.bayes import expected_loss, prob_greater
from crosspromo.analytics.experiments.moments import MetricKind, Moments
from crosspromo.domain.experiments import Arm, Design, check_layer, unit_hash
from crosspromo.errors import InvalidInputError

BINARY, MEAN, RATIO = MetricKind.BINARY, MetricKind.MEAN, MetricKind.RATIO


def moments(y: np.ndarray, x: np.ndarray | None = None, d: np.ndarray | None = None) -> Moments:
    y = np.asarray(y, dtype=np.float64)
    extra = {}
    if x is not None:
        extra |= {"x_sum": x.sum(), "x_sum_sq": (x * x).sum(), "xy_sum": (x * y).sum()}
    if d is not None:
        extra |= {"d_sum": d.sum(), "d_sum_sq": (d * d).sum(), "yd_sum": (y * d).sum()}
    return Moments(len(y), float(y.sum()), float((y * y).sum()), **extra)


def test_z_test_equals_statsmodels() -> None:
    control, treated = (
        moments(np.r_[np.ones(120), np.zeros(2880)]),
        moments(np.r_[np.ones(151), np.zeros(2849)]),
    )
    result = compare(control, treated, BINARY)
    _, reference = proportions_ztest([151, 120], [3000, 3000])
    assert result.p_value == pytest.approx(reference, rel=1e-12)
    assert result.lift_abs == pytest.approx(31 / 3000)
    assert result.lift_rel == pytest.approx(151 / 120 - 1)
    low, high = result.ci_rel
    assert low < result.lift_rel < high


def test_welch_equals_scipy_on_the_raw_data() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(3, 1, 4000), rng.lognormal(3.05, 1.1, 3500)
    result = compare(moments(a), moments(b), MEAN)
    reference = stats.ttest_ind(b, a, equal_var=False)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    interval = reference.confidence_interval(0.95)
    assert result.ci_abs == pytest.approx((interval.low, interval.high), rel=1e-9)


def test_omnibus_equals_chi_square_and_anova() -> None:
    rng = np.random.default_rng(2)
    binary = [rng.random(n) < p for n, p in ((5000, 0.05), (5200, 0.06), (4900, 0.055))]
    table = [[b.sum(), len(b) - b.sum()] for b in binary]
    p, _ = omnibus([moments(b) for b in binary], BINARY)
    assert p == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-12)
    values = [rng.normal(10, 3, n) + shift for n, shift in ((300, 0), (310, 0.5), (290, 0.2))]
    p, _ = omnibus([moments(v) for v in values], MEAN)
    assert p == pytest.approx(stats.f_oneway(*values).pvalue, rel=1e-9)


def test_power_equals_statsmodels() -> None:
    for baseline, mde in ((0.05, 0.10), (0.2, -0.05), (0.01, 0.3)):
        ours = power.proportions(baseline, mde)
        theirs = samplesize_proportions_2indep_onetail(baseline * mde, baseline, 0.8)
        assert ours.per_arm == math.ceil(theirs)
    ours = power.means(100, 40, 0.05, power=0.9)
    theirs = TTestIndPower().solve_power(effect_size=5 / 40, alpha=0.05, power=0.9)
    assert ours.per_arm == math.ceil(theirs)
    three = power.proportions(0.05, 0.10, arms=3)
    assert three.alpha_per_comparison == 0.025
    reference = samplesize_proportions_2indep_onetail(0.005, 0.05, 0.8, alpha=0.025)
    assert three.per_arm == math.ceil(reference)
    with pytest.raises(InvalidInputError, match="baseline"):
        power.proportions(0.95, 0.10)


@pytest.mark.parametrize(
    "params", [(11, 91, 16, 86), (501, 9501, 561, 9441), (3, 2, 2, 9), (40, 1, 38, 3)]
)
def test_exact_beta_probabilities_equal_integration(params: tuple[int, int, int, int]) -> None:
    a1, b1, a2, b2 = params
    integral = integrate.quad(
        lambda x: stats.beta.pdf(x, a2, b2) * stats.beta.cdf(x, a1, b1),
        0, 1, limit=400, epsabs=1e-13, points=[a1 / (a1 + b1), a2 / (a2 + b2)],
    )[0]  # fmt: skip
    assert prob_greater(a1, b1, a2, b2) == pytest.approx(integral, abs=1e-9)
    loss = integrate.quad(_loss_density, 0, 1, args=(a1, b1, a2, b2), limit=400, epsabs=1e-13)[0]
    assert expected_loss(a1, b1, a2, b2) == pytest.approx(loss, abs=1e-9)


def _loss_density(x2: float, a1: int, b1: int, a2: int, b2: int) -> float:
    """f2(x2) * E[(X1 - x2) 1{X1 > x2}], the inner integral in closed form."""
    upper = stats.beta.mean(a1, b1) * stats.beta.sf(x2, a1 + 1, b1)
    return float(stats.beta.pdf(x2, a2, b2) * (upper - x2 * stats.beta.sf(x2, a1, b1)))


def test_cuped_equals_regression_adjustment() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    arm = rng.integers(0, 2, n)
    x = rng.gamma(2, 10, n)
    y = 5 + 0.8 * x + 1.5 * arm + rng.normal(0, 4, n)
    design = np.column_stack([np.ones(n), arm, x])
    coefficients = np.linalg.lstsq(design, y, rcond=None)[0]
    arms = [moments(y[arm == k], x[arm == k]) for k in (0, 1)]
    theta, pooled_x = cuped_theta(arms)
    result = compare(arms[0], arms[1], MEAN, theta=theta, pooled_x_mean=pooled_x)
    assert result.lift_abs == pytest.approx(coefficients[1], rel=1e-10)
    plain = compare(arms[0], arms[1], MEAN)
    width = result.ci_abs[1] - result.ci_abs[0]
    assert width < 0.6 * (plain.ci_abs[1] - plain.ci_abs[0])  # the variance it removes


def test_ratio_metric_delta_method_matches_a_bootstrap() -> None:
    rng = np.random.default_rng(4)
    orders = rng.poisson(2, 4000) + 1
    revenue = orders * rng.gamma(3, 10, 4000)
    m = moments(revenue, d=orders)
    draws = rng.integers(0, 4000, (2000, 4000))
    boot = revenue[draws].sum(1) / orders[draws].sum(1)
    assert math.sqrt(m.mean_variance(RATIO)) == pytest.approx(boot.std(), rel=0.08)


def test_degenerate_data_says_why() -> None:
    empty = Moments(0, 0.0, 0.0)
    some = moments(np.r_[np.ones(3), np.zeros(97)])
    assert "has 0 unit(s)" in compare(empty, some, BINARY).note
    none = moments(np.zeros(100))
    result = compare(none, none, BINARY)
    assert result.p_value is None
    assert "no conversions" in result.note
    assert omnibus([none, none], BINARY) == (None, "every unit has the same outcome")
    flat = moments(np.full(50, 3.0))
    assert "no variation" in compare(flat, flat, MEAN).note


def test_sample_ratio_mismatch() -> None:
    assert sample_ratio_p_value([50_600, 49_400], [1, 1]) < 0.001
    assert sample_ratio_p_value([33_400, 33_300, 33_300], [1, 1, 1]) > 0.5
    assert sample_ratio_p_value([0, 0], [1, 1]) is None


def test_holm_adjusts_every_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    # statsmodels' multipletests runs gc.collect() on every call, which in a test process full
    # of objects costs a quarter second each time; the reference values are the same without it.
    monkeypatch.setattr(gc, "collect", lambda generation=2: 0)
    results = holm([compare(moments(np.r_[np.ones(k), np.zeros(1000 - k)]),
                            moments(np.r_[np.ones(60), np.zeros(940)]), BINARY)
                    for k in (30, 45, 59)])  # fmt: skip
    reference = multipletests([r.p_value for r in results], method="holm")[1]
    assert [r.p_adjusted for r in results] == pytest.approx(list(reference), rel=1e-12)
    rng = np.random.default_rng(9)
    for _ in range(200):
        ps = rng.random(rng.integers(1, 12)) ** 3
        ours = holm([Comparison(p_value=float(p)) for p in ps])
        assert [c.p_adjusted for c in ours] == pytest.approx(
            list(multipletests(ps, method="holm")[1]), rel=1e-12
        )


RUNS = 2000


def test_false_positive_rates_over_aa_experiments() -> None:
    """2,000 A/A experiments (no true effect): each test rejects about 5% of the time."""
    rng = np.random.default_rng(2026)
    n = 2000
    rejections = {"z": 0, "welch": 0, "chi2": 0, "cuped": 0, "ratio": 0}
    conversions = rng.random((RUNS, 3, n)) < 0.1
    x = rng.gamma(2, 5, (RUNS, 3, n))
    revenue = 0.5 * x + rng.exponential(10, (RUNS, 3, n))
    orders = rng.poisson(1.5, (RUNS, 3, n)) + 1
    for run in range(RUNS):
        binary = [moments(conversions[run, k]) for k in range(3)]
        rejections["z"] += compare(binary[0], binary[1], BINARY).p_value < 0.05
        rejections["chi2"] += omnibus(binary, BINARY)[0] < 0.05
        money = [moments(revenue[run, k], x[run, k], orders[run, k]) for k in range(2)]
        rejections["welch"] += compare(money[0], money[1], MEAN).p_value < 0.05
        theta, pooled = cuped_theta(money)
        cuped = compare(money[0], money[1], MEAN, theta=theta, pooled_x_mean=pooled)
        rejections["cuped"] += cuped.p_value < 0.05
        rejections["ratio"] += compare(money[0], money[1], RATIO).p_value < 0.05
    rates = {name: count / RUNS for name, count in rejections.items()}
    assert all(0.04 <= rate <= 0.06 for rate in rates.values()), rates


def test_always_valid_p_values_survive_daily_peeking() -> None:
    """Looking 30 times and stopping at the first p < 0.05 inflates the z-test's error rate;
    the mSPRT p-value stays below 5% however often one looks."""
    rng = np.random.default_rng(7)
    looks, per_look = 30, 200
    outcomes = rng.random((RUNS, 2, looks * per_look)) < 0.1
    # each look's moments of 0/1 outcomes: n, and the conversions (their sum and sum of squares)
    converted = outcomes.reshape(RUNS, 2, looks, per_look).sum(axis=3).cumsum(axis=2)
    naive = sequential = 0
    for run in range(RUNS):
        cumulative = []
        stopped = False
        for look in range(1, looks + 1):
            upto = look * per_look
            a, b = (float(converted[run, arm, look - 1]) for arm in (0, 1))
            pair = (Moments(upto, a, a), Moments(upto, b, b))
            cumulative.append(pair)
            if not stopped and compare(*pair, BINARY).p_value < 0.05:
                stopped = True
        naive += stopped
        sequential += always_valid_p_value(cumulative, BINARY, tau=0.02) < 0.05
    assert naive / RUNS > 0.15
    assert sequential / RUNS <= 0.05


def test_assignment_is_stable_and_follows_the_weights() -> None:
    assert unit_hash("exp-1", "customer-42") == pytest.approx(0.6633687930842276, abs=1e-15)
    design = Design("exp-1", (Arm("control", 2), Arm("partner", 1), Arm("brand", 1)))
    units = [f"u{i}" for i in range(60_000)]
    arms = design.assign_many(units)
    assert arms == design.assign_many(units)
    shares = {a: arms.count(a) / len(arms) for a in ("control", "partner", "brand")}
    assert shares == pytest.approx({"control": 0.5, "partner": 0.25, "brand": 0.25}, abs=0.01)
    left = Design("a", layer="home", traffic=(0.0, 0.5), holdout=0.1)
    right = Design("b", layer="home", traffic=(0.5, 1.0), holdout=0.1)
    check_layer([left, right])
    both = [(left.assign(u), right.assign(u)) for u in units[:20_000]]
    assert all(a is None or b is None or a == b == "holdout" for a, b in both)
    assert sum(a == "holdout" for a, _ in both) / len(both) == pytest.approx(0.1, abs=0.01)
    with pytest.raises(InvalidInputError, match="overlap"):
        check_layer([left, Design("c", layer="home", traffic=(0.4, 0.6), holdout=0.1)])
    with pytest.raises(InvalidInputError, match="distinct"):
        Design("d", (Arm("x"), Arm("x")))
