"""Plan: co-branded assets (versions, reviews by every party, comments, downloads), each
organization's brand guidelines, joint offers, co-branded landing pages and their views.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _ref(
    table: str, column: str, target: str, ondelete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], ondelete=ondelete, name=f"fk_{table}_{column}_{target}",
    )  # fmt: skip


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _org(table: str) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    return sa.Column("org_id", sa.Integer, nullable=False), _ref(table, "org_id", "organizations")


def upgrade() -> None:
    op.create_table(
        "assets", _id(),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        *_org("assets"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        _ref("assets", "campaign_id", "campaigns"),
    )  # fmt: skip
    op.create_index("ix_assets_campaign", "assets", ["campaign_id"])
    op.create_table(
        "asset_versions", _id(),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        _ref("asset_versions", "asset_id", "assets"),
    )  # fmt: skip
    op.create_index("ux_asset_versions", "asset_versions", ["asset_id", "number"], unique=True)
    op.create_table(
        "asset_reviews",
        sa.Column("version_id", sa.Integer, nullable=False),
        *_org("asset_reviews"),
        sa.Column("decision", sa.String(24), nullable=False),
        sa.Column("reviewer", sa.String(320), nullable=False),
        sa.Column("reviewed_at", UTCDateTime, nullable=False),
        _ref("asset_reviews", "version_id", "asset_versions"),
    )  # fmt: skip
    op.create_index("ux_asset_reviews", "asset_reviews", ["version_id", "org_id"], unique=True)
    op.create_table(
        "asset_comments", _id(),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_org("asset_comments"),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("body", sa.String(2000), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        _ref("asset_comments", "asset_id", "assets"),
    )  # fmt: skip
    op.create_index("ix_asset_comments_asset", "asset_comments", ["asset_id"])
    op.create_table(
        "asset_downloads",
        sa.Column("version_id", sa.Integer, nullable=False),
        *_org("asset_downloads"),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_at", UTCDateTime, nullable=False),
        _ref("asset_downloads", "version_id", "asset_versions"),
    )  # fmt: skip
    op.create_index("ux_asset_downloads", "asset_downloads", ["version_id", "org_id"], unique=True)
    op.create_table(
        "brand_guidelines",
        sa.Column("org_id", sa.Integer, primary_key=True),
        sa.Column("colours", sa.JSON, nullable=False),
        sa.Column("dos", sa.JSON, nullable=False),
        sa.Column("donts", sa.JSON, nullable=False),
        sa.Column("voice", sa.String(500), nullable=False),
        sa.Column("logo_sha256", sa.String(64), nullable=True),
        sa.Column("logo_type", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        _ref("brand_guidelines", "org_id", "organizations"),
    )
    op.create_table(
        "offers", _id(),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        *_org("offers"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("regular_minor", sa.BigInteger, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("shares", sa.JSON, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        _ref("offers", "campaign_id", "campaigns"),
    )  # fmt: skip
    op.create_index("ux_offers_campaign_code", "offers", ["campaign_id", "code"], unique=True)
    op.create_table(
        "landing_pages", _id(),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        *_org("landing_pages"),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("headline", sa.String(200), nullable=False),
        sa.Column("body", sa.String(4000), nullable=False),
        sa.Column("offer_id", sa.Integer, nullable=True),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("slug", name="uq_landing_pages_slug"),
        _ref("landing_pages", "campaign_id", "campaigns"),
        _ref("landing_pages", "offer_id", "offers", "SET NULL"),
    )  # fmt: skip
    op.create_index("ix_landing_pages_campaign", "landing_pages", ["campaign_id"])
    op.create_table(
        "landing_views",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("page_id", sa.Integer, nullable=False),
        sa.Column("visitor_hash", sa.String(64), nullable=False),
        sa.Column("viewed_at", UTCDateTime, nullable=False),
        sa.Column("is_bot", sa.Boolean, nullable=False),
        _ref("landing_views", "page_id", "landing_pages"),
    )
    op.create_index("ix_landing_views_page_time", "landing_views", ["page_id", "viewed_at"])
    op.create_index("ix_landing_views_visitor", "landing_views", ["visitor_hash"])


def downgrade() -> None:
    for table in (
        "landing_views", "landing_pages", "offers", "brand_guidelines", "asset_downloads",
        "asset_comments", "asset_reviews", "asset_versions", "assets",
    ):  # fmt: skip
        op.drop_table(table)
