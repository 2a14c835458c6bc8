"""The server's tables (SQLAlchemy Core) and engine set-up for SQLite and PostgreSQL.

The schema itself is created only by the Alembic migrations in ``migrations/``; these
table objects are the query-side description and the migrations' autogenerate target.

Commit order equals sequence order: every transaction that hands out sequence numbers
first locks the single row of ``counter`` (``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite every write transaction is ``BEGIN IMMEDIATE``, which serialises writers). So a
transaction holding seq 7 cannot commit after one holding seq 8, and a reader that first
reads the committed counter and then the log below it never skips a late commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_core import from_json, to_json
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("offices", Text, nullable=False),  # JSON list; ["*"] means every office
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    # changes whenever ``offices`` changes: a device that pulled under another version
    # must catch up on the offices it gained and drop those it lost (``sapan server
    # set-offices``; docs/sync-protocol.md §6)
    Column("scope_version", Integer, nullable=False, server_default=text("1")),
    # wrong passwords in a row at registration, and until when the account refuses
    # another try (``auth.register_device``); a right password or ``set-password`` resets
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", String(32), nullable=True),
)

# network addresses that registration refused a wrong user name or password from, for
# an hour from the first (``auth.register_device``): after twenty, each further
# one makes the address wait before it may try again. A row is dropped once its hour and
# its wait are over, so an address is kept only while it matters.
ADDRESS_LENGTH = 64
sign_in_addresses = Table(
    "sign_in_addresses",
    metadata,
    Column("address", String(ADDRESS_LENGTH), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("since", String(32), nullable=False),
    Column("locked_until", String(32), nullable=True),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", Integer, nullable=False, index=True),
    Column("name", String(120), nullable=False),
    # SHA-256 of the bearer token: a leaked database does not leak usable tokens
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    # the device's block of case numbers (1-8999), given on first ask, never reused
    Column("case_block", Integer),
    Index("ix_devices_case_block", "case_block", unique=True),
)

counter = Table(
    "counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
    # the log's identity (UUID text), named in every answer: see read_log_id; after
    # ``sapan server new-log``, the one before and its head then (see new_log_id)
    Column("log_id", String(36)),
    Column("parent_log", String(36)),
    Column("parent_head", BigInteger),
    # the logs the parent continues in turn, nearest first, each with its head then: JSON
    # [[log, head], ...] (restores one after another; see new_log_id)
    Column("ancestors", Text),
    # the lowest case-number block a device may be given (after a restore: see
    # skip_case_blocks); none: from 1
    Column("case_blocks_from", Integer),
)

changes = Table(
    "changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("change_id", String(36), nullable=False, unique=True),
    Column("entity", String(32), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("field", String(64), nullable=False),
    Column("value", Text),  # the field's value after merging, as JSON
    Column("hlc", String(80), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("user_id", String(80), nullable=False),
    Column("office", String(32), nullable=False),
    Column("received_at", String(32), nullable=False),
    Index("ix_changes_office_seq", "office", "seq"),
    # a field's value at an edit's base version (ingest._value_at), one probe per edit
    Index("ix_changes_row_seq", "row_id", "seq"),
)

# Both state tables are looked up by row id alone (a push loads the state of its rows):
# their primary keys lead with it, so no second index has to be kept per row.
field_state = Table(
    "field_state",
    metadata,
    Column("entity", String(32), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("field", String(64), nullable=False),
    Column("value", Text),
    Column("hlc", String(80), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("user_id", String(80), nullable=False),
    PrimaryKeyConstraint("row_id", "entity", "field"),
)

# The state of every field of a row created whole (field ``*``), as one row: the values
# object with the stamp, seq, device and account they all share. A later edit of a field
# writes a ``field_state`` row with a higher seq, which takes precedence for that field.
row_state = Table(
    "row_state",
    metadata,
    Column("entity", String(32), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("value", Text, nullable=False),  # JSON object of the row's fields
    Column("hlc", String(80), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("user_id", String(80), nullable=False),
    PrimaryKeyConstraint("row_id", "entity"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False, index=True),
    Column("entity", String(32), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("field", String(64), nullable=False),
    Column("office", String(32), nullable=False),
    Column("applied", Text, nullable=False),  # JSON Side
    Column("other", Text, nullable=False),  # JSON Side
    Column("status", String(16), nullable=False),
    Column("resolved_by", String(80)),
    Column("created_at", String(32), nullable=False),
)

merges = Table(
    "merges",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False, index=True),
    Column("entity", String(32), nullable=False),
    Column("source_id", String(36), nullable=False, index=True),
    Column("target_id", String(36), nullable=False),
    Column("office", String(32), nullable=False),
    Column("merged_by", String(80), nullable=False),
    Column("undone", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    # the rows the merge re-pointed from source to target, JSON [[entity, row_id, field]]
    Column("moved", Text),
)

# Rows pushed naming a merge's source while it stood, and rewritten to its target (made
# offline for B, by a device that had not learned of the merge yet): they were made for
# B, so undo points them back to B as it does the rows the merge moved. One row per merge
# of a chain the reference was followed through.
merge_redirects = Table(
    "merge_redirects",
    metadata,
    Column("merge_id", String(36), primary_key=True),
    Column("entity", String(32), primary_key=True),
    Column("row_id", String(36), primary_key=True),
    Column("field", String(64), primary_key=True),
)

attachments = Table(
    "attachments",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("chunk_size", Integer, nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    # the account that started the upload: the only one that may write its chunks
    Column("account_id", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    # Bumped by every write to an unfinished upload (a chunk, a restart), under the row's
    # lock: verify reads it before hashing and marks the upload complete only if it has
    # not moved, so no chunk can change between the hashing and the marking.
    Column("writes", BigInteger, nullable=False, server_default=text("0")),
    # when the upload was last written (started or a chunk stored); an upload left idle
    # may be taken over by another account (see sync.server.uploads)
    Column("touched_at", String(32), nullable=False),
)

attachment_chunks = Table(
    "attachment_chunks",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

# The offices whose devices may fetch an attachment's bytes: every office a row naming the
# hash was ever logged to (the ingest adds the pair as it logs such a row, a move to another
# office included). A download's scope check is one key lookup, not a scan of the log.
attachment_offices = Table(
    "attachment_offices",
    metadata,
    Column("sha256", String(64), nullable=False),
    Column("office", String(32), nullable=False),
    PrimaryKeyConstraint("sha256", "office"),
)

# Rows whose creation event a device stored before protocol 3 (the server has stored none
# since; every device derives them). Pull forms 2 and 3 carry those stored events as rows,
# and derive the event of every other row they create (``ingest.pull``).
logged_creations = Table(
    "logged_creations",
    metadata,
    Column("row_id", String(36), nullable=False),
    Column("entity", String(32), nullable=False),
    PrimaryKeyConstraint("row_id", "entity"),
)

# What each device last sent for a ``forward`` field (a step's state) or an object of a
# ``review`` field (a step's data), and at which seq: what it saw when it made its next
# edit of that field, until it pulls (``ingest._last_sent``). A device's edits of one push are
# in memory; this keeps them across pushes, so a push cut after one batch on a flaky link
# judges the rest the same.
last_sent = Table(
    "last_sent",
    metadata,
    Column("row_id", String(36), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("field", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("value", Text),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("row_id", "entity", "field", "device_id"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("account", String(80)),
    Column("device_id", String(64)),
    Column("method", String(8), nullable=False),
    Column("route", String(120), nullable=False),
    Column("status", Integer, nullable=False),
    # counts and error numbers only: never values, names or identifiers of people
    Column("detail", Text, nullable=False, default="{}"),
)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and plain paths; pick psycopg 3 for PostgreSQL."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    return url


# who holds a PostgreSQL connection (``pg_stat_activity.application_name``): a server
# process, or an administrator's command (``sapan server new-log`` looks for the former)
SERVING_NAME = "sapan-serve"
ADMIN_NAME = "sapan-admin"


def make_engine(url: str, application_name: str = SERVING_NAME) -> Engine:
    """An engine for the server database with the settings each backend needs; on
    PostgreSQL its connections carry ``application_name``."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool,
            hide_parameters=True,  # a failed statement's values (people's data) stay out of logs
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # take transaction control from the driver so BEGIN IMMEDIATE is ours
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # readers take a snapshot; writers take the write lock up front, which also
            # serialises sequence allocation exactly as the counter row lock does on PostgreSQL
            readonly = conn.get_execution_options().get("sync_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"application_name": application_name},
    )


