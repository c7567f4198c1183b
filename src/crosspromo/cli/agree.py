"""Agree: partnerships between organizations, their terms and their signed record."""

from __future__ import annotations

from pathlib import Path

import typer

from crosspromo.cli.context import organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.errors import InvalidInputError
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


agreements_app = typer.Typer(no_args_is_help=True)


@agreements_app.command("template")
def agreements_template(
    brand: str = typer.Option("your-brand", help="slug of the brand"),
    partner: str = typer.Option("your-partner", help="slug of the partner"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Print a complete, valid terms document to start from (JSON in every format: a terms
    document has no table form)."""
    from crosspromo.services.agree.terms import template

    emit(template(brand, partner), OutputFormat.JSON if fmt is OutputFormat.TABLE else fmt)


@agreements_app.command("verify")
def agreements_verify(
    bundle: Path = typer.Argument(..., help="an exported record (agreements export)"),
    against: Path | None = typer.Option(None, help="the other side's copy, to find a fork"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Check a partnership's record with nothing but the file: every entry in its place,
    linked to the one before, signed by its organization's key, and every byte as exported;
    with --against, that the two copies hold the same entries. Exit 0 when it holds, 1 when
    it does not (the verdict says what is wrong and where). Needs no database or server."""
    from crosspromo.domain.record import verify

    verdict = verify(_read(bundle), None if against is None else _read(against))
    emit(verdict, fmt)
    if not verdict.valid:
        raise typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}", field="bundle") from None
