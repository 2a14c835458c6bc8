"""sync records: local copies of conflicts and merges

Revision ID: 0002_sync
Revises: 0001
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sync"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_conflict",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("applied", sa.JSON(), nullable=False),
        sa.Column("other", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflict")),
    )
    with op.batch_alter_table("sync_conflict") as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_conflict_row_id"), ["row_id"], unique=False)
    op.create_table(
        "sync_merge",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("merged_by", sa.String(length=80), nullable=False),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_merge")),
    )
    with op.batch_alter_table("sync_merge") as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_merge_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_merge") as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_merge_source_id"))
    op.drop_table("sync_merge")
    with op.batch_alter_table("sync_conflict") as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_conflict_row_id"))
    op.drop_table("sync_conflict")
