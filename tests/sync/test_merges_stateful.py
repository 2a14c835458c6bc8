"""Property-based (stateful) test of coordinator merges against the real sync server.

Hypothesis drives three caseworker devices that record people (a name, perhaps a
passport, perhaps a case with a claim track), add names, documents, cases, tracks and
notes, edit them offline (a phone, ``lww``; a birth date and a name, ``review``), point a
row at another parent, delete a person or case, and sync in random orders, while a
coordinator merges people and cases (B into A, case into case, chains A into C), undoes
merges in random order and resolves conflicts (design.md §4.6, docs/sync-protocol.md §7).

The machine keeps its own model of which parent every row hangs from (the parent it was
made for, moved by each merge in force and back by each undo), never read back from the
server, and checks against the server at once:

- a merge moves onto A every row that hangs from B (the model's list, which the record's
  ``moved`` must equal), retires B's name or passport that repeats one of A's, sets B's
  ``merged_into`` and changes nothing else; merging a row already merged (either side)
  is refused with errno 151 and changes nothing, but for B into A again, answered with
  the merge in force;
- an undo that later merges in force build on is refused with 409 errno 154 naming
  exactly them, newest first (one moved on from A a row this merge moved, by the same
  reference, or merged a row the undo would send back with one it would not), and leaves
  no trace: rows, merges, conflicts and the log as they were. A row pushed naming B
  while the merge stood (landed on A, through each merge of a chain) counts as moved by
  it. An undo that goes through moves back what still names A, brings back what it
  retired, and changes nothing else; every row it moved and no device pointed elsewhere
  since is on B again;
- a conflict flipped after its person or case was merged away sets the one kept.

After every device has pushed and pulled until nothing moves: every device and the
server agree on every row; no row hangs from a merged-away person or case; every row no
device pointed elsewhere hangs where the model says; and no edit is lost (an edit made to
B offline after the merge lands on A): its value is in force on the row it landed on, or
kept in a conflict record there, unless an edit with a later stamp landed there too or a
conflict was flipped there since; and no person or case is deleted that nobody deleted:
a deletion of B made offline after the merge leaves A standing (a coordinator may flip
it).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from desktop.domain import catalogue
from desktop.domain.catalogue import FieldType
from desktop.models.entities import (
    Case,
    IdentityDocument,
    Note,
    OutboxEntry,
    Person,
    PersonName,
    Track,
)
from desktop.models.store import Store
from desktop.services.sync import SyncService, SyncSummary
from sync.client.http import SyncClient, SyncHttpError
from sync.protocol import Errno, Role
from sync.server.db import changes, conflicts, merges
from sync.server.ingest import current_rows
from tests.sync.conftest import PASSWORD, Server, agree_with_server
from tests.sync.test_stateful import (
    SETTINGS,
    Env,
    _copy_store,
    postgres_env,
    small_steps,
    sqlite_env,
)

DEVICES = 3
NAMES = ("Aung Aung", "Ko Aung", "Mya Mya")  # few, so that B's name often repeats A's
PASSPORTS = ("MA1", "MA2")
BIRTH_DATES = ("1990", "1991-02", "1988-07-15")
# a child entity -> its reference to the parent a merge moves it with
REFERENCE = {
    "person_name": "person_id",
    "identity_document": "person_id",
    "case": "person_id",
    "track": "case_id",
    "note": "case_id",
}
PARENT = {"person_id": "person", "case_id": "case"}
CLASSES: dict[str, Any] = {
    "person": Person,
    "case": Case,
    "person_name": PersonName,
    "identity_document": IdentityDocument,
    "track": Track,
    "note": Note,
}
# rows the merge compares to find a repeat of A's (ingest.SAME_ROW)
SAME_ROW = {"person_name": ("kind", "full_name"), "identity_document": ("kind", "number")}
Key = tuple[str, str, str]  # (entity, row id, field)
Rows = dict[tuple[str, str], dict[str, Any]]


@dataclass
class MergeMade:
    """A merge the coordinator made, as the model knows it."""

    id: str
    entity: str
    source: str
    target: str
    tick: int  # when it was made, on the machine's clock
    moved: set[Key] = field(default_factory=set)
    # rows pushed naming B while the merge stood, written to A: undo sends them back too
    landed: set[Key] = field(default_factory=set)
    undone: bool = False

    @property
    def back(self) -> set[Key]:
        """What undo points back at B (or brings back): moved, or landed on A."""
        return self.moved | self.landed


@dataclass
class FieldEdit:
    """One offline edit of a field, and the row it landed on once pushed."""

    device: int
    entity: str
    row_id: str
    field: str
    value: str
    hlc: str
    landed: str | None = None
    flipped: bool = False  # a conflict flipped on its row and field since it landed


@dataclass
class Snapshot:
    """What the server holds: rows, merge and conflict records, the top of the log."""

    rows: Rows
    merges: dict[str, tuple[Any, ...]]
    conflicts: dict[str, tuple[Any, ...]]
    top: int


def _snapshot(server: Server) -> Snapshot:
    with server.engine.connect() as conn:
        rows = current_rows(conn)
        for values in rows.values():
            values.setdefault(catalogue.TOMBSTONE_FIELD, False)
        return Snapshot(
            rows,
            {r.id: tuple(r) for r in conn.execute(select(merges))},
            {r.id: tuple(r) for r in conn.execute(select(conflicts))},
            int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one()),
        )


def _diff(before: Rows, after: Rows) -> dict[Key, Any]:
    """The fields whose values differ, with their new values."""
    found: dict[Key, Any] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key, {}), after.get(key, {})
        for name in old.keys() | new.keys():
            if old.get(name) != new.get(name):
                found[(key[0], key[1], name)] = new.get(name)
    return found


def _compared(entity: str) -> list[str]:
    """The fields that make two rows the same row: all but references and the office."""
    spec = catalogue.entity(entity)
    return [n for n, f in spec.fields.items() if f.type is not FieldType.REF and n != "office"]


def build_machine(env: Env) -> type[RuleBasedStateMachine]:
    """The state machine class bound to one test's environment."""

    class MergeMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.dir = Path(tempfile.mkdtemp(dir=env.tmp))
            self.server = env.make_server()
            self.stores: list[Store] = []
            self.services: list[SyncService] = []
            self.cora: SyncClient | None = None
            self.rows: dict[str, list[str]] = {entity: [] for entity in CLASSES}
            self.parent: dict[str, str] = {}  # child row -> the parent the model expects
            self.wild: dict[str, list[int]] = {}  # child row -> ticks its repoints were pushed
            self.unsent: list[list[tuple[str, str]]] = [[] for _ in range(DEVICES)]
            # (entity, row id, the parent it was pointed at) per device, not pushed yet
            self.repoints: list[list[tuple[str, str, str]]] = [[] for _ in range(DEVICES)]
            self.deletions: list[list[str]] = [[] for _ in range(DEVICES)]
            # people and cases someone deleted: a device (the row itself), a coordinator
            # (a flipped deletion, on the row kept)
            self.may_go: set[str] = set()
            self.known: set[str] = set()  # rows the server holds
            self.merges: list[MergeMade] = []
            self.edits: list[FieldEdit] = []
            self.tick = 0

        # -- set-up ------------------------------------------------------------------------

        def devices(self) -> None:
            """Three caseworkers' devices and the coordinator's client."""
            for number in range(DEVICES):
                self.server.user(f"user{number}")
                store = _copy_store(env.templates[number], self.dir / f"dev{number}")
                client = SyncClient(self.server.http())
                client.register(f"user{number}", PASSWORD, f"device-{number}")
                self.stores.append(store)
                self.services.append(small_steps(store, client))
            self.server.user("cora", Role.COORDINATOR)
            self.cora = self.server.device("cora")

        @initialize(
            people=st.lists(
                st.tuples(
                    st.integers(0, DEVICES - 1),
                    st.sampled_from(NAMES),
                    st.sampled_from((None, *PASSPORTS)),
                ),
                min_size=3,
                max_size=5,
            )
        )
        def first_people(self, people: list[tuple[int, str, str | None]]) -> None:
            """A few workers recorded, each with a case, and synced everywhere: something
            to merge from the first step."""
            self.devices()
            for device, name, passport in people:
                self.record_person(device, name, passport, with_case=True)
            for _round in range(2):
                for device in range(DEVICES):
                    self.synced(device)

        def teardown(self) -> None:
            try:
                if self.cora is not None:
                    self.settle()
                    self.check_end()
            finally:
                for store in self.stores:
                    store.close()
                self.server.engine.dispose()

        # -- the model -----------------------------------------------------------------------

        def in_force(self) -> dict[str, str]:
            """Merged-away row -> the row it was merged into, for merges in force."""
            return {m.source: m.target for m in self.merges if not m.undone}

        def kept(self, row_id: str) -> str:
            """The row a merged-away row's edits land on: merge chains followed."""
            redirect = self.in_force()
            while row_id in redirect:
                row_id = redirect[row_id]
            return row_id

        def chain(self, row_id: str) -> list[MergeMade]:
            """The merges in force a reference to this row is rewritten through."""
            found = []
            while True:
                made = next((m for m in self.merges if m.source == row_id and not m.undone), None)
                if made is None:
                    return found
                found.append(made)
                row_id = made.target

        def holds(self, device: int, entity: str, row_id: str) -> bool:
            with self.stores[device].read() as session:
                return session.get(CLASSES[entity], row_id) is not None

        def held(self, device: int, entity: str) -> list[str]:
            return [r for r in self.rows[entity] if self.holds(device, entity, r)]

        def add(self, device: int, entity: str, **values: Any) -> str:
            with self.stores[device].session() as session:
                row = CLASSES[entity](office="MS", **values)
                session.add(row)
                session.flush()
                row_id = str(row.id)
            self.rows[entity].append(row_id)
            self.unsent[device].append((entity, row_id))
            reference = REFERENCE.get(entity)
            if reference is not None:
                self.parent[row_id] = values[reference]
            return row_id

        # -- caseworkers -------------------------------------------------------------------

        @rule(
            device=st.integers(0, DEVICES - 1),
            name=st.sampled_from(NAMES),
            passport=st.sampled_from((None, *PASSPORTS)),
            with_case=st.booleans(),
        )
        def record_person(
            self, device: int, name: str, passport: str | None, with_case: bool
        ) -> None:
            """A worker recorded offline: a name, perhaps a passport, a case with a claim."""
            person = self.add(device, "person", phone=None)
            self.add(device, "person_name", person_id=person, kind="native", full_name=name)
            if passport is not None:
                self.add(
                    device, "identity_document", person_id=person, kind="passport", number=passport
                )
            if with_case:
                case = self.add(device, "case", person_id=person)
                self.add(device, "track", case_id=case, kind="claim", benefit="sickness")

        @rule(
            device=st.integers(0, DEVICES - 1),
            entity=st.sampled_from(sorted(REFERENCE)),
            pick=st.integers(0, 50),
            value=st.sampled_from(NAMES),
        )
        def add_child(self, device: int, entity: str, pick: int, value: str) -> None:
            """A name, document or case for a person, a track or note for a case, made for
            one the device holds (perhaps merged away since, unknown to it yet)."""
            reference = REFERENCE[entity]
            parents = self.held(device, PARENT[reference])
            if not parents:
                return
            values: dict[str, Any] = {reference: parents[pick % len(parents)]}
            if entity == "person_name":
                values.update(kind="alias", full_name=value)
            elif entity == "identity_document":
                values.update(kind="passport", number=PASSPORTS[pick % len(PASSPORTS)])
            elif entity == "track":
                values.update(kind="claim", benefit="maternity")
            elif entity == "note":
                values.update(body=f"note {len(self.rows['note'])}", author=f"user{device}")
            self.add(device, entity, **values)

        @rule(
            device=st.integers(0, DEVICES - 1),
            pick=st.integers(0, 50),
            what=st.sampled_from(("phone", "phone", "birth_date", "full_name")),
            value=st.integers(0, 2),
        )
        def edit(self, device: int, pick: int, what: str, value: int) -> None:
            """An offline edit of a person's phone (lww, a value nobody else writes) or
            birth date (review), or of a name (review)."""
            entity = "person_name" if what == "full_name" else "person"
            candidates = self.held(device, entity)
            if not candidates:
                return
            if what != "phone":  # the first few rows, so that devices often meet (conflicts)
                candidates = candidates[:2]
            row_id = candidates[pick % len(candidates)]
            if what == "phone":
                new: str = f"08{len(self.edits):08d}"
            elif what == "birth_date":
                new = BIRTH_DATES[value]
            else:
                new = NAMES[value]
            store = self.stores[device]
            with store.read() as session:
                before = session.scalar(select(func.max(OutboxEntry.seq))) or 0
            with store.session() as session:
                setattr(session.get(CLASSES[entity], row_id), what, new)
            with store.read() as session:
                hlc = session.scalar(
                    select(OutboxEntry.hlc).where(
                        OutboxEntry.seq > before,
                        OutboxEntry.row_id == row_id,
                        OutboxEntry.field == what,
                    )
                )
            if hlc is not None:  # else it held that value already: nothing to send
                self.edits.append(FieldEdit(device, entity, row_id, what, new, hlc))

        @rule(
            device=st.integers(0, DEVICES - 1),
            entity=st.sampled_from(("person_name", "case", "track")),
            pick=st.integers(0, 50),
            to=st.integers(0, 50),
        )
        def repoint(self, device: int, entity: str, pick: int, to: int) -> None:
            """A row pointed at another parent the device holds (a name or case moved to
            another person, a track to another case)."""
            reference = REFERENCE[entity]
            rows, parents = self.held(device, entity), self.held(device, PARENT[reference])
            if not rows or not parents:
                return
            row_id, parent = rows[pick % len(rows)], parents[to % len(parents)]
            with self.stores[device].session() as session:
                row = session.get(CLASSES[entity], row_id)
                if getattr(row, reference) == parent:
                    return  # nothing changes, nothing is sent
                setattr(row, reference, parent)
            self.wild.setdefault(row_id, [])
            self.repoints[device].append((entity, row_id, parent))

        @rule(
            device=st.integers(0, DEVICES - 1),
            entity=st.sampled_from(("person", "case")),
            pick=st.integers(0, 50),
        )
        def delete(self, device: int, entity: str, pick: int) -> None:
            """A person or case deleted offline (perhaps the duplicate a coordinator has
            merged meanwhile: that must not delete the one kept)."""
            rows = self.held(device, entity)
            if not rows:
                return
            row_id = rows[pick % len(rows)]
            with self.stores[device].session() as session:
                session.get(CLASSES[entity], row_id).deleted = True
            self.deletions[device].append(row_id)

        @rule(device=st.integers(0, DEVICES - 1))
        def sync(self, device: int) -> None:
            """One sync; what the device made offline lands where the merges in force say."""
            self.synced(device)

        def synced(self, device: int) -> SyncSummary:
            self.tick += 1
            sent = {e.row_id for e in self.edits if e.device == device and e.landed is None}
            landing = {row_id: self.kept(row_id) for row_id in sent}
            # a merged-away case pointed at another person: the edit lands on the case kept
            repointed = {self.kept(row_id) for _entity, row_id, _parent in self.repoints[device]}
            # references to merged-away rows, rewritten to the ones kept: each merge of the
            # chain remembers them, and its undo points them back
            rewritten = [
                (m, (entity, row_id, REFERENCE[entity]))
                for entity, row_id in self.unsent[device]
                if entity in REFERENCE
                for m in self.chain(self.parent[row_id])
            ]
            rewritten += [
                (m, (entity, self.kept(row_id), REFERENCE[entity]))
                for entity, row_id, parent in self.repoints[device]
                for m in self.chain(parent)
            ]
            # a deletion applies to the row itself only when it was not merged away
            deleted = {r for r in self.deletions[device] if self.kept(r) == r}
            summary = self.services[device].sync()
            assert summary.ok, summary
            assert summary.waiting == summary.failed == 0, summary
            for _entity, row_id in self.unsent[device]:
                self.known.add(row_id)
                if row_id in self.parent:
                    self.parent[row_id] = self.kept(self.parent[row_id])
            for row_id in repointed:
                self.wild.setdefault(row_id, []).append(self.tick)
            for edit in self.edits:
                if edit.device == device and edit.landed is None:
                    edit.landed = landing[edit.row_id]
            self.may_go |= deleted
            for made, key in rewritten:
                made.landed.add(key)
            self.unsent[device], self.repoints[device], self.deletions[device] = [], [], []
            self.check_server(_snapshot(self.server).rows)
            return summary

        # -- the coordinator ---------------------------------------------------------------

        @rule(
            entity=st.sampled_from(("person", "person", "case")),
            source=st.integers(0, 50),
            into=st.integers(0, 50),
        )
        def merge(self, entity: str, source: int, into: int) -> None:
            """Merge B into A on the server: refused when either is merged away already."""
            candidates = [r for r in self.rows[entity] if r in self.known]
            if len(candidates) < 2:
                return
            # into: another row, counted on from B's place in the list
            b = candidates[source % len(candidates)]
            a = candidates[(source + 1 + into % (len(candidates) - 1)) % len(candidates)]
            assert self.cora is not None
            before = _snapshot(self.server)
            redirect = self.in_force()
            if redirect.get(b) == a:  # made already: answered with that merge, as it stands
                [standing] = [m for m in self.merges if not m.undone and m.source == b]
                record = self.cora.merge(entity, b, a)
                assert (record.id, record.undone) == (standing.id, False)
                self.assert_untouched(before)
                event("merge asked again")
                return
            if a in redirect or b in redirect:
                with pytest.raises(SyncHttpError) as refused:
                    self.cora.merge(entity, b, a)
                assert (refused.value.status, refused.value.errno) == (400, Errno.MERGE_INVALID)
                self.assert_untouched(before)
                event("merge refused: already merged")
                return
            moving = self.hanging(before.rows, entity, b)
            retired = self.repeats(before.rows, moving, self.hanging(before.rows, entity, a))
            self.tick += 1
            record = self.cora.merge(entity, b, a)
            assert (record.source_id, record.target_id, record.undone) == (b, a, False)
            assert record.moved is not None
            listed: set[Key] = {(e, r, f) for e, r, f in record.moved}
            expected = moving | {(e, r, catalogue.TOMBSTONE_FIELD) for e, r in retired}
            assert listed == expected, (listed, expected)
            after = _snapshot(self.server)
            changed = {(entity, b, "merged_into"): a}
            changed.update({key: a for key in moving})
            changed.update({(e, r, catalogue.TOMBSTONE_FIELD): True for e, r in retired})
            assert _diff(before.rows, after.rows) == changed
            made = MergeMade(record.id, entity, b, a, self.tick, expected)
            self.merges.append(made)
            for _e, row_id, _name in moving:
                if row_id not in self.wild:
                    assert self.parent[row_id] == b, (row_id, self.parent[row_id], b)
                    self.parent[row_id] = a
            event(f"{entity} merge", "moved rows" if moving else "nothing to move")
            if len(self.in_force()) > 1 and any(m.target == b for m in self.merges):
                event("merge chain")
            self.check_server(after.rows)

        def hanging(self, rows: Rows, entity: str, parent: str) -> set[Key]:
            """(entity, row id, reference) of the rows hanging from ``parent``: from the
            model for rows no device pointed elsewhere, from the server for the others."""
            found: set[Key] = set()
            for child, reference in REFERENCE.items():
                if PARENT[reference] != entity:
                    continue
                for row_id in self.rows[child]:
                    if row_id not in self.known:
                        continue
                    if row_id in self.wild:
                        points = rows[(child, row_id)][reference]
                    else:
                        points = self.parent[row_id]
                        assert rows[(child, row_id)][reference] == points, (child, row_id)
                    if points == parent:
                        found.add((child, row_id, reference))
            return found

        def repeats(self, rows: Rows, moving: set[Key], own: set[Key]) -> set[tuple[str, str]]:
            """B's live names and passports that say nothing A's live ones do not."""
            found = set()
            for entity, row_id, _name in moving:
                key = SAME_ROW.get(entity)
                mine = rows[(entity, row_id)]
                if key is None or mine[catalogue.TOMBSTONE_FIELD]:
                    continue
                if any(mine.get(name) in (None, "") for name in key):
                    continue
                for other_entity, other_id, _ in own:
                    theirs = rows[(other_entity, other_id)]
                    if other_entity != entity or theirs[catalogue.TOMBSTONE_FIELD]:
                        continue
                    if all(
                        mine.get(name) in (None, "", theirs.get(name)) for name in _compared(entity)
                    ):
                        found.add((entity, row_id))
                        break
            return found

        @rule(
            entity=st.sampled_from(("person", "person", "case")),
            source=st.integers(0, 50),
            into=st.integers(0, 50),
        )
        def merge_again(self, entity: str, source: int, into: int) -> None:
            """Another merge, so that merges come twice as often: as one rule of a dozen,
            half of the random examples made none."""
            self.merge(entity, source, into)

        @rule(pick=st.integers(0, 50))
        def undo(self, pick: int) -> None:
            """Undo a merge (perhaps one undone already): refused, naming them newest first,
            while later merges in force build on it."""
            if not self.merges:
                return
            assert self.cora is not None
            made = self.merges[pick % len(self.merges)]
            before = _snapshot(self.server)
            if made.undone:
                with pytest.raises(SyncHttpError) as refused:
                    self.cora.undo_merge(made.id)
                assert (refused.value.status, refused.value.errno) == (404, Errno.NOT_FOUND)
                self.assert_untouched(before)
                return
            # the rows the undo sends back: those still naming A, the repeats still retired
            going = {
                row_id
                for entity, row_id, name in made.back
                if (
                    bool(before.rows[(entity, row_id)][name])
                    if name == catalogue.TOMBSTONE_FIELD
                    else before.rows[(entity, row_id)][name] == made.target
                )
            }
            later = [
                m.id
                for m in reversed(self.merges[self.merges.index(made) + 1 :])
                if not m.undone
                and (
                    (m.source == made.target and m.back & made.back)
                    or (m.source in going) != (m.target in going)
                )
            ]
            if later:
                with pytest.raises(SyncHttpError) as refused:
                    self.cora.undo_merge(made.id)
                assert (refused.value.status, refused.value.errno) == (
                    409,
                    Errno.MERGE_UNDER_LATER,
                )
                assert refused.value.details["merges"] == later
                self.assert_untouched(before)
                event("undo refused: later merges build on it", len(later))
                return
            self.tick += 1
            record = self.cora.undo_merge(made.id)
            assert (record.id, record.undone) == (made.id, True)
            assert {tuple(entry) for entry in record.moved or []} == made.moved
            made.undone = True
            after = _snapshot(self.server)
            changed: dict[Key, Any] = {(made.entity, made.source, "merged_into"): None}
            for entity, row_id, name in made.back:
                was = before.rows[(entity, row_id)][name]
                if name == catalogue.TOMBSTONE_FIELD:
                    if was:
                        changed[(entity, row_id, name)] = False
                elif was == made.target:
                    changed[(entity, row_id, name)] = made.source
            assert _diff(before.rows, after.rows) == changed
            for entity, row_id, name in made.back:
                if name == catalogue.TOMBSTONE_FIELD:
                    continue
                if not any(t > made.tick for t in self.wild.get(row_id, [])):
                    # nobody pointed it elsewhere since: it is B's again
                    assert after.rows[(entity, row_id)][name] == made.source, (entity, row_id)
                if row_id not in self.wild and self.parent[row_id] == made.target:
                    self.parent[row_id] = made.source
            event("undo")
            self.check_server(after.rows)

        @rule(pick=st.integers(0, 50))
        def undo_again(self, pick: int) -> None:
            """Another undo, so that undos come as often as merges (see merge_again)."""
            self.undo(pick)

        @rule(pick=st.integers(0, 50), flip=st.booleans())
        def resolve(self, pick: int, flip: bool) -> None:
            """Confirm or flip a conflict (perhaps one resolved already: refused)."""
            assert self.cora is not None
            every = self.cora.conflicts()
            if not every:
                return
            conflict = every[pick % len(every)]
            before = _snapshot(self.server)
            if conflict.status != "open":
                with pytest.raises(SyncHttpError) as refused:
                    self.cora.resolve(conflict.id, flip)
                assert refused.value.errno == Errno.ALREADY_RESOLVED
                self.assert_untouched(before)
                return
            record = self.cora.resolve(conflict.id, flip)
            assert record.status == ("flipped" if flip else "confirmed")
            after = _snapshot(self.server)
            changed: dict[Key, Any] = {}
            if flip:
                kept = conflict.row_id
                if conflict.entity in ("person", "case"):
                    kept = self.kept(conflict.row_id)
                    if kept != conflict.row_id:
                        event("conflict flipped on the row kept")
                now = before.rows[(conflict.entity, kept)].get(conflict.field)
                if conflict.field == catalogue.TOMBSTONE_FIELD and conflict.other.value:
                    self.may_go.add(kept)
                for edit in self.edits:  # a flip is an edit made now, over theirs
                    if (edit.landed, edit.field) == (kept, conflict.field):
                        edit.flipped = True
                if now != conflict.other.value:
                    changed[(conflict.entity, kept, conflict.field)] = conflict.other.value
            assert _diff(before.rows, after.rows) == changed
            event("conflict flipped" if flip else "conflict confirmed")

        # -- checks ------------------------------------------------------------------------

        def assert_untouched(self, before: Snapshot) -> None:
            """A refused request left no trace on the server."""
            after = _snapshot(self.server)
            assert after.rows == before.rows
            assert after.merges == before.merges
            assert after.conflicts == before.conflicts
            assert after.top == before.top

        def check_server(self, rows: Rows) -> None:
            """No row hangs from a merged-away row; the rows no device pointed elsewhere
            hang where the model says."""
            away = self.in_force()
            for entity, reference in REFERENCE.items():
                for row_id in self.rows[entity]:
                    if row_id not in self.known:
                        continue
                    points = rows[(entity, row_id)][reference]
                    assert points not in away, self.history(entity, row_id)
                    if row_id not in self.wild:
                        assert points == self.parent[row_id], self.history(entity, row_id)

        def history(self, entity: str, row_id: str) -> str:
            """A row's log on the server and the merges, to read a failure by."""
            with self.server.engine.connect() as conn:
                log = conn.execute(
                    select(changes.c.seq, changes.c.field, changes.c.value, changes.c.device_id)
                    .where(changes.c.row_id == row_id)
                    .order_by(changes.c.seq)
                ).all()
            lines = [f"{entity} {row_id}: the model expects {self.parent.get(row_id)}"]
            lines += [f"  {r.seq} {r.field} = {r.value} ({r.device_id})" for r in log]
            lines += [f"  merge {m}" for m in self.merges]
            return "\n".join(lines)

        def settle(self) -> None:
            """Every device pushes and pulls until a whole round moves nothing."""
            for _round in range(6):
                moved = 0
                for device in range(DEVICES):
                    summary = self.synced(device)
                    moved += summary.pushed + summary.pulled_rows
                if moved == 0:
                    return
            raise AssertionError("devices did not settle in six rounds")

        def check_end(self) -> None:
            rows = agree_with_server(self.server, self.stores)
            for values in rows.values():
                values.setdefault(catalogue.TOMBSTONE_FIELD, False)
            self.check_server(rows)
            self.check_no_edit_lost(rows)
            for entity in ("person", "case"):
                for row_id in self.rows[entity]:
                    if rows[(entity, row_id)][catalogue.TOMBSTONE_FIELD]:
                        assert row_id in self.may_go, f"{entity} {row_id} deleted by nobody"
            event("merges in force", len(self.in_force()))
            event("merges made", len(self.merges))

        def check_no_edit_lost(self, rows: Rows) -> None:
            """Every edit is in force on the row it landed on (a merged-away person's on the
            one kept), or kept in a conflict record there, or overridden by an edit with a
            later stamp that landed there too, or by a conflict flipped there since."""
            kept: dict[Key, list[Any]] = {}
            with self.server.engine.connect() as conn:
                for r in conn.execute(select(conflicts)):
                    sides = [json.loads(r.applied)["value"], json.loads(r.other)["value"]]
                    kept.setdefault((r.entity, r.row_id, r.field), []).extend(sides)
            event("conflict records", len({c for where in kept for c in kept[where]}))
            for edit in self.edits:
                assert edit.landed is not None
                where = (edit.entity, edit.landed, edit.field)
                final = rows[(edit.entity, edit.landed)][edit.field]
                later = any(
                    (o.entity, o.landed, o.field) == where and o.hlc > edit.hlc for o in self.edits
                )
                assert (
                    final == edit.value
                    or edit.value in kept.get(where, [])
                    or later
                    or edit.flipped
                ), (edit, final, kept.get(where))
                if edit.landed != edit.row_id:
                    event("an edit to a merged-away person landed on the one kept")

    return MergeMachine


# Bounded for CI (about 1 s per example on SQLite, derandomized; the first two are all
# syncs); shrinking is off (see test_stateful.SETTINGS). Run it locally with
# derandomize=False and a few hundred examples after changing merges: the deletion of a
# merged-away row that deleted the one kept was found that way, not by these examples.
MERGE_SETTINGS = settings(SETTINGS, max_examples=8, stateful_step_count=30)
PG_MERGE_SETTINGS = settings(MERGE_SETTINGS, max_examples=4)


def test_merges_undos_and_flips_on_sqlite(tmp_path: Path, templates: list[Path]) -> None:
    env = sqlite_env(tmp_path, templates)
    run_state_machine_as_test(build_machine(env), settings=MERGE_SETTINGS)


def test_merges_undos_and_flips_on_postgresql(
    tmp_path: Path, templates: list[Path], postgres_url: str, pg_template: str
) -> None:
    env = postgres_env(tmp_path, templates, postgres_url, pg_template)
    run_state_machine_as_test(build_machine(env), settings=PG_MERGE_SETTINGS)
