"""Plan: campaigns (of one partnership or several) with their parties and checklists, the
shared calendar, blackout periods, calendar rules and secret calendar feeds; links, codes and
experiments may name the campaign they belong to.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_ATTACHED = ("links", "partner_codes", "experiments")


def _org(table: str, column: str = "org_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["organizations.id"], ondelete="CASCADE",
        name=f"fk_{table}_{column}_organizations",
    )  # fmt: skip


def _campaign(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
        name=f"fk_{table}_campaign_id_campaigns",
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("objective", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("budget_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("segments", sa.JSON, nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        _org("campaigns"),
    )
    op.create_index("ix_campaigns_org_id", "campaigns", ["org_id"])
    op.create_table(
        "campaign_partnerships",
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("partnership_id", sa.Integer, nullable=False),
        _campaign("campaign_partnerships"),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            ondelete="CASCADE",
            name="fk_campaign_partnerships_partnership_id_partnerships",
        ),
    )
    op.create_index(
        "ux_campaign_partnerships",
        "campaign_partnerships",
        ["campaign_id", "partnership_id"],
        unique=True,
    )
    op.create_index(
        "ix_campaign_partnerships_partnership", "campaign_partnerships", ["partnership_id"]
    )
    op.create_table(
        "campaign_parties",
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("share_bp", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        _campaign("campaign_parties"),
        _org("campaign_parties"),
    )
    op.create_index(
        "ux_campaign_parties", "campaign_parties", ["campaign_id", "org_id"], unique=True
    )
    op.create_index("ix_campaign_parties_org", "campaign_parties", ["org_id"])
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("done_at", UTCDateTime, nullable=True),
        sa.Column("done_by", sa.String(320), nullable=True),
        sa.Column("reminded_at", UTCDateTime, nullable=True),
        _campaign("checklist_items"),
        _org("checklist_items"),
    )
    op.create_index("ix_checklist_items_campaign", "checklist_items", ["campaign_id"])
    op.create_table(
        "calendar_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        _campaign("calendar_items"),
        _org("calendar_items"),
    )
    op.create_index("ix_calendar_items_campaign", "calendar_items", ["campaign_id"])
    op.create_index("ix_calendar_items_starts", "calendar_items", ["starts_at"])
    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        _org("blackouts"),
    )
    op.create_index("ix_blackouts_org", "blackouts", ["org_id"])
    op.create_table(
        "plan_settings",
        sa.Column("org_id", sa.Integer, primary_key=True),
        sa.Column("min_gap_days", sa.Integer, nullable=False),
        sa.Column("weekly_max", sa.Integer, nullable=False),
        sa.Column("launch_days", sa.Integer, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        _org("plan_settings"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("campaign_id", sa.Integer, nullable=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("token_digest", name="uq_calendar_feeds_token_digest"),
        _org("calendar_feeds"),
        _campaign("calendar_feeds"),
    )
    op.create_index("ix_calendar_feeds_org", "calendar_feeds", ["org_id"])
    for table in _ATTACHED:  # a plain column: the campaign's own organization is checked
        op.add_column(table, sa.Column("campaign_id", sa.Integer, nullable=True))
        op.create_index(f"ix_{table}_campaign", table, ["campaign_id"])


def downgrade() -> None:
    for table in _ATTACHED:
        op.drop_index(f"ix_{table}_campaign", table_name=table)
        # in place on both backends (SQLite 3.35+): a batch copy would drop and re-create the
        # table, and with it what references it
        op.execute(f"ALTER TABLE {table} DROP COLUMN campaign_id")
    for table in (
        "calendar_feeds",
        "plan_settings",
        "blackouts",
        "calendar_items",
        "checklist_items",
        "campaign_parties",
        "campaign_partnerships",
        "campaigns",
    ):
        op.drop_table(table)  # fmt: skip
