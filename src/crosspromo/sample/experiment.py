"""A three-arm cross-promotion experiment with known true effects.

The brand's customers are assigned by the standard design (control, offer sent by the partner,
offer sent by the brand itself) through the same hashing as live experiments. Each unit gets a
pre-period spend (the CUPED covariate), converts with its arm's true rate, spends a log-normal
amount that grows with its pre-period spend when it converts, and unsubscribes with its arm's
true rate (the guardrail: offers sent by the brand annoy more people).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crosspromo.domain.experiments import Design

TRUE_CONVERSION = {"control": 0.040, "partner": 0.052, "brand": 0.046}
TRUE_UNSUBSCRIBE = {"control": 0.010, "partner": 0.010, "brand": 0.016}
SPEND_PER_PRE_UNIT = 0.6  # a converter spends base + 0.6 x pre-period spend on average
BASE_SPEND = 40.0


@dataclass(frozen=True)
class SampleExperiment:
    design: Design
    units: pa.Table  # unit, arm, converted, revenue, pre_revenue, unsubscribed

    def true_means(self) -> dict[str, dict[str, float]]:
        """Per arm, the expected value of each metric under the generating process."""
        pre_mean = float(np.mean(self.units.column("pre_revenue").to_numpy()))
        spend = BASE_SPEND + SPEND_PER_PRE_UNIT * pre_mean
        return {
            arm: {
                "converted": TRUE_CONVERSION[arm],
                "revenue": TRUE_CONVERSION[arm] * spend,
                "unsubscribed": TRUE_UNSUBSCRIBE[arm],
            }
            for arm in TRUE_CONVERSION
        }

    def truth(self) -> dict[str, Any]:
        return {
            "salt": self.design.salt,
            "arms": [a.name for a in self.design.arms],
            "units": self.units.num_rows,
            "conversions": int(pc.sum(self.units.column("converted")).as_py()),
            "true_conversion": TRUE_CONVERSION,
            "true_unsubscribe": TRUE_UNSUBSCRIBE,
        }


def generate_experiment(seed: int, customers: list[str]) -> SampleExperiment:
    design = Design(salt=f"sample-{seed}-partner-offer")
    arms = np.array(design.assign_many(customers), dtype=object)
    rng = np.random.default_rng([seed, 6])
    n = len(customers)
    pre = rng.gamma(2.0, 30.0, n)
    rate = np.array([TRUE_CONVERSION[a] for a in arms])
    converted = rng.random(n) < rate
    # E[spend | converted] = BASE_SPEND + SPEND_PER_PRE_UNIT * pre; log-normal noise of mean 1
    noise = rng.lognormal(-0.5 * 0.3**2, 0.3, n)
    revenue = np.where(converted, (BASE_SPEND + SPEND_PER_PRE_UNIT * pre) * noise, 0.0)
    unsubscribed = rng.random(n) < np.array([TRUE_UNSUBSCRIBE[a] for a in arms])
    units = pa.table(
        {
            "unit": customers,
            "arm": arms.astype(str),
            "converted": converted.astype(np.int8),
            "revenue": np.round(revenue, 2),
            "pre_revenue": np.round(pre, 2),
            "unsubscribed": unsubscribed.astype(np.int8),
        }
    )
    return SampleExperiment(design, units)
