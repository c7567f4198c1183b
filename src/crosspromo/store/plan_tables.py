"""Tables of the Plan stage: campaigns (of one partnership or several), who takes part and
with what share of the budget, each strategy's checklist, the shared calendar, each
organization's blackout periods and calendar rules, and the secret calendar feeds."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from crosspromo.store.columns import UTCDateTime, metadata, org_ref


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
