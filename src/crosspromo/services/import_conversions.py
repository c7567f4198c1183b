"""Import conversions from CSV or Parquet: every row valid and stored, or nothing stored.
An error names the line (CSV, counting the header as line 1) or row (Parquet) and the column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from crosspromo.domain.conversions import ConversionKind
from crosspromo.errors import InvalidInputError
from crosspromo.services.conversions import ConversionInput, record_conversions
from crosspromo.store.database import Database

COLUMNS = (
    "type",
    "occurred_at",
    "amount_minor",
    "currency",
    "customer_external_id",
    "click_id",
    "referral_code",
    "coupon_code",
    "order_id",
)
REQUIRED = ("type", "occurred_at")
MAX_ROWS = 5_000_000


def import_conversions(db: Database, org_id: int, path: Path) -> int:
    """Read ``path`` (.csv or .parquet) and store its conversions in one transaction."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}", field="file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows, where = _csv_rows(path), "line"
    elif suffix in (".parquet", ".pq"):
        rows, where = _parquet_rows(path), "row"
    else:
        raise InvalidInputError(f"{path.name}: expected a .csv or .parquet file", field="file")
    items: list[ConversionInput] = []
    positions: list[int] = []
    for position, row in rows:
        items.append(_parse(row, f"{where} {position}"))
        positions.append(position)
    if not items:
        raise InvalidInputError(f"{path.name} has no rows", field="file")
    try:
        recorded = record_conversions(db, org_id, items, max_items=MAX_ROWS)
    except InvalidInputError as exc:
        index = exc.details.get("row")
        if not isinstance(index, int):
            raise
        column = exc.details.get("field") or "?"
        raise InvalidInputError(
            f"{where} {positions[index]}, column {column}: {exc.details['reason']}",
            row=positions[index],
            column=column,
        ) from None
    return len(recorded.conversions)


def _check_header(columns: list[str], name: str) -> None:
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise InvalidInputError(
            f"{name}: unknown column(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(COLUMNS)}",
            field="columns",
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidInputError(f"{name}: missing column(s) {', '.join(missing)}", field="columns")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        _check_header(list(reader.fieldnames or []), path.name)
        for row in reader:
            if None in row:
                raise InvalidInputError(
                    f"line {reader.line_num}: more values than columns", row=reader.line_num
                )
            yield reader.line_num, row


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:
        raise InvalidInputError(f"{path.name} is not a readable Parquet file: {exc}") from None
    _check_header(handle.schema_arrow.names, path.name)
    position = 0
    for batch in handle.iter_batches(batch_size=65_536):
        for row in batch.to_pylist():
            position += 1
            yield position, row


def _parse(row: dict[str, Any], where: str) -> ConversionInput:
    def text(column: str) -> str | None:
        value = row.get(column)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def fail(column: str, message: str) -> InvalidInputError:
        return InvalidInputError(f"{where}, column {column}: {message}", column=column)

    kind = text("type")
    try:
        conversion_kind = ConversionKind(kind or "")
    except ValueError:
        raise fail("type", f"{kind!r} is not lead, sale or refund") from None
    raw_time = row.get("occurred_at")
    if isinstance(raw_time, datetime):
        occurred = raw_time
    else:
        try:
            occurred = datetime.fromisoformat(text("occurred_at") or "")
        except ValueError:
            raise fail("occurred_at", f"{raw_time!r} is not an ISO 8601 time") from None
    if occurred.tzinfo is None:
        raise fail("occurred_at", "needs a time zone, e.g. 2026-03-01T12:00:00Z")
    amount_text = text("amount_minor") or "0"
    try:
        amount = int(amount_text)
    except ValueError:
        raise fail(
            "amount_minor", f"{amount_text!r} is not a whole number of minor units"
        ) from None
    return ConversionInput(
        kind=conversion_kind,
        occurred_at=occurred,
        amount_minor=amount,
        currency=text("currency"),
        customer_external_id=text("customer_external_id"),
        click_id=text("click_id"),
        referral_code=text("referral_code"),
        coupon_code=text("coupon_code"),
        order_id=text("order_id"),
    )
