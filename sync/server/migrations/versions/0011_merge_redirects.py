"""merge_redirects: rows made for B offline that landed on A, so that undo can send them back

A row pushed naming a merged-away person or case (made offline by a device that had not
learned of the merge yet) is rewritten to the one kept. Undo moved back only the rows the
merge itself moved, so such a row stayed in A's case file after the merge was undone,
though it was made for B. The server now remembers each such rewrite, per merge.
Empty at upgrade: rows rewritten before it stay where they are, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merge_redirects",
        sa.Column("merge_id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("row_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("merge_id", "entity", "row_id", "field"),
    )


def downgrade() -> None:
    op.drop_table("merge_redirects")
