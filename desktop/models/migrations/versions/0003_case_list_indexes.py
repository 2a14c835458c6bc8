"""Indexes for the case list over 100,000 cases

The list reads every active case id in number order: a covering index on
(deleted, merged_into, number, id) answers it from the index alone, without decrypting
table pages. Province and track-kind indexes make the filter choices and filters cheap.

Revision ID: 0003_case_list
Revises: 0002_sync
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003_case_list"
down_revision = "0002_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_active_number", ["deleted", "merged_into", "number", "id"], unique=False
        )
        batch_op.create_index("ix_case_province_code", ["province_code"], unique=False)
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.create_index("ix_track_kind", ["kind", "benefit", "case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.drop_index("ix_track_kind")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_province_code")
        batch_op.drop_index("ix_case_active_number")
