"""Partnership records: each partnership's chain of signed entries (proposals, counters,
acceptances, pauses, ends, statements, key rotations), append-only in the database.

A partnership is active only under terms both parties accepted, and no partnership has a record
yet: active and paused ones go back to negotiating (either party could set them so alone).
partnerships.ends_on: the day an end given with notice takes effect.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_entries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("partnership_id", sa.Integer, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("signer_org_id", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_record_entries"),
        sa.UniqueConstraint("partnership_id", "idx", name="uq_record_entries_place"),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnerships.id"], ondelete="CASCADE",
            name="fk_record_entries_partnership_id_partnerships",
        ),
        sa.ForeignKeyConstraint(
            ["signer_org_id"], ["organizations.id"], ondelete="CASCADE",
            name="fk_record_entries_signer_org_id_organizations",
        ),
    )  # fmt: skip
    op.execute(
        "UPDATE partnerships SET status = 'negotiating' WHERE status IN ('active', 'paused')"
    )
    op.add_column("partnerships", sa.Column("ends_on", sa.Date, nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # the guard function comes from 0004
        op.execute(
            "CREATE TRIGGER record_entries_append_only BEFORE UPDATE OR DELETE ON record_entries "
            "FOR EACH ROW EXECUTE FUNCTION append_only_guard()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER record_entries_append_only_{action} BEFORE {action} "
                "ON record_entries BEGIN SELECT RAISE(ABORT, 'record entries are append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS record_entries_append_only ON record_entries")
    op.drop_table("record_entries")
    with op.batch_alter_table("partnerships") as batch:
        batch.drop_column("ends_on")
