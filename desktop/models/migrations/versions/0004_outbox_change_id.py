"""Drop the unique index on outbox change ids

A change id is a random UUID made on the device and nothing looks an outbox entry up by
it, but the unique index over those random keys made every acknowledged batch rewrite
pages all over the index: at 92,000 waiting entries, deleting a batch of 1,000 cost
three times as much with it (bench measurement, docs/performance.md "Sync").

Revision ID: 0004_outbox_change_id
Revises: 0003_case_list
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004_outbox_change_id"
down_revision = "0003_case_list"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot drop a table constraint: batch mode copies the table without it
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_change_id", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_outbox_change_id", ["change_id"])
