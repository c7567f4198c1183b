"""Tracking links, their allow-listed destination domains, clicks and daily visitor salts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0003"
down_revision = "0002"
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
        "allowed_domains",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_allowed_domains"),
        sa.UniqueConstraint("org_id", "domain", name="uq_allowed_domains_org_domain"),
        _org_fk("allowed_domains"),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("campaign", sa.String(200), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("'1'")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.UniqueConstraint("code", name="uq_links_code"),
        _org_fk("links"),
        _org_fk("links", "partner_org_id"),
    )
    op.create_index("ix_links_org_id", "links", ["org_id"])
    op.create_table(
        "clicks",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("link_id", sa.Integer, nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("click_id", sa.String(32), nullable=False),
        sa.Column("clicked_at", UTCDateTime, nullable=False),
        sa.Column("visitor_hash", sa.String(64), nullable=False),
        sa.Column("visit_key", sa.String(48), nullable=False),
        sa.Column("referer", sa.String(500), nullable=True),
        sa.Column("is_bot", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clicks"),
        sa.UniqueConstraint("click_id", name="uq_clicks_click_id"),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name="fk_clicks_link_id_links", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_clicks_link_time", "clicks", ["link_id", "clicked_at"])
    op.create_index("ix_clicks_org_time", "clicks", ["org_id", "clicked_at"])
    op.create_table(
        "visitor_salts",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_visitor_salts"),
    )


def downgrade() -> None:
    for table in ("visitor_salts", "clicks", "links", "allowed_domains"):
        op.drop_table(table)
