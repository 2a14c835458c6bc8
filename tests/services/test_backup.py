"""A whole-store backup (desktop/services/backup.py): a folder that opens on another laptop
with the passphrase alone, scans included; a folder in the way, a failed or stopped copy
leave nothing that looks like a backup, and the store is untouched."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import func, select

from desktop.domain.errors import UserError
from desktop.models.attachments import AttachmentStore
from desktop.models.entities import Person
from desktop.models.secret_store import SecretStore
from desktop.models.store import Store, erase, finish_wipe, open_store
from desktop.services import backup as backup_module
from desktop.services import crash
from desktop.services.backup import backup_store
from tests.conftest import PASSPHRASE
from tests.fakes import MemoryKeyring

SCAN = b"\xff\xd8\xff a passport page " * 5000


def _filled(store: Store) -> str:
    """A person and one stored scan, plus a download cut short; returns the scan's hash."""
    with store.session() as session:
        session.add(Person(office="TAK-01", sex="f"))
    blobs = AttachmentStore(store.paths.attachments, store.key_for_attachments())
    stored = blobs.put_bytes(SCAN)
    blobs.partial("ab" * 32).write(b"half a download")
    return stored.sha256


def test_a_backup_opens_on_another_laptop_with_the_passphrase_alone(
    store: Store, tmp_path: Path
) -> None:
    sha256 = _filled(store)
    seen: list[tuple[int, int]] = []
    target = tmp_path / "usb" / "sapan-backup"

    assert backup_module.last_backup(store) is None
    made = backup_store(store, target, lambda done, total: seen.append((done, total)))

    assert made.path == target
    when = backup_module.last_backup(store)
    assert when is not None
    assert when[1] == str(target)
    stored = store.paths.attachments / sha256[:2] / sha256
    assert (made.files, made.file_bytes) == (1, stored.stat().st_size)
    assert (target / "attachments" / sha256[:2] / sha256).read_bytes() == stored.read_bytes()
    assert made.database_bytes == (target / "sapan.db").stat().st_size
    assert not (target / "sapan.db").read_bytes().startswith(b"SQLite format 3")
    assert seen[-1] == (made.database_bytes + made.file_bytes,) * 2
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert not list(target.rglob("*.partial"))  # the download cut short is left out
    assert not target.with_name("sapan-backup.partial").exists()

    # another laptop: an empty keyring, only the passphrase
    copy = open_store(target, PASSPHRASE, secrets=SecretStore(backend=MemoryKeyring()))
    try:
        with copy.read() as session:
            assert session.scalar(select(func.count()).select_from(Person)) == 1
        scans = AttachmentStore(copy.paths.attachments, copy.key_for_attachments())
        assert scans.read_bytes(sha256) == SCAN
    finally:
        copy.close()


def test_an_empty_folder_may_be_chosen_and_a_used_one_is_refused(
    store: Store, tmp_path: Path
) -> None:
    _filled(store)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert backup_store(store, empty).files == 1

    used = tmp_path / "used"
    used.mkdir()
    (used / "holiday.jpg").write_bytes(b"someone else's")
    with pytest.raises(UserError) as refused:
        backup_store(store, used)
    assert refused.value.code == "error.backup_exists"
    assert [p.name for p in used.iterdir()] == ["holiday.jpg"]
    with pytest.raises(UserError):
        backup_store(store, empty)  # a backup is never written over


def test_a_full_stick_leaves_nothing_behind_and_says_so(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _filled(store)
    target = tmp_path / "usb" / "sapan-backup"

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backup_module.os, "fsync", full)
    with pytest.raises(UserError) as failed:
        backup_store(store, target)
    assert failed.value.code == "error.backup_failed"
    assert failed.value.params["detail"] == os.strerror(errno.ENOSPC)
    assert list((tmp_path / "usb").iterdir()) == []
    monkeypatch.undo()
    with store.read() as session:  # the store itself is untouched
        assert session.scalar(select(func.count()).select_from(Person)) == 1
    assert backup_store(store, target).files == 1  # and the next try works


