"""Aggregated journeys and attribution results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from crosspromo.errors import InvalidInputError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Paths:
    """Distinct journeys: each a sequence of channel indices into ``channels``, with how many
    journeys took it and converted (``conversions``, worth ``value``) or did not (``nulls``)."""

    channels: tuple[str, ...]
    paths: tuple[tuple[int, ...], ...]
    conversions: FloatArray
    value: FloatArray
    nulls: FloatArray

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Iterable[str], float, float, float]]) -> Paths:
        """Aggregate (channel sequence, conversions, value, nulls) rows; equal paths add up.
        Channels are numbered in order of first appearance."""
        index: dict[str, int] = {}
        totals: dict[tuple[int, ...], list[float]] = {}
        for number, (touches, conversions, value, nulls) in enumerate(rows, start=1):
            path = tuple(index.setdefault(c, len(index)) for c in touches)
            if not path:
                raise InvalidInputError(f"path {number} has no channel", row=number)
            if (
                min(conversions, value, nulls) < 0
                or not np.isfinite([conversions, value, nulls]).all()
            ):
                raise InvalidInputError(
                    f"path {number}: counts and value must be finite and not negative", row=number
                )
            total = totals.setdefault(path, [0.0, 0.0, 0.0])
            total[0] += conversions
            total[1] += value
            total[2] += nulls
        if not totals:
            raise InvalidInputError("no paths given")
        counts = np.array(list(totals.values()), dtype=np.float64)
        return cls(tuple(index), tuple(totals), counts[:, 0], counts[:, 1], counts[:, 2])

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def journeys(self) -> int:
        """Journeys in all: converted or not."""
        return round(float(self.conversions.sum() + self.nulls.sum()))

    @property
    def total_value(self) -> float:
        return float(self.value.sum())


@dataclass(frozen=True)
class Attribution:
    """Conversions and value credited to each channel by one model."""

    model: str
    channels: tuple[str, ...]
    conversions: FloatArray
    value: FloatArray
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "channels": [
                {"channel": c, "conversions": float(n), "value": float(v)}
                for c, n, v in zip(self.channels, self.conversions, self.value, strict=True)
            ],
        }

    def summary(self) -> str:
        lines = [f"{self.model}: {self.conversions.sum():,.2f} conversions"]
        lines += [
            f"  {c:<20} {n:14,.4f} {v:16,.2f}"
            for c, n, v in zip(self.channels, self.conversions, self.value, strict=True)
        ]
        return "\n".join(lines)


def credit(model: str, paths: Paths, weights: Iterable[FloatArray], note: str = "") -> Attribution:
    """Spread each path's conversions and value over its touches by ``weights`` (one array
    per path, summing to 1), adding up per channel."""
    conversions = np.zeros(len(paths.channels))
    value = np.zeros(len(paths.channels))
    for path, weight, n, v in zip(
        paths.paths, weights, paths.conversions, paths.value, strict=True
    ):
        touched = list(path)  # a tuple would index dimensions
        np.add.at(conversions, touched, weight * n)
        np.add.at(value, touched, weight * v)
    return Attribution(model, paths.channels, conversions, value, note)
