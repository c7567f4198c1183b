"""Pay: commission lines (their money fixed in the database, only their state moves) and the
runs that compute them, fraud holds, payouts, payout details (sealed), fraud thresholds, costs;
each ledger posting names the other party it concerns (balances per partner).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_FIXED = (
    "org_id",
    "partner_org_id",
    "partnership_id",
    "conversion_id",
    "version",
    "rule",
    "seq",
    "currency",
    "amount_minor",
    "period",
    "occurred_at",
    "due_on",
    "run_id",
    "created_at",
)
_REFUSAL = "commission lines keep their amounts and are never deleted: correct with a new line"


def _org(table: str, column: str = "org_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["organizations.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_{column}_organizations",
    )


def _partnership(table: str, *, nullable: bool) -> list[Any]:
    return [
        sa.Column("partnership_id", sa.Integer, nullable=nullable),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            ondelete="CASCADE",
            name=f"fk_{table}_partnership_id_partnerships",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "commission_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("approved", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        _org("commission_runs"),
    )
    op.create_index("ix_commission_runs_org_id", "commission_runs", ["org_id"])
    op.create_table(
        "commission_lines",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("partnership_id", sa.Integer, nullable=False),
        sa.Column("conversion_id", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("rule", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("approved_on", sa.Date, nullable=True),
        sa.Column("payout_id", sa.Integer, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint(
            "conversion_id", "version", "rule", "seq", name="uq_commission_lines_place"
        ),
    )
    op.create_index(
        "ix_commission_lines_org_partner",
        "commission_lines",
        ["org_id", "partner_org_id", "status"],
    )
    op.create_index("ix_commission_lines_payout_id", "commission_lines", ["payout_id"])
    op.create_table(
        "commission_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("conversion_id", sa.BigInteger, nullable=False),
        sa.Column("check_name", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("decided_by", sa.String(320), nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("conversion_id", "check_name", name="uq_commission_holds_check"),
        _org("commission_holds"),
        _org("commission_holds", "partner_org_id"),
    )
    op.create_index("ix_commission_holds_org_status", "commission_holds", ["org_id", "status"])
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("partner_org_id", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reference", sa.String(140), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        _org("payouts"),
        _org("payouts", "partner_org_id"),
    )
    op.create_index("ix_payouts_org_id", "payouts", ["org_id"])
    op.create_index("ix_payouts_partner_org_id", "payouts", ["partner_org_id"])
    op.create_table(
        "payout_details",
        sa.Column("org_id", sa.Integer, primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("threshold_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        _org("payout_details"),
    )
    op.create_table(
        "fraud_settings",
        sa.Column("org_id", sa.Integer, primary_key=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        _org("fraud_settings"),
    )
    op.create_table(
        "costs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        *_partnership("costs", nullable=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("org_id", "key", name="uq_costs_org_key"),
        _org("costs"),
    )
    op.create_index("ix_costs_org_month", "costs", ["org_id", "month"])
    op.add_column("ledger_postings", sa.Column("counterparty_org_id", sa.Integer, nullable=True))
    op.create_index(
        "ix_ledger_postings_counterparty",
        "ledger_postings",
        ["org_id", "counterparty_org_id", "account"],
    )
    _guard_lines()


def _guard_lines() -> None:
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FIXED)
        op.execute(
            "CREATE OR REPLACE FUNCTION commission_lines_guard() RETURNS trigger AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' OR {changed} THEN RAISE EXCEPTION '{_REFUSAL}'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER commission_lines_fixed BEFORE UPDATE OR DELETE ON "
            "commission_lines FOR EACH ROW EXECUTE FUNCTION commission_lines_guard()"
        )
        return
    refusal = f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
    op.execute(
        f"CREATE TRIGGER commission_lines_fixed_UPDATE BEFORE UPDATE OF {', '.join(_FIXED)} "
        f"ON commission_lines {refusal}"
    )
    op.execute(
        f"CREATE TRIGGER commission_lines_fixed_DELETE BEFORE DELETE ON commission_lines {refusal}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS commission_lines_fixed ON commission_lines")
        op.execute("DROP FUNCTION IF EXISTS commission_lines_guard()")
    op.drop_index("ix_ledger_postings_counterparty", table_name="ledger_postings")
    op.drop_column("ledger_postings", "counterparty_org_id")
    for table in (
        "costs",
        "fraud_settings",
        "payout_details",
        "payouts",
        "commission_holds",
        "commission_lines",
        "commission_runs",
    ):
        op.drop_table(table)
