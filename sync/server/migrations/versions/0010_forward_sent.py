"""forward_sent: what each device last sent for a step's state, kept across pushes

A step reopened on purpose and overridden by a concurrent edit leaves a conflict record
when the server knows what the reopening device saw. Within one push it did; a push cut
after one batch forgot it, and the reopen vanished without a trace. Empty at upgrade:
edits pushed before it are judged as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forward_sent",
        sa.Column("row_id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("row_id", "entity", "field", "device_id"),
    )


def downgrade() -> None:
    op.drop_table("forward_sent")
