"""Commands for organizations, users, API keys, partnerships and the database."""

from __future__ import annotations

import typer

from crosspromo.cli.context import FORMAT_OPTION, OutputFormat, state
from crosspromo.cli.output import console, emit
from crosspromo.domain import OrgKind, Role
from crosspromo.services.accounts import keys as api_keys
from crosspromo.services.accounts import organizations, users
from crosspromo.services.agree import partnerships
from crosspromo.services.database import upgrade_database

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
orgs_app = typer.Typer(
    help="Organizations: the brands and partner businesses (tenants).", no_args_is_help=True
)
users_app = typer.Typer(help="Dashboard and portal users.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys, each scoped to one organization.", no_args_is_help=True)
partnerships_app = typer.Typer(help="Partnerships between organizations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Create or migrate the schema to the newest revision (safe to repeat)."""
    result = upgrade_database(state(ctx).settings())
    if fmt is OutputFormat.JSON:
        emit({"before": result.before, "after": result.after, "changed": result.changed}, fmt)
    elif result.changed:
        console.print(f"database upgraded: {result.before or 'empty'} -> {result.after}")
    else:
        console.print(f"database already at {result.after}")


@orgs_app.command("list")
def orgs_list(ctx: typer.Context, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List organizations."""
    orgs = organizations.list_organizations(state(ctx).database())
    emit(
        [{"slug": o.slug, "name": o.name, "kind": o.kind.value} for o in orgs],
        fmt,
        columns=("slug", "name", "kind", "category"),
        rows=[(o.slug, o.name, o.kind.value, o.category) for o in orgs],
        title="Organizations",
    )


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
    org = organizations.create_organization(state(ctx).database(), slug, name, kind, category)
    emit({"slug": org.slug, "name": org.name, "kind": org.kind.value, "id": org.id}, fmt)


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
    user = users.create_user(state(ctx).database(), org, email, password, role, reset=reset)
    emit({"email": user.email, "organization": org, "role": user.role.value}, fmt)


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization the key acts for"),
    name: str = typer.Option("default", help="a label to recognise the key by"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create an API key. It is shown once; only its hash is stored."""
    issued = api_keys.create_api_key(state(ctx).database(), org, name)
    if fmt is OutputFormat.JSON:
        emit({"key": issued.plaintext}, fmt)
        return
    console.print(f"API key for [bold]{org}[/bold] (shown once, store it now):")
    print(issued.plaintext)


@keys_app.command("list")
def keys_list(
    ctx: typer.Context, org: str = typer.Option(...), fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """List an organization's keys (prefixes only)."""
    keys = api_keys.list_api_keys(state(ctx).database(), org)
    data = [
        {
            "prefix": k.prefix,
            "name": k.name,
            "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in keys
    ]
    emit(
        data,
        fmt,
        columns=("prefix", "name", "created", "revoked"),
        rows=[(d["prefix"], d["name"], d["created_at"], d["revoked_at"] or "") for d in data],
    )


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, org: str = typer.Option(...), prefix: str = typer.Option(...)
) -> None:
    """Revoke a key by its prefix; it stops working at once."""
    api_keys.revoke_api_key(state(ctx).database(), org, prefix)
    console.print(f"revoked key {prefix}")


@partnerships_app.command("list")
def partnerships_list(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    status: str = typer.Option(None, help="only this status"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the partnerships an organization is a party to."""
    db = state(ctx).database()
    me = organizations.get_organization(db, org)
    views = partnerships.list_partnerships(db, me.id, partnerships.parse_status(status))
    data = [
        {
            "id": v.partnership.id,
            "name": v.partnership.name,
            "partner": v.counterpart.slug,
            "status": v.partnership.status.value,
            "role": v.role,
        }
        for v in views
    ]
    emit(
        data,
        fmt,
        columns=("id", "name", "partner", "status", "role"),
        rows=[tuple(d.values()) for d in data],
        title=f"Partnerships of {org}",
    )
