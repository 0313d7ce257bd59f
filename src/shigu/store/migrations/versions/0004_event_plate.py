"""events keep the licence plate they are about, indexed for search

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("plate", sa.String(16), nullable=True))
        batch.create_index("ix_events_plate", ["plate"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_plate")
        batch.drop_column("plate")
