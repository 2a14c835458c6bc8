"""row_state: the per-field state of rows created whole, one row each

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "row_state",
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("hlc", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("entity", "row_id", name=op.f("pk_row_state")),
    )
    with op.batch_alter_table("row_state", schema=None) as batch_op:
        batch_op.create_index("ix_row_state_row_id", ["row_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("row_state", schema=None) as batch_op:
        batch_op.drop_index("ix_row_state_row_id")
    op.drop_table("row_state")
