"""Opening, creating and refusing stores: every bad file gets a clear error and stays untouched."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import event, func, select, text

from desktop.domain.errors import UserError
from desktop.models import store as store_module
from desktop.models.entities import Person, SyncState
from desktop.models.migrations import runner
from desktop.models.secret_store import SecretStore
from desktop.models.store import (
    Store,
    StorePaths,
    create_store,
    online_backup,
    open_store,
)
from tests.conftest import PASSPHRASE
from tests.fakes import MemoryKeyring


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _add_person(store: store_module.Store) -> str:
    with store.session() as session:
        person = Person(office="TAK-01", sex="f")
        session.add(person)
        session.flush()
        return person.id


def test_new_store_is_encrypted_on_disk(store: store_module.Store) -> None:
    _add_person(store)
    raw = store.paths.db.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(store.paths.db).execute("SELECT * FROM sqlite_master").fetchall()


def test_reopen_with_passphrase_keeps_data(tmp_path: Path) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE)
    person_id = _add_person(created)
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    with reopened.read() as session:
        assert session.get(Person, person_id) is not None
    reopened.close()


def test_wal_mode(store: store_module.Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"


def _synchronous_levels(store: store_module.Store) -> list[int]:
    """``PRAGMA synchronous`` of every connection the pool holds (2 = FULL, 1 = NORMAL)."""
    held = [store.engine.connect() for _ in range(3)]  # the pool's size
    try:
        return [conn.execute(text("PRAGMA synchronous")).scalar_one() for conn in held]
    finally:
        for conn in held:
            conn.close()


def test_commits_are_flushed_to_disk_unless_the_server_holds_the_data(
    store: store_module.Store,
) -> None:
    """Only ``remote_session(durable=False)`` commits without the flush, and its connection
    goes back to the pool flushing again, even when the transaction failed."""
    assert _synchronous_levels(store) == [2, 2, 2]
    with store.remote_session(durable=False) as session:
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 1
        session.merge(SyncState(key="cursor", value="7"))
    assert _synchronous_levels(store) == [2, 2, 2]
    with store.read() as session:
        assert session.get(SyncState, "cursor").value == "7"  # committed

    def failing_page() -> None:
        with store.remote_session(durable=False) as session:
            session.merge(SyncState(key="cursor", value="8"))
            session.flush()
            raise RuntimeError("the page did not apply")

    with pytest.raises(RuntimeError):
        failing_page()
    assert _synchronous_levels(store) == [2, 2, 2]
    with store.read() as session:
        assert session.get(SyncState, "cursor").value == "7"  # rolled back
    with store.remote_session() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2


def test_wrong_passphrase_is_clear_and_touches_nothing(tmp_path: Path) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE)
    _add_person(created)
    created.close()
    paths = StorePaths(tmp_path / "s")
    before = (_digest(paths.db), _digest(paths.keyfile))
    with pytest.raises(UserError) as caught:
        open_store(tmp_path / "s", "not the passphrase")
    assert caught.value.code == "error.wrong_passphrase"
    assert (_digest(paths.db), _digest(paths.keyfile)) == before


def test_key_comes_from_os_keyring_without_a_passphrase(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    create_store(tmp_path / "s", PASSPHRASE).close()
    assert memory_keyring.secrets, "the store key should be in the OS keyring"
    open_store(tmp_path / "s").close()


def test_without_keyring_and_without_passphrase_it_asks(tmp_path: Path) -> None:
    create_store(tmp_path / "s", PASSPHRASE).close()
    from keyring.backends import fail

    no_keyring = SecretStore(backend=fail.Keyring())
    assert not no_keyring.usable()
    with pytest.raises(UserError) as caught:
        open_store(tmp_path / "s", secrets=no_keyring)
    assert caught.value.code == "error.passphrase_needed"
    prompts: list[str] = []

    def prompt() -> str:
        prompts.append("asked")
        return PASSPHRASE

    open_store(tmp_path / "s", prompt, secrets=no_keyring).close()
    assert prompts == ["asked"]


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's file backend: exists, protects nothing."""


def test_no_plaintext_keyring_fallback() -> None:
    assert not SecretStore(backend=PlaintextKeyring()).usable()


