"""Opening, creating, migrating and checking the encrypted local store.

A store is a folder (``--data-dir``): ``sapan.db`` (SQLCipher, WAL mode), ``sapan.key``
(the random store key wrapped by the passphrase, see :mod:`desktop.models.keys`),
``attachments/`` (content-addressed encrypted blobs) and ``backups/`` (a copy of the
database taken before every schema migration). An existing file is never overwritten
or re-created: a damaged, foreign or plaintext database is refused with a clear message.

A store can be wiped (:func:`erase`, when the server revoked the device, a laptop lost
at a checkpoint): its key is destroyed at once, so nothing in the folder can be read
again, and :func:`finish_wipe` deletes the files once the store is closed. The marker
``sapan.wiped`` says when and why, with counts only, until a new store is created.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import secrets as random_bytes
import shutil
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from desktop.domain.errors import UserError
from desktop.domain.hlc import HybridClock
from desktop.models import keys
from desktop.models.entities import Setting, SyncState
from desktop.models.recorder import ChangeContext, install_recorder
from desktop.models.secret_store import SecretStore

DB_NAME = "sapan.db"
KEY_NAME = "sapan.key"
WIPED_NAME = "sapan.wiped"
LANGUAGE_NAME = "sapan.language"
SQLITE_HEADER = b"SQLite format 3\x00"
CACHE_KIB = 32 * 1024
_RELAXED = "sapan.synchronous_normal"  # a pooled connection's info: commits not flushed
PassphraseSource = str | Callable[[], str] | None
NEARLY_FULL_BYTES = 16 * 1024 * 1024  # below this, SQLite's "disk I/O error" is a full disk
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorePaths:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / DB_NAME

    @property
    def keyfile(self) -> Path:
        return self.root / KEY_NAME

    @property
    def attachments(self) -> Path:
        return self.root / "attachments"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def previews(self) -> Path:
        """Rendered packets of print previews (plain PDF), a folder per window."""
        return self.root / "previews"

    @property
    def wiped(self) -> Path:
        return self.root / WIPED_NAME

    @property
    def language(self) -> Path:
        return self.root / LANGUAGE_NAME

    def erasable(self) -> list[Path]:
        """What a wipe deletes: everything but the logs (free of personal data) and the
        marker. SQLite's ``-wal`` and ``-shm`` files hold pages of the database."""
        db = self.db
        return [
            self.keyfile,
            db,
            db.with_name(db.name + "-wal"),
            db.with_name(db.name + "-shm"),
            db.with_name(db.name + "-journal"),
            self.attachments,
            self.backups,
            self.previews,
        ]


