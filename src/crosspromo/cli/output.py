"""Rendering command results: a Rich table for people, JSON or CSV for scripts."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from crosspromo.cli.context import OutputFormat

# soft_wrap: long lines stay whole when output goes to a pipe or a log; there, tables get a
# width of their own rather than the 80 columns Rich assumes without a terminal.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(soft_wrap=True, width=_PIPE_WIDTH)
err_console = Console(stderr=True, soft_wrap=True)


def emit(
    data: Any,
    fmt: OutputFormat,
    *,
    columns: Sequence[str] = (),
    rows: Sequence[Sequence[Any]] = (),
    title: str | None = None,
) -> None:
    """Print ``data`` as JSON, or ``rows`` under ``columns`` as a table."""
    if fmt is OutputFormat.JSON:
        print(json.dumps(data, indent=2, default=str))
        return
    if fmt is OutputFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if columns:
            writer.writerow(columns)
            writer.writerows(rows)
        else:
            writer.writerows(data.items())
        return
    if not columns:
        for key, value in data.items():
            console.print(f"[bold]{key}[/bold]: {value}")
        return
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
