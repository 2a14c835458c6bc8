"""row_state, field_state: primary keys lead with row_id; the separate row_id indexes go

Both tables are looked up by row id alone (every push loads the state of its rows), which
the primary key now serves, so each new row maintains one index fewer. The ids are random
UUIDs, so every index entry is a random B-tree insertion on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("row_state", schema=None) as batch_op:
        batch_op.drop_index("ix_row_state_row_id")
        batch_op.drop_constraint("pk_row_state", type_="primary")
        batch_op.create_primary_key("pk_row_state", ["row_id", "entity"])
    with op.batch_alter_table("field_state", schema=None) as batch_op:
        batch_op.drop_index("ix_field_state_row_id")
        batch_op.drop_constraint("pk_field_state", type_="primary")
        batch_op.create_primary_key("pk_field_state", ["row_id", "entity", "field"])


def downgrade() -> None:
    with op.batch_alter_table("field_state", schema=None) as batch_op:
        batch_op.drop_constraint("pk_field_state", type_="primary")
        batch_op.create_primary_key("pk_field_state", ["entity", "row_id", "field"])
        batch_op.create_index("ix_field_state_row_id", ["row_id"], unique=False)
    with op.batch_alter_table("row_state", schema=None) as batch_op:
        batch_op.drop_constraint("pk_row_state", type_="primary")
        batch_op.create_primary_key("pk_row_state", ["entity", "row_id"])
        batch_op.create_index("ix_row_state_row_id", ["row_id"], unique=False)
