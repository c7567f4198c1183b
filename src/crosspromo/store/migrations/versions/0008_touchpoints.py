"""Touchpoints imported from other systems (ad impressions, e-mail opens, site visits) for
attribution journeys; append-only like conversions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "touchpoints",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("touch_id", sa.String(200), nullable=False),
        sa.Column("customer_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=True),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_touchpoints"),
        sa.UniqueConstraint("org_id", "touch_id", name="uq_touchpoints_org_touch"),
    )
    op.create_index("ix_touchpoints_org_time", "touchpoints", ["org_id", "occurred_at"])
    if op.get_bind().dialect.name == "postgresql":  # the guard function comes from 0004
        op.execute(
            "CREATE TRIGGER touchpoints_append_only BEFORE UPDATE OR DELETE ON touchpoints "
            "FOR EACH ROW EXECUTE FUNCTION append_only_guard()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER touchpoints_append_only_{action} BEFORE {action} ON touchpoints "
                "BEGIN SELECT RAISE(ABORT, 'touchpoints are append-only'); END"
            )


def downgrade() -> None:
    op.drop_index("ix_touchpoints_org_time", table_name="touchpoints")
    op.drop_table("touchpoints")
