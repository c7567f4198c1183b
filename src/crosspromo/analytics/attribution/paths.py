"""Aggregated journeys and attribution results."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crosspromo.errors import InvalidInputError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class Paths:
    """Distinct journeys, stored flat: path ``k`` is the channel indices
    ``touches[offsets[k]:offsets[k + 1]]`` (into ``channels``); with how many journeys took it
    and converted (``conversions``, worth ``value``) or did not (``nulls``)."""

    channels: tuple[str, ...]
    touches: IntArray
    offsets: IntArray
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
            _check_counts(number, conversions, value, nulls)
            total = totals.setdefault(path, [0.0, 0.0, 0.0])
            total[0] += conversions
            total[1] += value
            total[2] += nulls
        if not totals:
            raise InvalidInputError("no paths given")
        counts = np.array(list(totals.values()), dtype=np.float64)
        lengths = np.fromiter((len(p) for p in totals), dtype=np.int64, count=len(totals))
        flat = np.fromiter(itertools.chain.from_iterable(totals), dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        return cls(tuple(index), flat, offsets, counts[:, 0], counts[:, 1], counts[:, 2])

    @classmethod
    def from_arrow(
        cls,
        paths: pa.Array,
        conversions: pa.Array,
        value: pa.Array,
        nulls: pa.Array,
        *,
        first_row: int = 1,
        separator: str = ">",
    ) -> Paths:
        """Paths given as text (``a > b > c``) in Arrow columns, split and numbered without a
        Python loop over rows; equal paths (after trimming spaces) add up. An error names the
        row, counting the first one as ``first_row``."""
        paths, conversions, value, nulls = (
            c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c
            for c in (paths, conversions, value, nulls)
        )
        numbers = [
            _numpy(pc.cast(c, pa.float64()), fill=math.nan) for c in (conversions, value, nulls)
        ]
        if len(paths) == 0:
            raise InvalidInputError("no paths given")
        missing = _numpy(pc.utf8_length(pc.utf8_trim_whitespace(paths))) == 0  # null: 0 too
        missing |= np.isnan(numbers).any(0)
        if missing.any():
            row = int(np.flatnonzero(missing)[0]) + first_row
            raise InvalidInputError(f"row {row}: an empty cell", row=row)
        bad = (np.stack(numbers) < 0).any(0) | ~np.isfinite(numbers).all(0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + first_row
            raise InvalidInputError(
                f"row {row}: counts and value must be finite and not negative", row=row
            )
        split = pc.split_pattern(paths, separator)
        names = pc.utf8_trim_whitespace(split.flatten())
        empty = _numpy(pc.utf8_length(names)) == 0
        split_offsets = _numpy(split.offsets).astype(np.int64)
        if empty.any():
            path_row = int(np.searchsorted(split_offsets, np.flatnonzero(empty)[0], "right")) - 1
            raise InvalidInputError(
                f"row {path_row + first_row}: an empty channel in {paths[path_row].as_py()!r}",
                row=path_row + first_row,
            )
        encoded = pc.dictionary_encode(names)  # numbered in order of first appearance
        touches = _numpy(encoded.indices).astype(np.int64)
        offsets = split_offsets - split_offsets[0]
        made = cls(tuple(encoded.dictionary.to_pylist()), touches, offsets, *numbers)
        return made._merged()

    def _merged(self) -> Paths:
        """The same paths with equal ones added up (first occurrence keeps its place)."""
        lengths = np.diff(self.offsets)
        touches = self.touches.tobytes()
        size = self.touches.itemsize
        bounds = (self.offsets * size).tolist()
        numbered: dict[bytes, int] = {}  # each distinct path's group, in order of first sight
        group_of = [
            numbered.setdefault(touches[a:b], len(numbered)) for a, b in itertools.pairwise(bounds)
        ]
        if len(numbered) == len(group_of):
            return self
        group = np.array(group_of, dtype=np.int64)
        kept = np.flatnonzero(np.r_[True, group[1:] > np.maximum.accumulate(group)[:-1]])

        def summed(values: FloatArray) -> FloatArray:
            return np.bincount(group, weights=values, minlength=len(kept)).astype(np.float64)

        starts = self.offsets[kept]
        flat = np.concatenate(
            [self.touches[a : a + n] for a, n in zip(starts, lengths[kept], strict=True)]
        )
        offsets = np.concatenate([[0], np.cumsum(lengths[kept])])
        return Paths(
            self.channels,
            flat,
            offsets,
            summed(self.conversions),
            summed(self.value),
            summed(self.nulls),
        )

    @cached_property
    def paths(self) -> tuple[tuple[int, ...], ...]:
        """Each path as a tuple of channel indices (for reading; the models use the flat form)."""
        flat = self.touches.tolist()
        bounds = self.offsets.tolist()
        return tuple(tuple(flat[a:b]) for a, b in itertools.pairwise(bounds))

    @cached_property
    def lengths(self) -> IntArray:
        return np.diff(self.offsets)

    @cached_property
    def path_of_touch(self) -> IntArray:
        """For each touch, the index of its path."""
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    @cached_property
    def position(self) -> IntArray:
        """For each touch, its place in its path (0 for the first)."""
        return np.arange(len(self.touches)) - self.offsets[self.path_of_touch]

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


_NUMPY_TYPES = {pa.float64(): np.float64, pa.int64(): np.int64, pa.int32(): np.int32,
                pa.uint8(): np.uint8}  # fmt: skip


def _numpy(array: pa.Array, fill: float = 0) -> np.ndarray[Any, Any]:
    """A numeric or boolean Arrow array as a numpy copy (booleans as 0 and 1, nulls as
    ``fill``), read from its data buffer: ``to_numpy``, and any Python scalar handed to
    pyarrow, would import pandas, a third of a second of a command's start."""
    if pa.types.is_boolean(array.type):
        array = pc.cast(array, pa.uint8())
    dtype = np.dtype(_NUMPY_TYPES[array.type])
    data = array.buffers()[1]
    values = np.frombuffer(data, dtype, len(array), array.offset * dtype.itemsize).copy()
    if array.null_count:
        values[_numpy(array.is_null()).astype(bool)] = fill
    return values


def _check_counts(number: int, conversions: float, value: float, nulls: float) -> None:
    if min(conversions, value, nulls) < 0 or not np.isfinite([conversions, value, nulls]).all():
        raise InvalidInputError(
            f"path {number}: counts and value must be finite and not negative", row=number
        )


@dataclass(frozen=True)
class Attribution:
    """Conversions and value credited to each channel by one model."""

    model: str
    channels: tuple[str, ...]
    conversions: FloatArray
    value: FloatArray
    note: str = ""

    def summary(self) -> str:
        lines = [f"{self.model}: {self.conversions.sum():,.2f} conversions"]
        lines += [
            f"  {c:<20} {n:14,.4f} {v:16,.2f}"
            for c, n, v in zip(self.channels, self.conversions, self.value, strict=True)
        ]
        return "\n".join(lines)


def credit(model: str, paths: Paths, weights: FloatArray, note: str = "") -> Attribution:
    """Spread each path's conversions and value over its touches by ``weights`` (one per
    touch, in the flat order of ``paths.touches``; a path's weights sum to 1), adding up per
    channel."""
    of = paths.path_of_touch
    size = len(paths.channels)
    conversions = np.bincount(paths.touches, weights * paths.conversions[of], size)
    value = np.bincount(paths.touches, weights * paths.value[of], size)
    return Attribution(
        model, paths.channels, conversions.astype(np.float64), value.astype(np.float64), note
    )
