"""Local store migrations: one head, and the constant that lets a current store skip Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.models import migrations
from desktop.models.migrations import runner
from desktop.models.store import create_store, open_store
from tests.conftest import PASSPHRASE


def test_head_constant_names_alembics_only_head() -> None:
    assert runner.head() == migrations.HEAD


def test_a_store_at_head_opens_without_asking_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_store(tmp_path / "store", PASSPHRASE).close()

    def refuse(*args: object) -> None:
        raise AssertionError("Alembic was consulted for a store already at head")

    monkeypatch.setattr(runner, "current_revision", refuse)
    monkeypatch.setattr(runner, "upgrade", refuse)
    store = open_store(tmp_path / "store", PASSPHRASE)
    try:
        assert store.setting("language", "en") == "en"
    finally:
        store.close()


def test_migration_0008_gives_people_recorded_before_it_no_title_nor_marital_status(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from desktop.models.entities import Person
    from desktop.services import people

    created = create_store(tmp_path / "s", PASSPHRASE)
    made = people.create_person(
        created,
        people.PersonInput(names=[people.NameInput("Ma Aye")], sex="F", phone="0812345678"),
    )
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0007_resend_converted_names")
        columns = {c["name"] for c in inspect(conn).get_columns("person")}
        assert not columns & {"title", "marital_status"}
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        with reopened.read() as session:
            person = session.get(Person, made.person_id)
            assert (person.sex, person.phone) == ("F", "0812345678")
            assert (person.title, person.marital_status) == (None, None)
    finally:
        reopened.close()


def test_migration_0009_gives_people_recorded_before_it_no_day_they_left(tmp_path: Path) -> None:
    """A store from before the day a worker left Thailand was recorded: opened, it is
    upgraded, and everyone in it is as before, none of them gone home."""
    from alembic import command
    from sqlalchemy import inspect

    from desktop.models.entities import Person
    from desktop.services import people

    created = create_store(tmp_path / "s", PASSPHRASE)
    made = people.create_person(
        created, people.PersonInput(names=[people.NameInput("Sok Dara")], phone="0812345678")
    )
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0008_person_title_marital")
        assert "left_on" not in {c["name"] for c in inspect(conn).get_columns("person")}
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        with reopened.read() as session:
            person = session.get(Person, made.person_id)
            assert (person.phone, person.left_on) == ("0812345678", None)
        assert not people.gone_home(people.get_person(reopened, made.person_id))
    finally:
        reopened.close()


# row ids no server accepts, renamed as the app derives their events' ids (not in SQL)
ODD_ROW_IDS = ("not-a-uuid", "019AB5F2-1C3E-7A01-8D2C-5E6F7A8B9C0D")


def test_migration_0010_names_creation_events_by_their_rows(tmp_path: Path) -> None:
    """A store from before creation events were named by their row's id: opened, every
    event is renamed as a pull now derives it (so a row pulled again finds its event),
    and nothing is deleted, not even a second event of one row, which keeps its id."""
    from alembic import command
    from sqlalchemy import select, text

    from desktop.domain import catalogue
    from desktop.models.entities import AuditEvent
    from desktop.services import people

    created = create_store(tmp_path / "s", PASSPHRASE)
    made = people.create_person(
        created, people.PersonInput(names=[people.NameInput("Sok Dara")], phone="0812345678")
    )
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0009_person_left_on")
        before = conn.execute(text("SELECT id, entity, row_id, action FROM audit_event")).all()
        assert {action for _id, _e, _row, action in before} == {
            "person.created",
            "person_name.created",
        }
        # as the app before this revision named them: by a stamp (here a made-up one)
        for number, (event_id, *_rest) in enumerate(before):
            conn.execute(
                text("UPDATE audit_event SET id = :new WHERE id = :old"),
                {
                    "new": catalogue.audit_event_id(f"0001763812345678-{number:04d}-d"),
                    "old": event_id,
                },
            )
        conn.execute(  # the same fact recorded twice
            text(
                "INSERT INTO audit_event (id, office, action, entity, row_id, version, deleted,"
                " updated_at, details) SELECT :id, office, action, entity, row_id, 0, 0,"
                " updated_at, details FROM audit_event WHERE row_id = :row"
            ),
            {"id": catalogue.audit_event_id("0001763812345678-0099-d"), "row": made.person_id},
        )
        for number, odd in enumerate(ODD_ROW_IDS):
            conn.execute(
                text(
                    "INSERT INTO audit_event (id, office, action, entity, row_id, version,"
                    " deleted, updated_at, details) VALUES (:id, 'TAK-01', 'person.created',"
                    " 'person', :row, 0, 0, '2026-11-25T00:00:00+00:00', '{}')"
                ),
                {"id": catalogue.audit_event_id(f"0001763812345678-009{number}-d"), "row": odd},
            )
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        with reopened.read() as session:
            events = session.execute(select(AuditEvent.id, AuditEvent.row_id)).all()
    finally:
        reopened.close()
    assert len(events) == len(before) + 1 + len(ODD_ROW_IDS)
    renamed = {row: event for event, row in events if event == catalogue.creation_event_id(row)}
    assert set(renamed) == {row for _id, _e, row, _a in before} | set(ODD_ROW_IDS)
    of_person = sorted(event for event, row in events if row == made.person_id)
    assert of_person == sorted(
        [
            catalogue.creation_event_id(made.person_id),
            catalogue.audit_event_id("0001763812345678-0099-d"),
        ]
    )


def test_migration_0011_marks_what_a_store_sent_before_it_as_not_kept(tmp_path: Path) -> None:
    """A store from before sent changes were kept: opened, it keeps from then on, and
    records how far its earlier changes may reach in the server's log (its cursor or
    highest pushed seq), so that a log restored from before there stops it as before
    instead of letting it go on without them. A store that never synced records none."""
    from alembic import command
    from sqlalchemy import inspect, text

    from desktop.services import sync

    for name, places, expected in (
        ("synced", {"cursor": "7", "acked_through": "9"}, "9"),
        ("pulled", {"cursor": "12"}, "12"),
        ("new", {}, None),
    ):
        created = create_store(tmp_path / name, PASSPHRASE)
        with created.engine.begin() as conn:
            command.downgrade(runner.config(conn), "0010_creation_event_ids")
            assert "sent_change" not in inspect(conn).get_table_names()
            for key, value in places.items():
                conn.execute(
                    text("INSERT INTO sync_state (key, value) VALUES (:key, :value)"),
                    {"key": key, "value": value},
                )
        created.close()
        reopened = open_store(tmp_path / name, PASSPHRASE)
        try:
            assert sync.sync_state(reopened, sync.SENT_DROPPED_KEY) == expected, name
            with reopened.engine.connect() as conn:
                assert "sent_change" in inspect(conn).get_table_names()
        finally:
            reopened.close()


ZAWGYI_NAME = "ေက်ာ္ေက်ာ္"  # Kyaw Kyaw on a Zawgyi keyboard
UNICODE_NAME = "ကျော်ကျော်"


def test_migration_0012_finds_a_name_kept_in_zawgyi_by_its_unicode_form(tmp_path: Path) -> None:
    """A store from before a Zawgyi name was indexed in Unicode too: opened, a search in
    Unicode Burmese finds the name kept as typed, as a search in Zawgyi did."""
    from alembic import command
    from sqlalchemy import text as sql

    from desktop.domain.text import search_fold
    from desktop.services import people, search

    created = create_store(tmp_path / "s", PASSPHRASE)
    made = people.create_person(
        created, people.PersonInput(names=[people.NameInput(ZAWGYI_NAME)], phone="0812345678")
    )
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0011_sent_change")
        # indexed as before: the name as stored only
        conn.execute(
            sql("UPDATE person_search_doc SET body = :body WHERE person_id = :pid"),
            {"body": search_fold(ZAWGYI_NAME), "pid": made.person_id},
        )
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        assert [hit.person_id for hit in search.search(reopened, UNICODE_NAME)] == [made.person_id]
        assert [hit.person_id for hit in search.search(reopened, ZAWGYI_NAME)] == [made.person_id]
    finally:
        reopened.close()
