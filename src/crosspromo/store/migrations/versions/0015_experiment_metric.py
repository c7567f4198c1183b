"""An experiment's primary metric: what its decision follows (``converted``, the share of units
who buy, or ``value``, sales per unit). Experiments made before decided on ``converted``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(
            sa.Column("primary_metric", sa.String(16), nullable=False, server_default="converted")
        )


def downgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("primary_metric")