def default_data_dir() -> Path:
    """``$SAPAN_DATA_DIR``, else the platform's per-user data folder."""
    env = os.environ.get("SAPAN_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "Sapan"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Sapan"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sapan"


def start_language(root: Path) -> str | None:
    """The language last chosen for the store in ``root``, to ask for its passphrase in:
    the language setting is inside the encrypted store. A plain file beside it holds the
    language code alone (no personal data); None when there is none to read."""
    try:
        value = StorePaths(root).language.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        return None
    return value or None


def keep_start_language(root: Path, lang: str) -> None:
    """Remember ``lang`` for :func:`start_language`; a folder that cannot take the file
    (read-only) only means the next start asks in English."""
    if start_language(root) != lang:
        with contextlib.suppress(OSError):
            StorePaths(root).language.write_text(lang, encoding="ascii")


def store_exists(root: Path) -> bool:
    """True when ``root`` holds a store; a wiped one (marker present) is not a store."""
    paths = StorePaths(root)
    if paths.wiped.exists():
        return False
    return paths.db.exists() or paths.keyfile.exists()


class Store:
    """An open, unlocked local store. Use :meth:`session` for every unit of work."""

    def __init__(self, paths: StorePaths, key: bytes, store_id: str) -> None:
        self.paths = paths
        self.store_id = store_id
        self._key = key
        self.engine = _make_engine(paths.db, key)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        install_recorder(self._factory)
        self.device_id = ""
        self.clock = HybridClock("unset")
        self.erased = False

    # -- sessions -----------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self, *, user: str | None = None) -> Iterator[Session]:
        """One transaction: every change is recorded to the outbox and the audit trail."""
        with self._factory() as session:
            session.info["changes"] = self.change_context(user)
            with session.begin():
                yield session

    def change_context(self, user: str | None = None) -> ChangeContext:
        """Who and what stamps this device's changes (for the recorder and bulk writes)."""
        return ChangeContext(device_id=self.device_id, user=user or self.user, clock=self.clock)

    @contextlib.contextmanager
    def remote_session(self, *, durable: bool = True) -> Iterator[Session]:
        """A transaction that records nothing: for applying changes pulled from the server.

        ``durable=False`` is for writes the server can always give back: a pulled page with
        its cursor, the acknowledgement of a pushed batch. Their commit skips the flush to
        disk (SQLite ``synchronous = NORMAL`` in WAL mode): still atomic and consistent, but
        a power cut may undo it, and the next sync pulls the page again or hears
        "duplicate" for the batch. The next durable commit flushes it with everything
        before it. Flushing a few MB took 4-25 ms on the build machine, more on a laptop disk.
        """
        with self._factory() as session, session.begin():
            if not durable:
                # before any statement: SQLite refuses it inside a transaction
                connection = session.connection()
                connection.exec_driver_sql("PRAGMA synchronous = NORMAL")
                connection.info[_RELAXED] = True  # put back when the connection is returned
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (no transaction left open afterwards)."""
        with self._factory() as session:
            yield session

    # -- device identity and settings ----------------------------------------------------

    @property
    def user(self) -> str:
        return str(self.setting("user", "caseworker"))

    @property
    def office(self) -> str:
        return str(self.setting("office", "TAK-01"))

    def setting(self, key: str, default: Any = None) -> Any:
        with self.read() as session:
            row = session.get(Setting, key)
            return default if row is None else row.value

    def set_setting(self, key: str, value: Any) -> None:
        with self.remote_session() as session:
            session.merge(Setting(key=key, value=value))

    def compact(self) -> None:
        """Give free pages back to the file system (after a sync emptied the outbox)."""
        self._refuse_if_erased()
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            # Each step of this pragma frees pages: it must be run to the end.
            cursor.execute("PRAGMA incremental_vacuum").fetchall()
            raw.commit()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()

    def key_for_attachments(self) -> bytes:
        self._refuse_if_erased()
        return self._key

    def _forget(self) -> None:
        """After :func:`erase`: no new unit of work, and the key is dropped from memory
        (this object's copy; SQLCipher holds its own in open connections until closed)."""
        self.erased = True
        self._key = b""
        self._factory = _refused  # type: ignore[assignment]

    def _refuse_if_erased(self) -> None:
        if self.erased:
            raise UserError("error.store_wiped")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load_identity(self) -> None:
        with self.remote_session() as session:
            state = {row.key: row.value for row in session.scalars(select(SyncState))}
            device = state.get("device_id")
            if device is None:
                device = uuid.uuid4().hex[:12]
                session.add(SyncState(key="device_id", value=device))
        self.device_id = device
        self.clock = HybridClock(device)
        if "hlc" in state:
            self.clock.restore(state["hlc"])


def _refused(*_args: object, **_kwargs: object) -> Session:
    raise UserError("error.store_wiped")


# -- wiping --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WipeRecord:
    """What the marker of a wiped store keeps: when, why, how many changes made on this
    device never reached the server, and the keyring names erased. Counts and names only:
    no personal data."""

    at: str
    reason: str
    unsent: int
    store_id: str
    secret_names: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "at": self.at,
                "reason": self.reason,
                "unsent": self.unsent,
                "store_id": self.store_id,
                "secret_names": list(self.secret_names),
            }
        )

    @classmethod
    def read(cls, path: Path) -> WipeRecord:
        """The marker's record; a damaged marker still means "wiped" (reason unknown)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                at=str(data["at"]),
                reason=str(data["reason"]),
                unsent=int(data["unsent"]),
                store_id=str(data["store_id"]),
                secret_names=tuple(str(name) for name in data["secret_names"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return cls(at="", reason="unknown", unsent=0, store_id="", secret_names=())


def erase(
    store: Store,
    secrets: SecretStore,
    *,
    reason: str,
    unsent: int,
    secret_names: Iterable[str] = (),
) -> WipeRecord:
    """Make the store unreadable for good, at once, with the store still open.

    The database, its backups and the attachments are all encrypted with one random key,
    kept only in the key file (wrapped by the passphrase) and in the OS keyring. Both
    copies go here, so nothing left in the folder can be read again, whoever knows the
    passphrase. The marker is written first: a wipe cut short (power, killed process) is
    finished by :func:`finish_wipe` at the next start. The files are deleted by
    :func:`finish_wipe` once the store is closed (Windows cannot delete an open file);
    until then the store refuses every unit of work. ``secret_names`` are further keyring
    entries to delete (the device token).
    """
    record = WipeRecord(
        at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        reason=reason,
        unsent=unsent,
        store_id=store.store_id,
        secret_names=(_keyring_name(store.store_id), *secret_names),
    )
    _write_durably(store.paths.wiped, record.to_json().encode())
    store._forget()
    _erase_keys(store.paths, record, secrets)
    return record


# A preview folder untouched this long belongs to no window still open (or to one whose
# packets can be rendered again): an app that did not close left it.
STALE_PREVIEWS = dt.timedelta(hours=12)


def preview_folder(store: Store) -> tempfile.TemporaryDirectory[str]:
    """A new folder for a window's rendered packets, inside the store's folder.

    Rendered packets are personal data in plain PDF: kept beside the store rather than in
    the shared temporary folder, a wipe deletes them with it (``StorePaths.erasable``), and
    one an app did not remove (a crash, a power cut) is swept at the next start
    (:func:`sweep_previews`). The caller removes it when the window closes.
    """
    root = store.paths.previews
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="preview-", dir=root, ignore_cleanup_errors=True)


# Where versions before the eighteenth session rendered previews: the shared temporary
# folder, as ``sapan-preview-*`` folders, left there whenever the app did not close.
LEGACY_PREVIEW_PREFIX = "sapan-preview-"


def sweep_previews(store: Store, now: float | None = None, temp: Path | None = None) -> int:
    """Delete the preview folders of ``store`` untouched for :data:`STALE_PREVIEWS`
    (newest of the folder and its files), and those earlier versions left in the shared
    temporary folder ``temp`` (the system's by default; on POSIX only this user's);
    returns how many. A folder that cannot be deleted yet (a file open in a viewer on
    Windows) is tried again next time."""
    cutoff = (time.time() if now is None else now) - STALE_PREVIEWS.total_seconds()
    shared = Path(tempfile.gettempdir()) if temp is None else temp
    found = [*_folders(store.paths.previews), *_folders(shared, LEGACY_PREVIEW_PREFIX)]
    swept = 0
    for folder in found:
        try:
            touched = max([folder.stat().st_mtime, *(f.stat().st_mtime for f in folder.iterdir())])
        except OSError:  # not a folder, or gone meanwhile (another window's cleanup)
            continue
        if touched < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            swept += not folder.exists()
    if swept:
        log.info("removed %d print preview folders left by an earlier run", swept)
    return swept


def _folders(root: Path, prefix: str = "") -> list[Path]:
    """The folders in ``root`` whose names start with ``prefix`` (on POSIX, this user's)."""
    try:
        listed = [f for f in root.iterdir() if f.name.startswith(prefix)]
    except OSError:  # no such folder (no preview yet), or not readable
        return []
    found = []
    for folder in listed:
        try:
            state = folder.lstat()  # a link is not followed, nor deleted through
        except OSError:
            continue  # gone meanwhile
        if not stat.S_ISDIR(state.st_mode):
            continue
        # a Windows user's temporary folder is their own; a shared POSIX one is not
        if os.name != "posix" or state.st_uid == os.getuid():
            found.append(folder)
    return found


def finish_wipe(root: Path, secrets: SecretStore | None = None) -> WipeRecord | None:
    """Complete the wipe of the store in ``root``, if it was wiped; None if it was not.

    Call it with the store closed. It erases the keys again (in case :func:`erase` was
    cut short) and deletes the store's files; what cannot be deleted yet (a file still
    open on Windows) is tried again at the next call. The marker stays until a new store
    is created, so the app can say what happened.
    """
    paths = StorePaths(root)
    if not paths.wiped.exists():
        return None
    record = WipeRecord.read(paths.wiped)
    _erase_keys(paths, record, secrets or SecretStore())
    for path in paths.erasable():
        with contextlib.suppress(OSError):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    return record


def wiped_remains(root: Path) -> list[Path]:
    """Files of a wiped store still on disk (none once :func:`finish_wipe` succeeded)."""
    return [path for path in StorePaths(root).erasable() if path.exists()]


def _erase_keys(paths: StorePaths, record: WipeRecord, secrets: SecretStore) -> None:
    for name in record.secret_names:
        secrets.delete(name)
    if paths.keyfile.exists():
        # Overwritten before it is unlinked: on a spinning disk the old bytes would
        # otherwise stay readable (an SSD may keep them anyway, hence the keyring too).
        size = max(paths.keyfile.stat().st_size, 1)
        _write_durably(paths.keyfile, random_bytes.token_bytes(size))
        paths.keyfile.unlink()


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def create_store(
    root: Path,
    passphrase: str,
    *,
    secrets: SecretStore | None = None,
    office: str = "TAK-01",
    case_prefix: str = "TAK",
) -> Store:
    """Create a new encrypted store in ``root`` (which must not hold one already)."""
    paths = StorePaths(root)
    if store_exists(root):
        raise UserError("error.store_exists", path=str(root))
    keys.check_passphrase_strength(passphrase)
    if finish_wipe(root, secrets) is not None:
        remains = wiped_remains(root)
        if remains:
            raise UserError("error.wipe_unfinished", path=str(remains[0]))
        paths.wiped.unlink()  # a new store: the notice of the wipe has served
    made_root = not root.exists()
    key = keys.new_key()
    keyfile = keys.wrap_key(key, passphrase)
    try:
        root.mkdir(parents=True, exist_ok=True)
        keys.write_key_file(paths.keyfile, keyfile)
        store = Store(paths, key, keyfile.store_id)
        try:
            migrate(store)
            store._load_identity()
            store.set_setting("office", office)
            store.set_setting("case_prefix", case_prefix)
        except BaseException:
            store.close()
            raise
    except (OSError, DBAPIError) as exc:
        # A full disk or a read-only folder: no half store for the next start to trip on.
        _remove_half_store(paths, made_root)
        refusal = storage_error(exc, root)
        if refusal is None:
            raise
        raise refusal from exc
    (secrets or SecretStore()).set(_keyring_name(keyfile.store_id), key.hex())
    return store


def storage_error(exc: BaseException, root: Path) -> UserError | None:
    """What a full disk, a folder that cannot be written or a store another Sapan keeps
    busy means to the person, for ``exc`` (an ``OSError`` or an error of SQLite's); None
    for any other error."""
    if isinstance(exc, OSError):
        number = exc.errno
        if number in _DISK_FULL_ERRNOS:
            return UserError("error.disk_full", path=str(root))
        if number in _READ_ONLY_ERRNOS:
            return UserError("error.store_read_only", path=str(root))
        return None
    name = str(getattr(getattr(exc, "orig", exc), "sqlite_errorname", ""))
    # SQLite says "disk I/O error" when the disk fills as it grows its WAL files
    if name.startswith("SQLITE_FULL") or (name.startswith("SQLITE_IOERR") and _nearly_full(root)):
        return UserError("error.disk_full", path=str(root))
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return UserError("error.store_read_only", path=str(root))
    # another Sapan (the app, a command) writing for longer than the busy timeout
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return UserError("error.store_busy", path=str(root))
    return None


def _nearly_full(root: Path) -> bool:
    """Less free room on ``root``'s disk than SQLite needs to go on writing."""
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is None:
        return False
    try:
        return shutil.disk_usage(existing).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def _remove_half_store(paths: StorePaths, made_root: bool) -> None:
    """Delete what a first run cut short wrote (it holds no case yet)."""
    db = paths.db
    for path in (
        paths.keyfile,
        paths.keyfile.with_suffix(".tmp"),  # keys.write_key_file's temporary file
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        db.with_name(db.name + "-journal"),
    ):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    if made_root:
        with contextlib.suppress(OSError):
            paths.root.rmdir()  # only if empty


def open_store(
    root: Path,
    passphrase: PassphraseSource = None,
    *,
    secrets: SecretStore | None = None,
    upgrading: Callable[[], object] | None = None,
) -> Store:
    """Unlock and open an existing store, migrating its schema if needed.

    The key comes from the passphrase when one is given, else from the OS keyring, else
    by calling ``passphrase`` if it is a callable (a prompt). Errors are :class:`UserError`:
    wrong passphrase, a plaintext or damaged database, a database from a newer Sapan.
    ``upgrading`` is called before a migration starts (it copies the store first).
    """
    paths = StorePaths(root)
    record = finish_wipe(root, secrets)
    if record is not None:
        raise UserError("error.store_wiped")
    if not paths.db.exists():
        raise UserError("error.store_missing", path=str(root))
    _refuse_plaintext(paths.db)
    if not paths.keyfile.exists():
        raise UserError("error.key_file_missing", path=str(paths.keyfile))
    keyfile = keys.KeyFile.read(paths.keyfile)
    secret_store = secrets or SecretStore()
    key = _resolve_key(keyfile, passphrase, secret_store)
    store = Store(paths, key, keyfile.store_id)
    try:
        _probe(store.engine)
        migrate(store, upgrading)
        store._load_identity()
    except BaseException:
        store.close()
        raise
    return store


def unlock_with_passphrase(root: Path, passphrase: str, secrets: SecretStore) -> None:
    """Check a passphrase and (re)store the key in the OS keyring, if there is one."""
    keyfile = keys.KeyFile.read(StorePaths(root).keyfile)
    key = keys.unwrap_key(keyfile, passphrase)
    secrets.set(_keyring_name(keyfile.store_id), key.hex())


def _resolve_key(
    keyfile: keys.KeyFile, passphrase: PassphraseSource, secrets: SecretStore
) -> bytes:
    if isinstance(passphrase, str):
        return keys.unwrap_key(keyfile, passphrase)
    stored = secrets.get(_keyring_name(keyfile.store_id))
    if stored:
        return bytes.fromhex(stored)
    if passphrase is None:
        raise UserError("error.passphrase_needed")
    key = keys.unwrap_key(keyfile, passphrase())
    secrets.set(_keyring_name(keyfile.store_id), key.hex())
    return key


def _keyring_name(store_id: str) -> str:
    return f"store-key:{store_id}"


def _refuse_plaintext(db: Path) -> None:
    with db.open("rb") as handle:
        header = handle.read(16)
    if header == SQLITE_HEADER:
        raise UserError("error.store_not_encrypted", path=str(db))
    if len(header) < 16:
        raise UserError("error.store_damaged", path=str(db))


def _make_engine(db: Path, key: bytes) -> Engine:
    # A small pool: each connection holds its own page cache.
    engine = create_engine(f"sqlite:///{db}", module=sqlcipher, pool_size=3, max_overflow=3)
    pragma_key = key_pragma(key)

    @event.listens_for(engine, "connect", insert=True)
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(pragma_key)
            # Only takes effect on a new file: lets compact() return the space of
            # acknowledged outbox entries to the file system without a full VACUUM.
            cursor.execute("PRAGMA auto_vacuum = INCREMENTAL")
            cursor.execute("PRAGMA busy_timeout = 10000")
            # 32 MiB of page cache per connection (the default is 8): decrypting pages is the
            # cost of search over 100,000 people, and a warm cache makes it 4x faster.
            cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed case survives a power cut, not only a killed process.
            cursor.execute("PRAGMA synchronous = FULL")
        except sqlcipher.DatabaseError:
            pass  # a wrong key or damaged file: _probe() reports it clearly
        finally:
            cursor.close()

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # A full disk (demo data, a scan, a pulled page) or a folder turned read-only is
        # something the person can act on: a UserError, not "something went wrong".
        refusal = storage_error(context.original_exception, db.parent)
        if refusal is not None:
            raise refusal from context.original_exception

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_RELAXED, False):
            dbapi_connection.execute("PRAGMA synchronous = FULL")

    return engine