def test_plain_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    plain = root / "sapan.db"
    sqlite3.connect(plain).execute("CREATE TABLE t(x)").connection.commit()
    before = _digest(plain)
    with pytest.raises(UserError) as caught:
        open_store(root, PASSPHRASE)
    assert caught.value.code == "error.store_not_encrypted"
    assert _digest(plain) == before


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "empty"])
def test_damaged_database_is_refused_never_overwritten(tmp_path: Path, damage: str) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE)
    for _ in range(20):
        _add_person(created)
    with created.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    created.close()
    db = StorePaths(tmp_path / "s").db
    data = bytearray(db.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "corrupt":
        data[0:4096] = bytes(4096)  # the first page: header and schema
    else:
        data = bytearray()
    db.write_bytes(bytes(data))
    for extra in (db.with_name("sapan.db-wal"), db.with_name("sapan.db-shm")):
        extra.unlink(missing_ok=True)
    before = _digest(db)
    with pytest.raises(UserError) as caught:
        open_store(tmp_path / "s", PASSPHRASE)
    assert caught.value.code == "error.store_damaged"
    assert _digest(db) == before


def test_a_store_in_a_read_only_folder_is_not_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a write-protected USB stick SQLite cannot make its -shm file: "unable to open
    database file". Calling that damage sent people to restore a backup over a good store."""
    root = tmp_path / "s"
    create_store(root, PASSPHRASE).close()
    made = store_module._make_engine

    def read_only_folder(db: Path, key: bytes) -> Any:
        engine = made(db, key)

        @event.listens_for(engine, "do_connect")
        def _refuse(*_args: Any) -> None:
            refusal = sqlcipher.OperationalError("unable to open database file")
            refusal.sqlite_errorname = "SQLITE_CANTOPEN"  # type: ignore[attr-defined]
            raise refusal

        return engine

    monkeypatch.setattr(store_module, "_make_engine", read_only_folder)
    with pytest.raises(UserError) as caught:
        open_store(root, PASSPHRASE)
    assert caught.value.code == "error.store_read_only"


def test_a_disk_that_fills_while_working_is_a_clear_error_and_keeps_what_was_saved(
    store: store_module.Store,
) -> None:
    """Demo data, a scan, a sync: whatever fills the disk is said to be a full disk (a
    UserError the app shows with what to do), not "something went wrong"."""
    kept = _add_person(store)
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()

    @event.listens_for(store.engine, "connect")
    def _no_room(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full

    store.engine.dispose()
    with pytest.raises(UserError) as caught:
        store.set_setting("big", "x" * 200_000)
    assert caught.value.code == "error.disk_full"
    assert str(store.paths.root) in caught.value.english()
    with store.read() as session:
        assert session.get(Person, kept) is not None


def test_a_store_another_sapan_keeps_busy_is_a_clear_error_and_keeps_what_was_saved(
    store: store_module.Store,
) -> None:
    """The app writing a long while (a sync, demo data) when a command writes too, past
    the wait SQLite allows: said, with what to do, not a traceback of "database is
    locked"; nothing of the refused write is kept."""
    kept = _add_person(store)
    other = store_module.Store(store.paths, store.key_for_attachments(), store.store_id)
    try:
        with other.engine.connect() as busy:
            busy.exec_driver_sql("BEGIN IMMEDIATE")  # the other Sapan, writing
            store.engine.dispose()

            @event.listens_for(store.engine, "connect")
            def _short_wait(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute("PRAGMA busy_timeout = 50")

            with pytest.raises(UserError) as caught:
                store.set_setting("busy", "refused")
            busy.exec_driver_sql("ROLLBACK")
    finally:
        other.close()
    assert caught.value.code == "error.store_busy"
    assert str(store.paths.root) in caught.value.english()
    assert store.setting("busy") is None
    with store.read() as session:
        assert session.get(Person, kept) is not None


def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE)
    with created.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    created.close()
    with pytest.raises(UserError) as caught:
        open_store(tmp_path / "s", PASSPHRASE)
    assert caught.value.code == "error.store_newer"


def test_creating_over_an_existing_store_is_refused(tmp_path: Path) -> None:
    create_store(tmp_path / "s", PASSPHRASE).close()
    with pytest.raises(UserError) as caught:
        create_store(tmp_path / "s", PASSPHRASE)
    assert caught.value.code == "error.store_exists"


def test_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        create_store(tmp_path / "s", "short")
    assert caught.value.code == "error.passphrase_too_short"
    assert not (tmp_path / "s" / "sapan.db").exists()


@pytest.mark.parametrize(
    ("errno_code", "code"),
    [(errno.ENOSPC, "error.disk_full"), (errno.EROFS, "error.store_read_only")],
)
def test_a_folder_that_cannot_take_the_store_is_a_clear_error_and_leaves_no_half_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_code: int, code: str
) -> None:
    """A full disk or a read-only folder (a write-protected USB stick) at the first run:
    said so, and nothing left behind that a later start would take for a store."""
    root = tmp_path / "s"

    def refused(_store: object) -> None:  # the key file went in; the database does not
        raise OSError(errno_code, "refused")

    monkeypatch.setattr(store_module, "migrate", refused)
    with pytest.raises(UserError) as caught:
        create_store(root, PASSPHRASE)
    assert caught.value.code == code
    assert str(root) in caught.value.english()
    assert not store_module.store_exists(root)
    assert not root.exists() or not any(root.iterdir())
    monkeypatch.undo()
    create_store(root, PASSPHRASE).close()  # once there is room, the first run works


@pytest.mark.parametrize(("free", "full"), [(1024 * 1024, True), (10 * 1024**3, False)])
def test_sqlites_disk_io_error_is_a_full_disk_only_when_the_disk_is_nearly_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int, full: bool
) -> None:
    class SQLiteError(Exception):
        sqlite_errorname = "SQLITE_IOERR"  # what SQLite says when its WAL cannot grow

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=free))
    refusal = store_module.storage_error(SQLiteError(), tmp_path / "s")
    assert (refusal is not None and refusal.code == "error.disk_full") is full
    assert full or refusal is None  # else a real I/O error: a bug report, not a guess


