"""attachments.writes and touched_at: chunk writes cannot race a verify; idle uploads

A chunk write checked that its upload was not complete in one transaction and stored the
chunk in another, and verify read the chunks under read committed: a chunk written while
verify hashed landed in an upload marked complete, leaving bytes that do not match their
name. Every write to an upload now locks its row and bumps ``writes``; verify marks the
upload complete only if ``writes`` did not move while it hashed. ``touched_at`` (the last
write) lets another account take over an upload left idle, so starting a hash and
leaving it does not lock the real uploader out. Existing uploads start at 0 writes,
touched when they were created.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "attachments",
        sa.Column("writes", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("attachments", sa.Column("touched_at", sa.String(length=32), nullable=True))
    op.execute("UPDATE attachments SET touched_at = created_at")
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.alter_column("touched_at", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.drop_column("touched_at")
        batch_op.drop_column("writes")