def test_a_copy_that_reads_back_damaged_is_a_failed_backup_not_a_damaged_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stick that garbles what is written to it: the backup failed (check the stick),
    not "restore a backup", which would send the caseworker away from a good store."""
    _filled(store)
    target = tmp_path / "usb" / "sapan-backup"
    real = backup_module.online_backup

    def garbled(source: Store, copy: Path) -> None:
        real(source, copy)
        with copy.open("r+b") as handle:
            handle.seek(5000)
            handle.write(b"\x00" * 5000)

    monkeypatch.setattr(backup_module, "online_backup", garbled)
    with pytest.raises(UserError) as failed:
        backup_store(store, target)
    assert failed.value.code == "error.backup_failed"
    assert "\n" not in failed.value.translated("en")
    assert list((tmp_path / "usb").iterdir()) == []


def test_a_damaged_backup_is_said_in_a_line_and_not_as_a_damaged_store(
    store: Store, tmp_path: Path
) -> None:
    _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    with (stick / "sapan.db").open("r+b") as handle:
        handle.seek(5000)
        handle.write(b"\x00" * 5000)
    with pytest.raises(UserError) as caught:
        backup_module.restore_store(stick, tmp_path / "laptop", PASSPHRASE)
    said = caught.value.translated("en")
    assert caught.value.code == "error.backup_damaged"
    assert str(stick) in said
    assert "\n" not in said
    assert len(said) < 400


def test_a_stopped_backup_leaves_nothing_behind(store: Store, tmp_path: Path) -> None:
    _filled(store)
    target = tmp_path / "sapan-backup"

    class Stopped(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        backup_store(store, target, stop)
    assert list(tmp_path.iterdir()) == [store.paths.root]


def test_a_backup_is_restored_into_an_empty_data_folder(store: Store, tmp_path: Path) -> None:
    """A new laptop: the backup becomes its store, scans included, and opens."""
    sha256 = _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    laptop = tmp_path / "new-laptop" / "sapan"
    laptop.mkdir(parents=True)  # the app's data folder, made empty by the installer

    done = backup_module.restore_store(stick, laptop, PASSPHRASE)

    assert (done.path, done.files) == (laptop, 1)
    restored = open_store(laptop, PASSPHRASE, secrets=SecretStore(backend=MemoryKeyring()))
    try:
        with restored.read() as session:
            assert session.scalar(select(func.count()).select_from(Person)) == 1
        scans = AttachmentStore(restored.paths.attachments, restored.key_for_attachments())
        assert scans.read_bytes(sha256) == SCAN
        assert restored.store_id == store.store_id
    finally:
        restored.close()
    assert sorted(p.name for p in stick.iterdir()) == ["attachments", "sapan.db", "sapan.key"]


def test_a_restore_refuses_what_it_must_not_touch(store: Store, tmp_path: Path) -> None:
    """Over a store (its unsent work), with a wrong passphrase, from a folder that is no
    backup, or from a damaged one: refused before anything is written."""
    _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    laptop = tmp_path / "laptop"

    def refused(source: Path, root: Path, passphrase: str = PASSPHRASE) -> str:
        with pytest.raises(UserError) as caught:
            backup_module.restore_store(source, root, passphrase)
        return caught.value.code

    assert refused(stick, store.paths.root) == "error.restore_over_store"
    assert refused(stick, laptop, "not the passphrase") == "error.wrong_passphrase"
    assert refused(tmp_path / "usb", laptop) == "error.not_a_backup"
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "sapan.key").write_bytes((stick / "sapan.key").read_bytes())
    (damaged / "sapan.db").write_bytes((stick / "sapan.db").read_bytes()[:8192])
    assert refused(damaged, laptop) == "error.backup_damaged"
    assert not laptop.exists()
    assert not laptop.with_name("laptop.partial").exists()


def test_a_backup_from_a_newer_sapan_is_refused_before_anything_is_copied(
    store: Store, tmp_path: Path
) -> None:
    """A backup made by a newer Sapan cannot be opened by this one: restoring it would
    leave the laptop a store it refuses at every start. Said before anything is copied."""
    _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    newer = sqlcipher.connect(str(stick / "sapan.db"))
    try:
        newer.execute(f"PRAGMA key = \"x'{store.key_for_attachments().hex()}'\"")
        newer.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        newer.commit()
    finally:
        newer.close()
    laptop = tmp_path / "laptop"

    with pytest.raises(UserError) as caught:
        backup_module.restore_store(stick, laptop, PASSPHRASE)

    assert caught.value.code == "error.backup_newer"
    assert "9999_from_the_future" in caught.value.translated("en")
    assert not laptop.exists()
    assert not laptop.with_name("laptop.partial").exists()


def test_a_backup_is_restored_onto_a_laptop_that_wiped_itself(store: Store, tmp_path: Path) -> None:
    """A laptop the server revoked wiped its store and keeps only the notice (and its
    logs) in the data folder, which the app cannot change: its backup goes back there."""
    _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    root = store.paths.root
    (root / "logs").mkdir()
    (root / "logs" / "sapan.log").write_text("started\n", encoding="utf-8")
    erase(store, SecretStore(backend=MemoryKeyring()), reason="device_revoked", unsent=0)
    store.close()
    finish_wipe(root, SecretStore(backend=MemoryKeyring()))
    assert sorted(p.name for p in root.iterdir()) == ["logs", "sapan.wiped"]

    done = backup_module.restore_store(stick, root, PASSPHRASE)

    assert done.files == 1
    assert not (root / "sapan.wiped").exists()  # the notice has served, as for a new store
    assert (root / "logs" / "sapan.log").read_text(encoding="utf-8") == "started\n"
    restored = open_store(root, PASSPHRASE, secrets=SecretStore(backend=MemoryKeyring()))
    try:
        with restored.read() as session:
            assert session.scalar(select(func.count()).select_from(Person)) == 1
    finally:
        restored.close()


def test_a_backup_is_restored_where_a_first_run_left_only_its_crash_log(
    store: Store, tmp_path: Path
) -> None:
    """A new laptop's first run that met a bug wrote its report in the data folder's logs:
    the folder holds no store, and the backup goes there, the log kept."""
    _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    root = tmp_path / "new-laptop"
    _report, log = crash.record(root, ZeroDivisionError())
    assert log is not None

    done = backup_module.restore_store(stick, root, PASSPHRASE)

    assert done.files == 1
    assert log.read_text(encoding="utf-8").startswith("Sapan ")
    restored = open_store(root, PASSPHRASE, secrets=SecretStore(backend=MemoryKeyring()))
    restored.close()


def test_a_backup_cut_short_is_not_restored(store: Store, tmp_path: Path) -> None:
    """A backup the laptop died in leaves FOLDER.partial: its database and key file may be
    whole while scans are missing. Chosen by mistake, it is refused, not restored without
    a word about what it lacks."""
    _filled(store)
    stick = tmp_path / "usb" / "sapan-backup"
    backup_store(store, stick)
    cut = stick.rename(stick.with_name("sapan-backup.partial"))
    for scan in (cut / "attachments").rglob("*"):
        if scan.is_file():
            scan.unlink()  # not copied yet when the power went
    laptop = tmp_path / "laptop"
    with pytest.raises(UserError) as caught:
        backup_module.restore_store(cut, laptop, PASSPHRASE)
    assert caught.value.code == "error.backup_unfinished"
    assert not laptop.exists()