def lock_counter(conn: Connection) -> int:
    """Lock the sequence counter row for this transaction and return its value."""
    if conn.dialect.name == "postgresql":
        row = conn.execute(text("SELECT value FROM counter WHERE id = 1 FOR UPDATE")).one()
    else:
        row = conn.execute(text("SELECT value FROM counter WHERE id = 1")).one()
    return int(row[0])


def store_counter(conn: Connection, value: int) -> None:
    conn.execute(counter.update().where(counter.c.id == 1).values(value=value))


def read_counter(conn: Connection) -> int:
    """The highest committed sequence number (no lock)."""
    return int(conn.execute(text("SELECT value FROM counter WHERE id = 1")).scalar_one())


@dataclass(frozen=True)
class LogId:
    """The identity of this database's change log (revision 0012 makes it) and, after
    ``sapan server new-log``, the log it continues and that log's head then.

    A device's cursor is a seq of one log: devices compare ``log`` with the one they
    registered under and stop, rather than skip what another log numbered up to their
    cursor (another server at the same address, a database restored from a backup). A
    device of ``parent`` that had reached no further than ``parent_head`` lost nothing
    in the restore and goes on under ``log``. ``ancestors`` are the logs ``parent``
    continues in turn (a second restore while a device was offline), nearest first, each
    with its head when the next one continued it."""

    log: str
    parent: str | None = None
    parent_head: int | None = None
    ancestors: tuple[tuple[str, int], ...] = ()


