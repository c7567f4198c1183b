"""SQLAlchemy 2 table definitions. Migrations in ``migrations/`` create exactly these
(a test compares them). What the parties sign and owe (keys, records, the ledger) is defined in
``record_tables`` and named here too, so ``tables.x`` reaches every table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from crosspromo.store.columns import BigId, UTCDateTime, org_ref
from crosspromo.store.columns import metadata as metadata
from crosspromo.store.pay_tables import commission_holds as commission_holds
from crosspromo.store.pay_tables import commission_lines as commission_lines
from crosspromo.store.pay_tables import commission_runs as commission_runs
from crosspromo.store.pay_tables import costs as costs
from crosspromo.store.pay_tables import fraud_settings as fraud_settings
from crosspromo.store.pay_tables import payout_details as payout_details
from crosspromo.store.pay_tables import payouts as payouts
from crosspromo.store.plan_tables import asset_comments as asset_comments
from crosspromo.store.plan_tables import asset_downloads as asset_downloads
from crosspromo.store.plan_tables import asset_reviews as asset_reviews
from crosspromo.store.plan_tables import asset_versions as asset_versions
from crosspromo.store.plan_tables import assets as assets
from crosspromo.store.plan_tables import blackouts as blackouts
from crosspromo.store.plan_tables import brand_guidelines as brand_guidelines
from crosspromo.store.plan_tables import calendar_feeds as calendar_feeds
from crosspromo.store.plan_tables import calendar_items as calendar_items
from crosspromo.store.plan_tables import campaign_parties as campaign_parties
from crosspromo.store.plan_tables import campaign_partnerships as campaign_partnerships
from crosspromo.store.plan_tables import campaigns as campaigns
from crosspromo.store.plan_tables import checklist_items as checklist_items
from crosspromo.store.plan_tables import landing_pages as landing_pages
from crosspromo.store.plan_tables import landing_views as landing_views
from crosspromo.store.plan_tables import offers as offers
from crosspromo.store.plan_tables import plan_settings as plan_settings
from crosspromo.store.record_tables import ledger_postings as ledger_postings
from crosspromo.store.record_tables import ledger_transactions as ledger_transactions
from crosspromo.store.record_tables import record_entries as record_entries
from crosspromo.store.record_tables import signing_keys as signing_keys

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("category", String(64), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime, nullable=True),
    Index("ix_users_org_id", "org_id"),
)

invitations = Table(  # one-time links that make a user when followed
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),  # the organization the new user joins
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    org_ref("invited_by_org_id"),  # a partner user may be invited by the brand
    Column("invited_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_invitations_invited_by_org_id", "invited_by_org_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("digest", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_api_keys_org_id", "org_id"),
)

partnerships = Table(
    "partnerships",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("initiator_org_id"),
    org_ref("partner_org_id"),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ends_on", Date, nullable=True),  # an end given with notice (migration 0017)
    CheckConstraint("initiator_org_id <> partner_org_id", name="distinct_parties"),
    Index("ix_partnerships_initiator_org_id", "initiator_org_id"),
    Index("ix_partnerships_partner_org_id", "partner_org_id"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", BigId, primary_key=True),
    org_ref("org_id"),
    Column("external_id_hash", String(64), nullable=False),
    Column("consent_partner_sharing", Boolean, nullable=False, server_default="0"),
    Column("consent_promotional_email", Boolean, nullable=False, server_default="0"),
    Column("segment", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "external_id_hash", name="uq_customers_org_external"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True),
    org_ref("org_id"),
    Column("kind", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("org_id", "idempotency_key", name="uq_events_org_idempotency"),
    Index("ix_events_org_kind_time", "org_id", "kind", "occurred_at"),
)

sample_runs = Table(
    "sample_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("scale", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("truth", JSON, nullable=False),
    Column("notes", Text, nullable=False, server_default=""),
    UniqueConstraint("seed", "scale", name="uq_sample_runs_seed_scale"),
)

# A dashboard or portal login: the cookie holds a random token, the table its SHA-256 only.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("user_agent", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_user_sessions_user_id", "user_id"),
)

# Login throttling, one row a key (an account, a client address, or the pair): failures since
# the last success, when the next try may be checked, and until when one is being checked.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("not_before", UTCDateTime, nullable=False),
    Column("busy_until", UTCDateTime, nullable=False),
)

# Key material sealed under the secret key (re-sealed when the key rotates).
sealed_keys = Table(
    "sealed_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

allowed_domains = Table(
    "allowed_domains",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("domain", String(253), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "domain", name="uq_allowed_domains_org_domain"),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    org_ref("partner_org_id"),
    Column("code", String(64), nullable=False, unique=True),
    Column("destination", Text, nullable=False),
    Column("campaign", String(200), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("campaign_id", Integer, nullable=True),  # the campaign it belongs to (Plan)
    Index("ix_links_org_id", "org_id"),
    Index("ix_links_campaign", "campaign_id"),
)

clicks = Table(
    "clicks",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("link_id", Integer, ForeignKey("links.id", ondelete="CASCADE"), nullable=False),
    Column("org_id", Integer, nullable=False),
    Column("partner_org_id", Integer, nullable=False),
    Column("click_id", String(32), nullable=False, unique=True),
    Column("clicked_at", UTCDateTime, nullable=False),
    Column("visitor_hash", String(64), nullable=False),
    Column("visit_key", String(48), nullable=False),
    Column("referer", String(500), nullable=True),
    Column("is_bot", Boolean, nullable=False),
    Index("ix_clicks_link_time", "link_id", "clicked_at"),
    Index("ix_clicks_org_time", "org_id", "clicked_at"),
)

visitor_salts = Table(
    "visitor_salts",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("salt", String(64), nullable=False),
)

partner_codes = Table(
    "partner_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    org_ref("partner_org_id"),
    Column("code", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("campaign_id", Integer, nullable=True),  # the campaign it belongs to (Plan)
    UniqueConstraint("org_id", "code", name="uq_partner_codes_org_code"),
    Index("ix_partner_codes_campaign", "campaign_id"),
)

conversions = Table(
    "conversions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("org_id", Integer, nullable=False),  # a plain column, as on clicks (bulk loads)
    Column("kind", String(16), nullable=False),
    Column("partner_org_id", Integer, nullable=True),
    Column("link_id", Integer, nullable=True),
    Column("click_id", String(32), nullable=True),
    Column("code_id", Integer, nullable=True),
    Column("order_id", String(200), nullable=True),
    Column("customer_hash", String(64), nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_conversions_org_time", "org_id", "occurred_at"),
    Index("ix_conversions_org_order", "org_id", "order_id"),
    Index("ix_conversions_org_customer", "org_id", "customer_hash", "occurred_at"),
    Index(
        "ix_conversions_click",
        "click_id",
        postgresql_where=text("click_id IS NOT NULL"),
        sqlite_where=text("click_id IS NOT NULL"),
    ),
)

touchpoints = Table(
    "touchpoints",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("org_id", Integer, nullable=False),  # a plain column, as on clicks (bulk loads)
    Column("touch_id", String(200), nullable=False),  # the sender's id: imports are replayable
    Column("customer_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("partner_org_id", Integer, nullable=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "touch_id", name="uq_touchpoints_org_touch"),
    Index("ix_touchpoints_org_time", "org_id", "occurred_at"),
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref(),
    Column("name", String(200), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("arms", JSON, nullable=False),  # [{"name": str, "weight": float}], control first
    Column("layer", String(64), nullable=False),
    Column("traffic_start", Float, nullable=False),
    Column("traffic_stop", Float, nullable=False),
    Column("holdout", Float, nullable=False),
    Column("status", String(16), nullable=False),  # draft, running, stopped, shipped
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("stopped_at", UTCDateTime, nullable=True),
    Column("shipped_arm", String(64), nullable=True),
    Column(
        "partner_org_id",
        Integer,
        ForeignKey("organizations.id", ondelete="SET NULL"),
        nullable=True,
    ),  # the partner the experiment involves, if any
    # what the decision follows: converted or value (the other is reported beside it)
    Column("primary_metric", String(16), nullable=False, server_default="converted"),
    Column("campaign_id", Integer, nullable=True),  # the campaign it belongs to (Plan)
    UniqueConstraint("salt", name="uq_experiments_salt"),
    Index("ix_experiments_campaign", "campaign_id"),
)

exposures = Table(
    "exposures",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("org_id", Integer, nullable=False),
    Column(
        "experiment_id", Integer, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False
    ),
    Column("unit_hash", String(64), nullable=False),  # keyed hash of the unit id, as customers
    Column("arm", String(64), nullable=False),
    Column("exposed_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("experiment_id", "unit_hash", name="uq_exposures_experiment_unit"),
)

click_journals = Table(  # how far each click journal is stored: see tracking.mover
    "click_journals",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

reference_version = Table(  # moved by triggers: see migration 0022
    "reference_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("id", BigId, primary_key=True),
    org_ref("org_id"),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "key", name="uq_idempotency_records_org_key"),
)

webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("secret", String(255), nullable=False),  # sealed (crosspromo.keyring)
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(255), nullable=False),  # sealed (crosspromo.keyring)
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webhook_endpoints_org_id", "org_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column(
        "endpoint_id",
        Integer,
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("org_id", Integer, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("leased_until", UTCDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_org", "org_id", "id"),
)

overlap_sharing = Table(
    "overlap_sharing",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("level", String(16), nullable=False),  # hidden | counts | records
    Column("updated_at", UTCDateTime, nullable=False),
)

overlap_sessions = Table(
    "overlap_sessions",
    metadata,
    Column("id", String(32), primary_key=True),  # random; the session's keys derive from it
    org_ref("org_id"),  # the responder, whose blinded list is kept here
    Column(
        "partner_org_id",
        Integer,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=True,  # null: a requester on another server, holding the session's token
    ),
    Column("disclosure", String(16), nullable=False),
    Column("groups", JSON, nullable=False),  # [[segment, count], ...]
    Column("points", LargeBinary, nullable=False),  # the responder's blinded identifiers
    Column("status", String(16), nullable=False),  # open | answered | done | revoked
    Column("max_bytes", BigInteger, nullable=False),
    Column("result", JSON, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_overlap_sessions_org_id", "org_id"),
    Index("ix_overlap_sessions_partner_org_id", "partner_org_id"),
)

profiles = Table(
    "profiles",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("categories", JSON, nullable=False),
    Column("offerings", JSON, nullable=False),
    Column("audience_size", BigInteger, nullable=True),
    Column("followers", BigInteger, nullable=True),
    Column("engagements", BigInteger, nullable=True),
    Column("region", String(64), nullable=False, server_default=""),
    Column("updated_at", UTCDateTime, nullable=False),
)

mentions = Table(
    "mentions",
    metadata,
    Column("id", BigId, primary_key=True),
    org_ref("org_id"),  # the organization mentioned
    Column("mention_key", String(64), nullable=False),  # hash of source, time and text
    Column("text", Text, nullable=False),
    Column("source", String(200), nullable=False, server_default=""),
    Column("posted_at", UTCDateTime, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "mention_key", name="uq_mentions_org_key"),
)

scoring = Table(
    "scoring",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("weights", JSON, nullable=False),
    Column("learned", JSON, nullable=True),
    Column("use_learned", Boolean, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)
