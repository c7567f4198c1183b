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

    key = paths.path_of_touch * len(paths.channels) + paths.touches
    _, first = np.unique(key, return_index=True)  # each member once, at its first touch
    members = np.bincount(paths.path_of_touch[first], minlength=len(paths.lengths))
    weights = np.zeros(len(paths.touches))
    weights[first] = 1 / members[paths.path_of_touch[first]]
    return credit("shapley", paths, weights)
