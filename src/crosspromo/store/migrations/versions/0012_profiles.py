"""Partner discovery: profiles, public mentions, and each organization's scoring setup.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _org(table: str, *, primary_key: bool) -> sa.Column[int]:
    return sa.Column(
        "org_id",
        sa.Integer,
        sa.ForeignKey(
            "organizations.id", ondelete="CASCADE", name=f"fk_{table}_org_id_organizations"
        ),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "profiles",
        _org("profiles", primary_key=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("offerings", sa.JSON, nullable=False),
        sa.Column("audience_size", sa.BigInteger, nullable=True),
        sa.Column("followers", sa.BigInteger, nullable=True),
        sa.Column("engagements", sa.BigInteger, nullable=True),
        sa.Column("region", sa.String(64), nullable=False, server_default=""),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_profiles"),
    )
    op.create_table(
        "mentions",
        sa.Column("id", BigId, nullable=False),
        _org("mentions", primary_key=False),
        sa.Column("mention_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("posted_at", UTCDateTime, nullable=True),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mentions"),
        sa.UniqueConstraint("org_id", "mention_key", name="uq_mentions_org_key"),
    )
    op.create_table(
        "scoring",
        _org("scoring", primary_key=True),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("learned", sa.JSON, nullable=True),
        sa.Column("use_learned", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_scoring"),
    )


def downgrade() -> None:
    op.drop_table("scoring")
    op.drop_table("mentions")
    op.drop_table("profiles")
