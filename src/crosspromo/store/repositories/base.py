"""Base of the repositories: one Session; unique violations on insert become conflicts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosspromo.errors import ConflictError, NotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Any, values: dict[str, Any], conflict: str) -> int:
        """Insert one row in a savepoint; a unique violation becomes a ConflictError."""
        try:
            with self.session.begin_nested():
                new_id = self.session.execute(
                    insert(table).values(**values).returning(table.c.id)
                ).scalar_one()
        except IntegrityError as exc:
            raise ConflictError(conflict) from exc
        return int(new_id)

    def _set_active(self, table: Any, org_id: int, code: str, active: bool, missing: str) -> None:
        """Turn the organization's row with ``code`` on or off (links, partner codes)."""
        done = self.session.execute(
            update(table).where(table.c.org_id == org_id, table.c.code == code)
            .values(active=active)
        )  # fmt: skip
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError(missing)

    def _upsert(
        self, table: Any, values: dict[str, Any], key: str | Sequence[str] = "org_id",
        changes: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Insert the row, or update every other column of the row with the same ``key``
        (one column or several; ``changes``: what to set instead, given the new row)."""
        keys = [key] if isinstance(key, str) else list(key)
        dialect = self.session.connection().dialect.name
        insert_or = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_or(table).values(**values)
        changed = changes or {k: statement.excluded[k] for k in values if k not in keys}
        self.session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))

    def _insert_new(
        self, table: Any, rows: Sequence[dict[str, Any]], key: list[str], stamp: str = "recorded_at"
    ) -> int:
        """Insert the rows whose ``key`` columns are not stored yet (replays add nothing), each
        stamped with the time in column ``stamp``; how many were new."""
        if not rows:
            return 0
        dialect = self.session.connection().dialect.name
        insert_new = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert_new(table).on_conflict_do_nothing(index_elements=key).returning(table.c.id)
        )
        now = utcnow()
        added = 0
        for start in range(0, len(rows), 5_000):
            chunk = [{**r, stamp: now} for r in rows[start : start + 5_000]]
            added += len(self.session.execute(statement, chunk).all())
        return added

    def _copy_in(self, table: Any, tables: Iterable[pa.Table]) -> None:
        """Insert Arrow tables whose columns are ``table``'s: through one COPY on PostgreSQL,
        fed from a worker thread so the next Arrow table can be prepared meanwhile; on SQLite
        through the driver's ``executemany`` with values written as SQLAlchemy writes them
        (times as UTC ``YYYY-MM-DD HH:MM:SS.ffffff`` text, days as ``YYYY-MM-DD``)."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            driver = connection.connection.driver_connection
            assert driver is not None
            for item in tables:
                names = ", ".join(item.column_names)
                marks = ", ".join("?" * item.num_columns)
                statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - our names
                for batch in item.to_batches(max_chunksize=50_000):
                    values = [_sqlite_column(c).to_pylist() for c in batch.columns]
                    driver.executemany(statement, zip(*values, strict=True))
            return
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        driver = connection.connection.driver_connection
        assert driver is not None
        stream = iter(tables)
        first = next(stream, None)
        if first is None:
            return
        statement = f"COPY {table.name} ({', '.join(first.column_names)}) FROM STDIN (FORMAT csv)"
        options = pa_csv.WriteOptions(include_header=False)
        with (
            driver.cursor() as cursor,
            cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for item in itertools.chain([first], stream):
                # Times go as UTC wall-clock text: formatting zoned times costs Arrow ten times
                # more, and the session's zone is UTC.
                naive = [
                    c.cast(pa.timestamp("us")) if pa.types.is_timestamp(c.type) else c
                    for c in item.columns
                ]
                sink = pa.BufferOutputStream()
                pa_csv.write_csv(pa.table(naive, names=item.column_names), sink, options)
                copy.write(sink.getvalue().to_pybytes())

    def _arrow(self, statement: Any, types: dict[str, pa.DataType]) -> pa.Table:
        """The rows of a Core ``select`` as an Arrow table with these column types (names in
        the select's order), read past SQLAlchemy's row objects: through COPY on PostgreSQL,
        the driver's cursor on SQLite. Times come as UTC ``timestamp[us]``."""
        connection = self.session.connection()
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        names = list(types)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            driver = connection.connection.driver_connection
            assert driver is not None
            data = bytearray()
            with (
                driver.cursor() as cursor,
                cursor.copy(
                    f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)", compiled.params
                ) as copy,
            ):
                for chunk in copy:
                    data += chunk
            if not data:
                return pa.table({n: pa.array([], t) for n, t in types.items()})
            table = pa_csv.read_csv(
                pa.py_buffer(bytes(data)),
                read_options=pa_csv.ReadOptions(column_names=names),
                convert_options=pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
        else:
            driver = connection.connection.driver_connection
            assert driver is not None
            positional = [compiled.params[k] for k in compiled.positiontup or ()]
            rows = driver.execute(compiled.string, positional).fetchall()
            columns: list[Sequence[Any]] = (
                list(zip(*rows, strict=True)) if rows else [[] for _ in names]
            )
            table = pa.table(
                {
                    n: pa.array(c, pa.string() if _as_text(types[n]) else types[n])
                    for n, c in zip(names, columns, strict=True)
                }
            )
        return pa.table({n: _typed(table[n], t) for n, t in types.items()})


def _typed(column: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    """A column read back as ``kind``; times as written (UTC wall-clock) then zoned."""
    if pa.types.is_timestamp(kind) and not pa.types.is_timestamp(column.type):
        column = column.cast(pa.timestamp(kind.unit))
    return column.cast(kind)


def _as_text(kind: pa.DataType) -> bool:
    """Whether SQLite hands a column of this type over as text (times and days)."""
    return bool(pa.types.is_timestamp(kind) or pa.types.is_date(kind))


def _sqlite_column(column: pa.Array) -> pa.Array:
    """An Arrow column as SQLite keeps it when SQLAlchemy writes it (see columns.UTCDateTime)."""
    if pa.types.is_timestamp(column.type):
        return column.cast(pa.timestamp("us")).cast(pa.string())
    if pa.types.is_date(column.type):
        return column.cast(pa.string())
    return column
