"""Signing keys: each organization's Ed25519 keys for its partnership records (the private key
sealed, or absent when the organization holds it itself).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey(
                "organizations.id", ondelete="CASCADE", name="fk_signing_keys_org_id_organizations"
            ),
            nullable=False,
        ),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("private_key", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("retired_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_signing_keys"),
        sa.UniqueConstraint("fingerprint", name="uq_signing_keys_fingerprint"),
    )
    op.create_index("ix_signing_keys_org_id", "signing_keys", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_signing_keys_org_id", table_name="signing_keys")
    op.drop_table("signing_keys")
