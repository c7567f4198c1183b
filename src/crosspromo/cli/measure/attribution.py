"""``crosspromo attribution``: credit conversions to channels and partners by model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from crosspromo.cli.main import deferred
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.attribution import ChannelsCredit, ModelOptions, attribute_file

if TYPE_CHECKING:
    from crosspromo.cli import context
    from crosspromo.services.measure import journeys
else:  # the store and the warehouse's query stack: for --org only
    context = deferred("crosspromo.cli.context")
    journeys = deferred("crosspromo.services.measure.journeys")

attribution_app = typer.Typer(no_args_is_help=True)


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
    if (paths is None) == (org is None):
        raise InvalidInputError("give either --paths FILE or --org SLUG", field="paths")
    options = ModelOptions(order, half_life, first_share, last_share)
    if paths is not None:
        credited = attribute_file(paths, model, options)
        rows = [
            (m.model, c.channel, f"{c.conversions:.6f}", f"{c.value:.6f}")
            for m in credited
            for c in m.channels
        ]
        shown: ChannelsCredit | list[ChannelsCredit] = credited[0] if model != "all" else credited
        emit(shown, fmt, columns=("model", "channel", "conversions", "value"), rows=rows)
        return
    assert org is not None
    report = journeys.attribute_tracked(
        *context.organization(ctx, org), model=model, options=options, lookback_days=lookback_days,
        kind=kind, currency=currency, bootstrap_rounds=bootstrap,
    )  # fmt: skip
    columns: tuple[str, ...] = ("model", "by", "name", "conversions", "value")
    if bootstrap:
        columns += ("conversions 95%", "value 95%")
    table: list[tuple[Any, ...]] = []
    for m in report.models:
        for label, entries in (("channel", m.channels), ("partner", m.partners)):
            for e in entries:
                name = getattr(e, label)
                row: tuple[Any, ...] = (m.model, label, name, f"{e.conversions:.6f}",
                                        f"{e.value:.6f}")  # fmt: skip
                if bootstrap and e.conversions_interval and e.value_interval:
                    intervals = (e.conversions_interval, e.value_interval)
                    row += tuple(f"{low:.2f} to {high:.2f}" for low, high in intervals)
                table.append(row)
    emit(report, fmt, columns=columns, rows=table)
