"""Conversions take bulk loads: the organization id is a plain column, as on clicks (a per-row
foreign-key check doubled the cost of a COPY; no path deletes organizations, and conversions
are append-only anyway), and only rows with a click id are indexed by it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_HAS_CLICK = "click_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("conversions") as batch:
        batch.drop_constraint("fk_conversions_org_id_organizations", type_="foreignkey")
        batch.drop_index("ix_conversions_click")
        batch.create_index(
            "ix_conversions_click",
            ["click_id"],
            postgresql_where=sa.text(_HAS_CLICK),
            sqlite_where=sa.text(_HAS_CLICK),
        )
    _append_only_on_sqlite()


def downgrade() -> None:
    with op.batch_alter_table("conversions") as batch:
        batch.drop_index("ix_conversions_click")
        batch.create_index("ix_conversions_click", ["click_id"])
        batch.create_foreign_key(
            "fk_conversions_org_id_organizations",
            "organizations",
            ["org_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _append_only_on_sqlite()


def _append_only_on_sqlite() -> None:
    """SQLite's batch mode rebuilds the table, and its triggers go with the old one."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS conversions_append_only_{action}")
        op.execute(
            f"CREATE TRIGGER conversions_append_only_{action} BEFORE {action} ON conversions "
            "BEGIN SELECT RAISE(ABORT, 'conversions are append-only'); END"
        )
