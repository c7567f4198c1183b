"""Bootstrap confidence intervals over journeys for any attribution model.

Resampling journeys with replacement from aggregated paths is a multinomial draw over the
(path, converted) and (path, not converted) cells with the observed shares. A resampled
conversion brings its path's mean conversion value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    where = {c: i for i, c in enumerate(paths.channels)}
    random = np.random.default_rng(seed)
    conversions = np.zeros((rounds, len(paths.channels)))
    value = np.zeros((rounds, len(paths.channels)))
    count = len(paths.paths)
    for r in range(rounds):
        drawn = random.multinomial(journeys, shares).astype(np.float64)
        converted, nulls = drawn[:count], drawn[count:]
        kept = np.flatnonzero(converted + nulls)
        sample = Paths.from_rows(
            (
                [paths.channels[i] for i in paths.paths[k]],
                converted[k],
                converted[k] * per_conversion[k],
                nulls[k],
            )
            for k in kept
        )
        result = model(sample)
        columns = [where[c] for c in result.channels]
        conversions[r, columns] = result.conversions
        value[r, columns] = result.value
    tail = (1 - level) / 2 * 100
    return Interval(
        level,
        rounds,
        np.percentile(conversions, tail, axis=0),
        np.percentile(conversions, 100 - tail, axis=0),
        np.percentile(value, tail, axis=0),
        np.percentile(value, 100 - tail, axis=0),
    )
