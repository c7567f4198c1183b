"""`crosspromo overlap`: how many customers two lists share, without either list being
revealed to the other side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from crosspromo.analytics.overlap import IdentifierKind
from crosspromo.analytics.overlap.identifiers import DEFAULT_REGION
from crosspromo.cli.context import FORMAT_OPTION, OutputFormat
from crosspromo.cli.output import emit

overlap_app = typer.Typer(help="Private audience overlap between two organizations.")

COLUMN: Any = typer.Option("email", help="the column holding the identifiers")
KIND: Any = typer.Option(IdentifierKind.EMAIL, help="email, phone (to E.164) or id")
REGION: Any = typer.Option(DEFAULT_REGION, help="country for phone numbers without +")
CONSENT: Any = typer.Option(
    None, help="a true/false column: only rows consenting to partner sharing take part"
)
SEGMENT: Any = typer.Option(None, help="a column of segments: counts per segment pair")
SKIP: Any = typer.Option(False, "--skip-invalid", help="drop (and count) invalid identifiers")


@overlap_app.command("local")
def local(
    a: Path = typer.Argument(..., help="first list (.csv or .parquet)"),
    b: Path = typer.Argument(..., help="second list (.csv or .parquet)"),
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    consent_column: str | None = CONSENT,
    segment_column: str | None = SEGMENT,
    skip_invalid: bool = SKIP,
    sketch: bool = typer.Option(
        False, "--sketch", help="approximate, for very large lists: adds error_bound (99%)"
    ),
    workers: int | None = typer.Option(None, min=1, help="processes for blinding (all cores)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run both sides of the overlap protocol in this process on two identifier files."""
    from crosspromo.services.overlap import ListOptions, overlap_files

    options = ListOptions(column, kind, region, consent_column, segment_column, skip_invalid)
    result, left, right = overlap_files(a, b, options, sketch=sketch, workers=workers)
    data = result.summary()
    if segment_column:
        data["segments"] = [
            {"segment_a": s.a_segment, "segment_b": s.b_segment, "size_a": s.size_a,
             "size_b": s.size_b, "intersection": s.intersection}
            for s in result.segments
        ]  # fmt: skip
    rows = [(k, f"{v:,.4f}" if isinstance(v, float) else f"{v:,}") for k, v in data.items()
            if k != "segments"]  # fmt: skip
    emit(data, fmt, columns=("", "value"), rows=rows, title=f"{left.name} and {right.name}")
