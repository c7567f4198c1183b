"""Tables of the Plan stage: campaigns (of one partnership or several), who takes part and
with what share of the budget, each strategy's checklist, the shared calendar, each
organization's blackout periods and calendar rules, and the secret calendar feeds."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from crosspromo.store.columns import BigId, UTCDateTime, metadata, org_ref


def _campaign_ref(nullable: bool = False) -> Column[int]:
    return Column(
        "campaign_id",
        Integer,
        ForeignKey("campaigns.id", ondelete="CASCADE"),
        nullable=nullable,
    )


campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),  # the organization that planned it
    Column("name", String(200), nullable=False),
    Column("strategy", String(32), nullable=False),
    Column("objective", String(16), nullable=False),  # leads, sales, awareness, retention
    Column("status", String(16), nullable=False),  # draft, scheduled, live, done, cancelled
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("budget_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channels", JSON, nullable=False),  # [str]
    Column("segments", JSON, nullable=False),  # [str]: audience segments
    Column("targets", JSON, nullable=False),  # {metric: number}
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_campaigns_org_id", "org_id"),
)

campaign_partnerships = Table(  # the agreements a campaign runs under: one, or several
    "campaign_partnerships",
    metadata,
    _campaign_ref(),
    Column(
        "partnership_id",
        Integer,
        ForeignKey("partnerships.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Index("ux_campaign_partnerships", "campaign_id", "partnership_id", unique=True),
    Index("ix_campaign_partnerships_partnership", "partnership_id"),
)

campaign_parties = Table(  # every organization taking part: its budget share and its owner
    "campaign_parties",
    metadata,
    _campaign_ref(),
    org_ref("org_id"),
    Column("share_bp", Integer, nullable=False),  # of the budget, in basis points
    Column("owner", String(200), nullable=False),  # who answers for it on that side
    Index("ux_campaign_parties", "campaign_id", "org_id", unique=True),
    Index("ix_campaign_parties_org", "org_id"),
)

checklist_items = Table(
    "checklist_items",
    metadata,
    Column("id", Integer, primary_key=True),
    _campaign_ref(),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    org_ref("org_id"),  # the side that does it
    Column("due_on", Date, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    Column("done_by", String(320), nullable=True),
    Column("reminded_at", UTCDateTime, nullable=True),
    Index("ix_checklist_items_campaign", "campaign_id"),
)

calendar_items = Table(
    "calendar_items",
    metadata,
    Column("id", Integer, primary_key=True),
    _campaign_ref(),
    org_ref("org_id"),  # the side that put it in
    Column("kind", String(16), nullable=False),  # send, post, publish, launch, event, webinar
    Column("title", String(200), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("timezone", String(64), nullable=False),  # the zone it was planned in (IANA)
    Column("channel", String(64), nullable=False),
    Column("audience", String(64), nullable=False),  # the audience segment
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_calendar_items_campaign", "campaign_id"),
    Index("ix_calendar_items_starts", "starts_at"),
)

blackouts = Table(  # days an organization promotes nothing (holidays, a quiet period ...)
    "blackouts",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),  # included
    Column("reason", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_blackouts_org", "org_id"),
)

plan_settings = Table(  # an organization's calendar rules; defaults when it has no row
    "plan_settings",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("min_gap_days", Integer, nullable=False),
    Column("weekly_max", Integer, nullable=False),
    Column("launch_days", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

calendar_feeds = Table(  # secret iCal addresses: the store keeps the token's digest
    "calendar_feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    _campaign_ref(nullable=True),  # None: all the organization's items
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_calendar_feeds_org", "org_id"),
)

# Co-branded assets: each upload is a version (its bytes in the blob store, named by their
# SHA-256); every party of the campaign reviews each version, and one is usable once all have
# approved it.
assets = Table(
    "assets",
    metadata,
    Column("id", Integer, primary_key=True),
    _campaign_ref(),
    org_ref("org_id"),  # the side that made it
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_assets_campaign", "campaign_id"),
)

asset_versions = Table(
    "asset_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("filename", String(200), nullable=False),  # as uploaded: shown, never trusted
    Column("content_type", String(64), nullable=False),  # from the content
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ux_asset_versions", "asset_id", "number", unique=True),
)

asset_reviews = Table(  # one decision per version and party, the last one kept
    "asset_reviews",
    metadata,
    Column(
        "version_id",
        Integer,
        ForeignKey("asset_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    org_ref("org_id"),
    Column("decision", String(24), nullable=False),  # approved, changes_requested
    Column("reviewer", String(320), nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    Index("ux_asset_reviews", "version_id", "org_id", unique=True),
)

asset_comments = Table(
    "asset_comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),  # the version it is about
    org_ref("org_id"),
    Column("author", String(320), nullable=False),
    Column("body", String(2000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_asset_comments_asset", "asset_id"),
)

asset_downloads = Table(  # downloads of an approved version, per organization
    "asset_downloads",
    metadata,
    Column(
        "version_id",
        Integer,
        ForeignKey("asset_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    org_ref("org_id"),
    Column("count", Integer, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Index("ux_asset_downloads", "version_id", "org_id", unique=True),
)

brand_guidelines = Table(  # shown beside every asset under review
    "brand_guidelines",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("colours", JSON, nullable=False),  # ["#1f6f4a", ...]
    Column("dos", JSON, nullable=False),  # [str]
    Column("donts", JSON, nullable=False),  # [str]
    Column("voice", String(500), nullable=False),
    Column("logo_sha256", String(64), nullable=True),  # in the blob store
    Column("logo_type", String(64), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Joint offers (a bundle or an offer at a special price) and co-branded landing pages.
offers = Table(
    "offers",
    metadata,
    Column("id", Integer, primary_key=True),
    _campaign_ref(),
    org_ref("org_id"),  # the side that made it
    Column("title", String(200), nullable=False),
    Column("description", String(2000), nullable=False),
    Column("items", JSON, nullable=False),  # [str]
    Column("price_minor", BigInteger, nullable=False),
    Column("regular_minor", BigInteger, nullable=True),  # the items' price bought apart
    Column("currency", String(3), nullable=False),
    Column("shares", JSON, nullable=False),  # {organization slug: basis points}
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("code", String(64), nullable=False),  # what a customer types to redeem it
    Column("created_at", UTCDateTime, nullable=False),
    Index("ux_offers_campaign_code", "campaign_id", "code", unique=True),
)

landing_pages = Table(
    "landing_pages",
    metadata,
    Column("id", Integer, primary_key=True),
    _campaign_ref(),
    org_ref("org_id"),  # the side that made it
    Column("slug", String(64), nullable=False, unique=True),  # served at /l/{slug}
    Column("headline", String(200), nullable=False),
    Column("body", String(4000), nullable=False),
    Column("offer_id", Integer, ForeignKey("offers.id", ondelete="SET NULL"), nullable=True),
    Column("published", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_landing_pages_campaign", "campaign_id"),
)

landing_views = Table(  # append-only; joined to a later click by the same visitor that day
    "landing_views",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("page_id", Integer, ForeignKey("landing_pages.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_hash", String(64), nullable=False),
    Column("viewed_at", UTCDateTime, nullable=False),
    Column("is_bot", Boolean, nullable=False),
    Index("ix_landing_views_page_time", "page_id", "viewed_at"),
    Index("ix_landing_views_visitor", "visitor_hash"),
)
