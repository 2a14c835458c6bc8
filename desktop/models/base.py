"""Declarative base, column types and the mixin every synced table shares."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import operator
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import (
    Boolean,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    TypeDecorator,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from desktop.domain.errors import UserError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Money(TypeDecorator[decimal.Decimal]):
    """A decimal amount stored exactly as text (SQLite has no decimal type)."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(decimal.Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> decimal.Decimal | None:
        return None if value is None else decimal.Decimal(value)


class _IdClock:
    """The state :func:`new_id` keeps in this process: last millisecond, counter, node."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """A new random node and a fresh count (at start-up and in a forked child)."""
        self.node = int.from_bytes(os.urandom(8), "big") & _NODE_MASK
        self.millis = 0
        self.count = 0

    def next(self) -> tuple[int, int, int]:
        with self.lock:
            now = time.time_ns() // 1_000_000
            if now > self.millis:
                self.millis, self.count = now, 0
            elif self.count < _COUNT_MASK:
                self.count += 1  # same millisecond, or the clock went back: count on
            else:
                self.millis, self.count = self.millis + 1, 0  # 4,096 in one ms: borrow the next
            return self.millis, self.count, self.node


_NODE_MASK = (1 << 62) - 1
_COUNT_MASK = 0xFFF
_ID_CLOCK = _IdClock()
os.register_at_fork(after_in_child=_ID_CLOCK.reset)


def new_id() -> str:
    """A client-made UUID primary key: version 7, time-ordered (RFC 9562).

    48 bits of Unix milliseconds, a 12-bit counter within the millisecond (RFC 9562 §6.2,
    method 1) and 62 bits drawn at random once per process (the node). Ids one process
    makes are unique by (millisecond, counter) and strictly increasing, even if the wall
    clock steps back; ids of different processes differ by their node. Rows made one after
    another get neighbouring ids, so the primary-key and reference indexes of the
    encrypted store (and of the server) grow at their end instead of at random pages.
    Ids made together differ only in a few leading digits and share their last 17, so gzip
    sends a case file's ids and references at a fraction of their length (docs/performance.md,
    "Sync", fifth session). Ids name rows; they are not secrets: the server checks scope
    on every row whatever its id (docs/sync-protocol.md §4).
    """
    millis, count, node = _ID_CLOCK.next()
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76  # version 7
        | count << 64
        | 0b10 << 62  # RFC 9562 variant
        | node
    )
    return str(uuid.UUID(int=value))


def utcnow() -> str:
    """Now as an ISO 8601 UTC string (how local timestamps are stored)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Synced:
    """Columns every synced row has besides its catalogue fields.

    ``version`` is the server sequence number of the last change applied to the row (0
    until the row has been synced); only pulled changes set it. ``deleted`` is the
    tombstone: rows are never hard-deleted.
    """

    __entity__: ClassVar[str]

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow, onupdate=utcnow)


_Row = TypeVar("_Row", bound=Synced)


def live_row(session: Session, cls: type[_Row], row_id: str) -> _Row:
    """The row ``row_id`` of ``cls`` unless it is missing or tombstoned, which is
    ``error.not_found`` naming the entity (``employment``, ``track``) and the id."""
    row = session.get(cls, row_id)
    if row is None or row.deleted:
        raise UserError("error.not_found", entity=cls.__entity__, row_id=row_id)
    return row


def synced_classes() -> dict[str, type[Synced]]:
    """Every synced ORM class by its catalogue entity name (``person``, ``case``, ...)."""
    return {
        mapper.class_.__entity__: mapper.class_
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, Synced)
    }


def listed(values: Iterable[str]) -> Select[tuple[Any]]:
    """``values`` as a subquery for ``column.in_(listed(ids))``: one JSON parameter
    unpacked by SQLite's ``json_each``, however many values.

    An ``IN`` list binds a parameter per value, which SQLAlchemy compiles anew for every
    length (a tenth of a pull's CPU went there) and SQLite caps (32,766), so callers cut
    lists into chunks. The planner still looks each value up through the column's index.
    """
    each = func.json_each(json.dumps(list(values), ensure_ascii=False)).table_valued("value")
    return select(each.c.value)


