"""Device copies of the server's merge records: the rows each merge moved, kept as the
server lists them (migration 0006)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from desktop.models.migrations import runner
from desktop.models.store import Store, create_store, open_store
from desktop.models.sync_records import SyncMerge
from desktop.services.sync import keep_records
from sync import protocol as p
from tests.conftest import PASSPHRASE

SOURCE = "0b8f6c1e-4d2a-4c53-9a61-2f3e1d0c9b71"
TARGET = "5a1d2c3b-7e8f-4a9b-8c0d-1e2f3a4b5c6d"


def _merge(store: Store, moved: list[list[str]] | None) -> None:
    with store.remote_session() as session:
        session.add(
            SyncMerge(
                id=SOURCE,
                seq=7,
                entity="person",
                source_id=SOURCE,
                target_id=TARGET,
                office="TAK-01",
                merged_by="nok",
                undone=False,
                moved=moved,
            )
        )


def test_moved_rows_are_kept_as_json_and_none_stays_null(store: Store) -> None:
    moved = [["person_name", TARGET, "person_id"], ["person_name", TARGET, "deleted"]]
    _merge(store, moved)
    with store.read() as session:
        assert session.get(SyncMerge, SOURCE).moved == moved
    with store.remote_session() as session:
        session.get(SyncMerge, SOURCE).moved = None
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT moved IS NULL FROM sync_merge").scalar_one() == 1


def test_migration_0006_keeps_the_merges_a_device_has_without_moved_rows(tmp_path: Path) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE)
    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0005_case_number")
        assert "moved" not in {c["name"] for c in inspect(conn).get_columns("sync_merge")}
        conn.exec_driver_sql(  # a merge kept by the app before 0006
            "INSERT INTO sync_merge (id, seq, entity, source_id, target_id, office, merged_by,"
            f" undone) VALUES ('{SOURCE}', 7, 'person', '{SOURCE}', '{TARGET}', 'TAK-01',"
            " 'nok', 0)"
        )
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    try:
        with reopened.read() as session:
            kept = session.get(SyncMerge, SOURCE)
            assert (kept.target_id, kept.merged_by, kept.moved) == (TARGET, "nok", None)
    finally:
        reopened.close()


def test_a_copy_of_a_merge_record_without_moved_rows_keeps_the_list_the_device_has(
    store: Store,
) -> None:
    """The list never changes; a copy without it (a server before pull form 6) says
    nothing about it."""
    moved = [["person_name", TARGET, "person_id"]]
    record = p.MergeRecord(
        id=SOURCE,
        seq=1,
        entity="person",
        source_id=SOURCE,
        target_id=TARGET,
        office="TAK-01",
        merged_by="nok",
        moved=moved,
    )
    with store.remote_session() as session:
        keep_records(session, merges=[record])
    with store.remote_session() as session:
        keep_records(session, merges=[record.model_copy(update={"moved": None, "undone": True})])
    with store.read() as session:
        kept = session.get(SyncMerge, SOURCE)
        assert (kept.undone, kept.moved) == (True, moved)
