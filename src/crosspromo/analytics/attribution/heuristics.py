"""Rule-based attribution: first touch, last touch, last non-direct, linear, time decay and
position based (U-shaped). Each path's conversions are split over its touches by fixed weights."""

from __future__ import annotations

import numpy as np

from crosspromo.analytics.attribution.paths import Attribution, FloatArray, IntArray, Paths, credit
from crosspromo.errors import InvalidInputError

HEURISTICS = ("first", "last", "last_non_direct", "linear", "time_decay", "position")


def heuristic(
    model: str,
    paths: Paths,
    *,
    half_life: float = 2.0,
    first_share: float = 0.4,
    last_share: float = 0.4,
    direct: str = "direct",
) -> Attribution:
    """Credit by one rule.

    ``time_decay`` halves a touch's weight for every ``half_life`` touches it lies before the
    conversion (aggregated paths carry no clock times, so distance is counted in touches).
    ``position`` gives ``first_share`` to the first touch, ``last_share`` to the last and the
    rest evenly to those in between (a one-touch path gives it all; a two-touch path splits
    in proportion to the two shares). ``last_non_direct`` credits the last touch that is not
    ``direct``, or ``direct`` when the path has nothing else.
    """
    check_parameters(half_life, first_share, last_share)
    if model not in HEURISTICS:
        raise InvalidInputError(
            f"unknown heuristic model {model!r}; expected one of {', '.join(HEURISTICS)}",
            field="model",
        )
    position = paths.position
    length = paths.lengths[paths.path_of_touch]
    last = position == length - 1
    if model == "first":
        weights = (position == 0).astype(np.float64)
    elif model == "last":
        weights = last.astype(np.float64)
    elif model == "last_non_direct":
        weights = _last_non_direct(paths, direct)
    elif model == "linear":
        weights = 1 / length
    elif model == "time_decay":
        raw = 0.5 ** ((length - 1 - position) / half_life)
        weights = raw / np.add.reduceat(raw, paths.offsets[:-1])[paths.path_of_touch]
    else:
        weights = _position(position, length, first_share, last_share)
    return credit(model, paths, weights)


def check_parameters(half_life: float, first_share: float, last_share: float) -> None:
    if not half_life > 0:
        raise InvalidInputError("half_life must be positive", field="half_life")
    if not (first_share >= 0 and last_share >= 0 and first_share + last_share <= 1):
        raise InvalidInputError(
            "position shares must not be negative and add up to at most 1", field="position"
        )


def _last_non_direct(paths: Paths, direct: str) -> FloatArray:
    """1 on each path's last touch that is not ``direct`` (its last touch if all are)."""
    position = paths.position
    candidates = position.copy()
    if direct in paths.channels:
        candidates[paths.touches == paths.channels.index(direct)] = -1
    chosen = np.maximum.reduceat(candidates, paths.offsets[:-1])
    chosen = np.where(chosen >= 0, chosen, paths.lengths - 1)
    weights: FloatArray = (position == chosen[paths.path_of_touch]).astype(np.float64)
    return weights


def _position(position: IntArray, length: IntArray, first: float, last: float) -> FloatArray:
    """``first`` and ``last`` to the ends, the rest evenly between; one touch gets all, two
    touches split in proportion to the two shares (evenly when both are 0)."""
    middle = (1 - first - last) / np.maximum(length - 2, 1)
    weights = np.where(position == 0, first, np.where(position == length - 1, last, middle))
    ends = first + last
    pair = weights / ends if ends > 0 else np.full(len(weights), 0.5)
    return np.where(length == 1, 1.0, np.where(length == 2, pair, weights))
