"""Customers as (frequency, recency, age) rows, the input of the purchase models: checked,
and compressed to distinct rows with counts, since likelihoods only depend on those three.
Each column is also kept as its distinct values plus every row's index into them, so that
terms depending on one column alone are computed once per value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IndexArray = np.ndarray[Any, np.dtype[np.intp]]


@dataclass(frozen=True)
class Levels:
    """A column as its distinct ``values`` and each row's ``index`` into them."""

    values: FloatArray
    index: IndexArray

    @classmethod
    def of(cls, column: FloatArray) -> Levels:
        values, index = np.unique(column, return_inverse=True)
        return cls(values, index.ravel().astype(np.intp))

    @property
    def rows(self) -> FloatArray:
        return np.asarray(self.values[self.index])

    def totals(self, weights: FloatArray) -> FloatArray:
        """Sum of ``weights`` per distinct value."""
        totals = np.bincount(self.index, weights=weights, minlength=len(self.values))
        return totals.astype(np.float64, copy=False)


@dataclass(frozen=True)
class RFM:
    """Distinct (x, t_x, T) rows and how many customers have each (``weights``). ``x`` repeat
    purchases, ``t_x`` time of the last one since the first purchase, ``T`` time since the
    first purchase; every time in the same period (days, weeks ...)."""

    x: Levels
    t_x: Levels
    T: Levels
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
        _first_bad(age < 0, "T must be >= 0")
        _first_bad((x < 0) | (x != np.floor(x)), "frequency must be a whole number >= 0")
        _first_bad(t_x < 0, "recency must be >= 0")
        _first_bad(t_x > age * (1 + 1e-9) + 1e-9, "recency must not exceed T")
        _first_bad((x == 0) & (t_x != 0), "recency must be 0 without repeat purchases")
        _first_bad(~np.isfinite(w) | (w < 0), "weights must be >= 0")
        columns = Levels.of(x), Levels.of(np.minimum(t_x, age)), Levels.of(age)
        if not compress:
            return cls(*columns, w)
        sizes = [len(c.values) for c in columns]
        key = (columns[0].index * sizes[1] + columns[1].index) * sizes[2] + columns[2].index
        keys, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=w, minlength=len(keys)).astype(np.float64)
        indexes = (keys // (sizes[1] * sizes[2]), keys // sizes[2] % sizes[1], keys % sizes[2])
        x_c, t_c, a_c = (
            Levels(c.values, i.astype(np.intp)) for c, i in zip(columns, indexes, strict=True)
        )
        return cls(x_c, t_c, a_c, counts)

    def scaled(self, factor: float) -> RFM:
        """The same customers with times multiplied by ``factor``."""
        t_x = Levels(self.t_x.values * factor, self.t_x.index)
        return RFM(self.x, t_x, Levels(self.T.values * factor, self.T.index), self.weights)

    def thinned(self, fraction: float, rng: np.random.Generator) -> RFM:
        """A random ``fraction`` of the customers (each kept or not independently)."""
        weights = rng.binomial(np.round(self.weights).astype(np.int64), fraction)
        kept = weights > 0
        x, t_x, age = (Levels(c.values, c.index[kept]) for c in (self.x, self.t_x, self.T))
        return RFM(x, t_x, age, weights[kept].astype(np.float64))

    @property
    def customers(self) -> float:
        return float(self.weights.sum())

    @property
    def repeat_buyers(self) -> float:
        return float(self.x.totals(self.weights)[self.x.values > 0].sum())


def _first_bad(mask: np.ndarray[Any, np.dtype[np.bool_]], message: str) -> None:
    if mask.any():
        raise ValueError(f"customer {int(np.argmax(mask)) + 1}: {message}")
