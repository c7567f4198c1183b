"""Rule-based attribution: first touch, last touch, last non-direct, linear, time decay and
position based (U-shaped). Each path's conversions are split over its touches by fixed weights."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from crosspromo.analytics.attribution.paths import Attribution, FloatArray, Paths, credit
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
    rules: dict[str, Callable[[tuple[int, ...]], FloatArray]] = {
        "first": lambda p: _one(len(p), 0),
        "last": lambda p: _one(len(p), len(p) - 1),
        "last_non_direct": lambda p: _one(len(p), _last_non_direct(p, paths.channels, direct)),
        "linear": lambda p: np.full(len(p), 1 / len(p)),
        "time_decay": lambda p: _normalized(0.5 ** ((len(p) - 1 - np.arange(len(p))) / half_life)),
        "position": lambda p: _position(len(p), first_share, last_share),
    }
    if model not in rules:
        raise InvalidInputError(
            f"unknown heuristic model {model!r}; expected one of {', '.join(HEURISTICS)}",
            field="model",
        )
    rule = rules[model]
    weights: Iterator[FloatArray] = (rule(p) for p in paths.paths)
    return credit(model, paths, weights)


def check_parameters(half_life: float, first_share: float, last_share: float) -> None:
    if not half_life > 0:
        raise InvalidInputError("half_life must be positive", field="half_life")
    if not (first_share >= 0 and last_share >= 0 and first_share + last_share <= 1):
        raise InvalidInputError(
            "position shares must not be negative and add up to at most 1", field="position"
        )


def _one(length: int, position: int) -> FloatArray:
    weights = np.zeros(length)
    weights[position] = 1.0
    return weights


def _normalized(weights: FloatArray) -> FloatArray:
    total: float = weights.sum()
    return weights / total


def _last_non_direct(path: tuple[int, ...], channels: tuple[str, ...], direct: str) -> int:
    for position in range(len(path) - 1, -1, -1):
        if channels[path[position]] != direct:
            return position
    return len(path) - 1


def _position(length: int, first: float, last: float) -> FloatArray:
    if length == 1:
        return np.ones(1)
    if length == 2:
        ends = np.array([first, last])
        return ends / ends.sum() if ends.sum() > 0 else np.full(2, 0.5)
    weights = np.full(length, (1 - first - last) / (length - 2))
    weights[0], weights[-1] = first, last
    return weights
