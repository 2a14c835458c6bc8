"""audit_event: creation events named by their row's id, not by their insert's stamp

A row's ``<entity>.created`` event is derived on every device and never travels. Its id
was a version 5 UUID of the insert's stamp, which lands at a random page of the audit
trail's key index: each pulled page's commit rewrote more of that index as the store grew.
It is now the row's own id as a version 8 UUID (``catalogue.creation_event_id``), as
time-ordered as row ids are. The events already in the store are renamed the same way,
so a row pulled again (its office back after a change of scope) finds its event and
does not get a second one, and a device's own rows coming back find theirs.

An event whose new id another event already has (a second creation event of one row, or
rows of two entities sharing an id, which no device makes) keeps its old id: nothing is
deleted, and the upgrade cannot fail on it. Events of rows whose id is not canonical UUID
text (none that a server accepted) are renamed in Python, as the app derives them.

Revision ID: 0010_creation_event_ids
Revises: 0009_person_left_on
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_creation_event_ids"
down_revision = "0009_person_left_on"
branch_labels = None
depends_on = None

_CREATION = "action = entity || '.created' AND row_id IS NOT NULL"
# canonical UUID text: 36 characters, hyphens where str(uuid.UUID) puts them, lowercase hex
_CANONICAL = (
    "length(row_id) = 36 AND row_id NOT GLOB '*[^0-9a-f-]*'"
    " AND substr(row_id, 9, 1) = '-' AND substr(row_id, 14, 1) = '-'"
    " AND substr(row_id, 19, 1) = '-' AND substr(row_id, 24, 1) = '-'"
    " AND length(replace(row_id, '-', '')) = 32"
)


def upgrade() -> None:
    from desktop.domain.catalogue import creation_event_id

    op.execute(
        "UPDATE OR IGNORE audit_event SET id = substr(row_id, 1, 14) || '8' || substr(row_id, 16)"
        f" WHERE {_CREATION} AND {_CANONICAL}"
    )
    conn = op.get_bind()
    others = conn.execute(
        sa.text(f"SELECT rowid, row_id FROM audit_event WHERE {_CREATION} AND NOT ({_CANONICAL})")
    ).all()
    for rowid, row_id in others:
        conn.execute(
            sa.text("UPDATE OR IGNORE audit_event SET id = :id WHERE rowid = :rowid"),
            {"id": creation_event_id(row_id), "rowid": rowid},
        )


def downgrade() -> None:
    """Creation events keep their new ids: any unique id serves an event that never travels."""
