"""Case numbers: the server's block first, provisional blocks before it, renumbering."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from desktop.models import case_numbers
from desktop.models.base import new_id
from desktop.models.entities import Case, CaseNumberBlock, Person, Setting
from desktop.models.store import Store


def _give_block(store: Store, block: int | None) -> None:
    with store.remote_session() as session:
        session.merge(Setting(key=case_numbers.BLOCK_SETTING, value=block))


def _case(store: Store, number: str, *, version: int = 0, deleted: bool = False) -> str:
    with store.session() as session:
        # the person's columns named, so that it is written to a store of an older schema
        person_id = new_id()
        session.execute(insert(Person).values(id=person_id, office="TAK-01", sex="f"))
        case = Case(office="TAK-01", person_id=person_id, number=number, deleted=deleted)
        session.add(case)
        session.flush()
        case_id = case.id
    if version:  # as if the server had acknowledged it
        with store.remote_session() as session:
            row = session.get(Case, case_id)
            assert row is not None
            row.version = version
    return case_id


def _number(store: Store, case_id: str) -> str | None:
    with store.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.number


def test_without_a_server_block_numbers_come_from_the_provisional_one(store: Store) -> None:
    block = case_numbers.provisional_block(store.device_id)
    assert 9000 <= block <= 9999
    with store.session() as session:
        assert case_numbers.allocate(session, "tak", store.device_id) == f"TAK-{block}-000001"


def test_the_server_block_comes_first_then_the_provisional_one_when_it_is_used_up(
    store: Store,
) -> None:
    _give_block(store, 42)
    with store.session() as session:
        assert case_numbers.reserve(session, "MS", store.device_id, 2) == [
            "MS-0042-000001",
            "MS-0042-000002",
        ]
        row = session.get(CaseNumberBlock, ("MS", 42))
        assert row is not None
        row.next_number = row.last_number + 1  # used up
        provisional = case_numbers.provisional_block(store.device_id)
        assert case_numbers.allocate(session, "MS", store.device_id) == f"MS-{provisional}-000001"


def test_a_setting_that_is_not_a_server_block_is_ignored(store: Store) -> None:
    for value in (None, 0, 9000, "42", -1):
        _give_block(store, value)  # type: ignore[arg-type]
        with store.read() as session:
            assert case_numbers.server_block(session) is None


def test_only_cases_that_never_reached_the_server_are_renumbered(store: Store) -> None:
    local = _case(store, "TAK-9001-000001")
    other_prefix = _case(store, "MS-9001-000001")
    pushed = _case(store, "TAK-9001-000002", version=3)  # on the server: others may print it
    deleted = _case(store, "TAK-9001-000003", deleted=True)
    from_server_block = _case(store, "TAK-0003-000001")
    odd = _case(store, "TAK-9001-1")
    with store.session() as session:
        assert case_numbers.renumber_provisional(session, store.device_id) == {}  # no block yet
    _give_block(store, 7)
    with store.session() as session:
        moved = case_numbers.renumber_provisional(session, store.device_id)
    assert moved == {"MS-9001-000001": "MS-0007-000001", "TAK-9001-000001": "TAK-0007-000001"}
    assert _number(store, local) == "TAK-0007-000001"
    assert _number(store, other_prefix) == "MS-0007-000001"
    for kept, number in (
        (pushed, "TAK-9001-000002"),
        (deleted, "TAK-9001-000003"),
        (from_server_block, "TAK-0003-000001"),
        (odd, "TAK-9001-1"),
    ):
        assert _number(store, kept) == number


def test_two_cases_may_share_a_number_in_the_local_store(store: Store) -> None:
    """A collision that reached the server must not stop the pull that brings it."""
    _case(store, "TAK-9001-000001")
    _case(store, "TAK-9001-000001")
    with store.read() as session:
        assert len(session.scalars(select(Case).where(Case.number == "TAK-9001-000001")).all()) == 2


def test_migration_0005_keeps_the_cases_and_lets_numbers_repeat(tmp_path: Path) -> None:
    from alembic import command

    from desktop.models.migrations import runner
    from desktop.models.store import create_store, open_store
    from tests.conftest import PASSPHRASE

    created = create_store(tmp_path / "s", PASSPHRASE)
    kept = _case(created, "TAK-9001-000001")
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0004_outbox_change_id")
    with pytest.raises(IntegrityError):  # the old schema refused a repeated number
        _case(created, "TAK-9001-000001")
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        _case(reopened, "TAK-9001-000001")
        assert _number(reopened, kept) == "TAK-9001-000001"
    finally:
        reopened.close()


def test_the_highest_block_counts_every_case_held_and_every_block_numbered_from(
    store: Store,
) -> None:
    """What a device asks a new server to give past: the numbers it holds (its own, pulled
    or deleted) and the blocks it numbered from, not the provisional blocks nor numbers
    of another shape."""
    with store.read() as session:
        assert case_numbers.highest_block(session) == 0
    _case(store, "TAK-9001-000001")
    _case(store, "free text from an import")
    _case(store, "TAK-0007-000003", version=4)
    _case(store, "MS-0012-000001", deleted=True)
    with store.read() as session:
        assert case_numbers.highest_block(session) == 12
    with store.session() as session:
        session.add(CaseNumberBlock(prefix="KAN", block=30, next_number=9, last_number=999_999))
    with store.read() as session:
        assert case_numbers.highest_block(session) == 30
