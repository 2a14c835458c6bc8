"""person.left_on: the day a worker last left Thailand (went home)

Workers often go home before they claim; a caseworker records the day so that what a
job's end started for someone in Thailand (the DOE registration, the s.39 application,
a pink card's employer search) stops being asked, while the claims they can still make
from home go on. People recorded before this revision have none (NULL): in Thailand, or
not known.

Revision ID: 0009_person_left_on
Revises: 0008_person_title_marital
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_person_left_on"
down_revision = "0008_person_title_marital"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("left_on")
