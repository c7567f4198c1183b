"""Who should get the partner offer: uplift models and how to judge them.

- T-learner: one outcome model per arm; the uplift is their difference.
- X-learner (Kuenzel, Sekhon, Bickel & Yu 2019, "Metalearners for estimating heterogeneous
  treatment effects using machine learning", PNAS 116(10)): each arm's outcome model imputes
  the other arm's outcome, second-stage models learn the imputed effects, and the two are
  blended by the propensity (in a randomized experiment, the treated share).
- Qini curve (Radcliffe 2007): units sorted by predicted uplift; at each cut, treated outcomes
  minus control outcomes scaled to the treated count. Its area above the random line, over the
  number of units, is the Qini coefficient. AUUC here is the area under the uplift curve
  (the difference in outcome rates at each cut times the units so far), over the number of
  units, minus that of a random ordering.

Models are scikit-learn histogram gradient boosting by default; any estimator with fit/predict
(or predict_proba for a binary outcome) can be passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

Array = np.ndarray[Any, Any]


def _default(binary: bool) -> Any:
    if binary:
        return HistGradientBoostingClassifier(max_iter=100, random_state=0)
    return HistGradientBoostingRegressor(max_iter=100, random_state=0)


def _predict(model: Any, x: Array, binary: bool) -> Array:
    if binary:
        result: Array = model.predict_proba(x)[:, 1]
        return result
    predicted: Array = model.predict(x)
    return predicted


def _check(x: Array, treated: Array, y: Array) -> tuple[Array, Array, Array]:
    x, treated, y = np.asarray(x, dtype=np.float64), np.asarray(treated, bool), np.asarray(y)
    if x.ndim != 2 or len(x) != len(treated) or len(x) != len(y):
        raise ValueError("features must be a 2-d array with one row per outcome and arm flag")
    if treated.all() or not treated.any():
        raise ValueError("uplift needs units in both the treated and the control arm")
    return x, treated, y.astype(np.float64)


@dataclass
class TLearner:
    binary: bool = True
    model: Any = None
    fitted_: tuple[Any, Any] | None = None

    def fit(self, x: Array, treated: Array, y: Array) -> TLearner:
        x, treated, y = _check(x, treated, y)
        base = self.model if self.model is not None else _default(self.binary)
        control_model = clone(base).fit(x[~treated], y[~treated])
        treated_model = clone(base).fit(x[treated], y[treated])
        self.fitted_ = (control_model, treated_model)
        return self

    def predict(self, x: Array) -> Array:
        if self.fitted_ is None:
            raise ValueError("fit the model first")
        control_model, treated_model = self.fitted_
        x = np.asarray(x, dtype=np.float64)
        return _predict(treated_model, x, self.binary) - _predict(control_model, x, self.binary)


@dataclass
class XLearner:
    binary: bool = True
    model: Any = None
    effect_model: Any = None
    fitted_: tuple[Any, Any, float] | None = None

    def fit(self, x: Array, treated: Array, y: Array) -> XLearner:
        x, treated, y = _check(x, treated, y)
        first = TLearner(self.binary, self.model).fit(x, treated, y)
        assert first.fitted_ is not None
        control_model, treated_model = first.fitted_
        # imputed effects: what each unit gained against the other arm's model
        gain_treated = y[treated] - _predict(control_model, x[treated], self.binary)
        gain_control = _predict(treated_model, x[~treated], self.binary) - y[~treated]
        second = self.effect_model if self.effect_model is not None else _default(False)
        effect_treated = clone(second).fit(x[treated], gain_treated)
        effect_control = clone(second).fit(x[~treated], gain_control)
        self.fitted_ = (effect_treated, effect_control, float(treated.mean()))
        return self

    def predict(self, x: Array) -> Array:
        if self.fitted_ is None:
            raise ValueError("fit the model first")
        effect_treated, effect_control, share = self.fitted_
        x = np.asarray(x, dtype=np.float64)
        # weight g * tau_control + (1 - g) * tau_treated, g the propensity
        blended: Array = share * effect_control.predict(x) + (1 - share) * effect_treated.predict(x)
        return blended


LEARNERS: dict[str, Callable[[bool], TLearner | XLearner]] = {
    "t": lambda binary: TLearner(binary),
    "x": lambda binary: XLearner(binary),
}


@dataclass(frozen=True)
class UpliftCurves:
    """Per cut (the first k units by predicted uplift, k = 1..n): the Qini and uplift curves."""

    fraction: Array
    qini: Array
    uplift: Array
    qini_coefficient: float
    auuc: float

    def top_share_uplift(self, share: float) -> float:
        """The measured uplift (difference in outcome means) among the top ``share`` units."""
        k = max(round(share * len(self.fraction)), 1)
        return float(self.uplift[k - 1] / k)


def curves(scores: Array, treated: Array, y: Array) -> UpliftCurves:
    scores, treated = np.asarray(scores, dtype=np.float64), np.asarray(treated, bool)
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    t, outcome = treated[order], y[order]
    n_t = np.cumsum(t)
    n_c = np.cumsum(~t)
    y_t = np.cumsum(np.where(t, outcome, 0.0))
    y_c = np.cumsum(np.where(t, 0.0, outcome))
    ratio = np.divide(n_t, n_c, out=np.zeros(len(t)), where=n_c > 0)
    qini = y_t - y_c * ratio
    rate_t = np.divide(y_t, n_t, out=np.zeros(len(t)), where=n_t > 0)
    rate_c = np.divide(y_c, n_c, out=np.zeros(len(t)), where=n_c > 0)
    k = np.arange(1, len(t) + 1)
    uplift = (rate_t - rate_c) * k
    n = len(t)
    fraction = k / n
    random_qini = fraction * qini[-1]
    random_uplift = fraction * uplift[-1]
    return UpliftCurves(
        fraction,
        qini,
        uplift,
        float((qini - random_qini).sum() / n / n),
        float((uplift - random_uplift).sum() / n / n),
    )
