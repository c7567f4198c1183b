"""Per-organization secrets that sign inbound webhooks (Standard Webhooks scheme).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_webhook_secrets"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_webhook_secrets_org_id_organizations",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
