"""Agree: partnerships between organizations."""

from __future__ import annotations

import typer

from crosspromo.cli.context import organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.services.agree import partnerships

partnerships_app = typer.Typer(no_args_is_help=True)


@partnerships_app.command("list")
def partnerships_list(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    status: str = typer.Option(None, help="only this status"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the partnerships an organization is a party to."""
    db, org_id = organization(ctx, org)
    views = partnerships.list_partnerships(db, org_id, partnerships.parse_status(status))
    rows = [(v.id, v.name, v.partner.slug, v.status, v.role) for v in views]
    emit(views, fmt, columns=("id", "name", "partner", "status", "role"), rows=rows,
         title=f"Partnerships of {org}")  # fmt: skip
