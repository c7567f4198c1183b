"""Shapley-value attribution over channel coalitions, exact for any number of channels."""

from __future__ import annotations

import numpy as np

from crosspromo.analytics.attribution.paths import Attribution, Paths, credit


def shapley(paths: Paths) -> Attribution:
    """Shapley values of the game whose worth v(S) is the conversions (and value) of the
    journeys that touched only channels in S.

    Such a game is a sum of unanimity games, one per distinct channel set T with worth w(T)
    (the conversions of journeys whose channel set is exactly T). A unanimity game's Shapley
    value splits its worth equally among T's members (Shapley 1953; see Zhao et al. 2018,
    "Shapley value methods for attribution modeling in online advertising", arXiv:1804.05327),
    so each channel gets sum over T containing it of w(T) / |T|: the exact value, without
    enumerating the 2^n coalitions.
    """

    def weights(path: tuple[int, ...]) -> np.ndarray:
        members = set(path)
        first = [path.index(c) for c in members]  # each member credited once, at one touch
        result = np.zeros(len(path))
        result[first] = 1 / len(members)
        return result

    return credit("shapley", paths, (weights(p) for p in paths.paths))
