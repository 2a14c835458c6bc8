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
