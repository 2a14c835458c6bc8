"""logged_creations: the rows whose creation event a device stored before protocol 3

Since protocol 3 the server stores no creation events: devices derive them from a row's
insert (pull form 4 names its creator). Devices that read only pull forms 2 and 3 cannot,
so those forms now carry a derived creation event after every row they create, except
where the log already holds the event a device stored before protocol 3. This table
names those rows; it is filled from the log here and never written again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 05:00:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    table = op.create_table(
        "logged_creations",
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("row_id", "entity", name=op.f("pk_logged_creations")),
    )
    assert table is not None
    changes = sa.table(
        "changes",
        sa.column("entity", sa.String),
        sa.column("field", sa.String),
        sa.column("value", sa.Text),
    )
    query = (
        sa.select(changes.c.value)
        .where(
            changes.c.entity == "audit_event",
            changes.c.field == "*",
            changes.c.value.like('%.created"%'),
        )
        .execution_options(yield_per=_BATCH)  # streamed: the log may be millions of rows
    )
    found: set[tuple[str, str]] = set()
    for (value,) in op.get_bind().execute(query):
        try:
            event: Any = json.loads(value)
        except (TypeError, ValueError):
            continue
        if not isinstance(event, dict):
            continue
        entity, row_id = event.get("entity"), event.get("row_id")
        if isinstance(entity, str) and isinstance(row_id, str):
            if event.get("action") == f"{entity}.created":
                found.add((row_id, entity))
    rows = [{"row_id": row_id, "entity": entity} for row_id, entity in sorted(found)]
    for start in range(0, len(rows), _BATCH):
        op.bulk_insert(table, rows[start : start + _BATCH])


def downgrade() -> None:
    op.drop_table("logged_creations")
