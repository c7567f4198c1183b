"""Partner referral and coupon codes, conversions (append-only), idempotency records.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _org_fk(table: str, column: str = "org_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["organizations.id"],
        name=f"fk_{table}_{column}_organizations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "partner_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("'1'")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partner_codes"),
        sa.UniqueConstraint("org_id", "code", name="uq_partner_codes_org_code"),
        _org_fk("partner_codes"),
        _org_fk("partner_codes", "partner_org_id"),
    )
    op.create_table(
        "conversions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=True),
        sa.Column("link_id", sa.Integer, nullable=True),
        sa.Column("click_id", sa.String(32), nullable=True),
        sa.Column("code_id", sa.Integer, nullable=True),
        sa.Column("order_id", sa.String(200), nullable=True),
        sa.Column("customer_hash", sa.String(64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversions"),
        _org_fk("conversions"),
    )
    op.create_index("ix_conversions_org_time", "conversions", ["org_id", "occurred_at"])
    op.create_index("ix_conversions_org_order", "conversions", ["org_id", "order_id"])
    op.create_index("ix_conversions_click", "conversions", ["click_id"])
    op.create_table(
        "idempotency_records",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_records"),
        sa.UniqueConstraint("org_id", "key", name="uq_idempotency_records_org_key"),
        _org_fk("idempotency_records"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION append_only_guard() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER conversions_append_only BEFORE UPDATE OR DELETE ON conversions "
            "FOR EACH ROW EXECUTE FUNCTION append_only_guard()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER conversions_append_only_{action} BEFORE {action} ON conversions "
                "BEGIN SELECT RAISE(ABORT, 'conversions are append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS conversions_append_only ON conversions")
        op.execute("DROP FUNCTION IF EXISTS append_only_guard()")
    for table in ("idempotency_records", "conversions", "partner_codes"):
        op.drop_table(table)
