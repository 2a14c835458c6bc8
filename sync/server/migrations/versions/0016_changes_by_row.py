"""ix_changes_row_seq: the log read by row, for what a device saw when it made an edit

A concurrent edit of a step's state or data (and of the other ``forward`` fields) is
judged against the field's value at the edit's base version (``ingest._value_at``). The
log had no index by row, so that read walked it back from the base version to the row's
last change before it: a laptop back after weeks offline, or a push made to pile up
unrelated changes in between, held the write lock for seconds per change (a security
test: 2,000 such edits over 100,000 filler changes, 40 s, every other push answered
"busy"). Now it is one index probe.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 18:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_changes_row_seq", "changes", ["row_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_changes_row_seq", table_name="changes")
