"""What the commands that touch the store share: Settings built once per run from the root
command's options, the database opened from them, and an organization looked up by slug."""

from __future__ import annotations

import typer

from crosspromo.config import Settings, load_settings
from crosspromo.services.accounts.organizations import get_organization
from crosspromo.services.admin.database import open_database
from crosspromo.store.database import Database


def settings(ctx: typer.Context) -> Settings:
    """The run's Settings: ``CROSSPROMO_*`` variables under the root command's overrides."""
    root = ctx.find_root()
    if not isinstance(root.meta.get("settings"), Settings):
        overrides = root.obj if isinstance(root.obj, dict) else {}
        root.meta["settings"] = load_settings(**overrides)
    value = root.meta["settings"]
    assert isinstance(value, Settings)
    return value


def database(ctx: typer.Context) -> Database:
    return open_database(settings(ctx))


def organization(ctx: typer.Context, slug: str) -> tuple[Database, int]:
    """The database and the id of the organization ``slug`` (NotFoundError naming it)."""
    db = database(ctx)
    return db, get_organization(db, slug).id
