"""outbox: send again the names the server refused for their ``raw_input``

A name typed in Zawgyi is kept converted, with what was typed in ``raw_input``: a list
of text on the device. The sync catalogue described the field as text, so the server
refused every such name whole (errno 104, wrong type) and the device parked it among the
failed items. The catalogue now says list (as the device always stored it); the parked
names go at the next sync, with no Retry needed.

Un-parked: a new name (``person_name`` sent whole) refused for a wrong type. Nothing else
in a name could be of a wrong type; one that still is comes back refused and parked.

Revision ID: 0007_resend_converted_names
Revises: 0006_sync_merge_moved
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007_resend_converted_names"
down_revision = "0006_sync_merge_moved"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE outbox SET last_error = NULL"
        " WHERE entity = 'person_name' AND field = '*' AND last_error LIKE 'errno 104:%'"
    )


def downgrade() -> None:
    """Nothing to undo: a change that is not parked is simply waiting to be sent."""
