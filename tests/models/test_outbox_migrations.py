"""Migrations of the outbox's data: changes a server refused for a fault of the app's own
are sent again, without the caseworker pressing Retry."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select

from desktop.models.entities import OutboxEntry, Person, PersonName
from desktop.models.migrations import runner
from desktop.models.store import create_store, open_store
from desktop.services import people
from tests.conftest import PASSPHRASE

ZAWGYI = "ေမာင္ေမာင္"  # "မောင်မောင်" typed with a Zawgyi keyboard


def test_migration_0007_sends_again_the_names_refused_for_their_zawgyi_input(
    tmp_path: Path,
) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE, office="MS")
    made = people.create_person(
        created,
        people.PersonInput(names=[people.NameInput(ZAWGYI, "native", convert_zawgyi=True)]),
    )
    # as the app before 0007 parked them: the new name refused whole for raw_input's type,
    # and an edit refused for a reason of its own, which stays parked
    with created.session() as session:
        session.get(Person, made.person_id).phone = "0812345678"
    refusals = {
        "person_name": "errno 104: person_name.raw_input: expected text",
        "person": "errno 105: person.phone: longer than 40",
    }
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0006_sync_merge_moved")
        for entity, error in refusals.items():
            conn.exec_driver_sql(
                "UPDATE outbox SET last_error = ? WHERE entity = ? AND field != '*'"
                if entity == "person"
                else "UPDATE outbox SET last_error = ? WHERE entity = ?",
                (error, entity),
            )
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        with reopened.read() as session:
            parked = {
                (entity, field): error
                for entity, field, error in session.execute(
                    select(OutboxEntry.entity, OutboxEntry.field, OutboxEntry.last_error)
                )
            }
            name = session.scalars(select(PersonName)).one()
        assert parked[("person_name", "*")] is None  # goes at the next sync
        assert parked[("person", "phone")] == refusals["person"]
        assert name.raw_input == [ZAWGYI]
    finally:
        reopened.close()
