"""Audience overlap between two identifier lists: read, keep consented rows, normalize, and
run both sides of the protocol (exact or sketch) in this process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from crosspromo.analytics.overlap import (
    Audience,
    IdentifierKind,
    OverlapResult,
    normalize,
    run_exact,
    run_sketch,
)
from crosspromo.analytics.overlap.identifiers import DEFAULT_REGION
from crosspromo.errors import InvalidInputError
from crosspromo.services.files.tabular import read_table, require_columns
from crosspromo.services.results.shown import WHEN_GIVEN

_YES = frozenset({"1", "true", "t", "yes", "y"})
_NO = frozenset({"0", "false", "f", "no", "n", ""})


@dataclass(frozen=True, slots=True)
class ListOptions:
    """How to read an identifier file: which column, what kind of identifier, and which
    optional columns say a row's consent to partner sharing and its segment."""

    column: str = "email"
    kind: IdentifierKind = IdentifierKind.EMAIL
    region: str = DEFAULT_REGION
    consent_column: str | None = None
    segment_column: str | None = None
    skip_invalid: bool = False


@dataclass(frozen=True, slots=True)
class IdentifierList:
    name: str
    values: pa.Array  # distinct normalized identifiers
    segments: list[str] | None
    rows: int  # rows read
    without_consent: int
    invalid: int

    def audience(self) -> Audience:
        return Audience(self.values.to_pylist(), self.segments)


def _consent(column: pa.ChunkedArray, name: str, column_name: str) -> pa.Array:
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, False).combine_chunks()
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
    text = pc.fill_null(text, "")
    known = pc.is_in(text, pa.array(sorted(_YES | _NO)))
    if not pc.all(known).as_py():
        row = pc.index(known, False).as_py()
        raise InvalidInputError(
            f"{name}, data row {row + 1}, column {column_name}: consent must be true or false",
            field=column_name,
        )
    return pc.is_in(text, pa.array(sorted(_YES))).combine_chunks()


def read_identifiers(path: Path, options: ListOptions, distinct: bool = True) -> IdentifierList:
    """The consented, normalized identifiers of a CSV or Parquet file (each once, unless
    ``distinct`` is off)."""
    table = read_table(path, text=[options.column])
    wanted = [options.column, options.consent_column, options.segment_column]
    require_columns(path.name, table.column_names, [c for c in wanted if c])
    values = table.column(options.column)
    without = 0
    if options.consent_column:
        keep = _consent(table.column(options.consent_column), path.name, options.consent_column)
        without = len(keep) - int(pc.sum(keep).as_py() or 0)
        table = table.filter(keep)
        values = table.column(options.column)
    found = normalize(
        values, options.kind, region=options.region, skip_invalid=options.skip_invalid,
        distinct=distinct, what=path.name,
    )  # fmt: skip
    segments = None
    if options.segment_column:
        labels = pc.take(table.column(options.segment_column), found.rows)
        segments = [str(v) if v is not None else "" for v in labels.to_pylist()]
    return IdentifierList(path.name, found.values, segments, table.num_rows, without, found.invalid)


def overlap_files(
    a: Path, b: Path, options: ListOptions, *, sketch: bool = False, workers: int | None = None
) -> tuple[OverlapResult, IdentifierList, IdentifierList]:
    """Both sides of the protocol on two files, in this process."""
    left, right = read_identifiers(a, options, not sketch), read_identifiers(b, options, not sketch)
    if sketch:
        if options.segment_column:
            raise InvalidInputError(
                "the sketch mode counts the whole lists; segments need the exact mode",
                field="segment_column",
            )
        return run_sketch(left.values, right.values, workers=workers), left, right
    return run_exact(left.audience(), right.audience(), workers=workers), left, right


@dataclass(frozen=True, slots=True)
class SegmentCount:
    segment_a: str
    segment_b: str
    size_a: int
    size_b: int
    intersection: int


@dataclass(frozen=True, slots=True)
class LocalOverlap:
    """The overlap of two lists run in this process: their sizes, how many they share, each
    side's rate; with the sketch its 99% half-width and sample rate, with segments the counts
    per segment pair."""

    lists: Annotated[str, Field(exclude=True)]
    size_a: int
    size_b: int
    intersection: int
    overlap_rate_a: float
    overlap_rate_b: float
    error_bound: Annotated[float | None, WHEN_GIVEN] = None
    sample_rate: Annotated[float | None, WHEN_GIVEN] = None
    segments: Annotated[list[SegmentCount] | None, WHEN_GIVEN] = None


def local_overlap(
    a: Path, b: Path, options: ListOptions, *, sketch: bool = False, workers: int | None = None
) -> LocalOverlap:
    """``overlap_files`` as the command line shows it."""
    result, left, right = overlap_files(a, b, options, sketch=sketch, workers=workers)
    segments = None
    if options.segment_column:
        segments = [
            SegmentCount(s.a_segment, s.b_segment, s.size_a, s.size_b, s.intersection)
            for s in result.segments
        ]
    return LocalOverlap(
        f"{left.name} and {right.name}", result.size_a, result.size_b, result.intersection,
        result.overlap_rate_a, result.overlap_rate_b, result.error_bound, result.sample_rate,
        segments,
    )  # fmt: skip
