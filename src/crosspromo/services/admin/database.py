"""Database administration: open, migrate, check."""

from __future__ import annotations

from dataclasses import dataclass

from crosspromo.config import Settings
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.store import migrate
from crosspromo.store.database import Database


@dataclass(frozen=True, slots=True)
class SchemaState:
    """The schema's revision before and after an upgrade."""

    before: str | None
    after: str
    changed: bool


def open_database(settings: Settings, *, require_current: bool = True) -> Database:
    """A Database for ``settings``; by default refuses a schema behind the code, and reads the
    identity key once (services then hash identifiers inside their own transactions)."""
    db = Database(settings)
    if require_current:
        try:
            migrate.ensure_current(db)
            identity_secret(db)
        except Exception:
            db.dispose()
            raise
    return db


def upgrade_database(settings: Settings) -> SchemaState:
    db = Database(settings)
    try:
        before, after = migrate.upgrade(db)
    finally:
        db.dispose()
    return SchemaState(before, after, before != after)
