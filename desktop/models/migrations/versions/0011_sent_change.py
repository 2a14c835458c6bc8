"""sent_change: the changes a server acknowledged, kept for a while

A server restored from an older backup lost what it acknowledged after the backup was
made; the devices had dropped those changes from their outboxes. Each device now keeps
what it sent, with the highest seq the server gave its batch, for a while after the
acknowledgement, and sends again, unchanged, what a restored server's log does not reach
(docs/sync-protocol.md §3). A store upgraded to this revision keeps nothing of what it
sent before: it starts keeping from its next push, and records how far in the log its
earlier changes may reach (``sent_dropped_through``: its cursor, or the highest seq the
server gave a change it sent, whichever is further), so that a log continued from before
there stops it as before instead of going on without them.

Revision ID: 0011_sent_change
Revises: 0010_creation_event_ids
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sent_change"
down_revision = "0010_creation_event_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("change_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("server_seq", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_change")),
    )
    op.execute(
        "INSERT INTO sync_state (key, value)"
        " SELECT 'sent_dropped_through', CAST(max(CAST(value AS INTEGER)) AS TEXT)"
        " FROM sync_state WHERE key IN ('cursor', 'acked_through')"
        " HAVING max(CAST(value AS INTEGER)) > 0"
    )


def downgrade() -> None:
    op.drop_table("sent_change")
    op.execute("DELETE FROM sync_state WHERE key IN ('sent_dropped_through', 'sent_pruned_on')")
