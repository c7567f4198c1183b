"""How many units an experiment needs: per arm, for each arm against the control.

With more than two arms every treatment is compared with the control, so the significance level
is split over the ``arms - 1`` comparisons (Bonferroni), which keeps the family-wise error at
``alpha``. Proportions: the two-sided z-test of two proportions, with the pooled variance under
the null and the unpooled one under the alternative (Fleiss, Levin & Paik, *Statistical Methods
for Rates and Proportions*, 3rd ed., eq. 4.14). Means: the two-sided two-sample t-test, solved
exactly on the noncentral t distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import computed_field
from scipy import optimize, stats

from crosspromo.errors import InvalidInputError


@dataclass(frozen=True)
class SampleSize:
    per_arm: int
    arms: int
    alpha_per_comparison: float
    method: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return self.per_arm * self.arms


def _check(alpha: float, power: float, arms: int, mde: float) -> float:
    if not 0 < alpha < 1:
        raise InvalidInputError("alpha must be between 0 and 1", field="alpha")
    if not 0 < power < 1:
        raise InvalidInputError("power must be between 0 and 1", field="power")
    if arms < 2:
        raise InvalidInputError("an experiment has at least 2 arms", field="arms")
    if mde == 0 or not math.isfinite(mde):
        raise InvalidInputError("the minimum detectable effect must not be 0", field="mde")
    return alpha / (arms - 1)


def proportions(
    baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8, arms: int = 2
) -> SampleSize:
    """Units per arm to detect a relative change ``mde`` of a ``baseline`` rate."""
    level = _check(alpha, power, arms, mde)
    treated = baseline * (1 + mde)
    if not 0 < baseline < 1 or not 0 < treated < 1:
        raise InvalidInputError(
            f"baseline {baseline} and baseline x (1 + mde) = {treated:.4g} must both be "
            "rates strictly between 0 and 1",
            field="baseline",
        )
    pooled = (baseline + treated) / 2
    null_sd = math.sqrt(2 * pooled * (1 - pooled))
    alternative_sd = math.sqrt(baseline * (1 - baseline) + treated * (1 - treated))
    z_alpha = stats.norm.isf(level / 2)
    z_power = stats.norm.ppf(power)
    n = ((z_alpha * null_sd + z_power * alternative_sd) / (treated - baseline)) ** 2
    return SampleSize(math.ceil(n), arms, level, "two-proportion z-test")


def means(
    baseline: float,
    sd: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
) -> SampleSize:
    """Units per arm to detect a relative change ``mde`` of a mean ``baseline`` whose units
    vary with standard deviation ``sd``."""
    level = _check(alpha, power, arms, mde)
    if not sd > 0 or baseline == 0:
        raise InvalidInputError("sd must be positive and the baseline not 0", field="sd")
    effect = abs(baseline * mde) / sd  # Cohen's d

    def shortfall(n: float) -> float:
        df = 2 * n - 2
        critical = stats.t.isf(level / 2, df)
        shift = effect * math.sqrt(n / 2)
        reached = stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift)
        return float(reached) - power

    high = 4.0
    while shortfall(high) < 0:
        high *= 2
        if high > 1e12:
            raise InvalidInputError("the effect is too small to detect", field="mde")
    n = optimize.brentq(shortfall, 2.0, high, xtol=1e-10)
    return SampleSize(math.ceil(n), arms, level, "two-sample t-test")
