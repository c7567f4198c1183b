"""What customers are worth: discounted lifetime value from a purchase model and a spend model,
and the calibration-versus-holdout check of a purchase model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from crosspromo.analytics.clv.rfm import FloatArray


class PurchaseModel(Protocol):
    def conditional_expected_purchases(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> FloatArray: ...


def lifetime_value(
    purchases: PurchaseModel,
    spend_per_purchase: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    months: int = 12,
    periods_per_month: float = 365.25 / 12 / 7,
    monthly_discount: float = 0.01,
) -> FloatArray:
    """Each customer's discounted value over the next ``months``: the purchases the model
    expects in each month, times the expected spend per purchase, discounted by
    (1 + monthly_discount)^month (the monthly sum of Fader, Hardie & Lee 2005, "RFM and CLV",
    with discrete instead of continuous discounting).

    ``periods_per_month`` converts months into the model's periods (weeks by default)."""
    if months < 1:
        raise ValueError("months must be >= 1")
    if monthly_discount < 0:
        raise ValueError("the discount rate must be >= 0")
    spend = np.asarray(spend_per_purchase, dtype=np.float64)
    total: FloatArray = np.zeros(np.broadcast(np.asarray(frequency), spend).shape)
    before: FloatArray = np.zeros_like(total)
    for month in range(1, months + 1):
        upto = purchases.conditional_expected_purchases(
            month * periods_per_month, frequency, recency, T
        )
        total = total + (upto - before) * spend / (1 + monthly_discount) ** month
        before = upto
    return total


@dataclass(frozen=True)
class HoldoutRow:
    """Customers with ``frequency`` repeat purchases in calibration (the last row: that many
    or more): how many, and their mean purchases in the holdout, actual and predicted."""

    frequency: int
    customers: int
    actual: float
    predicted: float | None  # None where the model gives no finite expectation


def calibration_holdout(
    model: PurchaseModel,
    frequency: Any,
    recency: Any,
    T: Any,
    holdout_purchases: Any,
    duration: float,
    *,
    max_frequency: int = 7,
) -> list[HoldoutRow]:
    """Conditional expectations against what happened (Fader, Hardie & Lee 2005, figure 4):
    per calibration frequency, the mean holdout purchases and the model's expectation for a
    holdout of ``duration`` periods."""
    x = np.asarray(frequency, dtype=np.float64)
    actual = np.asarray(holdout_purchases, dtype=np.float64)
    predicted = model.conditional_expected_purchases(duration, x, recency, T)
    bucket = np.minimum(x, max_frequency).astype(np.int64)
    rows = []
    for value in range(max_frequency + 1):
        chosen = bucket == value
        if chosen.any():
            expected = float(predicted[chosen].mean())
            rows.append(
                HoldoutRow(
                    value, int(chosen.sum()), float(actual[chosen].mean()),
                    expected if np.isfinite(expected) else None,
                )
            )  # fmt: skip
    return rows
