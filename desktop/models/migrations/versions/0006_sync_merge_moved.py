"""sync_merge.moved: the rows each merge moved from B to A, as the server lists them

Once a person merge has synced, B's names hang from A, so the merge list could no longer
say who B was. The server's merge record (pull form 6 on) lists the rows the merge moved;
the device keeps the list, and the names among those rows name B. Merges kept before this
revision have none (NULL), as do merges from servers that do not send it.

Revision ID: 0006_sync_merge_moved
Revises: 0005_case_number
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sync_merge_moved"
down_revision = "0005_case_number"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_merge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_merge", schema=None) as batch_op:
        batch_op.drop_column("moved")