def table_of(cls: type[Any]) -> Table:
    """The table a mapped class is mapped to (for bulk inserts)."""
    return cast(Table, inspect(cls).local_table)


class RowWriter:
    """One table's bulk writes, worked out once: its columns in order, each column's bind
    processor (what Core would apply to the value) and its statements.

    For rows written without the ORM, which need none of what ORM objects bring (identity
    map, change tracking, the recorder's hooks): rows pulled from the server, and the
    recorder's bulk writes. Values are bound here and handed to the driver's
    ``executemany`` as tuples: Core's per-row parameter bookkeeping cost about a quarter
    of a pull of new case files, and a third of a pull of rows the device had.
    """

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.position = {name: at for at, name in enumerate(self.columns)}
        self.binds = [c.type.bind_processor(dialect) for c in table.columns]
        # what :meth:`row` reads: every value at once, then only the columns that bind (a
        # synced table has several columns; itemgetter of one would give no tuple)
        self._values = operator.itemgetter(*self.columns)
        self._bound = [(at, bind) for at, bind in enumerate(self.binds) if bind is not None]
        self._quote = dialect.identifier_preparer.quote
        self._name = dialect.identifier_preparer.format_table(table)

    def binder(self, name: str) -> Callable[[Any], Any] | None:
        """Column ``name``'s bind processor; None when values are stored as they are."""
        return self.binds[self.position[name]]

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A row given by column name (every column), bound, in column order."""
        row = list(self._values(values))
        for at, bind in self._bound:
            row[at] = bind(row[at])
        return tuple(row)

    def insert(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], *, keep_existing: bool = False
    ) -> None:
        """Insert bound rows (:meth:`row`) with one ``executemany``. ``keep_existing``: a
        row whose id the table has already (or an earlier row of ``rows`` has) is left
        out, the stored one kept."""
        if not rows:
            return
        sql = (
            f"INSERT INTO {self._name} ({', '.join(map(self._quote, self.columns))}) "
            f"VALUES ({', '.join('?' for _ in self.columns)})"
        )
        if keep_existing:
            sql += " ON CONFLICT (id) DO NOTHING"
        conn.exec_driver_sql(sql, rows)

    def update(self, conn: Connection, rows: Iterable[dict[str, Any]], now: str) -> None:
        """Set columns of existing rows by id: each row a dict of ``id``, ``version`` and
        the columns to set. ``version`` only ever grows (the larger of the stored and the
        given); ``updated_at`` becomes ``now``. One ``executemany`` per set of columns."""
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        position, binds = self.position, self.binds
        for row in rows:
            names = tuple(sorted(name for name in row if name not in ("id", "version")))
            values = []
            for name in names:
                convert = binds[position[name]]
                values.append(row[name] if convert is None else convert(row[name]))
            values += (row["version"], now, row["id"])
            groups[names].append(tuple(values))
        quote = self._quote
        version = quote("version")
        for names, params in groups.items():
            sets = "".join(f"{quote(name)} = ?, " for name in names)
            conn.exec_driver_sql(
                f"UPDATE {self._name} SET {sets}{version} = max(coalesce({version}, 0), ?), "
                f"{quote('updated_at')} = ? WHERE {quote('id')} = ?",
                params,
            )


def update_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], now: str) -> None:
    """:meth:`RowWriter.update` of ``table``'s rows."""
    RowWriter(table, conn.dialect).update(conn, rows, now)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """:meth:`RowWriter.insert` of rows given by column name (every column)."""
    if not rows:
        return
    writer = RowWriter(table, conn.dialect)
    missing = set(writer.columns) - rows[0].keys()
    if missing:  # a programming error: a column would silently get no default
        raise ValueError(f"{table.name}: no value for {sorted(missing)}")
    writer.insert(conn, [writer.row(row) for row in rows])
