"""The heart of the server: accept pushed changes, serve pulls, merges and conflicts.

Each push is one transaction that first locks the sequence counter (see
:mod:`sync.server.db`), so batches apply whole or not at all and commit in sequence
order. Every accepted change gets a new sequence number and a log entry holding the
field's value *after* merging; devices apply log entries in order, so every device ends
with the server's value (convergence) whatever the merge decided.

A change is concurrent with the field's current value when that value's sequence number
is above the change's ``base_version`` and it came from another device: the writer had not
seen it. Concurrent edits are settled by the field's merge class (design.md §4).

A row created on a device arrives whole (field ``*``). When the server knows nothing of
that row yet, nothing can be concurrent with it: it is logged once and its field state is
kept as one ``row_state`` row, from which the per-field state is derived when the row is
loaded (a later ``field_state`` row with a higher seq takes precedence for its field).
When the row already has state (re-created, or redirected onto a merge target), each
field is settled exactly as a single-field change with base version 0 would be.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Engine, Select, String, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from desktop.domain.catalogue import (
    AUDIT_ENTITY,
    ENTITIES,
    FORWARD_ORDER,
    FieldType,
    Merge,
    audit_event_id,
    creation_event,
    is_creation_event,
)
from desktop.domain.hlc import HybridClock
from sync.protocol import (
    DELETED_FIELD,
    HEAD_FORM,
    MERGEABLE,
    MOVED_FORM,
    WHOLE_ROW,
    ConflictRecord,
    Edit,
    Errno,
    MergeRecord,
    MergeRequest,
    PushStatus,
    Role,
    Side,
    StampWriter,
    ValueProblem,
    check_value,
    field_spec,
)
from sync.server.auth import Caller, now_iso
from sync.server.db import (
    attachment_offices,
    changes,
    conflicts,
    dumps,
    field_state,
    insert_many,
    insert_missing,
    last_sent,
    loads,
    lock_counter,
    logged_creations,
    merge_redirects,
    merges,
    read_counter,
    row_state,
    store_counter,
    upsert,
)
from sync.server.errors import ApiError

SERVER_DEVICE = "server"
# entity -> its reference fields (rewritten to merge targets), worked out once
_REF_FIELDS: dict[str, frozenset[str]] = {
    entity: frozenset(name for name, f in spec.fields.items() if f.type is FieldType.REF)
    for entity, spec in ENTITIES.items()
}
_LOG_COLUMNS = (
    "seq",
    "change_id",
    "entity",
    "row_id",
    "field",
    "value",
    "hlc",
    "device_id",
    "user_id",
    "office",
    "received_at",
)
_LOG_ENTITY, _LOG_ROW, _LOG_OFFICE = (_LOG_COLUMNS.index(c) for c in ("entity", "row_id", "office"))
_FRESH_COLUMNS = ("entity", "row_id", "value", "hlc", "seq", "device_id", "user_id")
# Members used once per change, looked up once: on Python 3.11 reading an enum member
# off its class costs about a microsecond.
_ACCEPTED, _CONFLICT, _DUPLICATE = PushStatus.ACCEPTED, PushStatus.CONFLICT, PushStatus.DUPLICATE
# merged entity -> the (entity, field) pairs of rows that hang from one of its rows:
# ``person_id`` for a person (names, documents, employments, ..., cases), ``case_id`` for a
# case (tracks, attachments, notes). A merge moves them onto the target (see merge()).
_CHILDREN: dict[str, tuple[tuple[str, str], ...]] = {
    parent: tuple(
        (entity, name)
        for entity, refs in _REF_FIELDS.items()
        for name in refs
        if name == f"{parent}_id"
    )
    for parent in MERGEABLE
}
# (entity, field) of every reference a merge moves: what hangs from a person or a case
_HANGING = frozenset(pair for pairs in _CHILDREN.values() for pair in pairs)
_REF, _APPEND = FieldType.REF, Merge.APPEND
_IN_CHUNK = 500  # keeps IN (...) lists well inside every backend's parameter limit
_STATE_COLUMNS = ("entity", "row_id", "field", "value", "hlc", "seq", "device_id", "user_id")


class Outcome(NamedTuple):
    """One change's result: the members of :class:`sync.protocol.PushResult`.

    A plain tuple: a push makes one per change, and the version 2 answer is tuples anyway.
    """

    change_id: str
    status: PushStatus
    seq: int | None = None
    errno: int | None = None
    conflict_id: str | None = None


@dataclass
class _State:
    value: Any
    hlc: str
    seq: int
    device_id: str
    user_id: str

    def at(self, seq: int) -> _State:
        """The same value, stamp and author, logged again at ``seq``."""
        return _State(self.value, self.hlc, seq, self.device_id, self.user_id)


class _Keyed(NamedTuple):
    """A query to be restricted to rows whose ``column`` is one of a list of ids, with its
    PostgreSQL forms (parameter ``ids``: comma-joined text, or an array) built once."""

    query: Select[Any]
    column: ColumnElement[str]
    by_text: Select[Any]
    by_array: Select[Any]


def _keyed(query: Select[Any], column: ColumnElement[str]) -> _Keyed:
    split = func.string_to_array(bindparam("ids", type_=Text), ",")
    by_array = bindparam("ids", type_=ARRAY(String))
    return _Keyed(
        query, column, query.where(column == any_(split)), query.where(column == any_(by_array))
    )


def _matching(
    conn: Connection, keyed: _Keyed, items: Iterable[str]
) -> Iterable[tuple[Select[Any], dict[str, Any]]]:
    """``keyed.query`` restricted to rows whose ``keyed.column`` is one of ``items``, as few
    statements (with their parameters) as the backend allows.

    PostgreSQL gets one statement, ``column = ANY(string_to_array(:ids, ','))``: one text
    parameter, the ids joined by commas and split on the server, so nothing is dumped per
    id in Python (an array parameter cost psycopg about 7 % of a push, element by element).
    It runs in a transaction that allows no sequential scans (:func:`_keyed_reads`). Ids
    here are UUID text, which never holds a comma; should one ever do (or be empty), the
    ids go as an array parameter instead. SQLite gets ``IN`` lists of 500, well inside its
    parameter limit.
    """
    ordered = sorted(set(items))
    if not ordered:
        return
    if conn.dialect.name == "postgresql":
        joined = ",".join(ordered)
        if joined.count(",") == len(ordered) - 1 and "" not in ordered:
            yield keyed.by_text, {"ids": joined}
        else:
            yield keyed.by_array, {"ids": ordered}
        return
    for start in range(0, len(ordered), _IN_CHUNK):
        yield keyed.query.where(keyed.column.in_(ordered[start : start + _IN_CHUNK])), {}


def _keyed_reads(conn: Connection) -> None:
    """Let this transaction read rows by key only (PostgreSQL: no sequential scans).

    Every read in a push, merge or conflict resolution asks for rows by id, and so does
    a pull's look into ``logged_creations`` (its other reads go by sequence number). For a thousand
    ids, the planner priced ``row_id = ANY(...)`` on ``row_state`` as a scan of the whole
    table, which grew with every case file the server held: at 220,000 rows a parallel
    sequential scan took a median 89 ms per push batch, against 14-25 ms through the
    index. A ``LATERAL`` lookup per id avoided the scan too, but cost PostgreSQL more CPU
    than one index scan for all the ids.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")


# the state columns named, in the order _load_rows unpacks them
_ROW_STATE = _keyed(
    select(*(row_state.c[name] for name in _STATE_COLUMNS if name != "field")),
    row_state.c.row_id,
)
_FIELD_STATE = _keyed(
    select(*(field_state.c[name] for name in _STATE_COLUMNS)), field_state.c.row_id
)
_ACTIVE_MERGES = _keyed(
    select(merges.c.id, merges.c.source_id, merges.c.target_id).where(merges.c.undone.is_(False)),
    merges.c.source_id,
)
_LOGGED = _keyed(select(changes.c.change_id, changes.c.seq), changes.c.change_id)
_MERGE_REDIRECTS = _keyed(select(merge_redirects), merge_redirects.c.merge_id)
_LOGGED_CREATIONS = _keyed(
    select(logged_creations.c.entity, logged_creations.c.row_id), logged_creations.c.row_id
)


def _load_rows(
    conn: Connection, row_ids: set[str]
) -> tuple[dict[tuple[str, str], _State], dict[tuple[str, str, str], _State]]:
    """These rows' stored state: whole rows (``row_state``, the value the object of their
    fields) and per-field states (``field_state``), as they are stored.

    A field's current state is the newer of the two (:meth:`_Ingest.state`); a push asks
    for a few fields of each row, so whole rows are not spread into fields up front.
    """
    rows: dict[tuple[str, str], _State] = {}
    # rows unpacked as tuples, in _STATE_COLUMNS order (a Row's attribute costs about 1 µs)
    for query, params in _matching(conn, _ROW_STATE, row_ids):
        for entity, row_id, value, hlc, seq, device_id, user_id in conn.execute(query, params):
            rows[(entity, row_id)] = _State(loads(value), hlc, seq, device_id, user_id)
    fields: dict[tuple[str, str, str], _State] = {}
    for query, params in _matching(conn, _FIELD_STATE, row_ids):
        for entity, row_id, name, value, hlc, seq, device_id, user_id in conn.execute(
            query, params
        ):
            fields[(entity, row_id, name)] = _State(
                loads(value) if value is not None else None, hlc, seq, device_id, user_id
            )
    return rows, fields


