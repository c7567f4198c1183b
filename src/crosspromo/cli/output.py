"""Rendering a command's typed result: a Rich table for people, JSON or CSV for scripts.

JSON is the result's own declared shape, serialized by pydantic exactly as the API serializes
the same type, so a command and its route print the same document."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from crosspromo.spreadsheet import SafeWriter


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FORMAT_OPTION: Any = typer.Option(
    OutputFormat.TABLE, "--format", help="table for people, json or csv for scripts"
)

# soft_wrap: long lines stay whole when output goes to a pipe or a log; there, tables get a
# width of their own rather than the 80 columns Rich assumes without a terminal.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(soft_wrap=True, width=_PIPE_WIDTH)
err_console = Console(stderr=True, soft_wrap=True)


def jsonable(result: Any) -> Any:
    """``result`` (a dataclass or model, or a list of them) as JSON-ready Python, by its type."""
    if isinstance(result, list):
        kind: Any = type(result[0]) if result else Any
        return TypeAdapter(list[kind]).dump_python(result, mode="json")
    return TypeAdapter(type(result)).dump_python(result, mode="json")


def emit(
    result: Any,
    fmt: OutputFormat,
    *,
    fields: Sequence[str] = (),
    columns: Sequence[str] = (),
    rows: Sequence[Sequence[Any]] = (),
    title: str | None = None,
) -> None:
    """Print ``result``: as JSON (only ``fields``, when given), or as a table or CSV of ``rows``
    under ``columns``. Without rows, a record prints as field and value lines, and a list of
    records as a table of their fields."""
    data = jsonable(result)
    if fields:
        data = [_pick(d, fields) for d in data] if isinstance(data, list) else _pick(data, fields)
    if fmt is OutputFormat.JSON:
        print(json.dumps(data, indent=2))
        return
    if not columns and isinstance(data, list):
        if not data:
            if fmt is OutputFormat.TABLE:
                err_console.print("nothing to show")
            return
        columns = tuple(fields or data[0])
        rows = [[_cell(record[c]) for c in columns] for record in data]
    if fmt is OutputFormat.CSV:
        writer = SafeWriter(sys.stdout)  # a spreadsheet opens it: no formulas from our data
        if columns:
            writer.writerow(columns)
            writer.writerows(rows)
        else:
            writer.writerows((k, _cell(v)) for k, v in data.items())
        return
    if not columns:
        for key, value in data.items():
            console.print(f"[bold]{key}[/bold]: {_cell(value)}")
        return
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)


def _pick(record: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {name: record[name] for name in fields}


def _cell(value: Any) -> Any:
    """A value for one table or CSV cell: nested values as compact JSON, missing ones empty."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value
