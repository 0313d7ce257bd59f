"""enrolled face embeddings of known people

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faces",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(256), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_faces_name", "faces", ["name"])


def downgrade() -> None:
    op.drop_index("ix_faces_name", table_name="faces")
    op.drop_table("faces")
