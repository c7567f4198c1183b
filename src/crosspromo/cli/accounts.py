"""Accounts: organizations, dashboard and portal users, API keys."""

from __future__ import annotations

import typer

from crosspromo.cli.context import database
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, console, emit
from crosspromo.cli.track import domains_app
from crosspromo.domain import OrgKind, Role
from crosspromo.services.accounts import keys, organizations, users
from crosspromo.services.accounts.organizations import OrganizationView

orgs_app = typer.Typer(no_args_is_help=True)
orgs_app.add_typer(domains_app, name="domains")
users_app = typer.Typer(no_args_is_help=True)
keys_app = typer.Typer(no_args_is_help=True)
ORG = typer.Option(..., help="slug of the organization")


@orgs_app.command("list")
def orgs_list(ctx: typer.Context, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List organizations."""
    orgs = organizations.list_organizations(database(ctx))
    rows = [(o.slug, o.name, o.kind, o.category) for o in orgs]
    emit(orgs, fmt, fields=("slug", "name", "kind"), columns=("slug", "name", "kind", "category"),
         rows=rows, title="Organizations")  # fmt: skip


@orgs_app.command("create")
def orgs_create(
    ctx: typer.Context,
    slug: str = typer.Option(..., help="unique short name: lower-case letters, digits, hyphens"),
    name: str = typer.Option(..., help="display name"),
    kind: OrgKind = typer.Option(OrgKind.BRAND, help="brand or partner"),
    category: str = typer.Option("", help="what it sells, e.g. coffee"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create an organization."""
    org = organizations.create_organization(database(ctx), slug, name, kind, category)
    emit(OrganizationView.of(org), fmt)


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the user's organization"),
    email: str = typer.Option(..., help="login e-mail"),
    role: Role = typer.Option(Role.MANAGER, help="owner, manager, analyst or partner"),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="CROSSPROMO_NEW_PASSWORD",
        help="at least 10 characters; prompted for when not given",
    ),
    reset: bool = typer.Option(False, help="set a new password if the user exists"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create a user who logs in to the dashboard (or the portal, for role partner)."""
    user = users.create_user(database(ctx), org, email, password, role, reset=reset)
    emit(user, fmt)


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization the key acts for"),
    name: str = typer.Option("default", help="a label to recognise the key by"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create an API key. It is shown once; only its hash is stored."""
    issued = keys.create_api_key(database(ctx), org, name)
    if fmt is OutputFormat.JSON:
        emit(issued, fmt, fields=("key",))
        return
    console.print(f"API key for [bold]{org}[/bold] (shown once, store it now):")
    print(issued.key)


@keys_app.command("list")
def keys_list(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List an organization's keys (prefixes only)."""
    emit(keys.list_api_keys(database(ctx), org), fmt)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, org: str = ORG, prefix: str = typer.Option(...)) -> None:
    """Revoke a key by its prefix; it stops working at once."""
    keys.revoke_api_key(database(ctx), org, prefix)
    console.print(f"revoked key {prefix}")
