"""Import conversions from CSV or Parquet: every row valid and stored, or nothing stored.
An error names the line (CSV, counting the header as line 1) or row (Parquet) and the column.

Built for files of millions of rows. The file is read into Arrow columns and checked a column at
a time. Rows those checks cannot vouch for, and refunds (which depend on the sales before them),
go through the row-by-row rules the API uses, so there is one definition of a valid conversion
and one wording of each error; the first row in the file that breaks a rule is the one reported.
PostgreSQL receives the rows through COPY."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crosspromo.domain.clock import EARLIEST, LATEST, aware_time
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.money import MAX_MINOR
from crosspromo.errors import CrossPromoError, InvalidInputError
from crosspromo.security import customer_id_digests
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.files.tabular import Imported, TabularFile
from crosspromo.services.track.crediting import (
    MAX_LENGTHS,
    ConversionInput,
    Lookups,
    conversion_values,
)
from crosspromo.services.track.outbound import enqueue_conversions, has_endpoints
from crosspromo.store.database import Database
from crosspromo.store.repositories import ConversionRepository

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

# What the column checks accept is a subset of what the row rules accept: a value outside it
# is not an error by itself, it is handed to the row rules (e.g. "+5" or "2026-03-01T10Z").
_TIME = (
    r"^\d{4}-\d{2}-\d{2}[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_WHOLE = r"^-?\d{1,18}$"
_CURRENCY = r"^[A-Z]{3}$"
_UTC_US = pa.timestamp("us", tz="UTC")
_CUSTOMER = "_customer_external_id"
_STORED = pa.schema(
    [
        ("org_id", pa.int64()),
        ("kind", pa.string()),
        ("partner_org_id", pa.int64()),
        ("link_id", pa.int64()),
        ("click_id", pa.string()),
        ("code_id", pa.int64()),
        ("order_id", pa.string()),
        ("customer_hash", pa.string()),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("occurred_at", _UTC_US),
        (_CUSTOMER, pa.string()),  # hashed into customer_hash just before storing
    ]
)


def import_conversions(db: Database, org_id: int, path: Path) -> Imported:
    """Read ``path`` (.csv or .parquet) and store its conversions in one transaction."""
    source = TabularFile.open(path, COLUMNS, REQUIRED, MAX_ROWS)
    rows: int = source.table.num_rows
    checked = _Columns(source.table)
    refund_orders = checked.values_where(checked.order, checked.is_refund)
    hasher = _CustomerHasher(identity_secret(db), org_id)
    with db.transaction() as session:
        lookups = Lookups(
            session,
            org_id,
            click_ids=checked.lookup_values(checked.click),
            codes={kind: checked.lookup_values(checked.codes[kind]) for kind in CodeKind},
            refund_orders=refund_orders,
        )
        stored = checked.stored(org_id, lookups)
        vouched = checked.vouched(stored, refund_orders)
        patches: list[dict[str, Any]] = []
        for index in np.flatnonzero(~vouched).tolist():  # in file order: the first error wins
            values = _row_by_rules(db, org_id, source, index, lookups)
            patches.append({**values, _CUSTOMER: None, "_index": index})
        table = _merge(stored.table, pa.array(vouched), patches)
        chunks = (hasher.fill(chunk) for chunk in _chunks(table, 100_000))
        repository = ConversionRepository(session)
        if has_endpoints(session, org_id):  # outbound webhooks need each row's id
            for chunk in chunks:
                for batch in chunk.to_batches(max_chunksize=20_000):
                    stored_rows = repository.add_many(batch.to_pylist())
                    enqueue_conversions(session, org_id, stored_rows)
        else:  # each chunk is hashed while the one before is on its way to the store
            repository.add_tables(chunks)
    return Imported(str(path), rows, rows)


class _Stored:
    """The rows to store, as computed a column at a time, and which of them the checks passed."""

    def __init__(self, table: pa.Table, passed: pa.Array) -> None:
        self.table, self.passed = table, passed


class _Columns:
    """The file's columns as the row rules read them (trimmed text, empty = missing), each with
    a mask of the rows whose value the column checks accept."""

    def __init__(self, table: pa.Table) -> None:
        self.rows = table.num_rows

        def column(name: str) -> pa.Array:
            if name not in table.column_names:
                return pa.nulls(self.rows, pa.string())
            return table.column(name).combine_chunks()

        self.kind = _text(column("type"))
        self.is_refund = _true(pc.equal(self.kind, "refund"))
        self.is_sale = _true(pc.equal(self.kind, "sale"))
        self.is_lead = _true(pc.equal(self.kind, "lead"))
        self.occurred_at, self.time_ok = _times(column("occurred_at"))
        self.amount, self.amount_ok = _amounts(column("amount_minor"))
        self.currency = _text(column("currency"))
        self.customer = _text(column("customer_external_id"))
        self.order = _text(column("order_id"))
        self.click = _text(column("click_id"))
        self.codes = {kind: _text(column(f"{kind}_code")) for kind in CodeKind}

    def values_where(self, values: pa.Array, mask: pa.Array) -> set[str]:
        return {v for v in pc.unique(pc.filter(values, mask)).to_pylist() if v is not None}

    def lookup_values(self, values: pa.Array) -> set[str]:
        """Values a non-refund row refers to (a refund takes its partner from its sale)."""
        return self.values_where(values, pc.invert(self.is_refund))

    def stored(self, org_id: int, lookups: Lookups) -> _Stored:
        clicks = {k: v for k, v in lookups.clicks.items() if v[1] == org_id}
        link_id, click_partner, click_ok = _resolve(
            self.click, clicks, lambda v: v[0], lambda v: v[2]
        )
        code_ids: list[pa.Array] = []
        partners: list[pa.Array] = []
        code_oks: list[pa.Array] = []
        for kind in (CodeKind.COUPON, CodeKind.REFERRAL):
            found = lookups.codes[kind]
            code_id, partner, ok = _resolve(
                self.codes[kind], found, lambda c: c.id, lambda c: c.partner_org_id
            )
            code_ids.append(code_id)
            partners.insert(0, partner)  # a click's partner first, then referral, then coupon
            code_oks.append(ok)
        currency_ok = _true(pc.match_substring_regex(self.currency, _CURRENCY))
        money_ok = pc.or_(
            _all(
                self.is_lead,
                pc.greater_equal(self.amount, 0),
                pc.or_(pc.is_null(self.currency), currency_ok),
            ),
            _all(self.is_sale, currency_ok, pc.greater(self.amount, 0)),
        )
        lengths_ok = _all(
            *(
                _true(pc.less_equal(pc.utf8_length(values), MAX_LENGTHS[name]), missing=True)
                for name, values in (
                    ("order_id", self.order),
                    ("customer_external_id", self.customer),
                )
            )
        )
        passed = _all(self.time_ok, self.amount_ok, money_ok, lengths_ok, click_ok, *code_oks)
        table = pa.table(
            [
                pa.repeat(pa.scalar(org_id, pa.int64()), self.rows),
                self.kind,
                pc.coalesce(click_partner, *partners),
                link_id,
                pc.if_else(click_ok, self.click, pa.scalar(None, pa.string())),
                pc.coalesce(*code_ids),
                self.order,
                pa.nulls(self.rows, pa.string()),
                self.amount,
                self.currency,
                self.occurred_at,
                self.customer,
            ],
            schema=_STORED,
        )
        return _Stored(table, passed)

    def vouched(self, stored: _Stored, refund_orders: set[str]) -> np.ndarray[Any, Any]:
        """Which rows the column checks vouch for. The others go to the row rules: those some
        check did not pass, refunds, and the sales of the orders this file refunds."""
        refunded = pc.is_in(self.order, value_set=pa.array(sorted(refund_orders), pa.string()))
        refunded_sale = pc.and_(self.is_sale, _true(refunded))
        vouched = _all(pc.or_(self.is_lead, self.is_sale), stored.passed, pc.invert(refunded_sale))
        return np.asarray(vouched.to_numpy(zero_copy_only=False), dtype=bool)


def _row_by_rules(
    db: Database, org_id: int, source: TabularFile, index: int, lookups: Lookups
) -> dict[str, Any]:
    """One row through the API's rules; an error names its line or row and column."""
    try:
        return conversion_values(db, org_id, _parse(source.row(index)), lookups)
    except CrossPromoError as exc:
        column = exc.details.get("column") or exc.details.get("field") or "?"
        position = source.position(index)
        raise InvalidInputError(
            f"{source.where} {position}, column {column}: {exc.message}",
            row=position,
            column=column,
        ) from None