def test_migration_from_an_older_schema_copies_the_file_first(tmp_path: Path) -> None:
    created = create_store(tmp_path / "s", PASSPHRASE)
    person_id = _add_person(created)
    revisions = [s.revision for s in runner._scripts().walk_revisions()]
    assert len(revisions) >= 2, "needs a released schema older than head"
    from alembic import command

    with created.engine.begin() as conn:
        command.downgrade(runner.config(conn), revisions[1])
    created.close()
    reopened = open_store(tmp_path / "s", PASSPHRASE)
    assert list(reopened.paths.backups.glob("sapan-*.db"))
    with reopened.read() as session:
        assert session.get(Person, person_id) is not None
    reopened.close()


def test_online_backup_is_encrypted_and_opens_with_the_same_key(
    store: store_module.Store, tmp_path: Path
) -> None:
    _add_person(store)
    target = tmp_path / "copy" / "sapan.db"
    online_backup(store, target)
    assert not target.read_bytes().startswith(b"SQLite format 3")
    (tmp_path / "copy" / "sapan.key").write_bytes(store.paths.keyfile.read_bytes())
    copy = open_store(tmp_path / "copy", PASSPHRASE)
    with copy.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
    copy.close()
    with pytest.raises(UserError):
        online_backup(store, target)


def test_compact_returns_the_space_of_acknowledged_changes(store: store_module.Store) -> None:
    from desktop.models.entities import OutboxEntry

    with store.session() as session:
        for _ in range(300):
            session.add(Person(office="TAK-01", sex="f", address_home="x" * 400))
    store.compact()
    full = store.paths.db.stat().st_size
    with store.remote_session() as session:  # what a sync does once the server acknowledged
        session.query(OutboxEntry).delete()
    store.compact()
    assert store.paths.db.stat().st_size < full * 0.8


# -- wiping (a revoked device) -------------------------------------------------------------


def _filled_store(root: Path) -> store_module.Store:
    """A store with a person, an attachment, a backup and a log: everything a wipe meets."""
    from desktop.models.attachments import AttachmentStore

    opened = create_store(root, PASSPHRASE)
    _add_person(opened)
    AttachmentStore(opened.paths.attachments, opened.key_for_attachments()).put_bytes(b"scan")
    store_module.backup_copy(opened, "test")
    opened.paths.logs.mkdir()
    (opened.paths.logs / "sapan.log").write_text("sync ok\n")
    return opened


