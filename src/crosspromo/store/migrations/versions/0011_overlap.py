"""Private audience overlap: each organization's sharing level, and protocol sessions (the
responder's blinded list between messages, the counts once done).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "overlap_sharing",
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey(
                "organizations.id",
                ondelete="CASCADE",
                name="fk_overlap_sharing_org_id_organizations",
            ),
            primary_key=True,
        ),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_overlap_sharing"),
    )
    op.create_table(
        "overlap_sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey(
                "organizations.id",
                ondelete="CASCADE",
                name="fk_overlap_sessions_org_id_organizations",
            ),
            nullable=False,
        ),
        sa.Column(
            "partner_org_id",
            sa.Integer,
            sa.ForeignKey(
                "organizations.id",
                ondelete="CASCADE",
                name="fk_overlap_sessions_partner_org_id_organizations",
            ),
            nullable=True,
        ),
        sa.Column("disclosure", sa.String(16), nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("points", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("max_bytes", sa.BigInteger, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_overlap_sessions"),
    )
    op.create_index("ix_overlap_sessions_org_id", "overlap_sessions", ["org_id"])
    op.create_index("ix_overlap_sessions_partner_org_id", "overlap_sessions", ["partner_org_id"])


def downgrade() -> None:
    op.drop_table("overlap_sessions")
    op.drop_table("overlap_sharing")
