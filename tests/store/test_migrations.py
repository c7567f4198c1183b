"""The migrations create exactly the tables the code declares, up and down, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from crosspromo.config import Settings
from crosspromo.errors import SchemaOutOfDateError
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.store import migrate
from crosspromo.store.database import Database
from crosspromo.store.tables import metadata


def test_schema_matches_declared_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_upgrade_is_repeatable_and_downgrade_clears(settings: Settings) -> None:
    state = upgrade_database(settings)
    assert not state.changed
    assert state.after == migrate.head_revision()
    db = Database(settings)
    try:
        migrate.downgrade(db, "base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        with pytest.raises(SchemaOutOfDateError, match="crosspromo db upgrade"):
            open_database(settings)
        migrate.upgrade(db)
        assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
