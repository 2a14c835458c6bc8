"""accounts.failed_logins and accounts.locked_until: registering is refused for a while
after wrong passwords in a row

Registration (``POST /v1/devices``) checked a password as often as anyone asked: someone
who reached the server could try passwords without end. An account now counts its wrong
passwords in a row, and after five refuses the next try for a wait that doubles with
each further one, from 30 seconds to 15 minutes (``sync.server.auth.lock_after``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 13:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("locked_until", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
