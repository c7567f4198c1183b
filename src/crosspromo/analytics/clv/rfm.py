"""Customers as (frequency, recency, age) rows, the input of the purchase models: checked,
and compressed to distinct rows with counts, since likelihoods only depend on those three."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class RFM:
    """Distinct (x, t_x, T) rows and how many customers have each (``weights``). ``x`` repeat
    purchases, ``t_x`` time of the last one since the first purchase, ``T`` time since the
    first purchase; every time in the same period (days, weeks ...)."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weights: FloatArray

    @classmethod
    def of(
        cls,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any | None = None,
        *,
        compress: bool = True,
    ) -> RFM:
        """Check the rows (ValueError naming the first bad one) and merge identical ones."""
        x, t_x, age = (np.asarray(v, dtype=np.float64).ravel() for v in (frequency, recency, T))
        if not len(x) == len(t_x) == len(age):
            raise ValueError("frequency, recency and T must have the same length")
        if len(x) == 0:
            raise ValueError("no customers")
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if len(w) != len(x):
            raise ValueError("weights must have one value per customer")
        _first_bad(~np.isfinite(x) | ~np.isfinite(t_x) | ~np.isfinite(age), "is not a number")
        _first_bad((x < 0) | (x != np.floor(x)), "frequency must be a whole number >= 0")
        _first_bad(t_x < 0, "recency must be >= 0")
        _first_bad(t_x > age * (1 + 1e-9) + 1e-9, "recency must not exceed T")
        _first_bad((x == 0) & (t_x != 0), "recency must be 0 without repeat purchases")
        _first_bad(age <= 0, "T must be > 0")
        _first_bad(~np.isfinite(w) | (w < 0), "weights must be >= 0")
        t_x = np.minimum(t_x, age)
        if not compress:
            return cls(x, t_x, age, w)
        rows = np.stack([x, t_x, age], axis=1)
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=w, minlength=len(unique)).astype(np.float64)
        return cls(unique[:, 0].copy(), unique[:, 1].copy(), unique[:, 2].copy(), counts)

    @property
    def customers(self) -> float:
        return float(self.weights.sum())

    @property
    def repeat_buyers(self) -> float:
        return float(self.weights[self.x > 0].sum())


def _first_bad(mask: np.ndarray[Any, np.dtype[np.bool_]], message: str) -> None:
    if mask.any():
        raise ValueError(f"customer {int(np.argmax(mask)) + 1}: {message}")
