"""Security: server-side login sessions, atomic login throttling, sealed keys; webhook secrets
widen to hold their sealed form.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_user_sessions_user_id_users"),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_user_sessions_token_hash"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_before", UTCDateTime, nullable=False),
        sa.Column("busy_until", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_table(
        "sealed_keys",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sealed_keys"),
    )
    op.drop_table("login_failures")
    for table in ("webhook_secrets", "webhook_endpoints"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "secret", type_=sa.String(255), existing_type=sa.String(100), nullable=False
            )


def downgrade() -> None:
    for table in ("webhook_endpoints", "webhook_secrets"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "secret", type_=sa.String(100), existing_type=sa.String(255), nullable=False
            )
    op.create_table(
        "login_failures",
        sa.Column("id", BigId, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("failed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_email_time", "login_failures", ["email", "failed_at"])
    op.drop_table("sealed_keys")
    op.drop_table("login_throttle")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
