"""Experiments (design: arms, layer slice, holdout) and exposures (first exposure of each unit,
append-only).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crosspromo.store.columns import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("arms", sa.JSON, nullable=False),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("traffic_start", sa.Float, nullable=False),
        sa.Column("traffic_stop", sa.Float, nullable=False),
        sa.Column("holdout", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_experiments_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("salt", name="uq_experiments_salt"),
    )
    op.create_table(
        "exposures",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("unit_hash", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("exposed_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exposures"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_exposures_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("experiment_id", "unit_hash", name="uq_exposures_experiment_unit"),
    )


def downgrade() -> None:
    op.drop_table("exposures")
    op.drop_table("experiments")