def _load_states(conn: Connection, row_ids: set[str]) -> dict[tuple[str, str, str], _State]:
    """The current state of every field of these rows: per-field rows over whole-row ones."""
    rows, found = _load_rows(conn, row_ids)
    for (entity, row_id), row in rows.items():
        for name, value in _row_fields(entity, row.value).items():
            key = (entity, row_id, name)
            edited = found.get(key)
            if edited is None or row.seq > edited.seq:  # created whole again after the edit
                found[key] = _State(value, row.hlc, row.seq, row.device_id, row.user_id)
    return found


def current_rows(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row's current values as the server holds them (for checks and tests).

    Whole rows (``*``) of append-only entities are spread into their fields.
    """
    ids = {r.row_id for r in conn.execute(select(row_state.c.row_id))}
    ids |= {r.row_id for r in conn.execute(select(field_state.c.row_id))}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for (entity, row_id, field), state in _load_states(conn, ids).items():
        values = found.setdefault((entity, row_id), {})
        if field == WHOLE_ROW and isinstance(state.value, dict):
            values.update(state.value)
        elif field != WHOLE_ROW:
            values[field] = state.value
    return found


def _row_fields(entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """The per-field view of a whole row: append-only rows stay one ``*`` value."""
    if ENTITIES[entity].append_only:
        # ``office`` too: scope checks on this row need it
        return {WHOLE_ROW: values, "office": values.get("office")}
    return values


def _redirects(
    conn: Connection, ids: set[str], via: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """Active merges among ``ids``: source id -> final target id (chains followed).

    ``via``, if given, receives for each source the ids of the merges followed, its own
    first."""
    links: dict[str, str] = {}  # one merge each: source -> its target
    merge_of: dict[str, str] = {}  # source -> the id of its merge
    pending = set(ids)
    for _ in range(8):  # merge chains are short; a bound keeps a cycle from looping
        if not pending:
            break
        step: dict[str, str] = {}
        for query, params in _matching(conn, _ACTIVE_MERGES, pending):
            for r in conn.execute(query, params):
                step[r.source_id] = r.target_id
                merge_of[r.source_id] = r.id
        links.update(step)
        pending = set(step.values()) - set(links)
    # followed to the end once all are known: two links of one chain found in one step
    # come in any order (A into B read after B into C left A on B, itself merged away)
    found: dict[str, str] = {}
    for source, target in links.items():
        chain = [merge_of[source]]
        for _ in range(8):
            if target not in links:
                break
            chain.append(merge_of[target])
            target = links[target]
        found[source] = target
        if via is not None:
            via[source] = chain
    return found


def validate(caller: Caller, batch: list[Edit]) -> None:
    """Refuse the whole batch if a change does not fit the catalogue: the error names the
    first (``index``, ``change_id``, ``entity``, ``field``), ``indexes`` lists every
    change refused for the same reason, and ``refused`` every refused change with its own
    errno, field at fault and message, so a device parks them all, each with its reason,
    from one answer (a batch crossing two kinds of problem once cost one upload per kind).
    In a whole row the field at fault is the row's field that is wrong, and the message
    names it (``person.birth_date: expected partial_date``, not ``person.*: …``)."""
    problems: list[tuple[int, Edit, ValueProblem]] = []
    for index, change in enumerate(batch):
        try:
            check_value(change.entity, change.field, change.value)
        except ValueProblem as found:
            problems.append((index, change, found))
    if problems:
        at, bad, problem = problems[0]
        raise ApiError(
            400,
            problem.errno,
            _problem_text(bad, problem),
            entity=bad.entity,
            field=bad.field,
            index=at,
            change_id=bad.change_id,
            indexes=[i for i, _c, found in problems if found.errno == problem.errno],
            refused=[
                {
                    "index": i,
                    "errno": int(found.errno),
                    "field": _at_fault(c, found),
                    "message": _problem_text(c, found),
                }
                for i, c, found in problems
            ],
        )


def _at_fault(change: Edit, problem: ValueProblem) -> str:
    """The field a problem is about: inside a whole row, the row's field at fault."""
    return problem.field or change.field


def _problem_text(change: Edit, problem: ValueProblem) -> str:
    return f"{change.entity}.{_at_fault(change, problem)}: {problem.reason}"


class _Ingest:
    """One push (or server-made change) inside one transaction holding the counter lock."""

    def __init__(self, conn: Connection, clock: HybridClock) -> None:
        self.conn = conn
        self.clock = clock
        _keyed_reads(conn)
        self.top = lock_counter(conn)
        self.now = now_iso()
        # per-field state, loaded or written in this transaction; see state()
        self.states: dict[tuple[str, str, str], _State] = {}
        # rows created whole in this transaction, or loaded whole from ``row_state``:
        # (entity, row id) -> the row's state, its value the object of fields; per-field
        # state is derived only when asked for
        self.created: dict[tuple[str, str], _State] = {}
        self.loaded: dict[tuple[str, str], _State] = {}
        self.log: list[tuple[Any, ...]] = []  # rows of ``changes``: _LOG_COLUMNS
        self.dirty: dict[tuple[str, str, str], _State] = {}
        # rows created whole in this transaction with no earlier state: one row_state each
        self.fresh: list[tuple[Any, ...]] = []  # rows of ``row_state``: _FRESH_COLUMNS
        self.known: set[tuple[str, str]] = set()  # (entity, row id) the server has state for
        self.seen: dict[str, int] = {}  # change id -> seq, for duplicates
        self.redirect: dict[str, str] = {}  # merged row id -> target id
        self.via: dict[str, list[str]] = {}  # merged row id -> the merges followed
        self.redirected: set[tuple[str, str, str, str]] = set()  # merge_redirects rows
        self.conflict_rows: list[dict[str, Any]] = []
        # rows whose deletion a conflict already questions in this batch (one is enough)
        self.deletions_questioned: set[tuple[str, str]] = set()
        # (device, field) -> the value a device last sent for a step's state or data in
        # this push, and its seq: what the device saw when it made its next edit of that
        # field (see _last_sent); kept in ``last_sent`` for its later pushes
        self.sent: dict[tuple[str, tuple[str, str, str]], tuple[Any, int]] = {}

    def load(self, row_ids: set[str]) -> None:
        """Take these rows' stored state as the transaction's starting point."""
        self.loaded, self.states = _load_rows(self.conn, row_ids)
        self.known = set(self.loaded)
        self.known.update((entity, row) for entity, row, _field in self.states)

    def next_seq(self) -> int:
        self.top += 1
        return self.top

    def state(self, key: tuple[str, str, str]) -> _State | None:
        """The current state of ``(entity, row id, field)``, or None when it has none.

        A field written after its row was created whole has its own state, which wins.
        """
        found = self.states.get(key)
        entity, row_id, field = key
        row = self.whole_row(entity, row_id)
        if row is not None and (found is None or row.seq > found.seq):
            fields = _row_fields(entity, row.value)
            if field in fields:
                return _State(fields[field], row.hlc, row.seq, row.device_id, row.user_id)
        return found

    def whole_row(self, entity: str, row_id: str) -> _State | None:
        """The row's whole-row state, created in this transaction or loaded, if it has one."""
        if self.created:
            row = self.created.get((entity, row_id))
            if row is not None:
                return row
        return self.loaded.get((entity, row_id)) if self.loaded else None

    def office_of(self, entity: str, row_id: str) -> str | None:
        state = self.state((entity, row_id, "office"))
        return state.value if state is not None else None

    def write(
        self,
        entity: str,
        row_id: str,
        field: str,
        state: _State,
        office: str,
        change_id: str | None = None,
    ) -> None:
        """Record ``state`` as the field's value: a log entry and the current state."""
        self.log_entry((entity, row_id, field), state, office, change_id)
        self.states[(entity, row_id, field)] = state
        self.dirty[(entity, row_id, field)] = state

    def log_entry(
        self,
        key: tuple[str, str, str],
        state: _State,
        office: str,
        change_id: str | None = None,
        text: str | None = None,
    ) -> None:
        """Log ``(entity, row id, field)`` at ``state`` (field ``*``: the value is an object).

        ``text`` is the value already encoded as JSON, when the caller has it.
        """
        entity, row_id, field = key
        self.log.append(
            (
                state.seq,
                change_id or str(uuid.uuid4()),
                entity,
                row_id,
                field,
                dumps(state.value) if text is None else text,
                state.hlc,
                state.device_id,
                state.user_id,
                office,
                self.now,
            )
        )

    def relog_row(self, entity: str, row_id: str, office: str) -> None:
        """Send every field of a row that moved office to the devices of the new office."""
        row = self.whole_row(entity, row_id)
        names = dict.fromkeys(_row_fields(entity, row.value) if row is not None else ())
        names.update(dict.fromkeys(f for e, r, f in self.states if e == entity and r == row_id))
        for field in names:
            state = self.state((entity, row_id, field))
            assert state is not None
            self.write(entity, row_id, field, state.at(self.next_seq()), office)

    def conflict(
        self, key: tuple[str, str, str], seq: int, office: str, applied: _State, other: _State
    ) -> str:
        """Record a conflict on ``key`` (both values kept for a coordinator); its id."""
        conflict_id = str(uuid.uuid4())
        entity, row_id, field = key
        self.conflict_rows.append(
            {
                "id": conflict_id,
                "seq": seq,
                "entity": entity,
                "row_id": row_id,
                "field": field,
                "office": office,
                "applied": _side_json(applied),
                "other": _side_json(other),
                "status": "open",
                "resolved_by": None,
                "created_at": self.now,
            }
        )
        return conflict_id

    def resend_field(self, entity: str, row_id: str, field: str) -> None:
        """Log a merged-away row's field again as it stands, after an edit made to it was
        applied to the row it was merged into: the device that edited it offline still
        shows its own value there, and pulls the row's real one back (design.md §4:
        every device ends with the server's values)."""
        current = self.state((entity, row_id, field))
        if current is None:  # never set: the row has no value for it, and stands
            row = self.whole_row(entity, row_id)
            if row is None:
                return
            unset = False if field == DELETED_FIELD else None  # never null: no device holds it
            current = _State(unset, row.hlc, 0, row.device_id, row.user_id)
        office = self.office_of(entity, row_id)
        if office is None:
            return
        self.write(entity, row_id, field, current.at(self.next_seq()), office)

    def server_value(self, caller: Caller, entity: str, row_id: str, field: str, value: Any) -> int:
        """Set a field on the server's own authority (merge, undo, flipped conflict)."""
        current = self.state((entity, row_id, field))
        if current is not None:
            self.clock.observe(current.hlc)
        office = self.office_of(entity, row_id) or ""
        seq = self.next_seq()
        self.write(
            entity,
            row_id,
            field,
            _State(value, str(self.clock.tick()), seq, SERVER_DEVICE, caller.username),
            office,
        )
        return seq

    def flush(self) -> None:
        insert_many(self.conn, changes, _LOG_COLUMNS, self.log)
        insert_many(self.conn, row_state, _FRESH_COLUMNS, self.fresh)
        upsert(
            self.conn,
            field_state,
            ["entity", "row_id", "field"],
            [
                {
                    "entity": e,
                    "row_id": r,
                    "field": f,
                    "value": dumps(s.value),
                    "hlc": s.hlc,
                    "seq": s.seq,
                    "device_id": s.device_id,
                    "user_id": s.user_id,
                }
                for (e, r, f), s in self.dirty.items()
            ],
        )
        if self.conflict_rows:
            self.conn.execute(conflicts.insert(), self.conflict_rows)
        upsert(
            self.conn,
            last_sent,
            ["row_id", "entity", "field", "device_id"],
            [
                {
                    "row_id": r,
                    "entity": e,
                    "field": f,
                    "device_id": device,
                    "value": dumps(value),
                    "seq": seq,
                }
                for (device, (e, r, f)), (value, seq) in self.sent.items()
            ],
        )
        insert_missing(self.conn, attachment_offices, self._attachment_offices())
        insert_missing(
            self.conn,
            merge_redirects,
            [
                {"merge_id": m, "entity": e, "row_id": r, "field": f}
                for m, e, r, f in sorted(self.redirected)
            ],
        )
        store_counter(self.conn, self.top)

    def landed(self, entity: str, row_id: str, field: str, sent: Any, value: Any) -> None:
        """Remember a reference to a merged-away row that was written to the one kept
        (``sent`` rewritten to ``value``), for each merge of the chain: undo sends it back."""
        if (entity, field) in _HANGING and sent != value:
            self.redirected.update((m, entity, row_id, field) for m in self.via[sent])

    def _attachment_offices(self) -> list[dict[str, str]]:
        """(hash, office) for each attachment row logged here: who may fetch its bytes."""
        pairs: set[tuple[str, str]] = set()
        for entry in self.log:
            if entry[_LOG_ENTITY] == "attachment":
                state = self.state(("attachment", entry[_LOG_ROW], "sha256"))
                if state is not None and isinstance(state.value, str):
                    pairs.add((state.value, entry[_LOG_OFFICE]))
        return [{"sha256": sha256, "office": office} for sha256, office in sorted(pairs)]


def push(engine: Engine, clock: HybridClock, caller: Caller, batch: list[Edit]) -> list[Outcome]:
    """Apply a batch atomically; one result per change, in the batch's order."""
    validate(caller, batch)
    try:
        return _push(engine, clock, caller, batch, every_id=False)
    except IntegrityError:
        # A change id the log holds, sent again for a row it never named (a device that
        # reuses ids): the quick path asks the log only about changes to rows with state,
        # so the log's unique index refused it. Once more, every id asked: it answers
        # duplicate, as any change id accepted before does (was a 500).
        return _push(engine, clock, caller, batch, every_id=True)


def _push(
    engine: Engine, clock: HybridClock, caller: Caller, batch: list[Edit], *, every_id: bool
) -> list[Outcome]:
    with engine.begin() as conn:
        ingest = _Ingest(conn, clock)
        seen = ingest.seen
        # The ids that may name a merged-away row: the rows of a person or a case (only
        # they are merged, and only their changes are redirected: _apply, _apply_row) and
        # every reference. A batch of new case files asks for about a seventh of its ids.
        asked: set[str] = set()
        for c in batch:
            if c.entity in MERGEABLE:
                asked.add(c.row_id)
            asked.update(_refs(c.entity, c.field, c.value))
        redirect = ingest.redirect = _redirects(conn, asked, ingest.via)
        row_ids = {redirect.get(c.row_id, c.row_id) for c in batch}
        # merged-away rows edited by the batch: their own state is sent again (_apply)
        row_ids.update(c.row_id for c in batch if c.row_id in redirect)
        ingest.load(row_ids)
        # Changes accepted before answer duplicate. Only a change to a row with state can
        # have been: every logged change wrote the state of the row it was logged under
        # (its own row, or the row it was merged into) in the same transaction, and state
        # is never removed. So the log is asked only for those, and a batch of new rows
        # asks for none (for each of 5,000 random change ids, a probe of the log's index).
        stated = {row_id for _entity, row_id in ingest.known}
        ids = [
            c.change_id
            for c in batch
            if every_id or c.row_id in stated or redirect.get(c.row_id) in stated
        ]
        for query, params in _matching(conn, _LOGGED, ids):
            seen.update({r.change_id: r.seq for r in conn.execute(query, params)})
        results: list[Outcome] = []
        outside: list[int] = []  # changes outside the caller's scope: the batch is refused
        for index, change in enumerate(batch):
            done = seen.get(change.change_id)
            try:
                if done is not None:  # accepted before (or earlier in this batch): same seq
                    result = Outcome(change.change_id, _DUPLICATE, done)
                elif change.field == WHOLE_ROW:
                    result = _apply_row(ingest, caller, index, change)
                else:
                    result = _apply(ingest, caller, index, change)
            except ApiError as exc:
                if exc.errno != Errno.OUT_OF_SCOPE:
                    raise
                # go on to find the others: the device parks them all from one answer
                # instead of sending the batch again for each (nothing is kept: the
                # transaction is rolled back below)
                outside.append(index)
                continue
            results.append(result)
        if outside:
            raise ApiError(
                403,
                Errno.OUT_OF_SCOPE,
                "office outside your scope",
                index=outside[0],
                indexes=outside,
            )
        ingest.flush()
    return results


def _refs(entity: str, field: str, value: Any) -> list[str]:
    """The row ids a change's value refers to (a whole row may hold several)."""
    refs = _REF_FIELDS[entity]
    if field == WHOLE_ROW:
        return [item for name in refs if isinstance(item := value.get(name), str)]
    return [value] if field in refs and isinstance(value, str) else []


def _apply(ingest: _Ingest, caller: Caller, index: int, change: Edit) -> Outcome:
    change_id = change.change_id
    entity, field = change.entity, change.field
    spec = field_spec(entity, field)
    row_id = change.row_id
    if entity in MERGEABLE:
        row_id = ingest.redirect.get(row_id, row_id)
    append_only = ENTITIES[entity].append_only
    value = change.value
    if spec.type is _REF and isinstance(value, str):
        value = ingest.redirect.get(value, value)

    current_office = ingest.office_of(entity, row_id)
    if field == "office":
        if not caller.may(value) or (current_office is not None and not caller.may(current_office)):
            raise ApiError(403, Errno.OUT_OF_SCOPE, "office outside your scope", index=index)
    elif current_office is None:
        return Outcome(
            change_id=change_id, status=PushStatus.REJECTED, errno=Errno.ROW_OFFICE_UNKNOWN
        )
    elif not caller.may(current_office):
        raise ApiError(403, Errno.OUT_OF_SCOPE, "row outside your scope", index=index)

    if append_only:
        # notes and audit events are written once, whole (field ``*``); no device edits
        # a field of one, so a change that does would rewrite the record
        return Outcome(change_id=change_id, status=PushStatus.REJECTED, errno=Errno.APPEND_ONLY)
    key = (entity, row_id, field)
    current = ingest.state(key)
    # a deletion of B, merged into A since, while A stands: kept for review (docstring)
    standing = current is None or current.value is not True
    if field == DELETED_FIELD and value is True and row_id != change.row_id and standing:
        return _deletion_of_merged(ingest, caller, change)
    if current is not None and spec.merge is _APPEND:
        if current.value == value:
            ingest.seen[change_id] = current.seq
            return Outcome(change_id=change_id, status=PushStatus.DUPLICATE, seq=current.seq)
        return Outcome(change_id=change_id, status=PushStatus.REJECTED, errno=Errno.APPEND_ONLY)
    seq = ingest.next_seq()
    result, conflict_id = _decide(ingest, caller, change, key, value, seq, current_office or value)
    office = value if field == "office" else current_office
    assert office is not None
    if conflict_id is None:
        conflict_id = _deleted_meanwhile(ingest, caller, change, row_id, office, seq)
    moved_from = (
        current_office if field == "office" and current_office not in (None, value) else None
    )
    # the office change itself goes to the old office, so its devices learn the row left
    ingest.write(entity, row_id, field, result, moved_from or office, change_id)
    ingest.known.add((entity, row_id))
    ingest.landed(entity, row_id, field, change.value, value)
    if moved_from is not None:
        ingest.relog_row(entity, row_id, office)
    if row_id != change.row_id:
        ingest.resend_field(entity, change.row_id, field)
    ingest.seen[change_id] = seq
    status = _CONFLICT if conflict_id is not None else _ACCEPTED
    return Outcome(change_id=change_id, status=status, seq=seq, conflict_id=conflict_id)


def _deletion_of_merged(ingest: _Ingest, caller: Caller, change: Edit) -> Outcome:
    """The deletion of a person or case merged into another since: kept for review, not
    applied. It was meant for B, a record the merge already folded into A; applied to A,
    as other edits to B are, it removed A with everything the merge gave it, on every
    device and without a trace. A stays, and a conflict on B's ``deleted`` keeps the
    deletion: flipping it deletes the row B's edits land on, A while the merge stands, B
    once it is undone. B's own value is logged again as it stands (with the change's id,
    so that a resend is answered duplicate), as any edit to B is."""
    source = change.row_id
    office = ingest.office_of(change.entity, source)
    assert office is not None
    key = (change.entity, source, DELETED_FIELD)
    seq = ingest.next_seq()
    own = ingest.state(key)
    if own is None or own.value is None:  # never deleted nor restored: the row stands
        own = _State(False, change.hlc, 0, SERVER_DEVICE, caller.username)
    mine = _State(True, change.hlc, 0, caller.device_id, caller.username)
    conflict_id = ingest.conflict(key, seq, office, own, mine)
    ingest.write(change.entity, source, DELETED_FIELD, own.at(seq), office, change.change_id)
    ingest.deletions_questioned.add((change.entity, source))
    ingest.seen[change.change_id] = seq
    return Outcome(change.change_id, _CONFLICT, seq, conflict_id=conflict_id)


def _decide(
    ingest: _Ingest,
    caller: Caller,
    change: Edit,
    key: tuple[str, str, str],
    value: Any,
    seq: int,
    office: str,
) -> tuple[_State, str | None]:
    """The state one field settles on at ``seq`` (merge class), and a conflict record's id."""
    entity, _row_id, field = key
    current = ingest.state(key)
    # the authenticated device and account, never what the change claims
    mine = _State(value, change.hlc, 0, caller.device_id, caller.username)
    result = mine
    conflict_id: str | None = None
    merge = field_spec(entity, field).merge
    # a step's state or data: judged against what the device saw when it made the edit
    remembered = merge is Merge.FORWARD or (merge is Merge.REVIEW and isinstance(value, dict))
    if current is not None:
        concurrent = current.seq > change.base_version and current.device_id != caller.device_id
        if concurrent:
            seen = base = None
            if remembered:
                seen = _last_sent(ingest, caller.device_id, key, change.base_version)
                if seen is _NOTHING_SENT or merge is Merge.REVIEW:
                    base = _base(ingest, caller.device_id, key, change.base_version)
                if seen is _NOTHING_SENT:
                    seen = base  # what the device saw: the server's value when it began
            result, other = _settle(merge, current, mine, seen, base)
            if merge is Merge.FORWARD:
                other = _stepped_back(current, mine, result, seen)
            if result is mine and current.value == value:
                # Both devices wrote the same value: owned by neither (newest stamp), so
                # the next queued edit of either, made without seeing the other's write,
                # is still judged concurrent with it instead of replacing it unrecorded
                # as if it were that device's own earlier value. (Owned by the other
                # device, the first writer's next edit replaced this one's silently.)
                stamp = max(current.hlc, mine.hlc)
                result = _State(value, stamp, 0, SERVER_DEVICE, current.user_id)
            elif other is not None and current.value != value:
                where = value if field == "office" else office
                conflict_id = ingest.conflict(key, seq, where, result, other)
    if remembered:
        # what this device saw when it made its next edit of the field, until it pulls
        ingest.sent[(caller.device_id, key)] = (value, seq)
    return result.at(seq), conflict_id


def _stepped_back(current: _State, mine: _State, result: _State, seen: Any) -> _State | None:
    """The side a conflict record keeps when two concurrent edits of a ``forward`` field
    settled on the later state and one of them had moved the field *back* from what the
    pushing device saw (``seen``: :func:`_last_sent`, else :func:`_base`): a step reopened
    on purpose, which the later state overrode.

    A stale edit (a state behind one its device never saw) settles silently, as before;
    a deliberate step back (``cases.reopen_step``) no longer vanishes without a trace.
    The settled value is the same either way.
    """
    floor = _rank(seen)
    loser = current if result.value == mine.value else mine
    if loser.value == result.value or _rank(loser.value) >= floor:
        return None
    return loser


_NOTHING_SENT = object()


def _last_sent(
    ingest: _Ingest, device_id: str, key: tuple[str, str, str], base_version: int
) -> Any:
    """What a device last sent for a step's state or data after ``base_version``, in this
    push or an earlier one it has not pulled since (``last_sent``): what it saw when it
    made its next edit of the field. :data:`_NOTHING_SENT` when it sent nothing since;
    it then saw :func:`_base`."""
    entity, row_id, field = key
    sent = ingest.sent.get((device_id, key))
    if sent is None:
        found = ingest.conn.execute(
            select(last_sent.c.value, last_sent.c.seq).where(
                last_sent.c.row_id == row_id,
                last_sent.c.entity == entity,
                last_sent.c.field == field,
                last_sent.c.device_id == device_id,
            )
        ).first()
        sent = (loads(found.value), found.seq) if found is not None else None
    if sent is not None and sent[1] > base_version:
        return sent[0]
    return _NOTHING_SENT


def _base(ingest: _Ingest, device_id: str, key: tuple[str, str, str], base_version: int) -> Any:
    """The value the server held for a field when a device's edit began from
    ``base_version``: the device's own insert of the row if it has not pulled it back,
    else the log's value at that version (whatever the device sent since aside)."""
    entity, row_id, field = key
    row = ingest.whole_row(entity, row_id)
    if row is not None and row.seq > base_version and row.device_id == device_id:
        return _row_fields(entity, row.value).get(field)
    return _value_at(ingest.conn, key, base_version)


def _rank(value: Any) -> int:
    """A ``forward`` value's place in the order; below every state when it has none."""
    return FORWARD_ORDER.get(value, -1) if isinstance(value, str) else -1


def value_at_query(key: tuple[str, str, str], version: int) -> Select[Any]:
    """The newest change of a field (or its row's insert) up to ``version``: one probe of
    the log's index by row (``ix_changes_row_seq``), however far back it lies."""
    entity, row_id, field = key
    return (
        select(changes.c.field, changes.c.value)
        .where(
            changes.c.entity == entity,
            changes.c.row_id == row_id,
            changes.c.field.in_([field, WHOLE_ROW]),
            changes.c.seq <= version,
        )
        .order_by(changes.c.seq.desc())
        .limit(1)
    )


def _value_at(conn: Connection, key: tuple[str, str, str], version: int) -> Any:
    """A field's value as the log held it at ``version`` (None before the row had one)."""
    entity, _row_id, field = key
    if version <= 0:
        return None
    found = conn.execute(value_at_query(key, version)).first()
    if found is None or found.value is None:
        return None
    value = loads(found.value)
    if found.field == WHOLE_ROW:
        return _row_fields(entity, value).get(field) if isinstance(value, dict) else None
    return value


def _deleted_meanwhile(
    ingest: _Ingest, caller: Caller, change: Edit, row_id: str, office: str, seq: int
) -> str | None:
    """A conflict on ``deleted`` when an edit and a deletion of one row crossed: the edit
    of a row another device deleted meanwhile, or the deletion of a row another device
    edited meanwhile. Both apply (the edit is kept on the tombstone); a coordinator
    confirms the deletion or flips it, bringing the row back with the edit. Without it
    the edit vanished from every device with no trace (design.md §4: no silent loss)."""
    entity, field = change.entity, change.field
    key = (entity, row_id, DELETED_FIELD)
    if (entity, row_id) in ingest.deletions_questioned:
        return None
    if field == DELETED_FIELD:
        if change.value is not True:
            return None
        mine = _State(True, change.hlc, 0, caller.device_id, caller.username)
        # a walk over the batch's states: deletions are rare, field edits must stay cheap
        theirs = [
            state
            for (e, r, f), state in ingest.states.items()
            if e == entity
            and r == row_id
            and f not in (DELETED_FIELD, WHOLE_ROW)
            and state.seq > change.base_version
            and state.device_id != caller.device_id
        ]
        if not theirs:
            return None
        newest = max(theirs, key=lambda s: s.seq)
        kept = _State(False, newest.hlc, 0, newest.device_id, newest.user_id)
        applied, other = mine, kept
    else:
        gone = ingest.state(key)
        if not (
            gone is not None
            and gone.value is True
            and gone.seq > change.base_version
            and gone.device_id != caller.device_id
        ):
            return None
        applied = gone
        other = _State(False, change.hlc, 0, caller.device_id, caller.username)
    ingest.deletions_questioned.add((entity, row_id))
    return ingest.conflict(key, seq, office, applied, other)


def _apply_row(ingest: _Ingest, caller: Caller, index: int, change: Edit) -> Outcome:
    """A row created on a device, whole: one log entry; field state derived from it."""
    change_id = change.change_id
    entity = change.entity
    spec = ENTITIES[entity]
    row_id = (
        ingest.redirect.get(change.row_id, change.row_id) if entity in MERGEABLE else change.row_id
    )
    values: dict[str, Any] = change.value
    if ingest.redirect:  # references to merged rows point at their targets
        refs = _REF_FIELDS[entity]
        values = {
            name: ingest.redirect.get(item, item) if name in refs else item
            for name, item in values.items()
        }
    office: str = values["office"]
    current_office = ingest.office_of(entity, row_id)
    if not caller.may(office) or (current_office is not None and not caller.may(current_office)):
        raise ApiError(403, Errno.OUT_OF_SCOPE, "office outside your scope", index=index)
    if entity == AUDIT_ENTITY and is_creation_event(values):
        # sent by a device before protocol 3: every device derives it from the row's
        # insert (pull form 4), so it is accepted and not stored
        seq = ingest.next_seq()
        ingest.seen[change_id] = seq
        return Outcome(change_id, _ACCEPTED, seq)
    if spec.append_only:
        current = ingest.state((entity, row_id, WHOLE_ROW))
        if current is not None:
            if current.value == values:
                ingest.seen[change_id] = current.seq
                return Outcome(change_id=change_id, status=PushStatus.DUPLICATE, seq=current.seq)
            return Outcome(change_id=change_id, status=PushStatus.REJECTED, errno=Errno.APPEND_ONLY)
    created = ingest.whole_row(entity, row_id)
    if created is not None and created.hlc == change.hlc:
        # the row's own insert sent again under another change id: a device restored from
        # a backup and registered again derives other ids (insert_change_id) for the
        # inserts it had pushed before; a stamp is one device's, and unique to it
        ingest.seen[change_id] = created.seq
        return Outcome(change_id=change_id, status=PushStatus.DUPLICATE, seq=created.seq)
    seq = ingest.next_seq()
    ingest.seen[change_id] = seq
    if (entity, row_id) not in ingest.known:
        # a new row: nothing can be concurrent with it
        state = _State(values, change.hlc, seq, caller.device_id, caller.username)
        text = dumps(values)
        ingest.log_entry((entity, row_id, WHOLE_ROW), state, office, change_id, text)
        ingest.fresh.append(
            (entity, row_id, text, change.hlc, seq, caller.device_id, caller.username)
        )
        ingest.created[(entity, row_id)] = state
        ingest.known.add((entity, row_id))
        _landed_refs(ingest, entity, row_id, change.value, values)
        return Outcome(change_id, _ACCEPTED, seq)
    # the row exists (created again, or merged into a row that exists): field by field,
    # exactly as single-field changes of this device would be settled
    settled: dict[str, Any] = {}
    first_conflict: str | None = None
    hlc = change.hlc
    for name, item in values.items():
        key = (entity, row_id, name)
        result, conflict_id = _decide(
            ingest, caller, change, key, item, seq, current_office or office
        )
        ingest.states[key] = ingest.dirty[key] = result
        settled[name] = result.value
        hlc = max(hlc, result.hlc)
        first_conflict = first_conflict or conflict_id
    new_office = settled["office"]
    moved_from = current_office if current_office not in (None, new_office) else None
    row = _State(settled, hlc, seq, caller.device_id, caller.username)
    ingest.log_entry((entity, row_id, WHOLE_ROW), row, moved_from or new_office, change_id)
    if moved_from is not None:
        ingest.relog_row(entity, row_id, new_office)
    _landed_refs(ingest, entity, row_id, change.value, values)
    status = _CONFLICT if first_conflict is not None else _ACCEPTED
    return Outcome(change_id=change_id, status=status, seq=seq, conflict_id=first_conflict)


def _settle(
    merge: Merge, current: _State, mine: _State, seen: Any = None, base: Any = None
) -> tuple[_State, _State | None]:
    """The value two concurrent edits of one field settle on, and the other side a conflict
    record keeps for a coordinator (None when nothing needs surfacing). ``seen`` and
    ``base``: what the pushing device saw when it made its edit (:func:`_last_sent`, else
    ``base``) and what the server held when it began (:func:`_base`); objects of
    ``review`` fields use them."""
    mine_newer = mine.hlc > current.hlc
    if merge is Merge.SET and isinstance(current.value, list) and isinstance(mine.value, list):
        union = list(dict.fromkeys([*current.value, *mine.value]))
        newest = mine if mine_newer else current
        # The union is nobody's own edit: owned by the server, so the pushing device's
        # next queued edit (made before it saw the other items) is merged again instead
        # of replacing the union as if it were that device's own earlier value.
        return _State(union, newest.hlc, 0, SERVER_DEVICE, mine.user_id), None
    if merge is Merge.REVIEW and isinstance(current.value, dict) and isinstance(mine.value, dict):
        return _settle_keys(current, mine, mine_newer, seen, base)
    if merge is Merge.FORWARD:
        old_rank, new_rank = _rank(current.value), _rank(mine.value)
        take_mine = new_rank > old_rank or (new_rank == old_rank and mine_newer)
        winner = mine if take_mine else current
        # Owned by the server for the same reason: the next queued edit of either device
        # was made without seeing the other's state, so it must not move back past it.
        return _State(winner.value, winner.hlc, 0, SERVER_DEVICE, winner.user_id), None
    winner, loser = (mine, current) if mine_newer else (current, mine)
    # review fields always surface; scalar identifiers (set class) cannot be unioned
    return winner, loser if merge in (Merge.REVIEW, Merge.SET) else None


def _settle_keys(
    current: _State, mine: _State, mine_newer: bool, seen: Any, base: Any
) -> tuple[_State, _State | None]:
    """Two concurrent edits of an object (a step's data) settle key by key, three ways.

    A key only one side holds, or both hold alike, is kept. A key the two hold differently
    takes the value of the side that changed it: the pushing edit did not change a key it
    holds as its device had it (``seen``), so a stale copy never overrides a colleague's
    correction; and nobody else changed a key the server still holds as it did when the
    edit began (``base``). A key both changed takes the newer stamp's value and surfaces:
    the conflict's other side differs from the applied one at those keys alone. (A key
    both set to the same value and one of them then changed again surfaces too: the
    server cannot tell that coincidence from a change.) Devices only ever add or change
    keys, so the union loses nobody's entry (docs/sync-protocol.md §5).
    """
    seen = seen if isinstance(seen, dict) else {}
    base = base if isinstance(base, dict) else {}
    newer, older = (mine, current) if mine_newer else (current, mine)
    merged = {**older.value, **newer.value}
    contested: dict[str, Any] = {}
    for name in older.value.keys() & newer.value.keys():
        if older.value[name] == newer.value[name]:
            continue
        if mine.value[name] == seen.get(name, _UNSET):  # this edit did not change it
            merged[name] = current.value[name]
        elif current.value[name] == base.get(name, _UNSET):  # nobody else changed it
            merged[name] = mine.value[name]
        else:
            contested[name] = older.value[name]
    if merged == mine.value:
        applied = mine
    elif merged == current.value:
        applied = current
    else:
        # The union is nobody's own edit: owned by the server (as a set field's union), so
        # either device's next queued edit, made without seeing the other's keys, is merged
        # again instead of replacing the union.
        applied = _State(merged, newer.hlc, 0, SERVER_DEVICE, newer.user_id)
    if not contested:
        return applied, None
    other = _State({**merged, **contested}, older.hlc, 0, older.device_id, older.user_id)
    return applied, other


_UNSET = object()  # a key the device did not see at all


def _side_json(state: _State) -> str:
    return dumps(
        {
            "value": state.value,
            "hlc": state.hlc,
            "device_id": state.device_id,
            "user_id": state.user_id,
        }
    )


# --- pull -------------------------------------------------------------------------------


# A page stops early once the values it read pass this many characters (``more`` stays
# true; the next page goes on from there). Its entries are read whole, superseded values
# too, and a ``json`` value is bounded only by the body limit: read up to ``limit`` alone,
# pages of a much-edited big step's data held gigabytes (a security test: 8 pulls at
# once, 1.9 GB). A page of ordinary case files reads about 250 characters a change.
PAGE_VALUE_CHARS = 16 * 1024 * 1024


def _read_page(conn: Connection, query: Select[Any], limit: int) -> tuple[list[Any], bool]:
    """The log entries of a page (``query`` asks for ``limit`` + 1) and whether more
    follow: read as they stream from the database, at most :data:`PAGE_VALUE_CHARS` of
    values past the first entry (which always goes, however big, so a pull moves on)."""
    found: list[Any] = []
    read = 0
    # this statement alone (options set on the connection would stay on it)
    result = conn.execute(query.execution_options(stream_results=True, max_row_buffer=2000))
    try:
        for entry in result:
            if len(found) == limit or (found and read > PAGE_VALUE_CHARS):
                return found, True
            found.append(entry)
            read += len(entry[4] or "")  # the value, by position (a name costs a lookup)
        return found, False
    finally:
        result.close()


@dataclass
class PulledPage:
    """A pull page already encoded as the JSON of :class:`sync.protocol.PullPage`."""

    body: bytes
    rows: int
    cursor: int


def pull(
    engine: Engine,
    caller: Caller,
    since: int,
    limit: int,
    form: int = 2,
    *,
    only: frozenset[str] | None = None,
    until: int | None = None,
) -> PulledPage:
    """One page of the log after ``since``, restricted to the caller's scope.

    ``only`` narrows it to some of the caller's offices (checked by the caller) and
    ``until`` to the log at or below that seq: a device catching up on offices its
    account gained asks for their log up to the cursor it had reached.

    The page is written as JSON here rather than through the response model: a row that
    appears once in the page as a whole row (the usual case for new rows) has its stored
    JSON spliced in as it is, instead of being parsed and encoded again. ``form`` 3 writes
    a :class:`sync.protocol.CompactPullPage`: rows as arrays, versions as differences, and
    no id for an audit event whose id its stamp gives; 4 adds creators, 5 stamp differences,
    6 the rows each merge moved, 7 the log's head.
    """
    with engine.connect().execution_options(sync_readonly=True) as conn:
        # the counter first: every change at or below it has committed (commit order =
        # seq order), so reading the log up to it can never skip a late commit
        high = read_counter(conn)
        if until is not None:
            high = min(high, until)
        offices = only if only is not None else None if caller.all_offices else caller.offices
        query = select(
            changes.c.seq,
            changes.c.entity,
            changes.c.row_id,
            changes.c.field,
            changes.c.value,
            changes.c.hlc,
            changes.c.user_id,
            changes.c.device_id,
        ).where(changes.c.seq > since, changes.c.seq <= high)
        if offices is not None:
            query = query.where(changes.c.office.in_(sorted(offices)))
        found, more = _read_page(conn, query.order_by(changes.c.seq).limit(limit + 1), limit)
        upper = found[-1].seq if more else max(high, since)
        rows: dict[tuple[str, str], _PageRow] = {}
        top_hlc: str | None = None
        own: set[tuple[str, str]] = set()  # rows whose insert the caller's device pushed
        # rows unpacked as tuples: a Row's attribute costs about 1 µs, nine per log entry
        for seq, entity, row_id, name, value, hlc, user_id, device_id in found:
            if form >= 4 and entity == AUDIT_ENTITY and _stored_creation_event(value):
                continue  # stored before protocol 3: form 4 devices derive it themselves
            key = (entity, row_id)
            row = rows.get(key)
            if row is None:
                row = rows[key] = _PageRow(entity, row_id, seq)
            row.add(name, value, hlc, user_id)
            row.version = seq
            if top_hlc is None or hlc > top_hlc:
                top_hlc = hlc
            if form < 4 and name == WHOLE_ROW and device_id == caller.device_id:
                own.add(key)
        # devices before protocol 3 (forms 2 and 3) cannot derive creation events
        listed_rows = _with_creation_events(conn, rows, own) if form < 4 else list(rows.values())
        merge_query = select(merges).where(merges.c.seq > since, merges.c.seq <= upper)
        conflict_query = select(conflicts).where(conflicts.c.seq > since, conflicts.c.seq <= upper)
        if offices is not None:
            merge_query = merge_query.where(merges.c.office.in_(sorted(offices)))
            conflict_query = conflict_query.where(conflicts.c.office.in_(sorted(offices)))
        merge_list = [
            _merge_record(m, form).model_dump_json(exclude_none=True)
            for m in conn.execute(merge_query.order_by(merges.c.seq))
        ]
        conflict_list = [
            _conflict_record(c).model_dump_json()
            for c in conn.execute(conflict_query.order_by(conflicts.c.seq))
        ]
    if form >= 3:
        parts: list[str] = []
        version = 0
        stamps = StampWriter() if form >= 5 else None
        for row in listed_rows:
            parts.append(row.compact(row.version - version, form, stamps))
            version = row.version
        body = f'{{"v":{form:d},"since":{since:d}'
        listed = ",".join(parts)
    else:
        body = f'{{"since":{since:d}'
        listed = ",".join(row.json() for row in listed_rows)
    body += f',"cursor":{upper:d},"more":{dumps(more)},"hlc":{dumps(top_hlc)},'
    if form >= HEAD_FORM:
        body += f'"head":{high:d},'
    body += (
        f'"rows":[{listed}],'
        f'"merges":[{",".join(merge_list)}],"conflicts":[{",".join(conflict_list)}]}}'
    )
    return PulledPage(body.encode("utf-8"), len(listed_rows), upper)


def _with_creation_events(
    conn: Connection, rows: dict[tuple[str, str], _PageRow], own: set[tuple[str, str]]
) -> list[_PageRow]:
    """The page's rows for a device before protocol 3 (pull forms 2 and 3), each row the
    page creates followed by its creation event, which such a device cannot derive.

    Left out: rows whose event a device stored before protocol 3 (``logged_creations``:
    that stored event is in the log and travels as a row) and rows the caller's own device
    pushed (it recorded the event itself, under its own stamp). The event is the one
    protocol 3 devices derive (:func:`creation_event`), so every device has the same.
    """
    created = [key for key, row in rows.items() if row.created is not None and key not in own]
    if not created:
        return list(rows.values())
    stored: set[tuple[str, str]] = set()
    _keyed_reads(conn)  # by key, whatever the size of the table
    for query, params in _matching(conn, _LOGGED_CREATIONS, (row_id for _e, row_id in created)):
        stored.update((entity, row_id) for entity, row_id in conn.execute(query, params))
    derive = set(created) - stored
    listed: list[_PageRow] = []
    for key, row in rows.items():
        listed.append(row)
        if key in derive and row.created is not None:
            stamp, user = row.created
            values = loads(row.raw) if row.raw is not None else row.values
            event = creation_event(row.entity, row.row_id, values.get("office"), stamp, user)
            event_row = _PageRow(AUDIT_ENTITY, str(event.pop("id")), row.version)
            if (AUDIT_ENTITY, event_row.row_id) not in rows:
                event_row.raw, event_row.stamp = dumps(event), stamp
                listed.append(event_row)
    return listed


def _stored_creation_event(text: str | None) -> bool:
    """Whether a logged audit event is a creation event a device before protocol 3 sent."""
    if text is None or '.created"' not in text:  # most are not: no need to parse them
        return False
    values = loads(text)
    return isinstance(values, dict) and is_creation_event(values)


class _PageRow:
    """One row of a pull page: the newest value of each of its fields in the page."""

    def __init__(self, entity: str, row_id: str, version: int) -> None:
        self.entity = entity
        self.row_id = row_id
        self.version = version
        self.values: dict[str, Any] = {}
        self.raw: str | None = None  # the stored JSON object, while it is the only entry
        self.stamp: str | None = None  # the stamp of that entry
        # the row's insert is in the page: its stamp and the account that pushed it
        self.created: tuple[str, str] | None = None

    def add(
        self, field: str, text: str | None, stamp: str | None = None, user: str | None = None
    ) -> None:
        if (
            field == WHOLE_ROW
            and self.created is None
            and stamp is not None
            and user is not None
            and self.entity != AUDIT_ENTITY
        ):
            self.created = (stamp, user)
        if field == WHOLE_ROW and text is not None and not self.values and self.raw is None:
            self.raw, self.stamp = text, stamp
            return
        if self.raw is not None:
            self.values = loads(self.raw)
            self.raw = None
        loaded = loads(text) if text is not None else None
        if field == WHOLE_ROW and isinstance(loaded, dict):
            self.values.update(loaded)
        else:
            self.values[field] = loaded

    def values_json(self) -> str:
        """The row's values as JSON: the stored text itself while it is the only entry."""
        return self.raw if self.raw is not None else dumps(self.values)

    def json(self) -> str:
        values = self.values_json()
        return (
            f'{{"entity":{dumps(self.entity)},"id":{dumps(self.row_id)},'
            f'"version":{self.version:d},"values":{values}}}'
        )

    def compact(self, delta: int, form: int = 3, stamps: StampWriter | None = None) -> str:
        """The row as a form 3, 4 or 5 array, its version given as ``delta`` from the row before.

        Form 4 adds the creator of a row the page creates (and gives its insert's stamp);
        form 5 writes stamps through ``stamps``, as differences where it can.
        """
        write = stamps.json if stamps is not None else dumps
        values = self.values_json()
        stamp = self.stamp if self.raw is not None else None
        tail = ",null" if form >= 4 else ""
        if (
            stamp is not None
            and self.entity == AUDIT_ENTITY
            and self.row_id == audit_event_id(stamp)
        ):
            return f"[{dumps(self.entity)},null,{delta:d},{values},{write(stamp)}{tail}]"
        if form >= 4 and self.created is not None:
            created, creator = self.created
            return (
                f"[{dumps(self.entity)},{dumps(self.row_id)},{delta:d},{values},"
                f"{write(created)},{dumps(creator)}]"
            )
        return f"[{dumps(self.entity)},{dumps(self.row_id)},{delta:d},{values},null{tail}]"


def _landed_refs(
    ingest: _Ingest, entity: str, row_id: str, sent: dict[str, Any], values: dict[str, Any]
) -> None:
    """A whole row's references to merged-away rows, written to the ones kept."""
    if ingest.redirect:
        for name in _REF_FIELDS[entity]:
            ingest.landed(entity, row_id, name, sent.get(name), values.get(name))


def _merge_record(row: Any, form: int = 2) -> MergeRecord:
    """A row of ``merges`` as the record ``form`` writes: from form 6 (MOVED_FORM) on with
    the rows the merge moved, which devices before it would refuse as an unknown key. The
    caller writes it without null members, so ``moved`` is left out where it is None."""
    return MergeRecord(
        id=row.id,
        seq=row.seq,
        entity=row.entity,
        source_id=row.source_id,
        target_id=row.target_id,
        office=row.office,
        merged_by=row.merged_by,
        undone=bool(row.undone),
        moved=loads(row.moved) if form >= MOVED_FORM and row.moved is not None else None,
    )


def _conflict_record(row: Any) -> ConflictRecord:
    return ConflictRecord(
        id=row.id,
        seq=row.seq,
        entity=row.entity,
        row_id=row.row_id,
        field=row.field,
        office=row.office,
        applied=Side.model_validate_json(row.applied),
        other=Side.model_validate_json(row.other),
        status=row.status,
        resolved_by=row.resolved_by,
    )


# --- merges and conflict resolution -----------------------------------------------------


def _require_coordinator(caller: Caller) -> None:
    if caller.role not in (Role.COORDINATOR, Role.ADMIN):
        raise ApiError(403, Errno.ROLE_FORBIDDEN, "only a coordinator may do this")


def merge(
    engine: Engine, clock: HybridClock, caller: Caller, request: MergeRequest, form: int = 2
) -> MergeRecord:
    """Record "B merged into A"; later edits to B land on A on the server.

    What hangs from B (its names, documents, employments, contribution months, cases,
    consents, attachments and notes; a case's tracks, attachments and notes) is moved onto
    A in the same transaction, by server-made changes that travel to devices like any
    other, and listed in the merge record so that undo can move it back. The record is
    returned as ``form`` writes it (:func:`_merge_record`).
    """
    _require_coordinator(caller)
    if request.source_id == request.target_id:
        raise ApiError(400, Errno.MERGE_INVALID, "a row cannot be merged into itself")
    try:
        return _merge(engine, clock, caller, request, form)
    except IntegrityError:
        if request.id is None:
            raise
        # the same id made by another request in the same moment (two laptops of one
        # account making a lost merge again): its record, once it is committed
        return _merge(engine, clock, caller, request, form)


def _merge(
    engine: Engine, clock: HybridClock, caller: Caller, request: MergeRequest, form: int
) -> MergeRecord:
    """:func:`merge` in one transaction; a merge already made under ``request.id``, or
    B standing merged into A already, is answered as it stands."""
    source, target = str(request.source_id), str(request.target_id)
    with engine.begin() as conn:
        if request.id is not None:
            made = conn.execute(select(merges).where(merges.c.id == str(request.id))).first()
            if made is not None:  # the same request again: what it made
                if (made.entity, made.source_id, made.target_id) != (
                    request.entity,
                    source,
                    target,
                ):
                    raise ApiError(409, Errno.MERGE_INVALID, "the merge id names another merge")
                if not caller.may(made.office):
                    raise ApiError(403, Errno.OUT_OF_SCOPE, "merge outside your scope")
                return _merge_record(made, form)
        ingest = _Ingest(conn, clock)
        ingest.load({source, target})
        for row in (source, target):
            office = ingest.office_of(request.entity, row)
            if office is None:
                raise ApiError(404, Errno.NOT_FOUND, "no such row", row_id=row)
            if not caller.may(office):
                raise ApiError(403, Errno.OUT_OF_SCOPE, "row outside your scope")
        if _redirects(conn, {target, source}):
            standing = conn.execute(
                select(merges).where(
                    merges.c.source_id == source,
                    merges.c.entity == request.entity,
                    merges.c.undone.is_(False),
                )
            ).first()
            if standing is not None and standing.target_id == target:
                # asked again (a laptop that lost the answer, another coordinator): made
                return _merge_record(standing, form)
            raise ApiError(400, Errno.MERGE_INVALID, "one of the rows is already merged")
        office = ingest.office_of(request.entity, target) or ""
        children = _children(conn, request.entity, source, ingest.office_of(request.entity, source))
        own = _children(conn, request.entity, target, office)
        ingest.load({source, target} | {row_id for _entity, row_id in children | own})
        seq = ingest.next_seq()
        hanging = _children_pointing(ingest, caller, request.entity, children, source)
        repeats = _repeats(
            ingest, hanging, _children_pointing(ingest, caller, request.entity, own, target)
        )
        # everything moves to A; a row that repeats one of A's is retired there as well
        moved = [[entity, row_id, name] for entity, row_id, name in hanging]
        moved += [[entity, row_id, RETIRED] for entity, row_id in sorted(repeats)]
        record = {
            "id": str(request.id or uuid.uuid4()),
            "seq": seq,
            "entity": request.entity,
            "source_id": source,
            "target_id": target,
            "office": office,
            "merged_by": caller.username,
            "undone": False,
            "created_at": ingest.now,
            "moved": dumps(moved),
        }
        conn.execute(merges.insert().values(**record))
        ingest.server_value(caller, request.entity, source, "merged_into", target)
        for entity, row_id, name in moved:
            if name == RETIRED:
                ingest.server_value(caller, entity, row_id, RETIRED, True)
            else:
                _point(ingest, caller, entity, row_id, name, target)
        ingest.flush()
    return _merge_record(_Row(record), form)


# What makes two rows hanging from one person the same row: a person merged into another
# often brings the very passport, or the very name, the other already has. Such a row
# moves to A like the rest and is retired there (tombstoned, which undo reverses) rather
# than listed twice in A's case file, if it holds nothing A's row lacks: every other
# field empty or equal. (An edit that crosses the retirement leaves a conflict on
# ``deleted``; flipping it shows the row on A.)
SAME_ROW: dict[str, tuple[str, ...]] = {
    "identity_document": ("kind", "number"),
    "person_name": ("kind", "full_name"),
}
# A merge record names a row it retired rather than moved by the tombstone pseudo-field.
RETIRED = DELETED_FIELD


def _repeats(
    ingest: _Ingest, hanging: list[tuple[str, str, str]], own: list[tuple[str, str, str]]
) -> set[tuple[str, str]]:
    """(entity, row id) of the rows hanging from B that repeat a live row hanging from A."""
    found: set[tuple[str, str]] = set()
    for entity, row_id, _name in hanging:
        key = SAME_ROW.get(entity)
        if key is None or _value(ingest, entity, row_id, RETIRED):
            continue
        values = _fields(ingest, entity, row_id)
        if any(values.get(field) in (None, "") for field in key):
            continue
        for other_entity, other_id, _other_name in own:
            if other_entity != entity or _value(ingest, entity, other_id, RETIRED):
                continue
            theirs = _fields(ingest, entity, other_id)
            if all(value in (None, "", theirs.get(field)) for field, value in values.items()):
                found.add((entity, row_id))
                break
    return found


def _fields(ingest: _Ingest, entity: str, row_id: str) -> dict[str, Any]:
    """A row's catalogue fields but its references and office (which differ by nature)."""
    return {
        name: _value(ingest, entity, row_id, name)
        for name, spec in ENTITIES[entity].fields.items()
        if spec.type is not FieldType.REF and name != "office"
    }


def _value(ingest: _Ingest, entity: str, row_id: str, name: str) -> Any:
    state = ingest.state((entity, row_id, name))
    return state.value if state is not None else None


def _children(
    conn: Connection, entity: str, parent: str, office: str | None
) -> set[tuple[str, str]]:
    """Rows of ``office`` whose log ever named ``parent`` in a field that can hang from it.

    The log is searched, not the state: it is indexed by office, and a merge is rare. The
    text match only narrows the search; :func:`_children_pointing` checks the current value.
    """
    pairs = _CHILDREN[entity]
    if office is None or not pairs:
        return set()
    fields = sorted({name for _entity, name in pairs} | {WHOLE_ROW})
    query = (
        select(changes.c.entity, changes.c.row_id)
        .where(
            changes.c.office == office,
            changes.c.entity.in_(sorted({e for e, _name in pairs})),
            changes.c.field.in_(fields),
            changes.c.value.contains(dumps(parent), autoescape=True),
        )
        .distinct()
    )
    return {(row.entity, row.row_id) for row in conn.execute(query)}


def _children_pointing(
    ingest: _Ingest, caller: Caller, kind: str, rows: set[tuple[str, str]], parent: str
) -> list[tuple[str, str, str]]:
    """(entity, row id, field) of the loaded ``rows`` whose field that hangs from a
    ``kind`` row names ``parent`` now, in the caller's scope."""
    found: list[tuple[str, str, str]] = []
    for entity, row_id in sorted(rows):
        office = ingest.office_of(entity, row_id)
        if office is None or not caller.may(office):
            continue
        for child_entity, name in _CHILDREN[kind]:
            if child_entity == entity and _pointed(ingest, entity, row_id, name) == parent:
                found.append((entity, row_id, name))
    return found


def _pointed(ingest: _Ingest, entity: str, row_id: str, name: str) -> Any:
    """The row id the field ``name`` of a row names now (inside the whole row of an
    append-only entity)."""
    if ENTITIES[entity].append_only:
        whole = ingest.state((entity, row_id, WHOLE_ROW))
        return whole.value.get(name) if whole is not None else None
    return _value(ingest, entity, row_id, name)


def _point(ingest: _Ingest, caller: Caller, entity: str, row_id: str, name: str, to: str) -> None:
    """Make the field ``name`` of a row name ``to``: a server-made change. An append-only
    row (a note) is logged whole again, since its fields are never edited one by one."""
    if ENTITIES[entity].append_only:
        whole = ingest.state((entity, row_id, WHOLE_ROW))
        assert whole is not None
        ingest.server_value(caller, entity, row_id, WHOLE_ROW, {**whole.value, name: to})
    else:
        ingest.server_value(caller, entity, row_id, name, to)


def undo_merge(
    engine: Engine, clock: HybridClock, caller: Caller, merge_id: str, form: int = 2
) -> MergeRecord:
    """Undo a merge: B stands on its own again and edits to B land on B.

    The rows the merge moved onto A go back to B, unless someone has pointed them
    elsewhere since, and so do the rows pushed naming B while it stood (made for B by a
    device that had not learned of the merge, they landed on A). The record keeps the
    merge's ``moved`` list, returned as ``form`` writes it.
    """
    _require_coordinator(caller)
    with engine.begin() as conn:
        ingest = _Ingest(conn, clock)
        row = conn.execute(select(merges).where(merges.c.id == merge_id)).first()
        if row is None or row.undone:
            raise ApiError(404, Errno.NOT_FOUND, "no such active merge")
        if not caller.may(row.office):
            raise ApiError(403, Errno.OUT_OF_SCOPE, "merge outside your scope")
        moved = [(e, r, f) for e, r, f in loads(row.moved)] if row.moved else []
        moved += sorted(_landed_on(conn, [row.id]).get(row.id, set()) - set(moved))
        ingest.load({row.source_id} | {row_id for _entity, row_id, _name in moved})
        # B's office too, as the merge needed it: a coordinator holding A's alone made B
        # stand again while the rows the merge moved from B's office stayed on A
        if not caller.may(ingest.office_of(row.entity, row.source_id)):
            raise ApiError(403, Errno.OUT_OF_SCOPE, "the merged-away row is outside your scope")
        back = [key for key in moved if _goes_back(ingest, *key, row.target_id)]
        later = _built_on(conn, row, moved, {row_id for _entity, row_id, _name in back})
        if later:
            raise ApiError(
                409,
                Errno.MERGE_UNDER_LATER,
                "later merges build on this one: undo them first",
                merges=later,
            )
        seq = ingest.next_seq()
        conn.execute(merges.update().where(merges.c.id == merge_id).values(undone=True, seq=seq))
        ingest.server_value(caller, row.entity, row.source_id, "merged_into", None)
        for entity, row_id, name in back:
            office = ingest.office_of(entity, row_id)
            if office is None or not caller.may(office):
                continue
            if name == RETIRED:  # a row the merge retired as a repeat comes back
                ingest.server_value(caller, entity, row_id, RETIRED, False)
            else:
                _point(ingest, caller, entity, row_id, name, row.source_id)
        ingest.flush()
        record = dict(row._mapping) | {"undone": True, "seq": seq}
    return _merge_record(_Row(record), form)


def _landed_on(conn: Connection, merge_ids: list[str]) -> dict[str, set[tuple[str, str, str]]]:
    """Merge id -> the (entity, row id, field) pushed naming its B and rewritten to A."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for query, params in _matching(conn, _MERGE_REDIRECTS, merge_ids):
        for r in conn.execute(query, params):
            found.setdefault(r.merge_id, set()).add((r.entity, r.row_id, r.field))
    return found


def _goes_back(ingest: _Ingest, entity: str, row_id: str, name: str, target: str) -> bool:
    """Whether an undo acts on what its merge moved: a reference that still names A (not
    pointed elsewhere since), a repeat still retired."""
    if name == RETIRED:
        return bool(_value(ingest, entity, row_id, RETIRED))
    return bool(_pointed(ingest, entity, row_id, name) == target)


def _built_on(
    conn: Connection, merge: Any, moved: list[tuple[str, str, str]], rows: set[str]
) -> list[str]:
    """The ids of the merges in force, made after ``merge``, that undoing it would leave
    half standing, newest first; ``rows`` are the moved rows the undo sends back.

    One moved on from A a row this merge moved, by the same reference (A merged on into C
    takes B's names with it; a row moved onto A and pointed elsewhere since, perhaps at a
    person another merge then took, is this merge's no longer); or it merged one of the
    rows this merge moved with a row it did not (B's case, now A's, merged into a case of
    A's: undone, the person merge would give B back a case hidden in A's; one pointed at
    another person since stays there, and its merges are not this merge's). A case merge
    between two of B's own cases goes back with B as it stands, and blocks nothing. A row
    pushed naming a merge's B while it stood counts as moved by it (:func:`_landed_on`).
    """
    if not moved:
        return []
    references = {(entity, row_id, name) for entity, row_id, name in moved}
    query = (
        select(merges.c.id, merges.c.source_id, merges.c.target_id, merges.c.moved)
        .where(merges.c.undone.is_(False), merges.c.seq > merge.seq)
        .order_by(merges.c.seq.desc())
    )
    found = []
    candidates = conn.execute(query).all()
    landed = _landed_on(conn, [later.id for later in candidates])
    for later in candidates:
        theirs = {tuple(entry) for entry in loads(later.moved)} if later.moved else set()
        theirs |= landed.get(later.id, set())
        onward = later.source_id == merge.target_id and bool(theirs & references)
        if onward or (later.source_id in rows) != (later.target_id in rows):
            found.append(later.id)
    return found


def resolve_conflict(
    engine: Engine, clock: HybridClock, caller: Caller, conflict_id: str, flip: bool
) -> ConflictRecord:
    """A coordinator confirms the applied value or flips to the other one.

    A flip is an edit made now: on a person or case merged into another since, it lands
    on the one kept, as every edit to a merged-away row does (and devices name such a
    conflict by the person kept).
    """
    _require_coordinator(caller)
    with engine.begin() as conn:
        ingest = _Ingest(conn, clock)
        row = conn.execute(select(conflicts).where(conflicts.c.id == conflict_id)).first()
        if row is None:
            raise ApiError(404, Errno.NOT_FOUND, "no such conflict")
        if not caller.may(row.office):
            raise ApiError(403, Errno.OUT_OF_SCOPE, "conflict outside your scope")
        if row.status != "open":
            raise ApiError(409, Errno.ALREADY_RESOLVED, "the conflict was already resolved")
        if flip:
            target = row.row_id
            if row.entity in MERGEABLE:  # a person or a case: perhaps merged since
                target = _redirects(conn, {row.row_id}).get(row.row_id, row.row_id)
            ingest.load({target})
            # where the value goes now: the row the conflict's row was merged into since,
            # or the row itself moved to another office, may lie outside the caller's
            # scope (the record stays in the office it was made in)
            if not caller.may(ingest.office_of(row.entity, target)):
                raise ApiError(
                    403, Errno.OUT_OF_SCOPE, "the row is now in an office outside your scope"
                )
            value = _flipped(
                loads(row.applied)["value"],
                loads(row.other)["value"],
                ingest.state((row.entity, target, row.field)),
            )
            ingest.server_value(caller, row.entity, target, row.field, value)
        seq = ingest.next_seq()
        status = "flipped" if flip else "confirmed"
        conn.execute(
            conflicts.update()
            .where(conflicts.c.id == conflict_id)
            .values(status=status, seq=seq, resolved_by=caller.username)
        )
        ingest.flush()
        record = dict(row._mapping) | {"status": status, "seq": seq, "resolved_by": caller.username}
    return _conflict_record(_Row(record))


def _flipped(applied: Any, other: Any, now: _State | None) -> Any:
    """The value a flip sets: the other side's; for an object (a step's data) only the keys
    where the two sides differ, over the object as it stands now, so that keys added since
    the conflict are not taken back."""
    if not (isinstance(applied, dict) and isinstance(other, dict)):
        return other
    current = now.value if now is not None else None
    base = current if isinstance(current, dict) else applied
    return {**base, **{k: v for k, v in other.items() if applied.get(k) != v}}


def list_conflicts(engine: Engine, caller: Caller, status: str | None) -> list[ConflictRecord]:
    query = select(conflicts).order_by(conflicts.c.seq)
    if status:
        query = query.where(conflicts.c.status == status)
    if not caller.all_offices:
        query = query.where(conflicts.c.office.in_(sorted(caller.offices)))
    with engine.connect().execution_options(sync_readonly=True) as conn:
        return [_conflict_record(r) for r in conn.execute(query)]


class _Row:
    """Attribute access over a plain dict, shaped like a result row."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)