def read_log_id(conn: Connection) -> LogId:
    row = conn.execute(
        text("SELECT log_id, parent_log, parent_head, ancestors FROM counter WHERE id = 1")
    ).one()
    ancestors = tuple((str(log), int(head)) for log, head in json.loads(row[3] or "[]"))
    return LogId(str(row[0]), row[1], None if row[2] is None else int(row[2]), ancestors)


def new_log_id(conn: Connection) -> LogId:
    """Give the change log a new identity and return it: run after restoring the database
    from a backup, so that devices that synced past the backup do not skip what it numbers
    anew below their cursors. The old identity and the head the restored log ends at are
    kept as its parent: devices go back to that head and send again what they sent past
    it (docs/sync-protocol.md §3)."""
    before = read_log_id(conn)
    ancestors: tuple[tuple[str, int], ...] = before.ancestors
    if before.parent is not None and before.parent_head is not None:
        ancestors = ((before.parent, before.parent_head), *ancestors)
    made = LogId(str(uuid.uuid4()), before.log, read_counter(conn), ancestors)
    conn.execute(
        counter.update()
        .where(counter.c.id == 1)
        .values(
            log_id=made.log,
            parent_log=made.parent,
            parent_head=made.parent_head,
            ancestors=json.dumps([list(pair) for pair in ancestors]) if ancestors else None,
        )
    )
    return made


# Case-number blocks left unused after a restore, for those the restored database forgot it
# gave (devices registered since the backup): more than a province registers between two
# nightly backups.
BLOCKS_SKIPPED_AFTER_RESTORE = 100


def skip_case_blocks(conn: Connection) -> int:
    """After a restore (``sapan server new-log``): let devices be given only blocks past
    the highest this database knows, leaving :data:`BLOCKS_SKIPPED_AFTER_RESTORE` for those
    it gave after the backup and forgot, so that no two laptops number cases alike.
    Returns the first block a device can now be given."""
    known = conn.execute(select(func.max(devices.c.case_block))).scalar()
    floor = conn.execute(select(counter.c.case_blocks_from).where(counter.c.id == 1)).scalar()
    first = max(int(known or 0) + 1, int(floor or 1)) + BLOCKS_SKIPPED_AFTER_RESTORE
    conn.execute(counter.update().where(counter.c.id == 1).values(case_blocks_from=first))
    return first


def loads(text: str) -> Any:
    """A value stored by :func:`dumps`, parsed by pydantic-core (about 3x ``json.loads``,
    the same values: NaN and Infinity included)."""
    return from_json(text, allow_inf_nan=True)


def dumps(value: Any) -> str:
    """Compact JSON as stored in the log and the state tables (scripts kept readable).

    pydantic-core's encoder writes what ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))`` writes (NaN and Infinity too; only tiny floats spell their
    exponent shorter, ``1e-7``, the same number) at about a fifth of the cost: a push
    encodes every new row once.
    """
    return to_json(value, inf_nan_mode="constants").decode()


def insert_many(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert new rows (tuples in the order of ``columns``) in bulk.

    ``COPY`` on PostgreSQL (on the same connection, so inside the caller's transaction),
    one ``executemany`` on SQLite. Tuples rather than dicts: a push writes two rows per
    change, and COPY takes each row as a sequence.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    import psycopg

    raw: Any = conn.connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except psycopg.errors.IntegrityError as exc:
        # as SQLAlchemy raises it for every other statement, whichever the backend
        raise IntegrityError(statement, None, exc, hide_parameters=True) from exc


def insert_missing(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose primary key is not there yet; the others are left as they are."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
        return
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)


def upsert(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Insert rows, replacing the non-key columns where the key exists (both backends).

    Each key appears once in ``rows``. PostgreSQL gets one statement whatever the number
    of rows: each column as an array parameter, ``INSERT ... SELECT * FROM unnest(...) ON
    CONFLICT ... DO UPDATE``. An ``executemany`` sent one statement per row (in a
    pipeline): 50 ms for 1,000 rows of ``field_state`` against 26 ms, and 24 against 15 ms
    of the server's own CPU.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = [table.c[name] for name in rows[0]]
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in columns)
        arrays = ", ".join(f"%s::{c.type.compile(dialect=conn.dialect)}[]" for c in columns)
        replaced = ", ".join(
            f"{quote(c.name)} = excluded.{quote(c.name)}" for c in columns if c.name not in keys
        )
        raw: Any = conn.connection.driver_connection
        raw.execute(
            f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {replaced}",
            [[row[c.name] for row in rows] for c in columns],
        )
        return
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    lite_stmt = sqlite_insert(table)
    lite_stmt = lite_stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c: lite_stmt.excluded[c] for c in rows[0] if c not in keys},
    )
    conn.execute(lite_stmt, rows)
