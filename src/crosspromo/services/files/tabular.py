"""Reading CSV and Parquet files for imports: the header checked against the columns an import
takes, every value kept (CSV as text), and rows named as the user sees them (CSV line numbers
counting the header and quoted line breaks, Parquet row numbers)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from crosspromo.errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import of a file did: rows read, and rows stored (replayed rows are not)."""

    file: str
    read: int
    imported: int


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def check_format(path: Path, *, output: bool = False) -> None:
    """A clear error unless ``path`` names a .csv or .parquet file (to read, or ``output``)."""
    if path.suffix.lower() != ".csv" and not is_parquet(path):
        if output:
            raise InvalidInputError(f"{path.name}: write to a .csv or .parquet file", field="out")
        raise InvalidInputError(f"{path.name}: expected a .csv or .parquet file", field="file")


class TabularFile:
    """A CSV or Parquet file as an Arrow table of its own (checked) columns, and how to name
    a row of it in an error. CSV values are all text; an empty CSV cell is an empty string."""

    def __init__(self, path: Path, table: pa.Table, where: str) -> None:
        self.path, self.table, self.where = path, table, where

    @classmethod
    def open(
        cls, path: Path, columns: Sequence[str], required: Sequence[str], max_rows: int
    ) -> TabularFile:
        """Read ``path``; its header may hold only ``columns`` and must hold ``required``, and
        it must have 1 to ``max_rows`` rows."""
        if not path.is_file():
            raise InvalidInputError(f"no such file: {path}", field="file")
        check_format(path)
        if is_parquet(path):
            source = cls(path, _read_parquet(path, _Header(columns, required)), "row")
        else:
            source = cls(path, _read_csv(path, _Header(columns, required)), "line")
        if source.table.num_rows == 0:
            raise InvalidInputError(f"{path.name} has no rows", field="file")
        if source.table.num_rows > max_rows:
            raise InvalidInputError(f"{path.name}: at most {max_rows:,} rows at once", field="file")
        return source

    def row(self, index: int) -> dict[str, Any]:
        return {name: self.table.column(name)[index].as_py() for name in self.table.column_names}

    def position(self, index: int) -> int:
        """The line (CSV, header = 1, quoted line breaks counted) or row (Parquet) of a row."""
        if self.where == "row":
            return index + 1
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            next(reader)
            record = -1
            for values in reader:
                record += values != []
                if record == index:
                    return reader.line_num
        raise AssertionError(f"row {index} is not in {self.path}")  # pragma: no cover


def _read_csv(path: Path, expected: _Header) -> pa.Table:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path.name} is not UTF-8 text: {exc.reason}") from None
    expected.check(header, path.name)
    try:
        return pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # ragged rows, bad UTF-8: the exact reader finds and names them
        return _read_csv_exactly(path, header)


def _read_csv_exactly(path: Path, header: list[str]) -> pa.Table:
    """Python's csv reader: short rows have their missing values empty, long ones are errors."""
    columns: list[list[str | None]] = [[] for _ in header]
    line = 1
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            next(reader)
            for values in reader:
                line = reader.line_num
                if not values:
                    continue
                if len(values) > len(header):
                    raise InvalidInputError(f"line {line}: more values than columns", row=line)
                for i, column in enumerate(columns):
                    column.append(values[i] if i < len(values) else None)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path.name} is not UTF-8 text after line {line}: {exc.reason}", row=line
        ) from None
    return pa.table(
        {name: pa.array(c, pa.string()) for name, c in zip(header, columns, strict=True)}
    )


def _read_parquet(path: Path, expected: _Header) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InvalidInputError(f"{path.name} is not a readable Parquet file: {exc}") from None
    expected.check(table.column_names, path.name)
    return table


@dataclass(frozen=True)
class _Header:
    allowed: Sequence[str]
    required: Sequence[str]

    def check(self, columns: list[str], name: str) -> None:
        unknown = [c for c in columns if c not in self.allowed]
        if unknown:
            raise InvalidInputError(
                f"{name}: unknown column(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(self.allowed)}",
                field="columns",
            )
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise InvalidInputError(
                f"{name}: column(s) {', '.join(twice)} appear twice", field="columns"
            )
        missing = [c for c in self.required if c not in columns]
        if missing:
            raise InvalidInputError(
                f"{name}: missing column(s) {', '.join(missing)}", field="columns"
            )


def read_table(path: Path, text: Sequence[str] = (), *, sniff: bool = False) -> pa.Table:
    """A whole CSV or Parquet file with Arrow's own type inference (for modelling, where
    columns are numbers), or a clear error. CSV columns named in ``text`` stay text (phone
    numbers and ids keep their leading + and zeros); with ``sniff`` a CSV may separate its
    values by ``;`` instead of ``,`` (whichever its header has more of)."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}", field="file")
    check_format(path)
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        delimiter = ","
        if sniff:
            with path.open("rb") as handle:
                header = handle.readline()
            delimiter = ";" if header.count(b";") >= header.count(b",") else ","
        return pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(text, pa.string())),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"{path.name} cannot be read: {exc}", field="file") from None


def write_table(table: pa.Table, path: Path) -> None:
    """Write ``table`` as CSV or Parquet, chosen by the suffix of ``path``."""
    check_format(path, output=True)
    if is_parquet(path):
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        pa_csv.write_csv(table, path)


def require_columns(name: str, present: Sequence[str], needed: Sequence[str]) -> None:
    """An error naming the columns of ``needed`` that the file ``name`` lacks, and its own."""
    missing = [c for c in dict.fromkeys(needed) if c not in present]
    if missing:
        raise InvalidInputError(
            f"{name}: no column(s) {', '.join(missing)}; it has {', '.join(present)}",
            field="columns",
        )
