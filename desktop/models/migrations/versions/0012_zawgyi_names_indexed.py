"""search index: a Burmese name kept in Zawgyi is found by its Unicode form too

A name typed in Zawgyi that the person said was not (or imported so) is stored as typed.
The index held only that form, so a search in Unicode Burmese, and the coordinators'
duplicate list, missed the same name recorded in Unicode by a colleague. The index now
holds both forms of such a name (:func:`desktop.domain.text.name_forms`); the people
with one are indexed again here. Nothing else changes.

Revision ID: 0012_zawgyi_names_indexed
Revises: 0011_sent_change
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from desktop.domain.zawgyi import looks_like_zawgyi
from desktop.models.search import reindex_people

revision = "0012_zawgyi_names_indexed"
down_revision = "0011_sent_change"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    names = bind.execute(
        sa.text("SELECT person_id, full_name, given_name, family_name FROM person_name")
    )
    people = {
        row.person_id
        for row in names
        if any(name and looks_like_zawgyi(name) for name in row[1:])
    }
    if people:
        # the migration's own transaction: the session neither commits nor rolls it back
        with Session(bind=bind) as session:
            reindex_people(session, people)
            session.flush()


def downgrade() -> None:
    """Nothing to undo: an index entry with a name's second form finds no less."""
