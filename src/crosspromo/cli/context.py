"""What every command shares: Settings built once (lazily, so --help always works) and
the database opened from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import typer

from crosspromo.config import Settings, load_settings
from crosspromo.services.database import open_database
from crosspromo.store.database import Database


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FORMAT_OPTION: Any = typer.Option(
    OutputFormat.TABLE, "--format", help="table for people, json or csv for scripts"
)


@dataclass
class CliState:
    overrides: dict[str, object] = field(default_factory=dict)
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    def database(self) -> Database:
        return open_database(self.settings())


def organization(ctx: typer.Context, slug: str) -> tuple[Database, int]:
    """The database and the id of the organization ``slug`` (NotFoundError naming it)."""
    from crosspromo.services.accounts.organizations import get_organization

    db = state(ctx).database()
    return db, get_organization(db, slug).id


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj
