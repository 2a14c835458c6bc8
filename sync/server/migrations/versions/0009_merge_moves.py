"""merges.moved: the rows a merge re-pointed from B to A, so that undo can point them back

A merge of person (or case) B into A now moves what hangs from B (names, documents,
employments, contribution months, cases, consents, attachments, notes; or a case's
tracks, attachments and notes) onto A, as server-made changes that travel to devices.
``moved`` lists them as JSON ``[[entity, row_id, field], ...]``. Merges recorded before
this revision moved nothing and have none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("merges", sa.Column("moved", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("merges") as batch_op:
        batch_op.drop_column("moved")
