"""person.title and person.marital_status: recorded, no longer missing on the SSO forms

A woman's title (นาง or นางสาว) is her choice, not derived from her marital status (Act on
Title of Women, B.E. 2551), so both are recorded and synced. People recorded before this
revision have neither (NULL): a man still prints as Mr, a woman's title stays blank until
it is recorded.

Revision ID: 0008_person_title_marital
Revises: 0007_resend_converted_names
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_person_title_marital"
down_revision = "0007_resend_converted_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("marital_status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("marital_status")
        batch_op.drop_column("title")
