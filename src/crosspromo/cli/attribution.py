"""``crosspromo attribution``: credit conversions to channels and partners by model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from crosspromo.cli.context import FORMAT_OPTION, OutputFormat, state
from crosspromo.cli.output import emit
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import get_organization

attribution_app = typer.Typer(help="Multi-touch attribution.", no_args_is_help=True)


@attribution_app.command("run")
def run(
    ctx: typer.Context,
    paths: Path | None = typer.Option(
        None, help="path file: path;total_conversions;total_conversion_value;total_null"
    ),
    org: str | None = typer.Option(
        None, help="instead of a path file: this organization's tracked journeys"
    ),
    model: str = typer.Option(
        "all",
        help="first, last, last_non_direct, linear, time_decay, position, markov, shapley or all",
    ),
    order: int = typer.Option(1, help="order of the Markov chain (1-3)"),
    half_life: float = typer.Option(2.0, help="time decay: touches for a touch's weight to halve"),
    first_share: float = typer.Option(0.4, help="position based: share of the first touch"),
    last_share: float = typer.Option(0.4, help="position based: share of the last touch"),
    lookback_days: int = typer.Option(30, help="--org: touches this long before a conversion"),
    kind: str = typer.Option("sale", help="--org: conversions to credit, sale or lead"),
    currency: str | None = typer.Option(None, help="--org: sales in this currency"),
    bootstrap: int = typer.Option(0, help="--org: bootstrap rounds for 95% intervals (0: none)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Credit the conversions and value of journeys to their channels (and partners, --org)."""
    # Imported here: the models bring scipy and ibis, which no other command needs at startup.
    from crosspromo.services.measure.attribution import (
        ModelOptions,
        attribute,
        attribute_tracked,
        read_paths,
    )

    if (paths is None) == (org is None):
        raise InvalidInputError("give either --paths FILE or --org SLUG", field="paths")
    options = ModelOptions(order, half_life, first_share, last_share)
    if paths is not None:
        results = attribute(read_paths(paths), model, options)
        data: Any = [r.as_dict() for r in results]
        columns: tuple[str, ...] = ("model", "channel", "conversions", "value")
        rows: list[tuple[Any, ...]] = [
            (d["model"], c["channel"], f"{c['conversions']:.6f}", f"{c['value']:.6f}")
            for d in data
            for c in d["channels"]
        ]
        data = data[0] if model != "all" else data
    else:
        assert org is not None
        db = state(ctx).database()
        tracked = attribute_tracked(
            db,
            get_organization(db, org).id,
            model=model,
            options=options,
            lookback_days=lookback_days,
            kind=kind,
            currency=currency,
            bootstrap_rounds=bootstrap,
        )
        data = tracked.as_dict()
        columns = ("model", "by", "name", "conversions", "value")
        if bootstrap:
            columns += ("conversions 95%", "value 95%")
        rows = [
            (m["model"], label, e[label], f"{e['conversions']:.6f}", f"{e['value']:.6f}")
            + (
                tuple(
                    f"{low:.2f} to {high:.2f}"
                    for low, high in (e["conversions_interval"], e["value_interval"])
                )
                if bootstrap
                else ()
            )
            for m in data["models"]
            for label in ("channel", "partner")
            for e in m[f"{label}s"]
        ]
    emit(data, fmt, columns=columns, rows=rows)
