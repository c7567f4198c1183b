"""Core model: organizations, users, API keys, partnerships, customers, events, sample runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = """
CREATE TRIGGER events_append_only_{op} BEFORE {op} ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END
"""
_APPEND_ONLY_PG_FN = """
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END $$ LANGUAGE plpgsql
"""
_APPEND_ONLY_PG_TRIGGER = """
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("slug", name="uq_organizations_slug"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_login_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_users_org_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_users_org_id", "users", ["org_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_api_keys_org_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_api_keys_org_id", "api_keys", ["org_id"])
    op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("initiator_org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partnerships"),
        sa.CheckConstraint(
            "initiator_org_id <> partner_org_id", name="ck_partnerships_distinct_parties"
        ),
        sa.ForeignKeyConstraint(
            ["initiator_org_id"],
            ["organizations.id"],
            name="fk_partnerships_initiator_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_org_id"],
            ["organizations.id"],
            name="fk_partnerships_partner_org_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_partnerships_initiator_org_id", "partnerships", ["initiator_org_id"])
    op.create_index("ix_partnerships_partner_org_id", "partnerships", ["partner_org_id"])
    op.create_table(
        "customers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("external_id_hash", sa.String(64), nullable=False),
        sa.Column(
            "consent_partner_sharing", sa.Boolean, nullable=False, server_default=sa.text("'0'")
        ),
        sa.Column(
            "consent_promotional_email", sa.Boolean, nullable=False, server_default=sa.text("'0'")
        ),
        sa.Column("segment", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("org_id", "external_id_hash", name="uq_customers_org_external"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_customers_org_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("org_id", "idempotency_key", name="uq_events_org_idempotency"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_events_org_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_events_org_kind_time", "events", ["org_id", "kind", "occurred_at"])
    op.create_table(
        "sample_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("scale", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("truth", sa.JSON, nullable=False),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_sample_runs"),
        sa.UniqueConstraint("seed", "scale", name="uq_sample_runs_seed_scale"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_PG_FN)
        op.execute(_APPEND_ONLY_PG_TRIGGER)
    else:
        op.execute(_APPEND_ONLY_SQLITE.format(op="UPDATE"))
        op.execute(_APPEND_ONLY_SQLITE.format(op="DELETE"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
    for table in (
        "sample_runs",
        "events",
        "customers",
        "partnerships",
        "api_keys",
        "users",
        "organizations",
    ):
        op.drop_table(table)