def _parse(row: dict[str, Any]) -> ConversionInput:
    def text(column: str) -> str | None:
        value = row.get(column)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def fail(column: str, message: str) -> InvalidInputError:
        return InvalidInputError(message, column=column)

    kind = text("type")
    try:
        conversion_kind = ConversionKind(kind or "")
    except ValueError:
        raise fail("type", f"{kind!r} is not lead, sale or refund") from None
    try:  # the time's bounds are checked where every conversion is
        occurred = aware_time(row.get("occurred_at"), bounded=False)
    except ValueError as exc:
        raise fail("occurred_at", str(exc)) from None
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


def _text(values: pa.Array) -> pa.Array:
    """As the row rules read a cell: ``str(value).strip()``, and empty is missing."""
    if pa.types.is_integer(values.type) or pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    elif not pa.types.is_string(values.type):
        values = pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _times(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The times in UTC, and which of them the checks accept; a column they cannot read at all
    (naive timestamps, an impossible date such as 30 February) is left to the row rules."""
    times = pa.nulls(len(values), _UTC_US)
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None:
            times = pc.cast(values, _UTC_US, safe=False)
    else:
        text = _text(values)
        ok = _true(pc.match_substring_regex(text, _TIME))
        with contextlib.suppress(pa.ArrowInvalid):
            times = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), _UTC_US)
    in_range = _all(
        _true(pc.greater_equal(times, pa.scalar(EARLIEST, _UTC_US))),
        _true(pc.less_equal(times, pa.scalar(LATEST, _UTC_US))),
    )
    return times, in_range


def _amounts(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Whole minor units (missing = 0), and which of them the checks accept."""
    amounts = None
    if pa.types.is_integer(values.type):  # e.g. Parquet; an unsigned one too big goes as text
        with contextlib.suppress(pa.ArrowInvalid):
            amounts = pc.fill_null(pc.cast(values, pa.int64()), 0)
            ok = pa.repeat(pa.scalar(True), len(values))
    if amounts is None:
        text = pc.fill_null(_text(values), "0")
        ok = _true(pc.match_substring_regex(text, _WHOLE))
        amounts = pc.cast(pc.if_else(ok, text, "0"), pa.int64())
    in_range = _all(ok, pc.greater_equal(amounts, -MAX_MINOR), pc.less_equal(amounts, MAX_MINOR))
    return amounts, in_range


def _resolve(
    values: pa.Array,
    found: dict[str, Any],
    key: Callable[[Any], int],
    partner: Callable[[Any], int],
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """For looked-up text values: (id, partner id, ok = missing or known)."""
    keys = pa.array(list(found), pa.string())
    index = pc.index_in(values, value_set=keys)
    ids = pc.take(pa.array([key(v) for v in found.values()], pa.int64()), index)
    partners = pc.take(pa.array([partner(v) for v in found.values()], pa.int64()), index)
    return ids, partners, pc.or_(pc.is_null(values), pc.is_valid(index))


class _CustomerHasher:
    """Fills in ``customer_hash`` from the customer id column, each distinct id hashed once."""

    def __init__(self, secret: str, org_id: int) -> None:
        self.secret, self.org_id = secret, org_id

    def fill(self, table: pa.Table) -> pa.Table:
        encoded = pc.dictionary_encode(table.column(_CUSTOMER).combine_chunks())
        distinct = encoded.dictionary.to_pylist()
        hexed = b"".join(customer_id_digests(self.secret, self.org_id, distinct)).hex()
        fixed = pa.Array.from_buffers(
            pa.binary(64), len(distinct), [None, pa.py_buffer(hexed.encode())]
        )
        hashes = pc.take(pc.cast(pc.cast(fixed, pa.binary()), pa.string()), encoded.indices)
        position = table.schema.get_field_index("customer_hash")
        filled = pc.coalesce(table.column(position), hashes)  # rows by the rules have theirs
        table = table.set_column(position, "customer_hash", filled)
        return table.drop_columns([_CUSTOMER])


def _chunks(table: pa.Table, rows: int) -> Iterator[pa.Table]:
    for start in range(0, table.num_rows, rows):
        yield table.slice(start, rows)


def _merge(table: pa.Table, keep: pa.Array, patches: list[dict[str, Any]]) -> pa.Table:
    """The column-checked rows ``keep`` marks, with the rows the rules produced in between."""
    if not patches:
        return table
    indexed = table.append_column("_index", pa.array(np.arange(table.num_rows)))
    ruled = pa.Table.from_pylist(patches, schema=_STORED.append(pa.field("_index", pa.int64())))
    merged = pa.concat_tables([indexed.filter(keep), ruled]).sort_by("_index")
    return merged.drop_columns(["_index"])


def _true(values: pa.Array, *, missing: bool = False) -> pa.Array:
    return pc.fill_null(values, missing)


def _all(*masks: pa.Array) -> pa.Array:
    result = masks[0]
    for mask in masks[1:]:
        result = pc.and_(result, mask)
    return _true(result)
