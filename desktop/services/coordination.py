"""What a coordinator does from the app or the CLI: settle conflicts, merge duplicates.

Two caseworkers who edit the same ``review`` field offline leave a *conflict* on the
server: the value in force and the one that lost. Two caseworkers who meet the same
worker in different places make two *people* for one person. A coordinator settles both,
on the server, which is their source of truth (``sync/server/ingest.py``):

- :func:`resolve_conflict` keeps the value in force or puts the other one in force;
- :func:`duplicate_people` lists pairs of people on this device who are probably one
  person (the same identity document, or the same name and birth date);
- :func:`merge` merges person (or case) B into A, :func:`undo_merge` undoes it.

Each call needs the server: a coordinator cannot merge offline, because a merge moves rows
that other devices may be editing, and the server orders it among their changes. The
record the server returns is kept on this device at once (the Sync page and the merge list
show it); the rows it changed arrive with the next sync, like any other change. Only
coordinators and admins may do any of this; the server refuses everyone else (errno 121),
and the app hides the buttons from accounts it knows are not coordinators.

No Qt here: the UI calls these functions through its operation helper, off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from desktop.domain import catalogue, i18n, text, workflow
from desktop.domain.errors import UserError
from desktop.domain.hlc import Stamp
from desktop.models.base import listed, synced_classes
from desktop.models.entities import Case, IdentityDocument, Person, PersonName
from desktop.models.recorder import value_now
from desktop.models.secret_store import SecretStore
from desktop.models.store import Store
from desktop.models.sync_records import SyncConflict, SyncMerge
from desktop.services import cases, row_context, search
from desktop.services import sync as core
from desktop.services.sync_view import HttpFactory, default_http, device_session, quick_http
from sync import protocol as p
from sync.client.http import (
    ServerChanged,
    ServerUnreachable,
    SyncClient,
    SyncHttpError,
    may_have_arrived,
)

T = TypeVar("T")
# The account's role is kept at registration (core.ROLE_SETTING), refreshed by
# :func:`refresh_role`.
ROLE_SETTING = core.ROLE_SETTING
COORDINATING_ROLES = frozenset({p.Role.COORDINATOR.value, p.Role.ADMIN.value})
# A name shorter than this (after folding) is too common to call two people one.
MIN_NAME_LENGTH = 4
# How many pairs a list offers at once: merging them brings up the next ones.
MAX_PAIRS = 500
# A name and full birth date shared by more people than this is a common name with a
# stand-in date (an unknown birth date is often written as 1 January), not one person
# recorded again and again: such groups are not offered as duplicates.
MAX_NAME_GROUP = 4


# --- who may coordinate -----------------------------------------------------------------


def account_role(store: Store) -> str | None:
    """The role of the account this device is registered under, as last heard."""
    role = store.setting(ROLE_SETTING, None)
    return str(role) if role else None


def may_coordinate(store: Store) -> bool:
    """True when the account is known to be a coordinator or an admin."""
    return account_role(store) in COORDINATING_ROLES


def ask_role(
    store: Store, http_factory: HttpFactory = quick_http, secrets: SecretStore | None = None
) -> str | None:
    """The account's role as the server says it now (an admin may have changed it); None
    offline, unregistered, or when the server does not answer."""
    try:
        with device_session(store, http_factory, secrets) as client:
            return client.me().role.value
    except (UserError, ServerUnreachable, SyncHttpError):
        return None


def keep_role(store: Store, role: str | None) -> None:
    """Keep the account's role as last heard (None: no longer known)."""
    store.set_setting(ROLE_SETTING, role)


def refresh_role(
    store: Store, http_factory: HttpFactory = quick_http, secrets: SecretStore | None = None
) -> str | None:
    """Ask the server for the account's role and keep it; offline, the role last heard
    stays. Returns the role kept."""
    role = ask_role(store, http_factory, secrets)
    if role is not None:
        keep_role(store, role)
    return account_role(store)


def check_id(value: str, name: str = "id") -> str:
    """``value`` if it could name a row, conflict or merge (canonical UUID text, as ids are
    given out); else a clear error, before anything is asked of the server."""
    if re.fullmatch(p.UUID_PATTERN, value) is None:
        raise UserError("coordination.bad_id", name=name, value=value)
    return value


