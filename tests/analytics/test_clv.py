"""BG/NBD and Gamma-Gamma against the published CDNOW results (Fader, Hardie & Lee 2005), the
customer summary against the published summary, gradients against finite differences, and
parameter recovery on customers drawn from the models themselves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from crosspromo.analytics.clv import bgnbd, gamma_gamma
from crosspromo.analytics.clv.bgnbd import BGNBD
from crosspromo.analytics.clv.gamma_gamma import GammaGamma
from crosspromo.analytics.clv.rfm import RFM
from crosspromo.analytics.clv.summary import EPOCH, customer_summary, daily_purchases
from crosspromo.analytics.clv.value import calibration_holdout, lifetime_value
from crosspromo.engine.backend import Engine
from crosspromo.sample.purchases import Truth, histories, summaries

CDNOW = Path(__file__).parents[1] / "fixtures" / "cdnow"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def cdnow_summary() -> pa.Table:
    return pa_csv.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


def cdnow_transactions() -> pa.Table:
    """CDNOW_sample.txt: whitespace separated, no header (master id, sample id, yyyymmdd,
    number of CDs, dollars); customers are the sample ids."""
    rows = [line.split() for line in (CDNOW / "CDNOW_sample.txt").read_text().splitlines()]
    _, ids, days, _, dollars = (list(c) for c in zip(*(r for r in rows if r), strict=True))
    return pa.table(
        {
            "customer": pa.array([int(v) for v in ids]),
            "date": pa.array([date(int(v[:4]), int(v[4:6]), int(v[6:])) for v in days]),
            "dollars": pa.array([float(v) for v in dollars]),
        }
    )


def fitted_cdnow() -> BGNBD:
    s = cdnow_summary()
    return BGNBD().fit(s["x"], s["t_x"], s["T"])


def test_bgnbd_matches_the_published_cdnow_fit() -> None:
    result = fitted_cdnow().result_
    assert result.converged
    for name, published in PUBLISHED.items():
        assert getattr(result, name) == pytest.approx(published, rel=0.005), name
    assert result.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert result.customers == 2357
    assert result.repeat_buyers == 946


def test_the_papers_example_customer() -> None:
    """x = 2, t_x = 30.43, T = 38.86: 1.226 purchases expected in the next 39 weeks."""
    model = fitted_cdnow()
    expected = model.conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert float(expected) == pytest.approx(1.226, abs=0.0005)


def test_gamma_gamma_matches_the_published_cdnow_fit() -> None:
    s = cdnow_summary()
    result = GammaGamma().fit(s["x"], s["zbar"]).result_
    assert result.customers == 946
    assert result.p == pytest.approx(6.25, rel=0.01)
    assert result.q == pytest.approx(3.74, rel=0.01)
    assert result.v == pytest.approx(15.44, rel=0.01)
    assert result.frequency_spend_correlation == pytest.approx(0.11, abs=0.01)


def test_summary_of_the_transactions_equals_the_published_summary() -> None:
    daily = daily_purchases(ibis.memtable(cdnow_transactions()), "customer", "date", "dollars")
    end = (date(1997, 9, 30) - EPOCH).days
    engine = Engine.duckdb()
    try:
        ours = engine.to_arrow(customer_summary(daily, "week", end)).to_pandas()
    finally:
        engine.close()
    published = cdnow_summary().to_pandas()
    ours["customer"] = ours["customer"].astype(int)
    joined = published.merge(ours, left_on="ID", right_on="customer", suffixes=("", "_ours"))
    assert len(joined) == len(published) == len(ours) == 2357
    assert (joined["x"] == joined["frequency"]).all()
    assert np.abs(joined["t_x"] - joined["recency"]).max() <= 0.005
    assert np.abs(joined["T"] - joined["T_ours"]).max() <= 0.005
    assert np.abs(joined["zbar"] - joined["monetary_value"]).max() <= 0.005 + 1e-9


@pytest.mark.parametrize("point", [[0.3, 4.0, 0.8, 2.5], [1.5, 0.7, 3.0, 9.0]])
def test_bgnbd_gradient_is_exact(point: list[float]) -> None:
    s = cdnow_summary()
    data = RFM.of(s["x"], s["t_x"], s["T"])
    params = np.array(point)
    _, gradient = bgnbd.log_likelihood(params, data)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * params[i]
        up = bgnbd.log_likelihood(params + step, data)[0]
        down = bgnbd.log_likelihood(params - step, data)[0]
        assert gradient[i] == pytest.approx((up - down) / (2 * step[i]), rel=1e-5)


def test_gamma_gamma_gradient_is_exact() -> None:
    s = cdnow_summary().to_pandas()
    s = s[s["x"] > 0]
    x, m = s["x"].to_numpy(float), s["zbar"].to_numpy(float)
    params = np.array([6.0, 3.5, 15.0])
    _, gradient = gamma_gamma.log_likelihood(params, x, m)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6 * params[i]
        up = gamma_gamma.log_likelihood(params + step, x, m)[0].sum()
        down = gamma_gamma.log_likelihood(params - step, x, m)[0].sum()
        assert gradient[i].sum() == pytest.approx((up - down) / (2 * step[i]), rel=1e-5)


def test_compressed_rows_give_the_same_likelihood() -> None:
    s = cdnow_summary()
    compressed = RFM.of(s["x"], s["t_x"], s["T"])
    plain = RFM.of(s["x"], s["t_x"], s["T"], compress=False)
    assert len(compressed.weights) < len(plain.weights) / 2
    assert compressed.customers == plain.customers == 2357
    params = np.array([0.243, 4.414, 0.793, 2.426])
    short, short_gradient = bgnbd.log_likelihood(params, compressed)
    long, long_gradient = bgnbd.log_likelihood(params, plain)
    assert short == pytest.approx(long, rel=1e-12)
    assert short_gradient == pytest.approx(long_gradient, rel=1e-10)


def test_predictions_agree_with_simulation() -> None:
    """E[X(t)] and the conditional expectation against customers drawn from the model."""
    truth = Truth(0.243, 4.414, 0.793, 2.426)
    rng = np.random.default_rng(5)
    model = BGNBD()
    model.result_ = bgnbd.BGNBDResult(truth.r, truth.alpha, truth.a, truth.b, 0.0, 1, 1, True)
    ages = np.full(400_000, 78.0)
    x, _ = summaries(truth, ages, rng)
    assert x.mean() == pytest.approx(float(model.expected_purchases(78.0)), rel=0.02)
    # split at week 39: calibration history, then purchases in the next 39 weeks
    story = histories(truth, np.full(300_000, 78.0), rng)
    owner = np.repeat(np.arange(300_000), story.frequency)
    early = story.times <= 39.0
    x_cal = np.bincount(owner[early], minlength=300_000)
    later = np.bincount(owner[~early], minlength=300_000)
    last = np.zeros(300_000)
    np.maximum.at(last, owner[early], story.times[early])
    predicted = model.conditional_expected_purchases(39.0, x_cal, last, np.full(300_000, 39.0))
    for value in (0, 1, 2, 5):
        chosen = x_cal == value
        assert later[chosen].mean() == pytest.approx(predicted[chosen].mean(), rel=0.05), value
    alive = model.probability_alive(x_cal, last, np.full(300_000, 39.0))
    assert alive[x_cal == 0].min() == 1.0
    assert 0 < alive.min() < alive.mean() < 1


def test_parameters_are_recovered_from_drawn_customers() -> None:
    truth = Truth(0.5, 6.0, 0.9, 3.0, p=6.0, q=4.0, v=15.0)
    rng = np.random.default_rng(11)
    ages = rng.uniform(20, 52, 200_000)
    story = histories(truth, ages, rng)
    x = story.frequency
    t_x = np.where(x > 0, story.times[np.maximum(story.offsets[1:] - 1, 0)], 0.0)
    result = BGNBD().fit(x, t_x, ages).result_
    for name in ("r", "alpha", "a", "b"):
        assert getattr(result, name) == pytest.approx(getattr(truth, name), rel=0.06), name
    repeat = x > 0
    spend = np.zeros(len(x))
    spend[repeat] = np.add.reduceat(story.values, story.offsets[:-1][repeat]) / x[repeat]
    fitted = GammaGamma().fit(x, spend).result_
    for name in ("p", "q", "v"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.08), name


def test_no_repeat_buyers_is_a_result_not_a_crash() -> None:
    model = BGNBD().fit([0, 0, 0], [0, 0, 0], [5.0, 6.0, 7.0])
    assert model.result_.r is None
    assert "bought twice" in (model.result_.note or "")
    with pytest.raises(ValueError, match="no parameters: no customer bought twice"):
        model.probability_alive(0, 0, 5.0)
    spend = GammaGamma().fit([0, 0], [0.0, 0.0]).result_
    assert spend.p is None
    assert "spend cannot be estimated" in (spend.note or "")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ((1, 5.0, 4.0), "recency must not exceed T"),
        ((-1, 0.0, 4.0), "whole number"),
        ((1.5, 1.0, 4.0), "whole number"),
        ((0, 1.0, 4.0), "recency must be 0"),
        ((0, 0.0, -1.0), "T must be >= 0"),
        ((1, float("nan"), 4.0), "not a number"),
    ],
)
def test_bad_rows_are_named(row: tuple[float, float, float], message: str) -> None:
    frequency, recency, age = row
    with pytest.raises(ValueError, match=f"customer 2: .*{message}"):
        RFM.of([1, frequency], [0.5, recency], [3.0, age])


def test_lifetime_value_discounts_each_month() -> None:
    model = fitted_cdnow()
    undiscounted = lifetime_value(model, 10.0, 2, 30.43, 38.86, months=9, monthly_discount=0.0)
    weeks = 9 * 365.25 / 12 / 7
    expected = 10.0 * model.conditional_expected_purchases(weeks, 2, 30.43, 38.86)
    assert float(undiscounted) == pytest.approx(float(expected), rel=1e-12)
    discounted = lifetime_value(model, 10.0, 2, 30.43, 38.86, months=9, monthly_discount=0.05)
    assert expected / 1.05**9 < discounted < undiscounted


def test_calibration_holdout_rows() -> None:
    model = fitted_cdnow()
    rows = calibration_holdout(model, [0, 0, 1, 9], [0, 0, 5, 30], [39, 39, 39, 39],
                               [0, 1, 2, 6], 39.0, max_frequency=7)  # fmt: skip
    assert [(r.frequency, r.customers, r.actual) for r in rows] == [(0, 2, 0.5), (1, 1, 2.0),
                                                                   (7, 1, 6.0)]  # fmt: skip
    assert rows[0].predicted == pytest.approx(
        float(model.conditional_expected_purchases(39, 0, 0, 39))
    )


def test_many_rows_take_the_sample_then_newton_path_to_the_same_optimum() -> None:
    """Above NEWTON_ROWS distinct rows the fit starts from a sample and takes Newton steps on
    all rows; it must land where plain L-BFGS-B on all rows lands."""
    rng = np.random.default_rng(3)
    ages = rng.uniform(30, 78, 120_000)
    x, t_x = summaries(Truth(0.243, 4.414, 0.793, 2.426), ages, rng)
    data = RFM.of(x, t_x, ages)
    assert len(data.weights) > bgnbd.NEWTON_ROWS
    model = BGNBD().fit_rfm(data)
    assert model.result_.converged
    scale = 10.0 / float(data.T.values.max())
    plain = np.exp(BGNBD()._optimize(data.scaled(scale)).x) / [1, scale, 1, 1]
    fitted = [model.result_.r, model.result_.alpha, model.result_.a, model.result_.b]
    assert fitted == pytest.approx(plain, rel=1e-5)


def test_an_abnormal_line_search_at_the_optimum_is_converged() -> None:
    from scipy.optimize import OptimizeResult

    from crosspromo.analytics.clv.optimize import verdict

    at_optimum = OptimizeResult(success=False, jac=np.array([1e-9, -3e-8]), message="ABNORMAL")
    assert verdict(at_optimum) == (True, None)
    stuck = OptimizeResult(success=False, jac=np.array([1e-2, 0.0]), message="ABNORMAL")
    assert verdict(stuck) == (False, "the optimizer stopped early: ABNORMAL")
