"""devices.case_block: each device's own block of case numbers

Devices number cases offline (``TAK-0042-000123``). Without a block from the server they
used one derived from their id, and two devices collided with probability 1/1000 per
pair: certain among a few hundred devices. The server now gives each device its block on
the first ``POST /v1/devices/case-block``; nothing to fill for existing devices, which
ask at their next sync.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("case_block", sa.Integer(), nullable=True))
    op.create_index("ix_devices_case_block", "devices", ["case_block"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_devices_case_block", table_name="devices")
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("case_block")