# --- conflicts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One value of a conflict: as text, who set it and when (UTC, from its stamp)."""

    value: str
    by: str
    at: dt.datetime | None
    # of an object (a step's data): the entries in dispute, (name, value as text)
    entries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Conflict:
    """A concurrent same-field edit, with what a coordinator needs to decide it."""

    id: str
    entity: str
    field: str
    row_id: str
    applied: Side  # the value in force when the conflict was found
    other: Side  # the value that lost then
    status: str  # open | confirmed | flipped
    resolved_by: str | None
    person_id: str | None  # whose case file the row belongs to (none: an employer's)
    person_name: str
    case_number: str
    case_id: str | None = None  # the case file to open to see the row in its context
    place: row_context.Place = row_context.NOWHERE  # where that case file shows it
    named_in: int = 0  # an employer: the case files naming it (row_context.Owner)
    # of an open conflict, the value this device holds now when a later edit or conflict
    # changed it since (None when it is still the value in force, or the row is not held
    # here): keeping "the value in force" keeps this one. Not of a settled one, whose
    # flipped value reaches the row only with the next sync.
    now: Side | None = None

    @property
    def what(self) -> str:
        return f"{self.entity}.{self.field}"

    @property
    def in_force(self) -> Side:
        """The value in force now: the other one once a coordinator flipped it."""
        return self.other if self.status == "flipped" else self.applied

    @property
    def set_aside(self) -> Side:
        """The value not in force now."""
        return self.applied if self.status == "flipped" else self.other

    @property
    def is_date(self) -> bool:
        """True when both values are dates (a list shows them as dates, not ISO text)."""
        return self.field_type in _DATE_TYPES

    @property
    def field_type(self) -> catalogue.FieldType | None:
        """The type of the field in dispute (a deletion's is a flag)."""
        if self.field == catalogue.TOMBSTONE_FIELD:
            return catalogue.FieldType.BOOL
        spec = catalogue.ENTITIES.get(self.entity)
        found = spec.fields.get(self.field) if spec else None
        return found.type if found is not None else None


def conflicts(store: Store, status: str | None = "open", limit: int = 200) -> list[Conflict]:
    """Conflicts kept from pulls (``status`` None: all), newest first, each with the
    person and case its row belongs to on this device."""
    with store.read() as session:
        query = select(SyncConflict).order_by(SyncConflict.seq.desc()).limit(limit)
        if status is not None:
            query = query.where(SyncConflict.status == status)
        rows = list(session.scalars(query))
        owners = row_context.owners(session, [(r.entity, r.row_id) for r in rows])
        held = _values_now(session, rows)
        found = []
        for r in rows:
            owner = owners[(r.entity, r.row_id)]
            applied, other = _disputed(r.applied.get("value"), r.other.get("value"))
            now = held.get((r.entity, r.row_id, r.field), _NOT_HELD)
            found.append(
                Conflict(
                    id=r.id,
                    entity=r.entity,
                    field=r.field,
                    row_id=r.row_id,
                    applied=_side(r.applied, applied),
                    other=_side(r.other, other),
                    status=r.status,
                    resolved_by=r.resolved_by,
                    person_id=owner.person_id,
                    person_name=owner.person_name,
                    case_number=owner.case_number,
                    case_id=owner.case_id,
                    place=owner.place,
                    named_in=owner.named_in,
                    now=_changed_since(now, applied, other) if r.status == "open" else None,
                )
            )
    return found


def reason_text(
    pair: DuplicatePair, translate: Callable[..., str], show_date: Callable[[str], str] = str
) -> str:
    """Why two people look like one, in the reader's language; the shared birth date
    through ``show_date`` (the UI's Buddhist Era), as the pair's people show it."""
    if pair.reason == "document":
        detail = document_text(pair.detail, translate)
    else:
        detail = show_date(pair.detail)
    return translate(f"coordination.reason.{pair.reason}", detail=detail)


def document_text(document: str, translate: Callable[..., str]) -> str:
    """A ``kind:number`` document of a :class:`~desktop.services.search.PersonSummary` as
    a person reads it ("Passport MA1234567"); a kind without a label stays as it is."""
    kind, _colon, number = document.partition(":")
    key = f"ui.document_kind.{kind}"
    return f"{translate(key)} {number}" if i18n.has(key) else document


