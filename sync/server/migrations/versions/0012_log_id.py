"""counter.log_id: the identity of the server's change log, named to devices

A device's pull cursor is a sequence number of one server's log. Pointed at another
server (a new installation at the same address, another address registered by mistake)
or at a database restored from an older backup, it skipped everything the other log
numbered up to its cursor, and the changes it had sent were never asked for again. Every
answer now names the log (header ``X-Sapan-Log``) so that a device stops and says so
instead. The id is made here, once per database; ``sapan server new-log`` makes a new one
after a restore, and keeps the one before with its head (``parent_log``, ``parent_head``):
devices that had reached no further than that head go on under the new log unasked.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 04:40:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counter") as batch:
        batch.add_column(sa.Column("log_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("parent_log", sa.String(36), nullable=True))
        batch.add_column(sa.Column("parent_head", sa.BigInteger(), nullable=True))
    op.get_bind().execute(
        sa.text("UPDATE counter SET log_id = :log WHERE id = 1"), {"log": str(uuid.uuid4())}
    )


def downgrade() -> None:
    with op.batch_alter_table("counter") as batch:
        batch.drop_column("parent_head")
        batch.drop_column("parent_log")
        batch.drop_column("log_id")
