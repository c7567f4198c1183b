"""Bootstrap confidence intervals over journeys for any attribution model.

Resampling journeys with replacement from aggregated paths is a multinomial draw over the
(path, converted) and (path, not converted) cells with the observed shares. A resampled
conversion brings its path's mean conversion value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from crosspromo.analytics.attribution.paths import Attribution, FloatArray, Paths


@dataclass(frozen=True)
class Interval:
    """Percentile interval (``level``) of each channel's credited conversions and value."""

    level: float
    rounds: int
    conversions_low: FloatArray
    conversions_high: FloatArray
    value_low: FloatArray
    value_high: FloatArray


def bootstrap(
    paths: Paths,
    model: Callable[[Paths], Attribution],
    *,
    rounds: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    if rounds < 2:
        raise ValueError("a bootstrap needs at least 2 rounds")
    if not 0 < level < 1:
        raise ValueError("the confidence level must lie strictly between 0 and 1")
    cells = np.concatenate([paths.conversions, paths.nulls])
    journeys = paths.journeys
    if journeys == 0:
        raise ValueError("no journeys to resample")
    shares = cells / cells.sum()
    per_conversion = np.divide(
        paths.value, paths.conversions, out=np.zeros_like(paths.value), where=paths.conversions > 0
    )
    random = np.random.default_rng(seed)
    conversions = np.zeros((rounds, len(paths.channels)))
    value = np.zeros((rounds, len(paths.channels)))
    count = len(paths.lengths)
    for r in range(rounds):
        drawn = random.multinomial(journeys, shares).astype(np.float64)
        converted, nulls = drawn[:count], drawn[count:]
        sample = replace(
            paths, conversions=converted, value=converted * per_conversion, nulls=nulls
        )  # paths nobody drew weigh nothing in any model
        result = model(sample)
        conversions[r] = result.conversions
        value[r] = result.value
    tail = (1 - level) / 2 * 100
    return Interval(
        level,
        rounds,
        np.percentile(conversions, tail, axis=0),
        np.percentile(conversions, 100 - tail, axis=0),
        np.percentile(value, tail, axis=0),
        np.percentile(value, 100 - tail, axis=0),
    )
