"""counter.case_blocks_from and counter.ancestors, for databases restored from backups

A device's block of case numbers is kept in ``devices.case_block``, and the next device
gets the highest plus one. A database restored from an older backup has lost the blocks
it gave after the backup was made, and would give them again: two laptops would number
cases alike. ``sapan server new-log`` now sets this floor past the highest block the
restored database knows, leaving room for those it forgot (see
``sync.server.db.BLOCKS_SKIPPED_AFTER_RESTORE``).

``counter.ancestors`` keeps the logs the parent log continues in turn, each with its head
then (JSON, nearest first): after a second restore, a device still on the first log (it
was offline through both) finds its log there and goes on from the lowest head between.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counter") as batch:
        batch.add_column(sa.Column("case_blocks_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ancestors", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("counter") as batch:
        batch.drop_column("ancestors")
        batch.drop_column("case_blocks_from")
