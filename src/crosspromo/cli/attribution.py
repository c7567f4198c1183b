"""``crosspromo attribution``: credit conversions to channels by model."""

from __future__ import annotations

from pathlib import Path

import typer

from crosspromo.cli.context import FORMAT_OPTION, OutputFormat
from crosspromo.cli.output import emit
from crosspromo.services.attribution import attribute, read_paths

attribution_app = typer.Typer(help="Multi-touch attribution.", no_args_is_help=True)


@attribution_app.command("run")
def run(
    paths: Path = typer.Option(
        ..., help="path file: path;total_conversions;total_conversion_value;total_null"
    ),
    model: str = typer.Option(
        "all",
        help="first, last, last_non_direct, linear, time_decay, position, markov, shapley or all",
    ),
    order: int = typer.Option(1, help="order of the Markov chain (1-3)"),
    half_life: float = typer.Option(2.0, help="time decay: touches for a touch's weight to halve"),
    first_share: float = typer.Option(0.4, help="position based: share of the first touch"),
    last_share: float = typer.Option(0.4, help="position based: share of the last touch"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Credit the conversions and value of the journeys in PATHS to their channels."""
    results = attribute(
        read_paths(paths),
        model,
        order=order,
        half_life=half_life,
        first_share=first_share,
        last_share=last_share,
    )
    data = [r.as_dict() for r in results]
    rows = [
        (r.model, c["channel"], f"{c['conversions']:.6f}", f"{c['value']:.6f}")
        for r, d in zip(results, data, strict=True)
        for c in d["channels"]
    ]
    emit(
        data[0] if model != "all" else data,
        fmt,
        columns=("model", "channel", "conversions", "value"),
        rows=rows,
    )
