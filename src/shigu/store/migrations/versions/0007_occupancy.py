"""per-minute head counts of occupancy zones

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "occupancy",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("zone", sa.String(128), nullable=False),
        sa.Column("minute", sa.Float(), nullable=False),
        sa.Column("wall_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("max", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_occupancy_source_zone_wall", "occupancy", ["source", "zone", "wall_time"])


def downgrade() -> None:
    op.drop_index("ix_occupancy_source_zone_wall", table_name="occupancy")
    op.drop_table("occupancy")
