"""events and runs tables

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("start", sa.Float, nullable=False),
        sa.Column("end", sa.Float, nullable=True),
        sa.Column("wall_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(128), nullable=True),
        sa.Column("line", sa.String(128), nullable=True),
        sa.Column("track_id", sa.Integer, nullable=True),
        sa.Column("class_name", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("frame_index", sa.Integer, nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=True),
        sa.Column("snapshot_crop", sa.Text, nullable=True),
        sa.Column("clip", sa.Text, nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_events_wall_time", "events", ["wall_time"])
    op.create_index("ix_events_source_type", "events", ["source", "type"])
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_index("ix_events_source_type", "events")
    op.drop_index("ix_events_wall_time", "events")
    op.drop_table("events")
