"""The double-entry ledger: transactions (each posted once, by its key) and their postings,
both append-only in the database; corrections are new transactions.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None
_TABLES = ("ledger_transactions", "ledger_postings")


def _org(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_org_id_organizations")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "ledger_transactions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("key", name="uq_ledger_transactions_key"),
        _org("ledger_transactions"),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("transaction_id", BigId, nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"], ["ledger_transactions.id"], ondelete="CASCADE",
            name="fk_ledger_postings_transaction_id_ledger_transactions",
        ),
        _org("ledger_postings"),
    )  # fmt: skip
    op.create_index("ix_ledger_postings_org_account", "ledger_postings",
                    ["org_id", "account", "currency"])  # fmt: skip
    op.create_index("ix_ledger_postings_transaction_id", "ledger_postings", ["transaction_id"])
    for table in _TABLES:  # the guard function comes from 0004
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION append_only_guard()")  # fmt: skip
        else:
            for action in ("UPDATE", "DELETE"):
                refusal = f"SELECT RAISE(ABORT, '{table} are append-only');"
                op.execute(f"CREATE TRIGGER {table}_append_only_{action} BEFORE {action} ON "
                           f"{table} BEGIN {refusal} END")  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.drop_index("ix_ledger_postings_transaction_id", table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_org_account", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_transactions")
