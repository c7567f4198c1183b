"""Track: destination domains, tracking links, conversions and touchpoints from files, and
signed webhooks."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from crosspromo.cli.context import database, organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, console, emit
from crosspromo.services.track import links
from crosspromo.services.track.imports import import_conversions
from crosspromo.services.track.inbound import rotate_inbound_secret
from crosspromo.services.track.outbound import Dispatcher
from crosspromo.services.track.touchpoints import import_touchpoints

domains_app = typer.Typer(
    help="Destination domains an organization's links may redirect to.", no_args_is_help=True
)
links_app = typer.Typer(no_args_is_help=True)
conversions_app = typer.Typer(no_args_is_help=True)
touchpoints_app = typer.Typer(no_args_is_help=True)
webhooks_app = typer.Typer(no_args_is_help=True)
ORG = typer.Option(..., help="slug of the organization")


@domains_app.command("add")
def domains_add(
    ctx: typer.Context,
    domain: str = typer.Argument(..., help="e.g. shop.example.com (its subdomains are included)"),
    org: str = ORG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Allow links of ORG to redirect to DOMAIN."""
    db, org_id = organization(ctx, org)
    emit(links.add_domain(db, org_id, domain), fmt)


@domains_app.command("list")
def domains_list(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List the allowed destination domains."""
    domains = links.list_domains(*organization(ctx, org))
    emit(domains, fmt, columns=("domain",), rows=[(d,) for d in domains])


@domains_app.command("remove")
def domains_remove(ctx: typer.Context, domain: str = typer.Argument(...), org: str = ORG) -> None:
    """Stop allowing DOMAIN for new links."""
    links.remove_domain(*organization(ctx, org), domain)
    console.print(f"removed {domain}")


@links_app.command("create")
def links_create(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization whose site the link leads to"),
    partner: str = typer.Option(..., help="slug of the partner who shares the link"),
    destination: str = typer.Option(..., help="URL on an allow-listed domain"),
    campaign: str = typer.Option("", help="campaign name (also utm_campaign)"),
    slug: str = typer.Option(None, help="custom code instead of a random one"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create a tracking link; prints its code, short URL and tagged destination."""
    db, org_id = organization(ctx, org)
    emit(links.create_link(db, org_id, partner, destination, campaign, slug), fmt)


@links_app.command("list")
def links_list(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List an organization's links."""
    shown = ("code", "partner", "campaign", "short_url", "destination")
    emit(links.list_links(*organization(ctx, org)), fmt, fields=shown)


@conversions_app.command("import")
def conversions_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="a .csv or .parquet file; columns as in the README"),
    org: str = typer.Option(..., help="slug of the organization the conversions belong to"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Import conversions: all rows are stored, or none (the error names line and column)."""
    emit(import_conversions(*organization(ctx, org), file), fmt)


@touchpoints_app.command("import")
def touchpoints_import(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="a .csv or .parquet file: touch_id, customer_external_id, channel, occurred_at"
    ),
    org: str = typer.Option(..., help="slug of the organization the touchpoints belong to"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Import touchpoints: all rows valid or none stored; rows already imported are skipped."""
    emit(import_touchpoints(*organization(ctx, org), file), fmt)


@webhooks_app.command("inbound-secret")
def webhooks_inbound_secret(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization receiving the webhooks"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Make a new inbound signing secret (shown once; the old one stops working)."""
    emit(rotate_inbound_secret(*organization(ctx, org)), fmt)


@webhooks_app.command("deliver")
def webhooks_deliver(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="one pass over what is due, then exit"),
    interval: float = typer.Option(1.0, min=0.1, help="seconds between passes"),
) -> None:
    """Deliver due outbound webhooks (the server also does this unless configured not to)."""
    dispatcher = Dispatcher(database(ctx))
    while True:
        attempted = dispatcher.run_once()
        if once:
            console.print(f"attempted {attempted} deliveries")
            return
        time.sleep(interval)
