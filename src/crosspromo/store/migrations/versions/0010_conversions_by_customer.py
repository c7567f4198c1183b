"""Conversions by customer: experiment outcomes and customer value join sales on the customer's
keyed hash; without this index that join scans every conversion per unit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # with the time, so "this customer's sales after exposure" is one index range; not
    # partial, as SQLite's planner then skips it for the join's equality
    op.create_index(
        "ix_conversions_org_customer", "conversions", ["org_id", "customer_hash", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversions_org_customer", table_name="conversions")