def value_text(value: Any) -> str:
    """A field's value as a person reads it (JSON for lists and step data)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _disputed(applied: Any, other: Any) -> tuple[Any, Any]:
    """Both sides' values; of two objects (a step's data, settled key by key) only the
    entries where they differ, which is all a coordinator decides on."""
    if not (isinstance(applied, dict) and isinstance(other, dict)):
        return applied, other
    keys = [k for k in {**applied, **other} if applied.get(k) != other.get(k)]
    return (
        {k: applied[k] for k in keys if k in applied},
        {k: other[k] for k in keys if k in other},
    )


_NOT_HELD = object()


def _values_now(session: Session, rows: list[SyncConflict]) -> dict[tuple[str, str, str], Any]:
    """The value each conflict's field holds on this device now, as the wire writes it;
    the rows this device does not hold are left out."""
    classes = synced_classes()
    wanted: dict[str, set[str]] = {}
    for r in rows:
        wanted.setdefault(r.entity, set()).add(r.row_id)
    held: dict[tuple[str, str], Any] = {}
    for entity, ids in wanted.items():  # one read an entity, not one a conflict
        cls = classes.get(entity)
        if cls is not None:
            for obj in session.scalars(select(cls).where(cls.id.in_(listed(ids)))):
                held[(entity, obj.id)] = obj
    found: dict[tuple[str, str, str], Any] = {}
    for r in rows:
        row = held.get((r.entity, r.row_id))
        value = value_now(row, r.field) if row is not None else None
        if value is not None:
            found[(r.entity, r.row_id, r.field)] = json.loads(value)
    return found


def _changed_since(now: Any, in_force: Any, set_aside: Any) -> Side | None:
    """The value held now as a side (of an object, the entries in dispute), when it is
    no longer the value in force (``in_force`` and ``set_aside`` as :func:`_disputed`
    gives them); None when it still is, or when the row is not held."""
    if now is _NOT_HELD:
        return None
    if isinstance(now, dict) and isinstance(in_force, dict) and isinstance(set_aside, dict):
        now = {k: now[k] for k in {**in_force, **set_aside} if k in now}
        if not now:  # none of the entries in dispute held here: nothing to say
            return None
    if now == in_force:
        return None
    return _side({}, now)


def _side(side: dict[str, Any], value: Any) -> Side:
    try:
        millis = Stamp.parse(str(side.get("hlc", ""))).wall
        at: dt.datetime | None = dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
    except (ValueError, OverflowError, OSError):
        at = None
    entries = (
        tuple((str(k), value_text(v)) for k, v in value.items()) if isinstance(value, dict) else ()
    )
    return Side(value_text(value), str(side.get("user_id", "")), at, entries)


_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def side_text(
    conflict: Conflict,
    side: Side,
    translate: Callable[..., str],
    show_date: Callable[[str], str] = str,
) -> str:
    """A side's value as a person reads it: dates through ``show_date`` (the UI's Buddhist
    Era), a step's or track's state and a case's status by their names in the reader's
    language, and a step's data as its
    entries, each named by the step field it fills
    ("Hospital: Tak"); an entry no workflow names keeps its stored name."""
    if not side.entries:
        if conflict.field_type is catalogue.FieldType.BOOL and side.value in ("true", "false"):
            if conflict.field == catalogue.TOMBSTONE_FIELD:  # "removed", "not removed"
                return translate(f"coordination.deleted.{side.value}")
            return translate("ui.yes" if side.value == "true" else "ui.no")
        prefix = _STATE_NAMES.get((conflict.entity, conflict.field))
        if prefix is not None and i18n.has(prefix + side.value):
            return translate(prefix + side.value)  # "Submitted", not "submitted"
        return show_date(side.value) if conflict.is_date else side.value
    return "; ".join(
        f"{_entry_label(name, translate)}: {show_date(v) if _FULL_DATE.fullmatch(v) else v}"
        for name, v in side.entries
    )


# The fields whose values are states, and the catalogue keys that name them.
_STATE_NAMES = {
    ("step", "state"): "ui.step_state.",
    ("track", "state"): "ui.step_state.",
    ("case", "status"): "ui.case_status.",
}


def _entry_label(name: str, translate: Callable[..., str]) -> str:
    key = workflow.label_key("field", name)
    return translate(key) if i18n.has(key) else name


_DATE_TYPES = frozenset(
    {catalogue.FieldType.DATE, catalogue.FieldType.PARTIAL_DATE, catalogue.FieldType.MONTH}
)


def resolve_conflict(
    store: Store,
    conflict_id: str,
    keep_other: bool,
    http_factory: HttpFactory = default_http,
    secrets: SecretStore | None = None,
) -> str:
    """Keep the value in force (``keep_other`` False) or put the other one in force.

    Returns the conflict's new status (``confirmed`` or ``flipped``). The server's record
    is kept here at once; a flipped value reaches this device's row with the next sync.
    """
    check_id(conflict_id, "conflict")
    with device_session(store, http_factory, secrets) as client:
        record = _asking(store, client, lambda: client.resolve(conflict_id, keep_other))
    with store.remote_session() as session:
        core.keep_records(session, conflicts=[record])
    return record.status


# --- duplicates -------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePair:
    """Two people who are probably one: ``reason`` is ``document`` (the same kind and
    number of identity document) or ``name_birth_date``; ``detail`` says which."""

    first: search.PersonSummary
    second: search.PersonSummary
    reason: str
    detail: str


def duplicate_people(store: Store, limit: int = MAX_PAIRS) -> list[DuplicatePair]:
    """Pairs of live, unmerged people on this device who are probably one person.

    The same identity document (kind and number) makes a pair; so does the same name
    (folded as search folds it: case, spaces, Latin accents) with the same full birth
    date, unless more than :data:`MAX_NAME_GROUP` people share them. A pair whose merge a
    coordinator undid is not offered again: the undo said they are two people. Pairs
    sharing a document come first; at most ``limit`` pairs. Within a pair, the older
    person first by id (ids are time-ordered).
    """
    with store.read() as session:
        live = (
            select(Person.id)
            .where(
                Person.deleted.is_(False),
                Person.merged_into.is_(None),
                Person.id.not_in(_merged_away("person")),
            )
            .scalar_subquery()
        )
        by_key: dict[tuple[str, str], set[str]] = {}
        for kind, number, person_id in session.execute(
            select(IdentityDocument.kind, IdentityDocument.number, IdentityDocument.person_id)
            .where(
                IdentityDocument.deleted.is_(False),
                IdentityDocument.number.in_(_shared_numbers(live)),
                IdentityDocument.person_id.in_(live),
            )
            .order_by(IdentityDocument.number)
        ):
            by_key.setdefault(("document", f"{kind}:{number}"), set()).add(person_id)
        for name, birth, person_id in session.execute(
            select(PersonName.full_name, Person.birth_date, Person.id)
            .join(Person, Person.id == PersonName.person_id)
            .where(
                PersonName.deleted.is_(False),
                Person.id.in_(live),
                func.length(Person.birth_date) == 10,  # a full date, not a year or month
            )
        ):
            for folded in text.name_forms(name or ""):  # a Zawgyi name meets its Unicode
                if len(folded.replace(" ", "")) >= MIN_NAME_LENGTH:
                    named = ("name_birth_date", f"{folded} {birth}")
                    by_key.setdefault(named, set()).add(person_id)
        undone = _undone(session, "person")
        pairs: dict[frozenset[str], tuple[str, str]] = {}
        for (reason, detail), ids in sorted(by_key.items()):  # documents first
            if reason == "name_birth_date" and len(ids) > MAX_NAME_GROUP:
                continue
            for a, b in _pairs(sorted(ids)):
                key = frozenset((a, b))
                if key not in undone:
                    pairs.setdefault(key, (reason, detail))
            if len(pairs) >= limit:
                break
        chosen = list(pairs.items())[:limit]
        people = search.summaries(session, {pid for key, _why in chosen for pid in key})
    found = []
    for key, (reason, detail) in chosen:
        a, b = sorted(key)
        if a in people and b in people:
            found.append(DuplicatePair(people[a], people[b], reason, _detail(reason, detail)))
    return sorted(found, key=lambda d: (d.reason != "document", d.first.person_id))


def _shared_numbers(live: Any) -> Any:
    """Document numbers held by more than one live person."""
    return (
        select(IdentityDocument.number)
        .where(IdentityDocument.deleted.is_(False), IdentityDocument.person_id.in_(live))
        .group_by(IdentityDocument.kind, IdentityDocument.number)
        .having(func.count(func.distinct(IdentityDocument.person_id)) > 1)
    )


def _pairs(ids: list[str]) -> Iterator[tuple[str, str]]:
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            yield a, b


def _detail(reason: str, detail: str) -> str:
    # a name key is "folded name YYYY-MM-DD": show the date, the names are in the pair
    return detail.rsplit(" ", 1)[-1] if reason == "name_birth_date" else detail


@dataclass(frozen=True)
class CasePair:
    """Two open case files of one person where one would do (often left by a merge of the
    person: A keeps B's case beside its own)."""

    first: cases.CaseRow
    second: cases.CaseRow


def duplicate_cases(store: Store, limit: int = MAX_PAIRS) -> list[CasePair]:
    """Pairs of open, unmerged cases of one live, unmerged person on this device, older
    case first; a pair whose merge a coordinator undid is not offered again."""
    with store.read() as session:
        by_person: dict[str, list[str]] = {}
        for person_id, case_id in session.execute(
            select(Case.person_id, Case.id)
            .join(Person, Person.id == Case.person_id)
            .where(
                Case.deleted.is_(False),
                Case.merged_into.is_(None),
                Case.id.not_in(_merged_away("case")),
                func.coalesce(Case.status, "open") == "open",
                Person.deleted.is_(False),
                Person.merged_into.is_(None),
                Person.id.not_in(_merged_away("person")),
            )
            .order_by(Case.person_id, Case.id)
        ):
            by_person.setdefault(person_id, []).append(case_id)
        undone = _undone(session, "case")
    pairs = [
        (a, b)
        for ids in by_person.values()
        if len(ids) > 1
        for a, b in _pairs(ids)
        if frozenset((a, b)) not in undone
    ][:limit]
    rows = {row.id: row for row in cases.case_rows(store, [c for pair in pairs for c in pair])}
    return [CasePair(rows[a], rows[b]) for a, b in pairs if a in rows and b in rows]


def _merged_away(entity: str) -> Select[Any]:
    """The rows merged away by a merge this device keeps in force: made here, perhaps not
    synced yet (``merged_into`` comes with the next pull), so not offered again."""
    return select(SyncMerge.source_id).where(
        SyncMerge.undone.is_(False), SyncMerge.entity == entity
    )


def _undone(session: Session, entity: str) -> set[frozenset[str]]:
    """The pairs of rows whose merge was undone: a coordinator said they are two."""
    return {
        frozenset((a, b))
        for a, b in session.execute(
            select(SyncMerge.source_id, SyncMerge.target_id).where(
                SyncMerge.undone.is_(True), SyncMerge.entity == entity
            )
        )
    }


# --- merges -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Merge:
    """A merge as this device knows it: B (``source``) merged into A (``target``)."""

    id: str
    entity: str
    source_id: str
    target_id: str
    source_name: str
    target_name: str
    merged_by: str
    undone: bool

    def sides(self) -> str:
        """``B → A`` by name (by id where a side has none), for messages."""
        return f"{self.source_name or self.source_id} → {self.target_name or self.target_id}"


def merge(
    store: Store,
    entity: str,
    source_id: str,
    target_id: str,
    http_factory: HttpFactory = default_http,
    secrets: SecretStore | None = None,
) -> Merge:
    """Merge person or case ``source_id`` (B) into ``target_id`` (A) on the server.

    B's names, documents, jobs, contribution months and cases move onto A (a case's
    tracks and notes, for a case) with the next sync. Refusals are :class:`UserError`.
    """
    if entity not in ("person", "case") or source_id == target_id:
        raise UserError("coordination.merge_invalid")
    check_id(source_id, "source")
    check_id(target_id, "target")
    with device_session(store, http_factory, secrets) as client:
        # named here where the server takes it (asked first, by _asking's GET /v1/info):
        # a merge whose answer the link loses is asked once more, and made once
        record = _asking(
            store,
            client,
            lambda: client.merge(entity, source_id, target_id, merge_id=_merge_id(client)),
        )
    with store.remote_session() as session:
        core.keep_records(session, merges=[record])
    return merges(store, ids=[record.id])[0]


def _merge_id(client: SyncClient) -> str | None:
    """A new merge's id, where the server accepts one (``merge-id``)."""
    return str(uuid.uuid4()) if client.takes_merge_ids else None


def undo_merge(
    store: Store,
    merge_id: str,
    http_factory: HttpFactory = default_http,
    secrets: SecretStore | None = None,
) -> Merge:
    """Undo a merge: B stands on its own again, with the rows the merge moved."""
    check_id(merge_id, "merge")
    with device_session(store, http_factory, secrets) as client:
        record = _asking(store, client, lambda: client.undo_merge(merge_id))
    with store.remote_session() as session:
        core.keep_records(session, merges=[record])
    return merges(store, ids=[record.id])[0]


def merges(store: Store, limit: int = 200, ids: Iterable[str] | None = None) -> list[Merge]:
    """Merges this device knows of (from pulls and its own requests), newest first."""
    with store.read() as session:
        query = select(SyncMerge).order_by(SyncMerge.seq.desc()).limit(limit)
        if ids is not None:
            query = query.where(SyncMerge.id.in_(list(ids)))
        rows = list(session.scalars(query))
        names = _names(session, rows)
        return [
            Merge(
                r.id,
                r.entity,
                r.source_id,
                r.target_id,
                names.get(r.source_id, ""),
                names.get(r.target_id, ""),
                r.merged_by,
                r.undone,
            )
            for r in rows
        ]


def named_merges(store: Store, refused: list[dict[str, Any]]) -> str:
    """The merges a restored server refused to make again
    (``SyncSummary.merges_not_redone``), ``B → A`` each, for the message naming them."""
    return "; ".join(merge.sides() for merge in merges(store, ids=[m["id"] for m in refused]))


def _names(session: Session, rows: list[SyncMerge]) -> dict[str, str]:
    """A label for each side of each merge: a person's name; a case's number and name."""
    people = {r.source_id for r in rows if r.entity == "person"} | {
        r.target_id for r in rows if r.entity == "person"
    }
    case_ids = {r.source_id for r in rows if r.entity == "case"} | {
        r.target_id for r in rows if r.entity == "case"
    }
    case_owner = {
        cid: (number or "", pid)
        for cid, number, pid in session.execute(
            select(Case.id, Case.number, Case.person_id).where(Case.id.in_(listed(case_ids)))
        )
    }
    people |= {pid for _number, pid in case_owner.values()}
    # a merged-away person has no live summary only if deleted; merged people still show
    found = search.summaries(session, people)
    labels = {pid: s.display_name for pid, s in found.items()}
    # Once a person merge has synced, B's names hang from A and B has none of its own:
    # B is named by the names its merge moved (those retired as repeats of A's included).
    # So is an A merged away since by another merge, which may not be among ``rows``.
    unnamed = {
        side
        for r in rows
        if r.entity == "person"
        for side in (r.source_id, r.target_id)
        if not labels.get(side)
    }
    merged_away = session.scalars(
        select(SyncMerge).where(SyncMerge.source_id.in_(listed(unnamed)))
    ).all()
    former = search.named_by(session, *_former_names(list(merged_away)))
    labels |= {pid: s.display_name for pid, s in former.items()}
    # And A, holding B's names then, could be listed by one of them (a native name of B's
    # comes before a Latin one of A's): A is named by the names no merge brought it.
    labels |= {
        pid: s.display_name
        for pid, s in search.named_by(session, _own_names(session, rows)).items()
    }
    # A case merge moves the case's tracks and notes, not the case: B keeps its number
    # and its person, and is labelled by them.
    for cid, (number, pid) in case_owner.items():
        labels[cid] = f"{number} {labels.get(pid, '')}".strip()
    return labels


def _own_names(session: Session, rows: list[SyncMerge]) -> dict[str, list[str]]:
    """The ``person_name`` rows of each person merge's A that no merge moved to it."""
    targets = {r.target_id for r in rows if r.entity == "person"}
    brought = {
        row_id
        for r in session.scalars(
            select(SyncMerge).where(
                SyncMerge.entity == "person", SyncMerge.target_id.in_(listed(targets))
            )
        )
        for entity, row_id, _name in r.moved or ()
        if entity == "person_name"
    }
    own: dict[str, list[str]] = {}
    for name_id, pid in session.execute(
        select(PersonName.id, PersonName.person_id).where(
            PersonName.person_id.in_(listed(targets)), PersonName.deleted.is_(False)
        )
    ):
        if name_id not in brought:
            own.setdefault(pid, []).append(name_id)
    return own


def _former_names(rows: list[SyncMerge]) -> tuple[dict[str, list[str]], set[str]]:
    """The ``person_name`` rows each person merge moved from its B (B's id -> name row
    ids, from the newest merge of a B merged more than once), and those it retired as
    repeats of A's. A merge whose list the server did not send names nothing."""
    names: dict[str, list[str]] = {}
    retired: set[str] = set()
    for r in sorted(rows, key=lambda r: r.seq, reverse=True):
        if r.source_id in names or not r.moved:
            continue
        mine = names[r.source_id] = []
        for entity, row_id, name in r.moved:
            if entity != "person_name":
                continue
            if name == p.DELETED_FIELD:
                retired.add(row_id)
            else:
                mine.append(row_id)
    return names, retired


# --- talking to the server --------------------------------------------------------------


# Server refusals a coordinator can act on, by errno: the message key.
_REFUSALS = {
    p.Errno.ROLE_FORBIDDEN: "coordination.not_coordinator",
    p.Errno.OUT_OF_SCOPE: "coordination.out_of_scope",
    p.Errno.NOT_FOUND: "coordination.not_found",
    p.Errno.MERGE_INVALID: "coordination.merge_invalid",
}


def _merge_list(store: Store, ids: list[str]) -> str:
    """Merges named "B → A" in the order given, by id where this device has not heard of
    one yet (made since its last sync)."""
    known = {m.id: f"{m.source_name or m.source_id} → {m.target_name or m.target_id}"
             for m in merges(store, ids=ids)}  # fmt: skip
    return "; ".join(known.get(i, i) for i in ids)


def _asking(store: Store, client: SyncClient, call: Callable[[], T]) -> T:
    """Run one request of ``client``; the server's refusals become :class:`UserError` with
    a next step. ``GET /v1/info`` goes first: a server of another log than this device's,
    or one that lost what the device had reached (:func:`desktop.services.sync.check_log`),
    must not be asked to change anything."""
    asked = False  # the request itself sent, not only the check before it
    try:
        client.expected_log = None
        client.info()
        core.check_log(store, client)
        asked = True
        return call()
    except (ServerChanged, core.ServerBehind) as exc:
        which = core.SERVER_CHANGED if isinstance(exc, ServerChanged) else core.SERVER_BEHIND
        said = i18n.Label(f"sync.reason.{which}")
        raise UserError("coordination.refused", reason=said) from exc
    except ServerUnreachable as exc:
        server = core.server_url(store) or ""
        if asked and may_have_arrived(exc):  # its answer lost: done, perhaps
            raise UserError("coordination.answer_lost", server=server) from exc
        # not "kept for the next sync" as an edit is: the server makes it or nothing does
        raise UserError("coordination.unreachable", server=server) from exc
    except SyncHttpError as exc:
        if exc.errno == p.Errno.ROLE_FORBIDDEN:
            keep_role(store, None)  # no longer known to coordinate
        if exc.errno == p.Errno.MERGE_UNDER_LATER:
            later = [str(i) for i in exc.details.get("merges", [])]
            raise UserError(
                "coordination.undo_later_first", merges=_merge_list(store, later)
            ) from exc
        if exc.status == 409:
            raise UserError("coordination.already_resolved") from exc
        key = _REFUSALS.get(exc.errno)  # type: ignore[call-overload]
        if key is not None:
            raise UserError(key) from exc
        # a withdrawn device, a disabled account...: named as sapan sync names them
        reason, _params = core.reason(f"errno {exc.errno}")
        if reason != "sync.reason.other":
            raise UserError("coordination.refused", reason=i18n.Label(reason)) from exc
        raise UserError("sync.refused", errno=exc.errno) from exc
