"""Many rows into one table in one statement, its text the same whatever their number.

On PostgreSQL the values travel as one array per column, unpacked by ``unnest``: the statement
the server sees is always the same, so it is parsed and planned once and the driver keeps it
prepared (SQLAlchemy's multi-row ``VALUES`` gives a new text for every number of rows, which the
driver parses afresh every time: a fifth of the conversion writer's time before). Elsewhere,
and for a few rows, SQLAlchemy's multi-row insert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, TextClause, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from crosspromo.store.columns import UTCDateTime

_POSTGRES = postgresql.dialect()  # type: ignore[no-untyped-call]
_FEW = 8  # below this many rows a VALUES list is quicker (measured: 0.4 ms for one row)


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: tuple[str, ...],
    skip_duplicates_of: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (each with the same columns) and return the ``returning`` columns of the
    rows stored, in the rows' order. ``skip_duplicates_of``: the columns of a unique index
    whose duplicates are left out (they return nothing, and the order is then not kept)."""
    if not rows:
        return []
    columns = tuple(rows[0])
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql" or len(rows) < _FEW:
        statement: Any = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        if skip_duplicates_of:
            statement = statement.on_conflict_do_nothing(index_elements=list(skip_duplicates_of))
        statement = statement.returning(
            *(table.c[n] for n in returning), sort_by_parameter_order=not skip_duplicates_of
        )
        return [tuple(r) for r in session.execute(statement, list(rows))]
    arrays = {name: _array(table, name, [r[name] for r in rows]) for name in columns}
    found = session.execute(_unnest(table, columns, returning, skip_duplicates_of), arrays)
    return [tuple(r[:-1]) for r in sorted(found, key=lambda r: r[-1])]


def add_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    skip_duplicates_of: tuple[str, ...] = (),
) -> None:
    """Insert ``rows`` (each with the same columns), returning nothing: on SQLite the driver's
    own ``executemany`` of one prepared statement, each value passed through its column's bind
    processor (SQLAlchemy's insert spends more on building the statement's parameters than
    SQLite on the rows: 3.6 ms against 1.4 for a batch of 32 clicks); elsewhere ``insert_rows``.
    ``skip_duplicates_of``: as for ``insert_rows``."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        insert_rows(session, table, rows, ("id",), skip_duplicates_of)
        return
    columns = tuple(rows[0])
    statement, processors = _plain_insert(table, columns, skip_duplicates_of, dialect)
    # column by column: the loops over the rows are the interpreter's own (map, zip)
    by_column = [list(map(itemgetter(name), rows)) for name in columns]
    _bound(by_column, processors)
    connection.exec_driver_sql(statement, list(zip(*by_column, strict=True)))


def add_values(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    values: Sequence[Sequence[Any]],
    skip_duplicates_of: tuple[str, ...] = (),
) -> None:
    """Insert rows given as their values in ``columns`` order, as a JSON document carries
    them: an aware time as ISO 8601 text (``UTCDateTime`` columns). On SQLite the times are
    rewritten as the text the store keeps (``UTCDateTime.sqlite_text``) and the rest bound
    as for ``add_rows``, with no row made a dict or a time a datetime (the click mover, from
    its lines to the driver: 3.0-3.5 against 5.7 us a click); elsewhere the rows are made
    and go to ``insert_rows``. ValueError for a row of another width or a time that is not
    ISO 8601 with a zone."""
    if not values:
        return
    times = [at for at, name in enumerate(columns) if isinstance(table.c[name].type, UTCDateTime)]
    by_column = [list(column) for column in zip(*values, strict=True)]
    if len(by_column) != len(columns):
        raise ValueError(f"rows of {len(by_column)} values for {len(columns)} columns")
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        for at in times:
            by_column[at] = [
                None if value is None else UTCDateTime.from_iso(value) for value in by_column[at]
            ]
        rows = [dict(zip(columns, row, strict=True)) for row in zip(*by_column, strict=True)]
        insert_rows(session, table, rows, ("id",), skip_duplicates_of)
        return
    for at in times:
        by_column[at] = [
            None if value is None else UTCDateTime.sqlite_text(value) for value in by_column[at]
        ]
    statement, processors = _plain_insert(table, columns, skip_duplicates_of, dialect)
    _bound(by_column, tuple(p for p in processors if p[0] not in times))
    connection.exec_driver_sql(statement, list(zip(*by_column, strict=True)))


def _bound(
    by_column: list[list[Any]], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> None:
    """Each column's values through its bind processor (by their place), None kept."""
    for at, process in processors:
        by_column[at] = [None if value is None else process(value) for value in by_column[at]]


@cache
def _plain_insert(
    table: Table, columns: tuple[str, ...], skip: tuple[str, ...], dialect: Any
) -> tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """The ``?`` statement for ``columns`` of ``table``, and the bind processor of each column
    that has one, by its place among them."""
    processors = (
        (at, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for at, name in enumerate(columns)
    )
    marks = ", ".join("?" for _ in columns)
    conflict = f" ON CONFLICT ({', '.join(skip)}) DO NOTHING" if skip else ""
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}){conflict}"  # noqa: S608
    return statement, tuple((at, process) for at, process in processors if process is not None)


def _array(table: Table, name: str, values: list[Any]) -> list[Any]:
    kind = table.c[name].type
    if isinstance(kind, TypeDecorator):
        values = [kind.process_bind_param(v, _POSTGRES) for v in values]
    if isinstance(kind, JSON):
        values = [None if v is None else json.dumps(v) for v in values]
    return values


@cache
def _unnest(
    table: Table, columns: tuple[str, ...], returning: tuple[str, ...], skip: tuple[str, ...]
) -> TextClause:
    """``INSERT ... SELECT ... FROM unnest(arrays) ... RETURNING``; the rows' order comes back
    through the id (ids rise in the order rows are inserted, which is the arrays' order)."""
    types = {n: table.c[n].type for n in columns}
    json = {n for n, kind in types.items() if isinstance(kind, JSON)}  # sent as text
    arrays = ", ".join(
        f"CAST(:{n} AS {'TEXT' if n in json else kind.compile(dialect=_POSTGRES)}[])"
        for n, kind in types.items()
    )
    picked = ", ".join(f"CAST(u.{n} AS JSON)" if n in json else f"u.{n}" for n in columns)
    conflict = f" ON CONFLICT ({', '.join(skip)}) DO NOTHING" if skip else ""
    order = ", ".join((*returning, "id"))
    return text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - our own names
        f"SELECT {picked} FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(columns)}, n) "
        f"ORDER BY u.n{conflict} RETURNING {order}"
    )
