"""Commands for the destination allow-list and tracking links."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from crosspromo.cli.context import FORMAT_OPTION, OutputFormat, state
from crosspromo.cli.output import console, emit
from crosspromo.services.accounts.organizations import get_organization
from crosspromo.services.track import links
from crosspromo.services.track.imports import import_conversions
from crosspromo.services.track.inbound import inbound_endpoint, rotate_inbound_secret
from crosspromo.services.track.outbound import Dispatcher
from crosspromo.services.track.touchpoints import import_touchpoints

domains_app = typer.Typer(
    help="Destination domains an organization's links may redirect to.", no_args_is_help=True
)
links_app = typer.Typer(help="Tracking links for partners to share.", no_args_is_help=True)


@domains_app.command("add")
def domains_add(
    ctx: typer.Context,
    domain: str = typer.Argument(..., help="e.g. shop.example.com (its subdomains are included)"),
    org: str = typer.Option(..., help="slug of the organization"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Allow links of ORG to redirect to DOMAIN."""
    db = state(ctx).database()
    value, added = links.add_domain(db, get_organization(db, org).id, domain)
    emit({"domain": value, "added": added}, fmt)


@domains_app.command("list")
def domains_list(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the allowed destination domains."""
    db = state(ctx).database()
    domains = links.list_domains(db, get_organization(db, org).id)
    emit(domains, fmt, columns=("domain",), rows=[(d,) for d in domains])


@domains_app.command("remove")
def domains_remove(
    ctx: typer.Context, domain: str = typer.Argument(...), org: str = typer.Option(...)
) -> None:
    """Stop allowing DOMAIN for new links."""
    db = state(ctx).database()
    links.remove_domain(db, get_organization(db, org).id, domain)
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
    db = state(ctx).database()
    issued = links.create_link(
        db, get_organization(db, org).id, partner, destination, campaign, slug
    )
    emit(
        {
            "code": issued.link.code,
            "short_url": issued.short_url,
            "destination": issued.link.destination,
        },
        fmt,
    )


@links_app.command("list")
def links_list(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List an organization's links."""
    db = state(ctx).database()
    items = links.list_links(db, get_organization(db, org).id)
    data = [
        {"code": i.link.code, "partner": i.partner_slug, "campaign": i.link.campaign,
         "short_url": i.short_url, "destination": i.link.destination}
        for i in items
    ]  # fmt: skip
    emit(
        data,
        fmt,
        columns=tuple(data[0]) if data else ("code",),
        rows=[tuple(d.values()) for d in data],
    )


conversions_app = typer.Typer(help="Conversions: leads, sales and refunds.", no_args_is_help=True)


@conversions_app.command("import")
def conversions_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="a .csv or .parquet file; columns as in the README"),
    org: str = typer.Option(..., help="slug of the organization the conversions belong to"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Import conversions: all rows are stored, or none (the error names line and column)."""
    db = state(ctx).database()
    stored = import_conversions(db, get_organization(db, org).id, file)
    emit({"imported": stored, "file": str(file)}, fmt)


touchpoints_app = typer.Typer(
    help="Touchpoints from other systems (impressions, e-mail opens) for attribution.",
    no_args_is_help=True,
)


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
    db = state(ctx).database()
    read, added = import_touchpoints(db, get_organization(db, org).id, file)
    emit({"read": read, "imported": added, "file": str(file)}, fmt)


webhooks_app = typer.Typer(help="Signed webhooks (Standard Webhooks scheme).", no_args_is_help=True)


@webhooks_app.command("inbound-secret")
def webhooks_inbound_secret(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization receiving the webhooks"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Make a new inbound signing secret (shown once; the old one stops working)."""
    db = state(ctx).database()
    organization = get_organization(db, org)
    secret = rotate_inbound_secret(db, organization.id)
    emit({"secret": secret, "endpoint": inbound_endpoint(db, organization.slug)}, fmt)


@webhooks_app.command("deliver")
def webhooks_deliver(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="one pass over what is due, then exit"),
    interval: float = typer.Option(1.0, min=0.1, help="seconds between passes"),
) -> None:
    """Deliver due outbound webhooks (the server also does this unless configured not to)."""
    db = state(ctx).database()
    dispatcher = Dispatcher(db)
    while True:
        attempted = dispatcher.run_once()
        if once:
            console.print(f"attempted {attempted} deliveries")
            return
        time.sleep(interval)
