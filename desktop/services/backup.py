"""A whole store copied to another folder (a USB stick) that opens on its own.

A caseworker may work offline for weeks, so a copy on a USB stick is what saves that work
from a stolen or broken laptop. A copy of the database alone would not: it is encrypted
with the store's random key, which only the key file beside it (wrapped by the
passphrase) and the laptop's keyring hold. So a backup is a folder laid out as a store:

- ``sapan.db``: SQLite's online backup of the database, still encrypted, taken while the
  app runs;
- ``sapan.key``: the key file, useless without the passphrase;
- ``attachments/``: the scans, copied as stored (encrypted); downloads cut short are
  left out, as the next sync fetches them again.

It opens with the same passphrase, as any store does; :func:`restore_store` (``sapan db
restore``) makes it the store of a new laptop's empty data folder. The copy is written under
``FOLDER.partial`` and renamed only once the database passed SQLite's quick check and
every scan was copied whole, each file flushed to the device: a stick pulled out half way
leaves no folder that looks like a backup. A full disk, a removed stick or a folder that
holds something already are :class:`UserError`; nothing is left behind. The store
remembers its last backup (:func:`last_backup`), so the app can say when that was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

from desktop.domain.errors import UserError
from desktop.models import keys
from desktop.models.attachments import PARTIAL_SUFFIX, Progress
from desktop.models.store import (
    WIPED_NAME,
    Store,
    StorePaths,
    finish_wipe,
    key_pragma,
    online_backup,
    stamped_revisions,
    store_exists,
    wiped_remains,
)

PARTIAL = ".partial"
LAST_BACKUP = "last_backup"  # the store setting: {"at": ISO 8601 UTC, "path": folder}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Backup:
    path: Path
    database_bytes: int
    files: int
    file_bytes: int


def backup_store(store: Store, target: Path, progress: Progress | None = None) -> Backup:
    """Copy ``store`` into the new folder ``target`` (see the module's docstring).

    ``progress`` is told the bytes copied so far, the database first; it may raise to
    stop the copy, which then leaves nothing behind.
    """
    _refuse_used(target)
    with _written_into(target) as partial:
        copy = StorePaths(partial)
        online_backup(store, copy.db)
        _copy_file(store.paths.keyfile, copy.keyfile)
        database = copy.db.stat().st_size
        files, file_bytes = _copy_blobs(store.paths, copy, database, progress)
        try:
            verify_database(copy.db, store.key_for_attachments())
        except UserError as exc:  # what was written does not read back: the stick, not the store
            if exc.code != "error.backup_damaged":
                raise
            detail = exc.params["detail"]
            raise UserError("error.backup_failed", path=str(target), detail=detail) from exc
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    store.set_setting(LAST_BACKUP, {"at": at, "path": str(target)})
    return Backup(target, database, files, file_bytes)


def last_backup(store: Store) -> tuple[dt.datetime, str] | None:
    """When the store was last backed up and to which folder; None if never."""
    value = store.setting(LAST_BACKUP)
    if not isinstance(value, dict):
        return None
    try:
        return dt.datetime.fromisoformat(value["at"]), str(value["path"])
    except (KeyError, TypeError, ValueError):
        return None


def backup_name(now: dt.datetime) -> str:
    """The folder a backup made at ``now`` (local time) is given inside the chosen one."""
    return f"sapan-backup-{now:%Y%m%d-%H%M%S}"


@dataclass(frozen=True)
class Restored:
    path: Path
    files: int


def restore_store(backup: Path, root: Path, passphrase: str) -> Restored:
    """Make the backup folder ``backup`` the store in ``root`` (a new laptop's data folder).

    The passphrase must open the backup's key file and the database must pass the quick
    check and be of a schema this Sapan opens, before anything is copied; ``root`` must
    not hold a store already (a store is never replaced: its own unsent work would go).
    The copy is made beside ``root`` and renamed into place, so a failure leaves ``root``
    as it was. The backup is only read.
    Refusals are :class:`UserError`; the device registers again to sync (README).
    """
    source = StorePaths(backup)
    if not source.db.is_file() or not source.keyfile.is_file():
        raise UserError("error.not_a_backup", path=str(backup))
    if backup.name.endswith(PARTIAL):  # a copy cut short: its scans may be missing
        raise UserError("error.backup_unfinished", path=str(backup))
    if store_exists(root):
        raise UserError("error.restore_over_store", path=str(root))
    # a laptop that wiped itself keeps the notice and its logs there, and nothing else; a
    # first run that met a bug, its logs (the crash log)
    wiped = finish_wipe(root) is not None
    remains = wiped_remains(root) if wiped else []
    if remains:
        raise UserError("error.wipe_unfinished", path=str(remains[0]))
    leftovers = (StorePaths(root).logs.name, *((WIPED_NAME,) if wiped else ()))
    _refuse_used(root, leftovers)
    key = keys.unwrap_key(keys.KeyFile.read(source.keyfile), passphrase)
    verify_database(source.db, key)
    if wiped:  # the notice has served, as when a new store is made there
        StorePaths(root).wiped.unlink()
    with _written_into(root, carried=leftovers) as partial:
        copy = StorePaths(partial)
        _copy_file(source.db, copy.db)
        _copy_file(source.keyfile, copy.keyfile)
        files, _bytes = _copy_blobs(source, copy)
    return Restored(root, files)


def _refuse_used(target: Path, leftovers: Sequence[str] = ()) -> None:
    """A backup goes into a new or empty folder only: nothing of someone else's is mixed in.
    ``leftovers`` are names it may hold all the same (what a wiped store leaves)."""
    if target.exists() and (
        not target.is_dir() or any(p.name not in leftovers for p in target.iterdir())
    ):
        raise UserError("error.backup_exists", path=str(target))


@contextlib.contextmanager
def _written_into(target: Path, carried: Sequence[str] = ()) -> Iterator[Path]:
    """A folder to fill, renamed to ``target`` once the block ends well; otherwise removed.
    What ``target`` holds under the names ``carried`` is moved into it first.

    A full disk or a stick pulled out (an OS or SQLite error) is ``error.backup_failed``;
    anything else (a stop asked for) goes on up. A ``.partial`` folder left by a copy the
    machine died in is replaced.
    """
    partial = target.with_name(target.name + PARTIAL)
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        yield partial
        for name in carried:
            if (target / name).exists():
                (target / name).rename(partial / name)
        if target.exists():
            target.rmdir()  # an empty folder the caseworker chose
        partial.rename(target)
    except (OSError, sqlcipher.Error) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        detail = getattr(exc, "strerror", None) or str(exc)
        raise UserError("error.backup_failed", path=str(target), detail=detail) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _copy_blobs(
    source: StorePaths, target: StorePaths, done: int = 0, progress: Progress | None = None
) -> tuple[int, int]:
    """Copy the stored scans of ``source`` into ``target``; ``progress`` is told the bytes
    copied, counting from ``done`` (the database). Returns (files, their bytes)."""
    blobs = _blobs(source.attachments)
    total = done + sum(size for _path, size in blobs)
    if progress is not None:
        progress(done, total)
    for path, size in blobs:
        _copy_file(path, target.attachments / path.relative_to(source.attachments))
        done += size
        if progress is not None:
            progress(done, total)
    return len(blobs), sum(size for _path, size in blobs)


def verify_database(path: Path, key: bytes) -> None:
    """Open a copy of the database with the store key and run SQLite's quick check; a
    copy that fails is ``error.backup_damaged`` (SQLite's first finding as the detail).
    One whose schema a newer Sapan wrote, which this one would refuse to open, is
    ``error.backup_newer``."""
    from desktop.models.migrations import runner

    conn = sqlcipher.connect(str(path))
    try:
        conn.execute(key_pragma(key))
        result = conn.execute("PRAGMA quick_check").fetchone()
        stamped = stamped_revisions(conn.execute)
    except sqlcipher.DatabaseError as exc:
        raise _damaged(path, str(exc)) from exc
    finally:
        conn.close()
    if result is None or result[0] != "ok":
        raise _damaged(path, str(result[0] if result else "no answer"))
    for revision in stamped:
        if not runner.is_known(revision):
            raise UserError("error.backup_newer", path=str(path.parent), revision=str(revision))


def _damaged(db: Path, found: str) -> UserError:
    """``error.backup_damaged`` for the backup folder of ``db``, with the first line of
    what SQLite found (its whole list runs to pages)."""
    lines = found.strip().splitlines()
    first = next((line for line in lines if not line.startswith("***")), "")
    return UserError("error.backup_damaged", path=str(db.parent), detail=first[:200])


def _blobs(root: Path) -> list[tuple[Path, int]]:
    """The stored scans (not downloads in progress), with their sizes, in name order."""
    if not root.exists():
        return []
    return [
        (path, path.stat().st_size)
        for path in sorted(root.glob("??/*"))
        if path.is_file() and path.suffix != PARTIAL_SUFFIX
    ]


def _copy_file(source: Path, target: Path) -> None:
    """Copy ``source`` and flush it to the device before going on (a USB stick is often
    pulled out as soon as the app says it is done)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    if target.stat().st_size != source.stat().st_size:
        raise UserError("error.backup_failed", path=str(target), detail="short copy")
