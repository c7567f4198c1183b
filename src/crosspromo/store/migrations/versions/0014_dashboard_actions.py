"""Dashboard actions: an experiment's lifecycle (draft, running, stopped, shipped) with its
dates, shipped arm and the partner it involves; invitations by one-time link.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("started_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("stopped_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("shipped_arm", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column(
                "partner_org_id",
                sa.Integer,
                sa.ForeignKey(
                    "organizations.id", ondelete="SET NULL",
                    name="fk_experiments_partner_org_id_organizations",
                ),
                nullable=True,
            )
        )  # fmt: skip
    # experiments made before had been running since they were made
    op.execute("UPDATE experiments SET started_at = created_at WHERE status = 'running'")
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey(
                "organizations.id", ondelete="CASCADE", name="fk_invitations_org_id_organizations"
            ),
            nullable=False,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "invited_by_org_id",
            sa.Integer,
            sa.ForeignKey(
                "organizations.id",
                ondelete="CASCADE",
                name="fk_invitations_invited_by_org_id_organizations",
            ),
            nullable=False,
        ),
        sa.Column("invited_by", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_invited_by_org_id", "invitations", ["invited_by_org_id"])


def downgrade() -> None:
    op.drop_index("ix_invitations_invited_by_org_id", table_name="invitations")
    op.drop_table("invitations")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("partner_org_id")
        batch.drop_column("shipped_arm")
        batch.drop_column("stopped_at")
        batch.drop_column("started_at")