def _probe(engine: Engine) -> None:
    """Read the schema once: a wrong key, foreign or damaged file fails here, unchanged.
    A folder SQLite cannot write its ``-shm`` file in (read-only) or a full disk is said
    as such: calling it damage would send people to restore a backup over a good store."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
    except (DatabaseError, OperationalError) as exc:
        db = Path(str(engine.url.database))
        refusal = storage_error(exc, db.parent)
        if refusal is not None:
            raise refusal from exc
        raise UserError("error.store_damaged", path=str(db)) from exc


def migrate(store: Store, upgrading: Callable[[], object] | None = None) -> str | None:
    """Bring the schema to head, copying the database file first (``upgrading`` is called
    before that, when there is work to do). Returns the backup path."""
    from desktop.models.migrations import HEAD

    with store.engine.connect() as conn:
        if stamped_revisions(conn.exec_driver_sql) == [HEAD]:
            return None
    from desktop.models.migrations import runner

    with store.engine.connect() as conn:
        current = runner.current_revision(conn)
    if current is not None and not runner.is_known(current):
        raise UserError("error.store_newer", revision=current)
    if current == runner.head():
        return None
    if upgrading is not None:
        upgrading()
    backup: str | None = None
    if current is not None:
        backup = str(backup_copy(store, f"before-{runner.head()}"))
    with store.engine.begin() as conn:
        runner.upgrade(conn)
    return backup


def stamped_revisions(execute: Callable[[str], Any]) -> list[str]:
    """The revisions Alembic stamped in a database (one, or none in a new or unstamped
    file), read through ``execute`` (a DB-API ``execute``, or SQLAlchemy's
    ``exec_driver_sql``) without loading Alembic."""
    found = execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if found is None:
        return []
    return [str(row[0]) for row in execute("SELECT version_num FROM alembic_version").fetchall()]


def key_pragma(key: bytes) -> str:
    """The statement that opens an SQLCipher database with the store's raw key."""
    return f"PRAGMA key = \"x'{key.hex()}'\""


def backup_copy(store: Store, label: str) -> Path:
    """A consistent copy of the (still encrypted) database file in ``backups/``."""
    store.paths.backups.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    target = store.paths.backups / f"sapan-{stamp}-{label}.db"
    online_backup(store, target)
    return target


def online_backup(store: Store, target: Path) -> None:
    """SQLite's online backup API into ``target``, encrypted with the same key."""
    if target.exists():
        raise UserError("error.backup_exists", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    source = store.engine.raw_connection()
    try:
        dest = sqlcipher.connect(str(target))
        try:
            dest.execute(key_pragma(store.key_for_attachments()))
            source.driver_connection.backup(dest)  # type: ignore[union-attr]
        finally:
            dest.close()
    finally:
        source.close()