def test_erase_destroys_the_key_at_once_and_the_open_store_refuses_work(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    opened = _filled_store(tmp_path / "s")
    memory_keyring.set_password("sapan", "device-token:x", "sp1_token")
    record = store_module.erase(
        opened, SecretStore(), reason="device_revoked", unsent=3, secret_names=["device-token:x"]
    )
    assert not opened.paths.keyfile.exists()
    assert memory_keyring.secrets == {}, "the store key and the token leave the keyring"
    assert (record.reason, record.unsent) == ("device_revoked", 3)
    for work in (opened.session, opened.read, opened.remote_session):
        with pytest.raises(UserError) as refused, work():
            pass
        assert refused.value.code == "error.store_wiped"
    with pytest.raises(UserError):
        opened.compact()
    with pytest.raises(UserError):
        opened.key_for_attachments()
    assert opened.paths.db.exists(), "deleted by finish_wipe, once closed"
    opened.close()
    # what is still on disk can no longer be opened, even with the passphrase
    with pytest.raises(UserError) as caught:
        open_store(tmp_path / "s", PASSPHRASE)
    assert caught.value.code == "error.store_wiped"


def test_finish_wipe_deletes_the_store_keeps_logs_and_the_notice(tmp_path: Path) -> None:
    root = tmp_path / "s"
    opened = _filled_store(root)
    rendered = opened.paths.previews / "preview-x" / "TAK-0001-000001.pdf"  # a print preview
    rendered.parent.mkdir(parents=True)
    rendered.write_bytes(b"%PDF-1.4")
    store_module.erase(opened, SecretStore(), reason="device_revoked", unsent=0)
    opened.close()
    record = store_module.finish_wipe(root)
    assert record is not None
    assert record.reason == "device_revoked"
    assert store_module.wiped_remains(root) == []
    assert sorted(p.name for p in root.iterdir()) == ["logs", "sapan.wiped"]
    assert not store_module.store_exists(root)
    assert store_module.finish_wipe(root) == record  # idempotent: the notice stays
    assert store_module.finish_wipe(tmp_path / "never-wiped") is None


def test_a_wipe_cut_short_after_its_marker_is_finished_at_the_next_start(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """Power lost right after the marker was written: key file and keyring still hold
    the key. The next start erases both before anything else."""
    root = tmp_path / "s"
    opened = _filled_store(root)
    record = store_module.WipeRecord(
        at="2026-11-23T06:00:00+00:00",
        reason="device_revoked",
        unsent=5,
        store_id=opened.store_id,
        secret_names=(f"store-key:{opened.store_id}",),
    )
    opened.paths.wiped.write_text(record.to_json())
    opened.close()
    assert memory_keyring.secrets
    with pytest.raises(UserError) as caught:
        open_store(root)
    assert caught.value.code == "error.store_wiped"
    assert memory_keyring.secrets == {}
    assert store_module.wiped_remains(root) == []


def test_a_damaged_marker_still_means_wiped(tmp_path: Path) -> None:
    root = tmp_path / "s"
    create_store(root, PASSPHRASE).close()
    StorePaths(root).wiped.write_bytes(b"\xff\x00 not json")
    record = store_module.finish_wipe(root)
    assert record is not None
    assert record.reason == "unknown"
    assert store_module.wiped_remains(root) == []


def test_a_new_store_in_a_wiped_folder_starts_empty_and_drops_the_notice(
    tmp_path: Path,
) -> None:
    root = tmp_path / "s"
    opened = _filled_store(root)
    store_module.erase(opened, SecretStore(), reason="device_revoked", unsent=1)
    opened.close()
    fresh = create_store(root, PASSPHRASE)
    with fresh.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    assert fresh.store_id != opened.store_id
    assert not fresh.paths.wiped.exists()
    fresh.close()
    assert store_module.store_exists(root)


def test_a_file_that_cannot_be_deleted_yet_stops_a_new_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on Windows when another process still holds the database open."""
    root = tmp_path / "s"
    opened = _filled_store(root)
    store_module.erase(opened, SecretStore(), reason="device_revoked", unsent=0)
    opened.close()
    real_unlink = Path.unlink

    def locked(self: Path, missing_ok: bool = False) -> None:
        if self.name == "sapan.db":
            raise PermissionError(13, "in use by another process")
        real_unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", locked)
    with pytest.raises(UserError) as caught:
        create_store(root, PASSPHRASE)
    assert caught.value.code == "error.wipe_unfinished"
    assert StorePaths(root).wiped.exists()
    monkeypatch.undo()
    create_store(root, PASSPHRASE).close()
    assert not StorePaths(root).wiped.exists()


def test_the_start_language_is_kept_beside_the_store_in_plain_text(tmp_path: Path) -> None:
    root = tmp_path / "s"
    create_store(root, PASSPHRASE).close()
    assert store_module.start_language(root) is None  # none chosen yet: English
    store_module.keep_start_language(root, "km")
    assert store_module.start_language(root) == "km"
    assert StorePaths(root).language.read_text(encoding="ascii") == "km"  # the code alone
    store_module.keep_start_language(tmp_path / "no such folder", "lo")  # not an error
    assert store_module.start_language(tmp_path / "no such folder") is None


def _preview(
    store: Store,
    name: str,
    age_hours: float,
    file_age_hours: float | None,
    root: Path | None = None,
) -> Path:
    """A preview folder (in ``root``, else the store's) last touched ``age_hours`` ago,
    with a rendered packet last written ``file_age_hours`` ago (none when None)."""
    now = time.time()
    folder = (root or store.paths.previews) / name
    folder.mkdir(parents=True)
    if file_age_hours is not None:
        packet = folder / "TAK-0001-000001.pdf"
        packet.write_bytes(b"%PDF-1.4")
        os.utime(packet, (now - file_age_hours * 3600,) * 2)
    os.utime(folder, (now - age_hours * 3600,) * 2)
    return folder


def test_preview_folders_an_earlier_run_left_are_swept(store: Store, tmp_path: Path) -> None:
    """Rendered packets are personal data in plain PDF: a folder a crashed app left goes
    at the next start; one another open window may still use (touched within half a
    day) stays."""
    temp = tmp_path / "temp"  # the shared temporary folder, here empty
    assert store_module.sweep_previews(store, temp=temp) == 0  # no folder yet
    left = _preview(store, "preview-old", 30, 30)
    empty = _preview(store, "preview-empty", 13, None)
    recent = _preview(store, "preview-recent", 1, 1)
    rewritten = _preview(store, "preview-rewritten", 30, 2)  # an old folder, a new packet
    assert store_module.sweep_previews(store, temp=temp) == 2
    assert not left.exists()
    assert not empty.exists()
    assert recent.exists()
    assert rewritten.exists()
    later = time.time() + store_module.STALE_PREVIEWS.total_seconds()
    assert store_module.sweep_previews(store, now=later, temp=temp) == 2
    assert list(store.paths.previews.iterdir()) == []


def test_previews_earlier_versions_left_in_the_shared_temporary_folder_are_swept(
    store: Store, tmp_path: Path
) -> None:
    """Versions before this one rendered previews into the shared temporary folder, where
    a crash left them: those folders go too, and nothing else there."""
    temp = tmp_path / "temp"
    left = _preview(store, "sapan-preview-k2j4", 30, 30, temp)
    recent = _preview(store, "sapan-preview-x9q1", 1, 1, temp)  # another window's, today
    other = _preview(store, "someone-else-preview", 30, 30, temp)
    (temp / "sapan-preview-file").write_text("not a folder")
    (temp / "sapan-preview-link").symlink_to(other, target_is_directory=True)
    assert store_module.sweep_previews(store, temp=temp) == 1
    assert not left.exists()
    assert recent.exists()
    assert other.exists()
    assert (other / "TAK-0001-000001.pdf").exists()  # not deleted through the link
    assert (temp / "sapan-preview-file").exists()


def test_a_preview_folder_lives_beside_the_store_and_goes_when_discarded(store: Store) -> None:
    scratch = store_module.preview_folder(store)
    folder = Path(scratch.name)
    assert folder.parent == store.paths.previews
    if os.name == "posix":  # the store's folder is the person's own; so is this one
        assert store.paths.previews.stat().st_mode & 0o077 == 0
        assert folder.stat().st_mode & 0o077 == 0
    (folder / "packet.pdf").write_bytes(b"%PDF-1.4")
    scratch.cleanup()
    assert not folder.exists()
