"""Case numbers are no longer unique in the local store

Devices number cases offline from blocks; numbers made before a device had its block
from the server could collide, and the unique constraint then failed every pull that
brought the other device's case: that device could never sync again. Numbers keep a
plain index for lookups.

Revision ID: 0005_case_number
Revises: 0004_outbox_change_id
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005_case_number"
down_revision = "0004_outbox_change_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot drop a table constraint: batch mode copies the table without it
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_constraint("uq_case_number", type_="unique")
        batch_op.create_index("ix_case_number", ["number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_number")
        batch_op.create_unique_constraint("uq_case_number", ["number"])
