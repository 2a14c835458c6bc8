"""sign_in_addresses: registering is refused for a while from an address that gave many
wrong user names or passwords

An account waits after five wrong passwords in a row (0014), but names no account has
were never counted, nor one password tried against many accounts: from one address,
someone could guess without end, each guess costing the server an Argon2 hash. An
address now counts its wrong tries for an hour from the first; past twenty, each further
one makes it wait, 30 seconds doubling to 15 minutes (``sync.server.auth``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_addresses",
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("since", sa.String(32), nullable=False),
        sa.Column("locked_until", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sign_in_addresses")
