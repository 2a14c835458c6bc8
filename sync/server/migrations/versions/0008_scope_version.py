"""accounts.scope_version: devices learn that their account's offices changed

The pull cursor is one sequence over the whole log, so a device whose account gained an
office never received that office's rows logged before its cursor, and one whose account
lost an office kept that office's rows. ``scope_version`` changes whenever the offices
change (``sapan server set-offices``); a device tells the pull which version it last
pulled under and is told when it differs (docs/sync-protocol.md §6, "Scope changes").
Existing accounts start at 1, so every device from before (which knows none) is told
once and compares the offices it knows with the account's.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("scope_version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("scope_version")
