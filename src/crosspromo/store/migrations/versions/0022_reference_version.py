"""A counter of changes to what a conversion is checked against (API keys, organizations,
partner codes, partnerships, webhook endpoints), moved by triggers on those tables whoever
writes them: a process may keep that data between requests while the counter stays put.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

WATCHED = ("api_keys", "organizations", "partner_codes", "partnerships", "webhook_endpoints")
_BUMP = "UPDATE reference_version SET version = version + 1"


def upgrade() -> None:
    op.create_table(
        "reference_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_reference_version_one_row"),
    )
    op.execute("INSERT INTO reference_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION bump_reference_version() RETURNS trigger AS $$ BEGIN "
            f"{_BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for table in WATCHED:  # once a statement, however many rows it changed
            op.execute(
                f"CREATE TRIGGER {table}_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version()"
            )
        return
    for table in WATCHED:
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_reference_{action} AFTER {action} ON {table} "
                f"BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_reference ON {table}")
        else:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_reference_{action}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS bump_reference_version()")
    op.drop_table("reference_version")
