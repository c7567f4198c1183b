"""Identifiers as both sides must spell them before blinding: a shared customer only matches
when the two lists normalize it to the same string."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from crosspromo.domain.overlap import DEFAULT_REGION, IdentifierKind
from crosspromo.errors import InvalidInputError

__all__ = ["DEFAULT_REGION", "IdentifierKind", "Normalized", "normalize", "normalize_phone"]
_SHOWN_BAD_ROWS = 5


@dataclass(frozen=True, slots=True)
class Normalized:
    """The distinct normalized identifiers of one list (``values``) and, for each, the
    position of the first row that gave it (``rows``, 0-based in the input)."""

    values: pa.Array
    rows: pa.Array
    invalid: int


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a phone number (national numbers read in ``region``), None if invalid."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize(
    values: pa.Array | pa.ChunkedArray | list[str | None],
    kind: IdentifierKind | str = IdentifierKind.EMAIL,
    *,
    region: str = DEFAULT_REGION,
    skip_invalid: bool = False,
    distinct: bool = True,
    what: str = "identifiers",
) -> Normalized:
    """Normalize a column of identifiers and keep each distinct value once.

    Empty values, e-mail addresses without an ``@`` and phone numbers that are not valid
    numbers are invalid: with ``skip_invalid`` they are counted and dropped, otherwise an
    InvalidInputError names the first rows (1-based, after any header). ``distinct=False``
    keeps repeats (the sketch mode counts distinct values by their hashes, faster)."""
    kind = IdentifierKind(kind)
    column = pa.chunked_array([values]) if isinstance(values, list) else values
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    text = pc.utf8_trim_whitespace(column)
    if kind is IdentifierKind.EMAIL:
        text = pc.utf8_lower(text)
        valid = pc.and_(pc.match_substring_regex(text, r"^[^@\s]+@[^@\s]+$"), pc.is_valid(text))
    elif kind is IdentifierKind.PHONE:
        text = pa.array(
            [None if v is None else normalize_phone(v, region) for v in text.to_pylist()],
            pa.string(),
        )
        valid = pc.is_valid(text)
    else:
        valid = pc.and_(pc.is_valid(text), pc.greater(pc.utf8_length(text), 0))
    valid = pc.fill_null(valid, False)
    bad = int(len(valid) - pc.sum(valid).as_py()) if len(valid) else 0
    if bad and not skip_invalid:
        rows = pc.indices_nonzero(pc.invert(valid))[:_SHOWN_BAD_ROWS].to_pylist()
        listed = ", ".join(str(r + 1) for r in rows)
        raise InvalidInputError(
            f"{what}: {bad:,} row(s) hold no valid {kind.value} (data rows {listed}"
            f"{' ...' if bad > len(rows) else ''}); fix them or skip them",
            field=kind.value,
        )
    positions = pc.indices_nonzero(valid)
    kept = pc.take(text, positions)
    if not distinct:
        return Normalized(kept, positions, bad)
    table = pa.table({"value": kept, "row": positions}).group_by("value", use_threads=False)
    firsts = table.aggregate([("row", "min")]).sort_by("row_min")
    return Normalized(firsts["value"].combine_chunks(), firsts["row_min"].combine_chunks(), bad)
