"""Tables of the Pay stage: commission lines and the runs that compute them, fraud holds,
payouts, each organization's payout details (sealed) and fraud thresholds, and costs.

A commission line's money (conversion, version, rule, currency, amount) never changes and no
line is deleted, enforced in the database (migration 0019); only its state moves (pending,
held, approved, rejected, paid) and the payout it is in. A correction is a new line.
"""

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
    Text,
    UniqueConstraint,
)

from crosspromo.store.columns import BigId, UTCDateTime, metadata, org_ref

commission_runs = Table(  # each computation: as of which day, what it added and approved
    "commission_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("as_of", Date, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("approved", Integer, nullable=False),
    Column("held", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_commission_runs_org_id", "org_id"),
)

commission_lines = Table(
    "commission_lines",
    metadata,
    Column("id", BigId, primary_key=True),
    # plain columns, as on conversions: bulk writes skip a foreign-key check per line
    Column("org_id", Integer, nullable=False),  # the brand that owes it
    Column("partner_org_id", Integer, nullable=False),
    Column("partnership_id", Integer, nullable=False),
    Column("conversion_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the terms version it is computed under
    Column("rule", Integer, nullable=False),  # the rule's place in those terms
    Column("seq", Integer, nullable=False),  # 0: the first line; then each correction
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # < 0: a reversal
    Column("period", String(8), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),  # the latest event it follows from
    Column("due_on", Date, nullable=False),  # the day its holding period ends
    Column("status", String(10), nullable=False),
    Column("approved_on", Date, nullable=True),
    Column("payout_id", Integer, nullable=True),
    Column("run_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("conversion_id", "version", "rule", "seq", name="uq_commission_lines_place"),
    Index("ix_commission_lines_org_partner", "org_id", "partner_org_id", "status"),
    Index("ix_commission_lines_payout_id", "payout_id"),
)

commission_holds = Table(  # a conversion held for review by a fraud check, and the decision
    "commission_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    org_ref("partner_org_id"),
    Column("conversion_id", BigInteger, nullable=False),
    Column("check_name", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(10), nullable=False),  # open, approved, rejected
    Column("note", Text, nullable=False, server_default=""),
    Column("decided_by", String(320), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("conversion_id", "check_name", name="uq_commission_holds_check"),
    Index("ix_commission_holds_org_status", "org_id", "status"),
)

payouts = Table(
    "payouts",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),  # the brand that pays
    org_ref("partner_org_id"),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("status", String(10), nullable=False),  # open, paid, cancelled
    Column("reference", String(140), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Index("ix_payouts_org_id", "org_id"),
    Index("ix_payouts_partner_org_id", "partner_org_id"),
)

payout_details = Table(  # where an organization is paid (and pays from), sealed at rest
    "payout_details",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("threshold_minor", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)

fraud_settings = Table(  # an organization's fraud-check thresholds (the defaults when absent)
    "fraud_settings",
    metadata,
    org_ref("org_id", primary_key=True),
    Column("settings", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

costs = Table(  # spend per partnership (or none: the organization's own), channel and month
    "costs",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column(
        "partnership_id", Integer, ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=True
    ),
    Column("channel", String(64), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("note", String(500), nullable=False, server_default=""),
    Column("key", String(200), nullable=False),  # a row again (an import replayed) adds nothing
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "key", name="uq_costs_org_key"),
    Index("ix_costs_org_month", "org_id", "month"),
)
