"""last_sent: what each device last sent for a step's state or data, kept across pushes

A concurrent edit of a step's state or data is judged against what the pushing device
had seen: a step reopened on purpose leaves a conflict record, and an entry of a step's
data the device did not change does not override a colleague's correction. Within one
push the server knew what the device had sent before; a push cut after one batch forgot
it. Empty at upgrade: edits pushed before it are judged by the log, as before.

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
        "last_sent",
        sa.Column("row_id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("row_id", "entity", "field", "device_id"),
    )


def downgrade() -> None:
    op.drop_table("last_sent")
