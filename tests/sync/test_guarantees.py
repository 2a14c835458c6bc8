"""One test per sync guarantee of design.md §4, end to end: stores, service, server."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from hashlib import sha256
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from desktop.domain import catalogue, i18n
from desktop.models.entities import (
    Attachment,
    AuditEvent,
    Case,
    ChecklistItem,
    Employment,
    IdentityDocument,
    Note,
    OutboxEntry,
    Person,
    PersonName,
    Step,
    SyncState,
    Track,
)
from desktop.models.sync_records import SyncConflict
from desktop.services import sync_view
from desktop.services.cases import CaseFilter, list_case_ids
from desktop.services.search import search
from desktop.services.sync import SyncSummary, errno_of, reason
from sync.client.http import SyncHttpError
from sync.protocol import Errno, Role
from sync.server import admin
from sync.server.db import accounts, audit
from sync.server.ingest import current_rows
from tests.sync.conftest import (
    Device,
    Server,
    agree_with_server,
    colleagues,
    edit_row,
    new_person,
    new_row,
    stored,
)


def _get(device: Device, cls: Any, row_id: str) -> Any:
    with device.store.read() as session:
        return session.get(cls, row_id)


def _outbox(device: Device) -> int:
    with device.store.read() as session:
        return len(list(session.scalars(select(OutboxEntry))))


def test_edits_travel_and_outbox_empties_only_after_ack(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, phone="0812345678", nationality="MMR")
    assert _outbox(a) > 0
    summary = a.sync()
    assert summary.ok
    assert summary.pushed > 0
    assert summary.waiting == 0
    assert _outbox(a) == 0
    b.sync()
    assert _get(b, Person, pid).phone == "0812345678"
    assert _get(b, Person, pid).version > 0


def test_batches_in_flight_acknowledge_in_order_and_park_a_refused_change(
    server: Server, make_device: Any
) -> None:
    """Batches of three, one in flight while the previous one is acknowledged: a change the
    server refuses mid-way is parked with its error, everything else is acknowledged once."""
    server.user("ann", offices=("MS",))
    server.user("bob", offices=("MS",))
    a = make_device(server, "ann", batch_size=3, max_batch_size=3)
    b = make_device(server, "bob")
    ids = [new_person(a, phone=str(n)) for n in range(2)]
    with a.store.session() as session:
        session.add(Person(office="TAK"))  # outside ann's scope: refused
    ids += [new_person(a, phone=str(n)) for n in range(2, 5)]
    summary = a.sync()
    assert summary.ok
    assert summary.pushed == 5  # five people (their creation events are derived, never sent)
    assert summary.rejected == 1
    assert (summary.waiting, summary.failed) == (0, 1)
    with a.store.read() as session:
        parked = list(session.scalars(select(OutboxEntry)))
    assert len(parked) == 1
    assert all(e.last_error.startswith(f"errno {int(Errno.OUT_OF_SCOPE)}:") for e in parked)
    assert server.count("changes") == 5
    assert a.sync().pushed == 0  # nothing sent twice
    b.sync()
    assert sorted(_get(b, Person, pid).phone for pid in ids) == ["0", "1", "2", "3", "4"]


def _push_requests(server: Server) -> int:
    with server.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(audit).where(audit.c.route == "/v1/push")
            ).scalar_one()
        )


def test_many_refused_changes_in_a_batch_cost_one_extra_request_not_one_each(
    server: Server, make_device: Any
) -> None:
    """Ten rows of an office outside ann's scope among good ones, in one batch: the server
    names all ten in its refusal, the device parks them together and sends the rest on
    the second request. (On a 2G link a request per refused change could cost hours.)"""
    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    good = [new_person(a, phone=str(n)) for n in range(3)]
    with a.store.session() as session:
        session.add_all(Person(office="TAK", phone=f"9{n}") for n in range(10))
    good += [new_person(a, phone=str(n)) for n in range(3, 6)]

    summary = a.sync()

    assert summary.ok
    assert (summary.pushed, summary.rejected, summary.failed) == (6, 10, 10)
    assert _push_requests(server) == 2
    assert server.count("changes") == 6
    assert {r.row_id for r in a.service.refusals()} == set(_ids(a, Person)) - set(good)


def test_changes_refused_for_different_reasons_are_parked_from_one_answer_each_with_its_own(
    server: Server, make_device: Any
) -> None:
    """Values an older app version stored in the outbox that the server now refuses, for two
    reasons in one batch: one refusal names them all, each parked with its own reason."""
    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    people = [new_person(a, phone=str(n)) for n in range(7)]
    spoil = {people[1]: ("phone", "0" * 500), people[4]: ("sex", 5), people[5]: ("phone", "9" * 41)}
    with a.store.session() as session:
        for entry in session.scalars(select(OutboxEntry).where(OutboxEntry.row_id.in_(spoil))):
            values = json.loads(entry.value)
            name, bad = spoil[entry.row_id]
            entry.value = json.dumps({**values, name: bad})

    summary = a.sync()

    assert summary.ok
    assert (summary.pushed, summary.rejected, summary.failed) == (4, 3, 3)
    assert _push_requests(server) == 2
    errors = {r.row_id: errno_of(r.error) for r in a.service.refusals()}
    assert errors == {
        people[1]: Errno.VALUE_TOO_LONG,
        people[4]: Errno.WRONG_TYPE,
        people[5]: Errno.VALUE_TOO_LONG,
    }


def test_a_change_that_does_not_fit_the_batch_form_is_parked_and_the_rest_go(
    server: Server, make_device: Any
) -> None:
    """A change the server finds does not fit the push form at all (here a stamp past the
    year 9999, a clock gone wrong; the batch's first, so given whole) stopped every push
    of the laptop: the refusal named no change to set aside. It is parked with its error;
    the others go."""
    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    people = [new_person(a, phone=str(n)) for n in range(4)]
    with a.store.session() as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == people[0])).one()
        entry.hlc = "9999999999999999-0000-" + entry.hlc.split("-", 2)[2]
    summary = a.sync()
    assert summary.ok
    assert (summary.pushed, summary.rejected, summary.failed) == (3, 1, 1)
    [refusal] = a.service.refusals()
    assert (refusal.row_id, errno_of(refusal.error)) == (people[0], Errno.INVALID_PAYLOAD)
    assert server.count("changes") == 3
    assert a.sync().ok
    # the Sync page says what it is and what to do, not "the server refused it (error 101)"
    [item] = sync_view.failed_items(a.store)
    assert sync_view.failed_reason(item, i18n.text) == (
        "the server cannot read this change as this laptop wrote it (a clock set years"
        " ahead can do this); it stays on this laptop: tell whoever supports Sapan"
    )
    # a whole sync refused so (no change of its own) still names the number
    assert reason("errno 101: the request does not fit") == ("sync.reason.other", {"errno": 101})


def test_a_name_the_server_finds_too_long_is_parked_with_a_reason_naming_it(
    server: Server, make_device: Any
) -> None:
    """A new name row whose family name an older app let grow past the catalogue's limit:
    the server refuses the row, and the person reads which detail to shorten, in their
    language, with whose case file it is."""
    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    person = new_person(a, phone="0811111111")
    name = new_row(a, PersonName, person_id=person, script="latin", full_name="Aung Aung")
    with a.store.session() as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == name)).one()
        entry.value = json.dumps({**json.loads(entry.value), "family_name": "x" * 201})

    summary = a.sync()

    assert summary.ok
    assert (summary.pushed, summary.failed) == (1, 1)
    [item] = sync_view.failed_items(a.store)
    assert (item.entity, item.field, item.row_id) == ("person_name", "*", name)
    assert item.person_name == "Aung Aung"
    assert sync_view.failed_text(item, i18n.text) == "Name: new record"
    assert sync_view.failed_reason(item, i18n.text) == (
        "Name: family name is longer than the server accepts; shorten it in the case file,"
        " then press “Retry them”"
    )
    thai = sync_view.failed_reason(item, lambda key, **params: i18n.text(key, "th", **params))
    assert thai.startswith("ชื่อ: นามสกุล ยาวเกิน")

    # as it says: shorten it in the case file, then Retry; the row goes as it is now
    edit_row(a, PersonName, name, family_name="Aung")
    assert sync_view.retry_failed(a.store) == 1
    again = a.sync()

    assert (again.ok, again.failed, again.rejected) == (True, 0, 0)
    with server.engine.connect() as conn:
        assert current_rows(conn)[("person_name", name)]["family_name"] == "Aung"


def test_concurrent_same_field_review_leaves_conflict(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, nationality="MMR", phone="1")
    a.sync()
    b.sync()
    edit_row(a, Person, pid, nationality="KHM", phone="2")
    edit_row(b, Person, pid, nationality="LAO", sex="f")
    a.sync()
    summary = b.sync()
    assert summary.conflicts == 1
    a.sync()
    pa, pb = _get(a, Person, pid), _get(b, Person, pid)
    assert pa.nationality == pb.nationality == "LAO"  # b's stamp is later
    assert pa.phone == pb.phone == "2"
    assert pa.sex == pb.sex == "f"
    with a.store.read() as session:
        conflict = session.scalars(select(SyncConflict)).one()
    assert {conflict.applied["value"], conflict.other["value"]} == {"KHM", "LAO"}


def test_idempotent_push_same_batch_twice(server: Server, make_device: Any) -> None:
    server.user("ann")
    a = make_device(server, "ann")
    new_person(a, phone="1")
    from desktop.services.sync import _OUTBOX_COLUMNS, batch_body

    with a.store.read() as session:
        body = batch_body(session.execute(select(*_OUTBOX_COLUMNS)).all())
    first = a.client.push_batch(body)
    again = a.client.push_batch(body)
    assert {r[0].value for r in first.results} == {"accepted"}
    assert {r[0].value for r in again.results} == {"duplicate"}
    assert [r[1] for r in first.results] == [r[1] for r in again.results]
    assert server.count("changes") == len(first.results) == 1  # the person (no creation event)


def test_an_insert_resent_after_registering_again_is_a_duplicate(
    server: Server, make_device: Any
) -> None:
    """A store restored from a backup and registered again sends its inserts anew: the
    server derives their change ids from the new registration, so it knows them by their
    stamps. The same row inserted with another stamp is still a row created again."""
    server.user("ann")
    a = make_device(server, "ann")
    new_person(a, phone="1")
    from desktop.services.sync import _OUTBOX_COLUMNS, batch_body

    with a.store.read() as session:
        entries = session.execute(select(*_OUTBOX_COLUMNS)).all()
    first = a.client.push_batch(batch_body(entries))
    again = server.device("ann", "replacement").push_batch(batch_body(entries))
    assert [(r[0].value, r[1]) for r in again.results] == [("duplicate", first.results[0][1])]
    assert server.count("changes") == 1

    (seq, cid, entity, row, field, value, base, _stamp) = entries[0]
    later = str(a.store.clock.tick())
    other = server.device("ann", "third").push_batch(
        batch_body([(seq, cid, entity, row, field, value, base, later)])
    )
    assert other.results[0][0].value == "accepted"
    assert server.count("changes") == 2


def test_a_push_reports_how_far_it_is_through_what_was_waiting(
    server: Server, make_device: Any
) -> None:
    """Progress of a push in batches: changes dealt with so far (refused ones too) of
    those waiting when it started, for the status bar's "n of total"."""
    server.user("ann", offices=("MS",))
    reports: list[tuple[str, int, int]] = []
    a = make_device(
        server,
        "ann",
        batch_size=3,
        max_batch_size=3,
        on_progress=lambda *report: reports.append(report),
    )
    for n in range(6):
        new_person(a, phone=str(n))
    with a.store.session() as session:
        session.add(Person(office="TAK"))  # outside ann's scope: refused, still dealt with
    waiting = _outbox(a)

    assert a.sync().ok
    pushed = [(done, total) for stage, done, total in reports if stage == "push"]
    assert len(pushed) > 2  # one per batch
    assert all(total == waiting for _done, total in pushed)
    assert [done for done, _total in pushed] == sorted(done for done, _total in pushed)
    assert pushed[-1] == (waiting, waiting)


def test_a_pull_reports_its_rows_of_an_estimate_that_ends_exact(
    server: Server, make_device: Any
) -> None:
    """Progress of a pull in pages (form 7): rows received of an estimate from the log's
    head, never below what came, equal to it once the last page is in."""
    server.user("ann", offices=("MS",))
    server.user("bob", offices=("MS",))
    a = make_device(server, "ann")
    for n in range(6):
        new_person(a, phone=str(n))
    assert a.sync().ok
    reports: list[tuple[str, int, int]] = []
    b = make_device(server, "bob", page_size=2, max_page_size=2)
    b.service.on_progress = lambda *report: reports.append(report)

    summary = b.sync()
    pulled = [(done, total) for stage, done, total in reports if stage == "pull"]
    assert len(pulled) == summary.pages > 2
    assert all(total >= done > 0 for done, total in pulled)
    assert pulled[-1] == (summary.pulled_rows, summary.pulled_rows)


def test_pull_resumes_from_last_committed_page(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a = make_device(server, "ann")
    b = make_device(server, "bob", page_size=2)
    for n in range(5):
        new_person(a, phone=str(n))
    a.sync()
    first = b.client.pull(0, 2)
    b.service.apply_page(first)
    assert b.service.cursor() == first.cursor > 0
    # the link drops here; the next sync starts from the committed cursor, not from zero
    summary = b.sync()
    assert summary.pages >= 1
    with b.store.read() as session:
        assert len(list(session.scalars(select(Person)))) == 5


def test_rows_new_to_the_device_are_stored_as_sent_split_over_pages_or_not(
    server: Server, make_device: Any
) -> None:
    """A row new to the device is written from its wire values (each checked and
    converted by its field's type): what it does not send is empty until a later page
    sends it, a field this app does not know is left out, a tombstone stays one, and
    each row brings its creation event once."""
    from sync import protocol as p

    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    job, step, gone = (f"00000000-0000-4000-8000-00000000b00{n}" for n in range(3))
    person = "00000000-0000-4000-8000-00000000b010"
    stamp = "0001763812345678-0000-dev-b"

    def page(cursor: int, *rows: p.RowUpdate) -> p.PullPage:
        return p.PullPage(
            since=cursor - 1, cursor=cursor, more=False, rows=list(rows), merges=[], conflicts=[]
        )

    first = {"office": "MS", "person_id": person, "start_date": "2024-05-01"}
    a.service.apply_page(
        page(
            1,
            p.RowUpdate("employment", job, 1, first | {"shoe_size": 42}, p.Creation(stamp, "ann")),
            p.RowUpdate("step", step, 1, {"office": "MS", "data": {"paid_on": "2024-06-01"}}),
            p.RowUpdate(
                "checklist_item", gone, 1, {"office": "MS", "required": True, "deleted": True}
            ),
        )
    )
    held = _get(a, Employment, job)
    assert (held.start_date, held.monthly_wage, held.section) == (dt.date(2024, 5, 1), None, None)
    assert (held.employer_id, held.version, held.deleted) == (None, 1, False)
    assert _get(a, Step, step).data == {"paid_on": "2024-06-01"}
    assert _get(a, ChecklistItem, gone).deleted

    rest = {"monthly_wage": "9500.50", "section": 33, "end_date": None}
    a.service.apply_page(page(2, p.RowUpdate("employment", job, 2, rest)))
    held = _get(a, Employment, job)
    assert (held.monthly_wage, held.section, held.version) == (decimal.Decimal("9500.50"), 33, 2)
    assert held.start_date == dt.date(2024, 5, 1)  # the first page's value stays
    with a.store.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.row_id == job)).all()
    assert [(e.action, e.user, e.id) for e in events] == [
        ("employment.created", "ann", catalogue.creation_event_id(job))
    ]


def test_a_pulled_value_longer_than_this_apps_limit_is_kept_and_its_row_stays_editable(
    server: Server, make_device: Any
) -> None:
    """What the server sends was checked by the server, against its own catalogue (perhaps
    a newer one with a longer limit): the device keeps it, queues nothing for it, and an
    edit of another field of that row is recorded as usual (only what changes is checked)."""
    from sync import protocol as p

    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    row_id = "00000000-0000-4000-8000-00000000a001"
    long_address = "ถนน" * 200  # 600 characters, past this app's 500
    values = {"office": "MS", "address_th": long_address, "phone": "9" * 41}
    page = p.PullPage(
        since=0,
        cursor=1,
        more=False,
        rows=[p.RowUpdate(entity="person", id=row_id, version=1, values=values)],
        merges=[],
        conflicts=[],
    )

    a.service.apply_page(page)

    held = _get(a, Person, row_id)
    assert (held.address_th, held.phone) == (long_address, "9" * 41)
    assert _outbox(a) == 0
    edit_row(a, Person, row_id, sex="f")
    with a.store.read() as session:
        queued = {
            e.field
            for e in session.scalars(select(OutboxEntry).where(OutboxEntry.entity == "person"))
        }
    assert queued == {"sex"}


def test_the_day_a_worker_went_home_travels_to_a_colleague(
    server: Server, make_device: Any
) -> None:
    """Recorded on one laptop, the day the worker left Thailand reaches a colleague's,
    whose Tasks page then no longer asks that worker to register with the DOE."""
    import datetime as dt

    from desktop.services import people

    a, b = colleagues(server, make_device)
    made = people.create_person(a.store, people.PersonInput(names=[people.NameInput("Mya Mya")]))
    people.update_person(a.store, made.person_id, left_on=dt.date(2026, 2, 1))
    assert a.sync().ok
    b.sync()
    held = people.get_person(b.store, made.person_id)
    assert held.left_on == dt.date(2026, 2, 1)
    assert people.gone_home(held)


def test_a_womans_title_and_marital_status_travel_to_a_colleague_and_back(
    server: Server, make_device: Any
) -> None:
    """Recorded on one laptop, corrected on another: the title is hers to choose (a
    married woman may keep Miss), so both details travel as they were recorded."""
    from desktop.services import people

    a, b = colleagues(server, make_device)
    made = people.create_person(
        a.store,
        people.PersonInput(
            names=[people.NameInput("Ma Aye Aye")], sex="F", title="miss", marital_status="married"
        ),
    )
    assert a.sync().ok
    b.sync()
    held = people.get_person(b.store, made.person_id)
    assert (held.title, held.marital_status) == ("miss", "married")

    people.update_person(b.store, made.person_id, title="mrs", marital_status="widowed")
    assert (b.sync().rejected, a.sync().ok) == (0, True)

    back = people.get_person(a.store, made.person_id)
    assert (back.title, back.marital_status) == ("mrs", "widowed")
    with server.engine.connect() as conn:
        row = current_rows(conn)[("person", made.person_id)]
    assert (row["title"], row["marital_status"]) == ("mrs", "widowed")


def test_a_title_the_catalogue_does_not_list_is_refused_and_stored_nowhere(
    server: Server, make_device: Any
) -> None:
    """A title code no SSO form knows (sent by an app that let one through): the server
    refuses it (errno 104), the Sapan user reads which detail is at fault, and neither the
    server nor a colleague holds it; the person's other details still travel."""
    a, b = colleagues(server, make_device)
    pid = new_person(a, sex="F", phone="0811111111")
    edit_row(a, Person, pid, title="miss")
    with a.store.session() as session:
        entry = session.scalars(
            select(OutboxEntry).where(OutboxEntry.row_id == pid, OutboxEntry.field == "title")
        ).one()
        entry.value = json.dumps("lady")

    summary = a.sync()

    assert (summary.ok, summary.failed) == (True, 1)
    [item] = sync_view.failed_items(a.store)
    assert (item.entity, item.field) == ("person", "title")
    assert sync_view.failed_reason(item, i18n.text) == (
        "the server cannot accept this value of Person: title (Mr, Mrs, Miss)"
        " (not one of mr, mrs, miss); tell your coordinator"
    )
    with server.engine.connect() as conn:
        row = current_rows(conn)[("person", pid)]
    assert "title" not in row or row["title"] is None
    b.sync()
    held = _get(b, Person, pid)
    assert (held.phone, held.title) == ("0811111111", None)


def _new_step(device: Device, **values: Any) -> str:
    """A person with a case, a claim track and one step on ``device``; the step's id."""
    pid = new_person(device)
    case_id = new_row(device, Case, person_id=pid, status="open")
    track_id = new_row(device, Track, case_id=case_id, kind="claim")
    return new_row(device, Step, track_id=track_id, key="submit", **values)


def _fill(device: Device, step_id: str, **entries: Any) -> None:
    """Add entries to a step's data as the wizard does: the keys it holds stay."""
    edit_row(device, Step, step_id, data={**(_get(device, Step, step_id).data or {}), **entries})


def test_forward_field_never_moves_backwards(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    step_id = _new_step(a, state="in_progress")
    a.sync()
    b.sync()
    edit_row(b, Step, step_id, state="submitted")
    b.sync()
    edit_row(a, Step, step_id, state="ready")  # stale: a never saw "submitted"
    a.sync()
    b.sync()
    assert _get(a, Step, step_id).state == _get(b, Step, step_id).state == "submitted"
    assert server.count("conflicts") == 0  # a stale edit settles silently


@pytest.mark.parametrize("reopened_first", [False, True])
def test_a_step_reopened_while_another_device_moved_it_on_leaves_a_conflict(
    server: Server, make_device: Any, reopened_first: bool
) -> None:
    """Ann reopens a submitted step on purpose (the office sent the claim back) while Bob,
    offline, records it decided. The later state stands, as for any forward field, but
    Ann's step back no longer vanishes: a coordinator sees both and may flip to hers,
    whichever device synced first."""
    a, b = colleagues(server, make_device)
    step_id = _new_step(a, state="submitted")
    a.sync()
    b.sync()
    edit_row(a, Step, step_id, state="in_progress")  # a step back, on purpose
    edit_row(b, Step, step_id, state="decided")  # Bob never saw the step back
    first, second = (a, b) if reopened_first else (b, a)
    first.sync()
    assert second.sync().conflicts == 1
    for device in (first, second):
        device.sync()
    assert _get(a, Step, step_id).state == _get(b, Step, step_id).state == "decided"
    coordinator = server.device("cora")
    [conflict] = coordinator.conflicts("open")
    assert (conflict.field, conflict.applied.value) == ("state", "decided")
    assert (conflict.other.value, conflict.other.user_id) == ("in_progress", "ann")

    coordinator.resolve(conflict.id, flip=True)
    for device in (a, b):
        device.sync()
    assert _get(a, Step, step_id).state == _get(b, Step, step_id).state == "in_progress"


def test_a_step_reopened_after_a_push_cut_between_batches_still_leaves_a_conflict(
    server: Server, make_device: Any
) -> None:
    """Offline, Ann submits a step and then reopens it on purpose, while Bob records it
    ready. Ann's link drops after her first batch, so the reopen goes in a later push: the
    server still knows she had seen her own "submitted", and her step back is kept for a
    coordinator instead of vanishing."""
    a, b = colleagues(server, make_device)
    step_id = _new_step(a, state="in_progress")
    a.sync()
    b.sync()
    edit_row(a, Step, step_id, state="submitted")
    edit_row(a, Step, step_id, state="in_progress")  # a step back, on purpose
    edit_row(b, Step, step_id, state="ready")
    b.sync()
    # each change its own push, as after a cut between batches
    a.service.batch_size = a.service.max_batch_size = 1

    assert a.sync().conflicts == 1

    for device in (a, b):
        device.sync()
    assert _get(a, Step, step_id).state == _get(b, Step, step_id).state == "submitted"
    [conflict] = server.device("cora").conflicts("open")
    assert (conflict.field, conflict.applied.value) == ("state", "submitted")
    assert (conflict.other.value, conflict.other.user_id) == ("in_progress", "ann")


def test_step_data_filled_on_two_devices_keeps_both_entries_without_a_conflict(
    server: Server, make_device: Any
) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    step_id = _new_step(a, data={"event_date": "2026-01-05"})
    a.sync()
    b.sync()
    _fill(a, step_id, hospital="Mae Sot")
    _fill(b, step_id, wage="9000")
    _fill(b, step_id, days="3")  # a second queued edit, still without ann's entry
    summaries = [a.sync(), b.sync(), a.sync()]
    assert sum(summary.conflicts for summary in summaries) == 0
    expected = {"event_date": "2026-01-05", "hospital": "Mae Sot", "wage": "9000", "days": "3"}
    assert _get(a, Step, step_id).data == _get(b, Step, step_id).data == expected
    assert server.count("conflicts") == 0


def test_step_data_entry_set_differently_leaves_a_conflict_on_that_entry_alone(
    server: Server, make_device: Any
) -> None:
    """Both fill the hospital differently, bob adds a day count: bob's later stamp wins the
    hospital, the conflict differs at the hospital only, and flipping it after ann added
    another entry changes the hospital back and keeps everything else."""
    server.user("ann")
    server.user("bob")
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    a, b = make_device(server, "ann"), make_device(server, "bob")
    step_id = _new_step(a, data={"event_date": "2026-01-05"})
    a.sync()
    b.sync()
    _fill(a, step_id, hospital="Mae Sot")
    _fill(b, step_id, hospital="Tak", days="3")
    a.sync()
    assert b.sync().conflicts == 1
    a.sync()
    in_force = {"event_date": "2026-01-05", "hospital": "Tak", "days": "3"}
    assert _get(a, Step, step_id).data == _get(b, Step, step_id).data == in_force
    coordinator = server.device("cora")
    [conflict] = coordinator.conflicts("open")
    assert conflict.applied.value == in_force
    assert conflict.other.value == {**in_force, "hospital": "Mae Sot"}
    assert conflict.other.user_id == "ann"
    _fill(a, step_id, receipt="R-17")
    a.sync()
    coordinator.resolve(conflict.id, flip=True)
    with pytest.raises(SyncHttpError) as twice:  # settled: the second answer says so
        coordinator.resolve(conflict.id, flip=False)
    assert (twice.value.status, twice.value.errno) == (409, Errno.ALREADY_RESOLVED)
    for device in (a, b):
        device.sync()
    flipped = {**in_force, "hospital": "Mae Sot", "receipt": "R-17"}
    assert _get(a, Step, step_id).data == _get(b, Step, step_id).data == flipped


@pytest.mark.parametrize("cut", [False, True], ids=["one push", "cut between batches"])
def test_a_stale_copy_of_a_step_entry_never_overrides_a_colleagues_correction(
    server: Server, make_device: Any, cut: bool
) -> None:
    """Ann corrects the bank account of a claim. Bob, offline, saves the same step twice
    (his copy still holding the old account) to add the hospital and then the days. His
    later stamps once won the account back for the old one, with two conflict records
    saying opposite things; now the entry he did not change gives way to Ann's, with no
    conflict, and both his entries stand, whether his saves went in one push or two."""
    a, b = colleagues(server, make_device)
    step_id = _new_step(a, data={"bank_account": "111-1-11111-1"})
    a.sync()
    b.sync()
    _fill(a, step_id, bank_account="222-2-22222-2")  # the correction
    a.sync()
    _fill(b, step_id, hospital="Tak")
    _fill(b, step_id, days="3")
    if cut:
        b.service.batch_size = b.service.max_batch_size = 1

    assert b.sync().conflicts == 0

    a.sync()
    in_force = {"bank_account": "222-2-22222-2", "hospital": "Tak", "days": "3"}
    assert _get(a, Step, step_id).data == _get(b, Step, step_id).data == in_force
    assert server.device("cora").conflicts("open") == []


def test_set_field_merges_as_union(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, languages=["my"])
    a.sync()
    b.sync()
    edit_row(a, Person, pid, languages=["my", "th"])
    edit_row(b, Person, pid, languages=["my", "km"])
    a.sync()
    b.sync()
    a.sync()
    assert sorted(_get(a, Person, pid).languages) == sorted(_get(b, Person, pid).languages)
    assert set(_get(a, Person, pid).languages) == {"my", "th", "km"}


def test_merges_travel_and_can_be_undone(server: Server, make_device: Any) -> None:
    from sync.protocol import Role

    server.user("ann")
    server.user("cora", Role.COORDINATOR, ("MS",))
    a = make_device(server, "ann")
    coordinator = server.device("cora")
    keep, dup = new_person(a, phone="1"), new_person(a, phone="2")
    a.sync()
    record = coordinator.merge("person", dup, keep)
    a.sync()
    assert _get(a, Person, dup).merged_into == keep
    edit_row(a, Person, dup, line_id="line-after-merge")  # made to B after the merge
    a.sync()
    assert _get(a, Person, keep).line_id == "line-after-merge"
    coordinator.undo_merge(record.id)
    a.sync()
    assert _get(a, Person, dup).merged_into is None
    edit_row(a, Person, dup, address_th="Mae Sot")
    a.sync()
    assert _get(a, Person, dup).address_th == "Mae Sot"
    assert _get(a, Person, keep).address_th is None


def _hanging(device: Device, cls: Any, field: str, parent: str) -> set[str]:
    with device.store.read() as session:
        column = getattr(cls, field)
        return set(session.scalars(select(cls.id).where(column == parent)))


def test_what_hangs_from_a_merged_person_moves_to_the_target_and_back_on_undo(
    server: Server, make_device: Any
) -> None:
    """design.md §4.6: a coordinator merges the same worker registered twice. B's names,
    documents and cases move onto A on every device, so A's case file holds everything;
    undo moves them back."""
    server.user("ann")
    server.user("bee")
    server.user("cora", Role.COORDINATOR, ("MS",))
    ann, bee = make_device(server, "ann"), make_device(server, "bee")
    keep, dup = new_person(ann, phone="1"), new_person(bee, phone="2")
    kept_name = new_row(ann, PersonName, person_id=keep, full_name="Aung Aung", kind="native")
    names = {kept_name, new_row(bee, PersonName, person_id=dup, full_name="Ko Aung", kind="alias")}
    passport = new_row(bee, IdentityDocument, person_id=dup, kind="passport", number="MA1234567")
    case = new_row(bee, Case, person_id=dup, number="MS-1")
    kept_case = new_row(ann, Case, person_id=keep, number="MS-2")
    other = new_person(bee, phone="3")
    untouched = new_row(bee, PersonName, person_id=other, full_name="Mya Mya", kind="native")
    for device in (ann, bee, ann):
        assert device.sync().ok
    coordinator = server.device("cora")
    record = coordinator.merge("person", dup, keep)
    for device in (ann, bee):
        assert device.sync().ok
        assert _hanging(device, PersonName, "person_id", keep) == names
        assert _hanging(device, IdentityDocument, "person_id", keep) == {passport}
        assert _hanging(device, Case, "person_id", keep) == {case, kept_case}
        assert _hanging(device, PersonName, "person_id", dup) == set()
        assert _get(device, PersonName, untouched).person_id == other
        assert set(list_case_ids(device.store, CaseFilter(text="Ko Aung"))) == {case, kept_case}
    # a document made for B offline, after the merge, lands on A too
    late = new_row(bee, IdentityDocument, person_id=dup, kind="ci", number="0012345678901")
    assert bee.sync().ok
    assert ann.sync().ok
    assert _get(ann, IdentityDocument, late).person_id == keep
    coordinator.undo_merge(record.id)
    for device in (ann, bee):
        assert device.sync().ok
        assert _hanging(device, PersonName, "person_id", keep) == {kept_name}
        assert _hanging(device, PersonName, "person_id", dup) == names - {kept_name}
        # made for B, it landed on A only because of the merge: it goes back with B
        assert _hanging(device, IdentityDocument, "person_id", dup) == {passport, late}
        assert _hanging(device, Case, "person_id", dup) == {case}
        assert list_case_ids(device.store, CaseFilter(text="Ko Aung")) == [case]


def _live(device: Device, cls: Any, parent: str) -> set[str]:
    with device.store.read() as session:
        return set(
            session.scalars(select(cls.id).where(cls.person_id == parent, cls.deleted.is_(False)))
        )


def test_a_merge_retires_what_repeats_the_target_and_undo_brings_it_back(
    server: Server, make_device: Any
) -> None:
    """The same worker registered twice usually has the same passport and name twice: after
    the merge A's case file lists each once. A row of B that holds anything A's lacks
    (here an expiry date) still moves, and undo restores every retired row."""
    import datetime as dt

    server.user("ann")
    server.user("bee")
    server.user("cora", Role.COORDINATOR, ("MS",))
    ann, bee = make_device(server, "ann"), make_device(server, "bee")
    keep, dup = new_person(ann, phone="1"), new_person(bee, phone="2")
    kept_name = new_row(ann, PersonName, person_id=keep, full_name="Aung Aung", kind="native")
    kept_passport = new_row(ann, IdentityDocument, person_id=keep, kind="passport", number="MA1")
    kept_card = new_row(ann, IdentityDocument, person_id=keep, kind="pink_card", number="PC2")
    same_name = new_row(bee, PersonName, person_id=dup, full_name="Aung Aung", kind="native")
    alias = new_row(bee, PersonName, person_id=dup, full_name="Ko Aung", kind="alias")
    same_passport = new_row(bee, IdentityDocument, person_id=dup, kind="passport", number="MA1")
    dated_card = new_row(
        bee,
        IdentityDocument,
        person_id=dup,
        kind="pink_card",
        number="PC2",
        expires_on=dt.date(2027, 1, 31),  # A's card has no expiry: this one says more
    )
    for device in (ann, bee, ann):
        assert device.sync().ok
    record = server.device("cora").merge("person", dup, keep)

    for device in (ann, bee):
        assert device.sync().ok
        assert _live(device, PersonName, keep) == {kept_name, alias}
        assert _live(device, IdentityDocument, keep) == {kept_passport, kept_card, dated_card}
        retired = _get(device, IdentityDocument, same_passport)
        assert (retired.deleted, retired.person_id) == (True, keep)
        assert _get(device, PersonName, same_name).deleted
    server.device("cora").undo_merge(record.id)
    for device in (ann, bee):
        assert device.sync().ok
        assert _live(device, PersonName, dup) == {same_name, alias}
        assert _live(device, IdentityDocument, dup) == {same_passport, dated_card}
        assert _live(device, IdentityDocument, keep) == {kept_passport, kept_card}
        found = {hit.person_id for hit in search(device.store, "MA1")}
        assert found == {keep, dup}, "B's passport is searchable on B again"


def test_an_edit_that_crosses_a_retired_repeat_is_kept_and_can_bring_it_back_on_a(
    server: Server, make_device: Any
) -> None:
    """bee, offline, corrects the passport the merge retires as a repeat: the edit is kept
    with a conflict on ``deleted``; flipping it shows the corrected passport on A."""
    server.user("ann")
    server.user("bee")
    server.user("cora", Role.COORDINATOR, ("MS",))
    ann, bee = make_device(server, "ann"), make_device(server, "bee")
    keep, dup = new_person(ann, phone="1"), new_person(bee, phone="2")
    new_row(ann, IdentityDocument, person_id=keep, kind="passport", number="MA1")
    repeat = new_row(bee, IdentityDocument, person_id=dup, kind="passport", number="MA1")
    for device in (ann, bee, ann):
        assert device.sync().ok
    coordinator = server.device("cora")
    coordinator.merge("person", dup, keep)
    edit_row(bee, IdentityDocument, repeat, issuing_country="MMR")  # not synced yet

    assert bee.sync().ok
    [conflict] = coordinator.conflicts("open")
    assert (conflict.entity, conflict.row_id, conflict.field) == (
        "identity_document",
        repeat,
        "deleted",
    )
    coordinator.resolve(conflict.id, flip=True)
    for device in (ann, bee):
        assert device.sync().ok
        back = _get(device, IdentityDocument, repeat)
        assert (back.deleted, back.person_id, back.issuing_country) == (False, keep, "MMR")


def test_a_merged_case_brings_its_tracks_and_notes(server: Server, make_device: Any) -> None:
    server.user("ann")
    server.user("cora", Role.COORDINATOR, ("MS",))
    ann = make_device(server, "ann")
    person = new_person(ann, phone="1")
    keep = new_row(ann, Case, person_id=person, number="MS-1")
    dup = new_row(ann, Case, person_id=person, number="MS-2")
    track = new_row(ann, Track, case_id=dup, kind="claim", benefit="sickness")
    note = new_row(ann, Note, case_id=dup, body="Employer called back", author="ann")
    assert ann.sync().ok
    server.device("cora").merge("case", dup, keep)
    assert ann.sync().ok
    assert _hanging(ann, Track, "case_id", keep) == {track}
    assert _hanging(ann, Note, "case_id", keep) == {note}
    assert _get(ann, Note, note).body == "Employer called back"  # the note is whole
    with server.engine.connect() as conn:
        assert current_rows(conn)[("note", note)]["case_id"] == keep


def test_a_merge_that_later_merges_build_on_is_undone_only_after_them(
    server: Server, make_device: Any
) -> None:
    """Undoing a person merge after B's case (A's since) was merged into one of A's cases
    would give B back a case hidden in A's, its claim tracks on A's: the server refuses
    and names the later merge; once that one is undone, the person merge undoes whole. A
    case merge between two of B's own cases goes back with B and blocks nothing."""
    server.user("ann")
    server.user("cora", Role.COORDINATOR, ("MS",))
    ann = make_device(server, "ann")
    coordinator = server.device("cora")
    keep, dup = new_person(ann, phone="1"), new_person(ann, phone="2")
    kept_case = new_row(ann, Case, person_id=keep, number="MS-1")
    case = new_row(ann, Case, person_id=dup, number="MS-2")
    twin = new_row(ann, Case, person_id=dup, number="MS-3")
    track = new_row(ann, Track, case_id=case, kind="claim", benefit="sickness")
    assert ann.sync().ok
    person_merge = coordinator.merge("person", dup, keep)
    among_b = coordinator.merge("case", twin, case)  # both B's: goes back with B
    across = coordinator.merge("case", case, kept_case)  # B's case into A's
    assert ann.sync().ok
    assert _hanging(ann, Track, "case_id", kept_case) == {track}
    with pytest.raises(SyncHttpError) as refused:
        coordinator.undo_merge(person_merge.id)
    assert (refused.value.status, refused.value.errno) == (409, Errno.MERGE_UNDER_LATER)
    assert refused.value.details["merges"] == [across.id]
    assert ann.sync().ok  # nothing was undone
    assert _get(ann, Person, dup).merged_into == keep
    assert _hanging(ann, Case, "person_id", keep) == {kept_case, case, twin}

    coordinator.undo_merge(across.id)
    undone = coordinator.undo_merge(person_merge.id)
    assert undone.undone
    assert ann.sync().ok
    assert _get(ann, Person, dup).merged_into is None
    assert _hanging(ann, Case, "person_id", dup) == {case, twin}
    assert _hanging(ann, Track, "case_id", case) == {track}
    assert _get(ann, Case, twin).merged_into == case  # the merge among B's own cases stands
    assert among_b.id not in refused.value.details["merges"]


def test_a_person_merged_on_into_a_third_is_undone_last_first(
    server: Server, make_device: Any
) -> None:
    """B into A, then A into C: B's names went on to C. Undoing B into A first would leave
    them on C; the server asks for A into C to be undone first."""
    server.user("ann")
    server.user("cora", Role.COORDINATOR, ("MS",))
    ann = make_device(server, "ann")
    coordinator = server.device("cora")
    b, a, c = new_person(ann), new_person(ann), new_person(ann)
    name = new_row(ann, PersonName, person_id=b, full_name="Ko Aung", kind="alias")
    assert ann.sync().ok
    first = coordinator.merge("person", b, a)
    second = coordinator.merge("person", a, c)
    with pytest.raises(SyncHttpError) as refused:
        coordinator.undo_merge(first.id)
    assert refused.value.details["merges"] == [second.id]
    coordinator.undo_merge(second.id)
    coordinator.undo_merge(first.id)
    assert ann.sync().ok
    assert _get(ann, PersonName, name).person_id == b
    assert _get(ann, Person, b).merged_into is None
    assert _get(ann, Person, a).merged_into is None


def test_a_conflict_flipped_after_its_person_was_merged_away_lands_on_the_person_kept(
    server: Server, make_device: Any
) -> None:
    """Two caseworkers set B's birth date differently offline; a coordinator then merges B
    into A. Devices name the conflict by A, whose case file shows; flipping it is an edit
    made after the merge, so it lands on A, as every edit to B does."""
    a, b = colleagues(server, make_device)
    keep, dup = new_person(a, birth_date="1990-01-02"), new_person(a, birth_date="1990")
    a.sync()
    b.sync()
    edit_row(a, Person, dup, birth_date="1990-02-01")
    edit_row(b, Person, dup, birth_date="1991-01-02")
    a.sync()
    assert b.sync().conflicts == 1
    coordinator = server.device("cora")
    coordinator.merge("person", dup, keep)
    [conflict] = coordinator.conflicts("open")
    assert (conflict.row_id, conflict.applied.value) == (dup, "1991-01-02")

    coordinator.resolve(conflict.id, flip=True)

    for device in (a, b):
        assert device.sync().ok
        assert _get(device, Person, keep).birth_date == "1990-02-01"
        assert _get(device, Person, dup).birth_date == "1991-01-02"  # hidden, untouched


@pytest.mark.parametrize("undone", [False, True], ids=["merged", "undone"])
@pytest.mark.parametrize("entity", ["person", "case"])
def test_deleting_a_merged_away_row_offline_does_not_delete_the_one_kept(
    server: Server, make_device: Any, entity: str, undone: bool
) -> None:
    """bob deletes the duplicate B offline while a coordinator merges B into A. Landing on A
    as other edits to B do, the deletion removed A, the person (or case) kept with
    everything the merge gave it, from every device without a trace. A stays; a conflict on
    B's ``deleted`` keeps bob's deletion for a coordinator, whose flip lands on A while the
    merge stands (on B once it is undone)."""
    a, b = colleagues(server, make_device)
    person = new_person(a, phone="1")
    if entity == "person":
        keep, dup = person, new_person(a, phone="2")
        child = new_row(a, PersonName, person_id=dup, full_name="Ko Aung", kind="native")
        cls, child_cls, reference = Person, PersonName, "person_id"
    else:
        keep, dup = new_row(a, Case, person_id=person), new_row(a, Case, person_id=person)
        child = new_row(a, Track, case_id=dup, kind="claim", benefit="sickness")
        cls, child_cls, reference = Case, Track, "case_id"
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    record = coordinator.merge(entity, dup, keep)
    edit_row(b, cls, dup, deleted=True)  # not synced yet: bob has not heard of the merge

    assert b.sync().conflicts == 1
    assert a.sync().ok
    for device in (a, b):
        kept = _get(device, cls, keep)
        assert not kept.deleted
        assert getattr(_get(device, child_cls, child), reference) == keep
        assert not _get(device, cls, dup).deleted  # bob's copy of B is the server's again
    [conflict] = coordinator.conflicts("open")
    assert (conflict.entity, conflict.row_id, conflict.field) == (entity, dup, "deleted")
    assert (conflict.applied.value, conflict.other.value) == (False, True)

    if undone:
        coordinator.undo_merge(record.id)
    coordinator.resolve(conflict.id, flip=True)  # the coordinator agrees: the record goes
    gone, stays = (dup, keep) if undone else (keep, dup)
    for device in (a, b):
        assert device.sync().ok
        assert _get(device, cls, gone).deleted
        assert not _get(device, cls, stays).deleted


def test_a_merged_away_row_edited_offline_is_sent_back_as_standing_not_null(
    server: Server, make_device: Any
) -> None:
    """Found by the merge machine: A is deleted, then bob deletes B, merged into A, offline.
    The deletion lands on A (deleted already) and B's own ``deleted``, never set, was sent
    back as null, a value no device holds: bob's laptop kept false and disagreed with the
    server for good. A row that was never deleted stands: it is sent back as false."""
    a, b = colleagues(server, make_device)
    keep, dup = new_person(a, phone="1"), new_person(a, phone="2")
    assert a.sync().ok
    assert b.sync().ok
    server.device("cora").merge("person", dup, keep)
    edit_row(a, Person, keep, deleted=True)
    assert a.sync().ok
    edit_row(b, Person, dup, deleted=True)  # bob has not heard of the merge nor the deletion

    for device in (b, a, b):
        assert device.sync().ok
    rows = agree_with_server(server, [a.store, b.store])
    assert rows[("person", dup)]["deleted"] is False
    assert rows[("person", keep)]["deleted"] is True


def test_rows_made_offline_for_both_ends_of_a_merge_chain_land_on_the_last(
    server: Server, make_device: Any
) -> None:
    """Found by the merge machine: A merged into B, then B into C. A batch naming both A
    and B found both links at once; read B's first (as an index on the merged row's id
    returns them when B was recorded before A), A was sent on to B alone, a merged-away
    person, and the name made for A hung from B on every device."""
    a, b = colleagues(server, make_device)
    second, first, last = new_person(a), new_person(a), new_person(a)  # B recorded before A
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    coordinator.merge("person", first, second)
    coordinator.merge("person", second, last)
    for_first = new_row(b, PersonName, person_id=first, full_name="Ko Aung", kind="alias")
    for_second = new_row(b, PersonName, person_id=second, full_name="Aung Aung", kind="alias")

    assert b.sync().ok
    assert a.sync().ok
    for device in (a, b):
        assert _get(device, PersonName, for_first).person_id == last
        assert _get(device, PersonName, for_second).person_id == last


def test_rows_made_for_b_before_they_heard_of_the_merge_go_back_to_b_on_undo(
    server: Server, make_device: Any
) -> None:
    """bob records a name and a case for B offline while a coordinator merges B into A:
    they land on A. The merge was a mistake; undone, they were made for B and go back to
    B on every device. What ann made for A after the merge stays on A."""
    a, b = colleagues(server, make_device)
    keep, dup = new_person(a, phone="1"), new_person(a, phone="2")
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    record = coordinator.merge("person", dup, keep)
    alias = new_row(b, PersonName, person_id=dup, full_name="Ko Aung", kind="alias")
    case = new_row(b, Case, person_id=dup, number="MS-9")
    track = new_row(b, Track, case_id=case, kind="claim", benefit="sickness")
    assert b.sync().ok
    assert a.sync().ok
    assert _hanging(a, Case, "person_id", keep) == {case}
    for_a = new_row(a, PersonName, person_id=keep, full_name="Aung Aung", kind="native")
    assert a.sync().ok

    coordinator.undo_merge(record.id)
    for device in (a, b):
        assert device.sync().ok
        assert _hanging(device, PersonName, "person_id", dup) == {alias}
        assert _hanging(device, Case, "person_id", dup) == {case}
        assert _hanging(device, PersonName, "person_id", keep) == {for_a}
        assert _get(device, Track, track).case_id == case


def test_a_track_and_a_note_made_for_a_merged_away_case_go_back_on_undo(
    server: Server, make_device: Any
) -> None:
    """The same for a case merge, and for a note, which is written once, whole: undo logs it
    whole again with its case."""
    a, b = colleagues(server, make_device)
    person = new_person(a)
    keep, dup = new_row(a, Case, person_id=person), new_row(a, Case, person_id=person)
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    record = coordinator.merge("case", dup, keep)
    track = new_row(b, Track, case_id=dup, kind="claim", benefit="maternity")
    note = new_row(b, Note, case_id=dup, body="Employer called back", author="bob")
    assert b.sync().ok
    assert _get(b, Note, note).case_id == keep

    coordinator.undo_merge(record.id)
    for device in (a, b):
        assert device.sync().ok
        assert _get(device, Track, track).case_id == dup
        assert (_get(device, Note, note).case_id, _get(device, Note, note).body) == (
            dup,
            "Employer called back",
        )


def test_a_row_made_for_b_that_a_later_merge_builds_on_holds_the_undo(
    server: Server, make_device: Any
) -> None:
    """A case made for B offline landed on A, and a coordinator then merged it into one of
    A's cases. Undoing the person merge would give B back a case hidden in A's: refused,
    naming the case merge, as for the cases the merge itself moved."""
    a, b = colleagues(server, make_device)
    keep, dup = new_person(a), new_person(a)
    kept_case = new_row(a, Case, person_id=keep, number="MS-1")
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    person_merge = coordinator.merge("person", dup, keep)
    late_case = new_row(b, Case, person_id=dup, number="MS-2")
    assert b.sync().ok
    case_merge = coordinator.merge("case", late_case, kept_case)

    with pytest.raises(SyncHttpError) as refused:
        coordinator.undo_merge(person_merge.id)
    assert (refused.value.status, refused.value.errno) == (409, Errno.MERGE_UNDER_LATER)
    assert refused.value.details["merges"] == [case_merge.id]
    coordinator.undo_merge(case_merge.id)
    coordinator.undo_merge(person_merge.id)
    assert b.sync().ok
    assert _get(b, Case, late_case).person_id == dup


def test_a_row_that_landed_on_a_merge_and_was_pointed_elsewhere_holds_no_undo(
    server: Server, make_device: Any
) -> None:
    """A passport made for B offline landed on A; its caseworker then pointed it at a
    person merged into a third since (it landed there too). The first merge no longer
    moves the passport: its undo goes through (it used to be refused, naming the other
    merge, which only that merge's coordinator could undo), B stands again, and the
    passport stays where its caseworker put it."""
    a, b = colleagues(server, make_device)
    keep, dup = new_person(a), new_person(a)
    other_keep, other_dup = new_person(a), new_person(a)
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    first = coordinator.merge("person", dup, keep)
    passport = new_row(b, IdentityDocument, person_id=dup, kind="passport", number="MA7654321")
    assert b.sync().ok
    assert _get(b, IdentityDocument, passport).person_id == keep
    edit_row(b, IdentityDocument, passport, person_id=other_dup)  # offline, before the next
    second = coordinator.merge("person", other_dup, other_keep)
    assert b.sync().ok
    assert _get(b, IdentityDocument, passport).person_id == other_keep

    undone = coordinator.undo_merge(first.id)
    assert undone.undone
    for device in (a, b):
        assert device.sync().ok
        assert _get(device, Person, dup).merged_into is None
        assert _get(device, IdentityDocument, passport).person_id == other_keep
        assert _get(device, Person, other_dup).merged_into == other_keep
    # the second merge, which did move the passport, still holds its own undo
    coordinator.undo_merge(second.id)
    assert b.sync().ok
    assert _get(b, IdentityDocument, passport).person_id == other_dup


def test_a_moved_case_pointed_at_another_person_and_merged_there_holds_no_undo(
    server: Server, make_device: Any
) -> None:
    """B's case went to A with the person merge; a caseworker then put it under a third
    person, and a coordinator merged it into that person's case. Undoing the person merge
    would not touch the case: it goes through, and the case stays merged where it is."""
    a, b = colleagues(server, make_device)
    keep, dup, third = new_person(a), new_person(a), new_person(a)
    case = new_row(a, Case, person_id=dup, number="MS-1")
    thirds = new_row(a, Case, person_id=third, number="MS-2")
    assert a.sync().ok
    coordinator = server.device("cora")
    person_merge = coordinator.merge("person", dup, keep)
    assert b.sync().ok
    edit_row(b, Case, case, person_id=third)
    assert b.sync().ok
    coordinator.merge("case", case, thirds)

    assert coordinator.undo_merge(person_merge.id).undone
    assert b.sync().ok
    assert _get(b, Person, dup).merged_into is None
    assert (_get(b, Case, case).person_id, _get(b, Case, case).merged_into) == (third, thirds)


def test_rows_made_offline_through_a_merge_chain_go_back_one_link_at_a_time(
    server: Server, make_device: Any
) -> None:
    """A name made for A, merged into B and B into C, landed on C through both merges.
    Undoing B into C sends it (and the name made for B) back to B; undoing A into B then
    sends A's back to A."""
    a, b = colleagues(server, make_device)
    first, second, last = new_person(a), new_person(a), new_person(a)
    assert a.sync().ok
    assert b.sync().ok
    coordinator = server.device("cora")
    one = coordinator.merge("person", first, second)
    two = coordinator.merge("person", second, last)
    for_first = new_row(b, PersonName, person_id=first, full_name="Ko Aung", kind="alias")
    for_second = new_row(b, PersonName, person_id=second, full_name="Aung Aung", kind="alias")
    assert b.sync().ok

    with pytest.raises(SyncHttpError) as refused:
        coordinator.undo_merge(one.id)
    assert refused.value.details["merges"] == [two.id]
    coordinator.undo_merge(two.id)
    assert b.sync().ok
    assert _get(b, PersonName, for_first).person_id == second
    assert _get(b, PersonName, for_second).person_id == second
    coordinator.undo_merge(one.id)
    for device in (b, a):
        assert device.sync().ok
        assert _get(device, PersonName, for_first).person_id == first
        assert _get(device, PersonName, for_second).person_id == second


def test_caseworker_cannot_merge(server: Server, make_device: Any) -> None:
    from sync.client.http import SyncHttpError
    from sync.protocol import Errno

    server.user("ann")
    a = make_device(server, "ann")
    one, two = new_person(a), new_person(a)
    a.sync()
    with pytest.raises(SyncHttpError) as refused:
        a.client.merge("person", one, two)
    assert refused.value.errno == Errno.ROLE_FORBIDDEN


def test_retry_after_honoured(server: Server, make_device: Any) -> None:
    from sync.client.http import SyncHttpError

    server.user("ann")
    a = make_device(server, "ann")
    waits: list[float] = []
    a.service.sleep = waits.append
    calls = {"n": 0}
    real_pull = a.client.pull

    def busy_then_ok(since: int, limit: int = 2000, form: int = 2, **narrow: Any) -> Any:
        calls["n"] += 1
        if calls["n"] < 3:
            raise SyncHttpError(503, 201, "busy", retry_after=7.0)
        return real_pull(since, limit, form, **narrow)

    a.client.pull = busy_then_ok  # type: ignore[method-assign]
    summary = a.sync()
    assert summary.ok
    assert waits == [7.0, 7.0]
    assert summary.retries == 2


def test_a_retry_after_longer_than_a_sync_waits_ends_the_sync_and_is_kept(
    server: Server, make_device: Any
) -> None:
    """A server asking for two minutes was asked again within the sync after a minute
    (the wait was cut to the sync's longest): the sync now stops at once and says how
    long the server asked for, which the app's worker waits out."""
    from sync.client.http import SyncHttpError

    server.user("ann")
    a = make_device(server, "ann")
    new_person(a)
    waits: list[float] = []
    a.service.sleep = waits.append
    asked = {"n": 0}

    def busy(*args: Any, **kwargs: Any) -> Any:
        asked["n"] += 1
        raise SyncHttpError(503, 201, "busy", retry_after=120.0)

    a.client.pull = busy  # type: ignore[method-assign]
    summary = a.sync()

    assert (summary.ok, summary.retry_after, waits, asked["n"]) == (False, 120.0, [], 1)
    assert summary.pushed > 0, "what went before the busy answer went"
    assert summary.as_dict()["retry_after"] == 120.0


def test_the_bytes_a_push_will_send_are_estimated_as_the_wire_carries_them(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A metered link's question said 3.7 MB for 12,040 changes that went as 199 kB: the
    estimate counted each value as stored plus 170 bytes, where a push goes compact and
    compressed (a field tester). It now encodes and compresses a sample as a push does."""
    monkeypatch.setattr("desktop.services.sync.ESTIMATE_SAMPLE", 200)  # then scaled up
    server.user("ann")
    a = make_device(server, "ann")
    for i in range(100):  # past the estimate's sample
        person = new_person(a, phone=f"08{i:08d}")
        new_row(a, Case, person_id=person, number=f"MS-{i}")
        new_row(a, IdentityDocument, person_id=person, kind="passport", number=f"MA{i:07d}")
    waiting = _outbox(a)
    assert waiting > 200
    estimate = sync_view.overview(a.store).bytes_waiting

    summary = a.sync()

    assert summary.ok
    assert summary.pushed == waiting
    # what the pushes sent: every request's bytes but the pulls' and the checks' (small)
    assert 0.8 * summary.bytes_sent < estimate < 1.5 * summary.bytes_sent, (
        estimate,
        summary.bytes_sent,
    )


def test_own_rows_back_in_a_later_sync_are_not_counted_as_others(
    server: Server, make_device: Any
) -> None:
    """A dropped link cut the pull after the push; the next sync brought the device's own
    rows back and said "changed rows received from others: 9000" with no other device
    (a field tester). Its own rows are told apart across syncs; a colleague's edit of one
    of them meanwhile still counts."""
    from sync.client.http import ServerUnreachable

    a, b = colleagues(server, make_device)
    mine = [new_person(a, phone=f"08{i:08d}") for i in range(5)]
    real_pull = a.client.pull
    cut = {"once": True}

    def dropped(*args: Any, **kwargs: Any) -> Any:
        if cut.pop("once", False):
            raise ServerUnreachable("ReadError")
        return real_pull(*args, **kwargs)

    a.client.pull = dropped  # type: ignore[method-assign]
    first = a.sync()
    assert (first.ok, first.pushed, first.received_rows) == (False, 5, 0)

    assert b.sync().ok
    edit_row(b, Person, mine[0], phone="0899999999")
    assert b.sync().ok
    second = a.sync()

    assert second.ok
    # every row pulled but the device's own four untouched: the colleague's edit (and
    # what travels with it), not the five this device pushed
    assert second.received_rows == second.pulled_rows - 4
    assert _get(a, Person, mine[0]).phone == "0899999999"


def _every_answer_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page or batch counts as quickly answered, whatever the machine's load (a
    busy CI runner once took over a second for one): the sizing tests test the sizes."""
    from sync.client import pacing

    monkeypatch.setattr(pacing, "FAST_SECONDS", 600.0)
    monkeypatch.setattr(pacing, "SLOW_SECONDS", 600.0)


def test_pull_pages_grow_on_a_quick_link_and_shrink_when_one_is_retried(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages that arrive quickly ask for twice as much (up to the device's and the server's
    limits); a page that had to be asked for again halves the next one. Nothing is lost
    or pulled twice."""
    from sync.client.http import SyncHttpError

    _every_answer_quick(monkeypatch)

    a, b = colleagues(server, make_device)
    for n in range(40):
        new_person(a, phone=str(n))
    assert a.sync().ok
    b.service.page_size, b.service.max_page_size = 2, 16
    real_info, real_pull = b.client.info, b.client.pull
    b.client.info = lambda: real_info().model_copy(update={"max_page": 8})  # type: ignore[method-assign]
    limits: list[int] = []

    def pull(since: int, limit: int = 2000, form: int = 2, **narrow: Any) -> Any:
        limits.append(limit)
        if len(limits) == 5:  # the link drops once
            raise SyncHttpError(503, 201, "busy")
        return real_pull(since, limit, form, **narrow)

    b.client.pull = pull  # type: ignore[method-assign]
    summary = b.sync()
    assert summary.ok
    assert summary.retries == 1
    # a first page under no scope yet is refused (the device learns its offices); then
    # 2, 4, 8 (the server's limit, not the device's 16), 8 dropped and asked again, 4, 8
    assert limits[:8] == [2, 2, 4, 8, 8, 8, 4, 8]
    assert summary.pulled_rows == 40
    with b.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 40


def _pushed_batches(device: Device, refuse_over: int | None = None) -> list[int]:
    """The size of every push request ``device`` sends from now on; with ``refuse_over``,
    bigger ones are refused as a proxy in front of the server would (413)."""
    sizes: list[int] = []
    real = device.client.push_batch

    def push_batch(body: bytes) -> Any:
        sizes.append(len(json.loads(body)["changes"]))
        if refuse_over is not None and sizes[-1] > refuse_over:
            raise SyncHttpError(413, 0, "Request Entity Too Large")
        return real(body)

    device.client.push_batch = push_batch  # type: ignore[method-assign]
    return sizes


def test_push_batches_follow_the_link_within_the_servers_limit(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As pull pages do: quickly answered batches double, up to the server's ``max_batch``
    (not the device's own most); one that had to be sent again halves. Each next batch
    is read while one is in flight, so a new size shows one batch later."""
    _every_answer_quick(monkeypatch)
    a, _b = colleagues(server, make_device)
    for n in range(60):
        new_person(a, phone=str(n))
    a.service.batch_size, a.service.max_batch_size = 2, 32
    real_info = a.client.info
    a.client.info = lambda: real_info().model_copy(update={"max_batch": 8})  # type: ignore[method-assign]
    sizes = _pushed_batches(a)
    real_push = a.client.push_batch
    calls: list[int] = []

    def push_batch(body: bytes) -> Any:
        calls.append(len(sizes))
        if len(calls) == 5:  # the link drops once, before the server sees the batch
            raise SyncHttpError(503, 201, "busy")
        return real_push(body)

    a.client.push_batch = push_batch  # type: ignore[method-assign]
    summary = a.sync()
    assert summary.ok
    assert summary.retries == 1
    assert summary.pushed == 60
    # 2, 2, 4, 8 (the server's limit, not the device's 32); the fifth, 8, dropped and sent
    # again; the next 8 read meanwhile; then half, 4, and back to 8: all 60, once each
    assert sizes == [2, 2, 4, 8, 8, 8, 4, 8, 8, 8]
    assert _outbox(a) == 0


def test_a_batch_is_cut_to_the_servers_body_limit(tmp_path: Any, make_device: Any) -> None:
    """A server (or its settings) may take fewer bytes than a batch of the usual size
    holds: the device cuts each batch to fit. It sent the whole batch, was refused, and
    sent it again at every sync: nothing was pushed any more."""
    from sync.server.app import Settings, create_app

    url = str(tmp_path / "small.db")
    small = Server(create_app(Settings(db_url=url, cheap_hashing=True, max_body_bytes=12_000)), url)
    small.user("ann")
    a = make_device(small, "ann")
    for n in range(30):
        new_person(a, phone=str(n), address_th=f"บ้านเลขที่ {n} " + "ถนน" * 120)
    sizes = _pushed_batches(a)
    summary = a.sync()
    assert summary.ok, summary.error
    assert summary.pushed == 30
    assert len(sizes) > 3
    assert small.count("changes") == 30
    small.engine.dispose()


def test_a_batch_a_proxy_refuses_as_too_large_is_halved(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy in front of the server may take less than the server says (413, and no
    errno of ours): the batch is halved until it goes, and the sync goes on at that size."""
    _every_answer_quick(monkeypatch)
    a, _b = colleagues(server, make_device)
    for n in range(20):
        new_person(a, phone=str(n))
    sizes = _pushed_batches(a, refuse_over=5)
    summary = a.sync()
    assert summary.ok, summary.error
    assert summary.pushed == 20
    assert sizes == [20, 10, 5, 5, 5, 5]
    assert _outbox(a) == 0


def test_after_a_change_too_big_for_a_proxy_the_rest_go_in_batches_again(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy refusing a batch for one big change: the batch is halved down to that change,
    which is parked; the changes after it go in batches of the usual size again, not one
    per request for the rest of the sync."""
    _every_answer_quick(monkeypatch)
    a, _b = colleagues(server, make_device)
    a.service.batch_size = a.service.max_batch_size = 8
    big = new_person(a, address_th="ถนน" * 160, address_home="ถนน" * 160)
    for n in range(24):
        new_person(a, phone=str(n))
    sizes: list[int] = []
    real = a.client.push_batch

    def push_batch(body: bytes) -> Any:
        sizes.append(len(json.loads(body)["changes"]))
        if len(body) > 2_500:  # the proxy's limit, below the server's
            raise SyncHttpError(413, 0, "Request Entity Too Large")
        return real(body)

    a.client.push_batch = push_batch  # type: ignore[method-assign]
    summary = a.sync()
    assert (summary.pushed, summary.failed) == (24, 1)
    assert sizes == [8, 4, 2, 1, 8, 8, 8]  # halved to the big one, then the rest as before
    with a.store.read() as session:
        assert [e.row_id for e in session.scalars(select(OutboxEntry))] == [big]


def test_a_change_bigger_than_the_server_takes_is_parked_and_the_rest_go(
    tmp_path: Any, make_device: Any
) -> None:
    from sync.server.app import Settings, create_app

    url = str(tmp_path / "small.db")
    small = Server(create_app(Settings(db_url=url, cheap_hashing=True, max_body_bytes=2_500)), url)
    small.user("ann")
    a = make_device(small, "ann")
    before = [new_person(a, phone="1"), new_person(a, phone="2")]
    big = new_person(a, address_th="ถนน" * 160, address_home="ถนน" * 160)
    after = new_person(a, phone="3")
    summary = a.sync()
    assert summary.pushed == 3
    assert summary.failed == 1
    with a.store.read() as session:
        [parked] = session.scalars(select(OutboxEntry)).all()
    assert parked.row_id == big
    assert errno_of(parked.last_error or "") == Errno.BATCH_TOO_LARGE
    key, _params = reason(parked.last_error or "", parked.entity, parked.field)
    assert key == "sync.reason.too_big"  # the Sync page says to shorten it, then Retry
    assert small.count("changes") == 3
    assert {*before, after} <= _server_rows(small)
    # shortened in the case file, Retry sends the row as it is now, and it goes
    edit_row(a, Person, big, address_home="ถนน")
    assert a.service.retry_failed() == 1
    summary = a.sync()
    assert summary.failed == 0
    assert _outbox(a) == 0
    assert big in _server_rows(small)
    small.engine.dispose()


def _server_rows(server: Server) -> set[str]:
    from sqlalchemy import text

    with server.engine.connect() as conn:
        return set(conn.execute(text("SELECT DISTINCT row_id FROM changes")).scalars())


@pytest.mark.parametrize(
    ("size", "seconds", "retried", "expected"),
    [
        (2000, 0.3, False, 4000),  # quick: twice as much
        (8000, 0.3, False, 10000),  # but no more than the most
        (4000, 3.0, False, 4000),  # neither quick nor slow: the same
        (8000, 6.0, False, 4000),  # slow: half
        (8000, 0.3, True, 4000),  # retried, however quick in the end: half
        (2000, 9.0, True, 2000),  # never below the size a sync starts with
    ],
)
def test_the_next_load_follows_the_link(
    size: int, seconds: float, retried: bool, expected: int
) -> None:
    from sync.client.pacing import next_size

    assert next_size(size, seconds, retried, least=2000, most=10000) == expected


def test_refused_change_stays_in_outbox_for_retry(server: Server, make_device: Any) -> None:
    server.user("ann", offices=("MS",))
    a = make_device(server, "ann")
    with a.store.session() as session:
        session.add(Person(office="TAK"))  # outside ann's scope
    summary = a.sync()
    assert summary.failed >= 1
    assert _outbox(a) >= 1
    assert a.service.retry_failed() >= 1


def test_same_value_concurrent_edit_does_not_hide_the_next_one(
    server: Server, make_device: Any
) -> None:
    """B and C both set THA without seeing each other; C then sets MMR, still unaware of B.

    C's MMR replaces B's THA, which C never saw: a review field keeps both in a record.
    """
    for name in ("ann", "bob", "cy"):
        server.user(name)
    a, b, c = (make_device(server, name) for name in ("ann", "bob", "cy"))
    pid = new_person(a, nationality="MMR")
    for device in (a, b, c):
        device.sync()
    edit_row(b, Person, pid, nationality="THA")
    edit_row(c, Person, pid, nationality="THA")
    edit_row(c, Person, pid, nationality="MMR")
    for device in (a, b, c, a, b):
        device.sync()
    with b.store.read() as session:
        records = {
            (r.applied["value"], r.other["value"]) for r in session.scalars(select(SyncConflict))
        }
    assert records == {("MMR", "THA")}
    assert _get(a, Person, pid).nationality == _get(b, Person, pid).nationality == "MMR"


@pytest.mark.parametrize(
    ("field", "first", "then", "record"),
    [
        ("nationality", "THA", "MMR", ("MMR", "THA")),  # review: the other value kept
        ("languages", ["my"], [], None),  # items: a union is nobody's already; C's stays
    ],
)
def test_the_first_writer_of_a_value_both_wrote_does_not_replace_the_other_unseen(
    server: Server, make_device: Any, field: str, first: Any, then: Any, record: Any
) -> None:
    """Found by the machine, the order the test above does not take: B sets THA and
    syncs; C sets THA too, unaware, and syncs; B, still unaware of C, sets MMR. The
    server kept the value both wrote as B's own, so B's MMR replaced C's THA silently.
    The value both wrote is now owned by neither: B's next edit is concurrent with C's."""
    for name in ("ann", "bob", "cy"):
        server.user(name)
    a, b, c = (make_device(server, name) for name in ("ann", "bob", "cy"))
    pid = new_person(a, nationality="KHM", languages=["km"])
    for device in (a, b, c):
        device.sync()
    edit_row(b, Person, pid, **{field: first})
    b.sync()
    edit_row(c, Person, pid, **{field: first})
    c.sync()
    edit_row(b, Person, pid, **{field: then})
    for device in (b, a, b, c):
        assert device.sync().ok
    with c.store.read() as session:
        records = {
            (r.applied["value"], r.other["value"]) for r in session.scalars(select(SyncConflict))
        }
    final = then if record else first
    assert [getattr(_get(d, Person, pid), field) for d in (a, b, c)] == [final] * 3
    assert records == ({record} if record else set())


def test_pulled_people_can_be_found_by_search(server: Server, make_device: Any) -> None:
    from desktop.services import people, search

    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    made = people.create_person(
        a.store,
        people.PersonInput(
            names=[
                people.NameInput("အောင်ကျော်", "native"),
                people.NameInput("AUNG KYAW", "passport"),
            ],
            documents=[people.DocumentInput("passport", "MA123456")],
        ),
    )
    a.sync()
    b.sync()
    assert [hit.person_id for hit in search.search(b.store, "အောင်ကျော်")] == [made.person_id]
    assert [hit.person_id for hit in search.search(b.store, "MA1234")] == [made.person_id]
    with a.store.session() as session:  # a rename on one device is found under the new name
        name = session.scalars(
            select(PersonName).where(PersonName.person_id == made.person_id)
        ).first()
        assert name is not None
        name.full_name = "ZAW ZAW"
    a.sync()
    b.sync()
    assert [hit.person_id for hit in search.search(b.store, "zaw zaw")] == [made.person_id]


def test_a_store_with_demo_data_never_syncs(server: Server, make_device: Any) -> None:
    import datetime as dt

    from desktop.domain.errors import UserError
    from desktop.services import demo
    from desktop.services.sync import register_device

    server.user("ann")
    a = make_device(server, "ann")
    demo.generate(a.store, 3, seed=1, today=dt.date(2026, 3, 15))
    before = server.count("changes")
    with pytest.raises(UserError) as refused:
        a.sync()
    assert refused.value.code == "sync.demo_store"
    assert server.count("changes") == before  # nothing of the invented people left the device
    assert _outbox(a) > 0  # and nothing was lost locally either
    with pytest.raises(UserError) as again:
        register_device(a.store, a.client, "https://sync.example.org", "ann", "x", "laptop")
    assert again.value.code == "sync.demo_store"


# a value of each kind, as the app keeps it (wire form: catalogue.to_wire)
_SAMPLE: dict[catalogue.FieldType, Any] = {
    catalogue.FieldType.TEXT: "ຂໍ້ມູນ",
    catalogue.FieldType.INT: 33,
    catalogue.FieldType.DECIMAL: decimal.Decimal("15000.50"),
    catalogue.FieldType.BOOL: True,
    catalogue.FieldType.DATE: dt.date(2026, 10, 1),
    catalogue.FieldType.DATETIME: "2026-10-01T09:30:00+07:00",
    catalogue.FieldType.MONTH: "2026-10",
    catalogue.FieldType.PARTIAL_DATE: "1990-05",
    catalogue.FieldType.JSON: {"wage": "15000", "ok": True, "months": [1, 2]},
    catalogue.FieldType.LIST: ["my", "th"],
}


def _every_field(device: Device) -> None:
    """One row of every entity a caseworker makes, every field holding a value (a
    reference pointing at a row made before it). Not set: ``merged_into`` (only the
    server's merge sets it) and audit events (the recorder writes them)."""
    from desktop.models.entities import CLASS_BY_ENTITY

    made: dict[str, str] = {}
    order = ("person", "employer", "identity_document", "case", "track", "attachment")
    rest = [e for e in CLASS_BY_ENTITY if e not in order and e != catalogue.AUDIT_ENTITY]
    for entity in (*order, *rest):
        values: dict[str, Any] = {}
        for name, spec in catalogue.entity(entity).fields.items():
            if name in ("office", "merged_into"):
                continue
            if spec.type is catalogue.FieldType.REF:
                target = {"row_id": "person", "document_id": "identity_document"}.get(
                    name, name.removesuffix("_id")
                )
                values[name] = made[target]
            elif entity == "attachment" and name == "sha256":
                values[name] = sha256(b"scan").hexdigest()
            elif spec.choices:  # a coded field holds one of its codes
                values[name] = spec.choices[-1]
            else:
                value = _SAMPLE[spec.type]
                values[name] = value[: spec.max_length] if spec.max_length else value
        made[entity] = new_row(device, CLASS_BY_ENTITY[entity], **values)


def test_pulled_rows_are_stored_exactly_as_on_the_device_that_made_them(
    server: Server, make_device: Any
) -> None:
    """New rows are bulk-inserted below the ORM on pull: every column of every entity,
    NULLs and JSON included, must be stored byte for byte as the ORM stored them on the
    first device. A name typed in Zawgyi keeps what was typed in a list (``raw_input``):
    the server once refused every such name as the wrong type."""
    from desktop.models.entities import CLASS_BY_ENTITY
    from desktop.services import people

    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    people.create_person(
        a.store,
        people.PersonInput(
            names=[people.NameInput("ေမာင္ေမာင္", "native", convert_zawgyi=True)],
            documents=[people.DocumentInput("passport", "MB765432")],
        ),
    )
    _every_field(a)
    summary = a.sync()
    assert (summary.rejected, summary.failed) == (0, 0), summary.refused
    b.sync()

    mine, theirs = stored(a.store), stored(b.store)
    assert all(mine[table] for table in CLASS_BY_ENTITY)
    assert theirs == mine
    with b.store.read() as session:
        kept = session.scalars(select(PersonName.raw_input).where(PersonName.kind == "native"))
        assert ["ေမာင္ေမာင္"] in list(kept)


def test_what_a_caseworker_pastes_or_attaches_is_sent_as_the_server_takes_it(
    server: Server, make_device: Any, tmp_path: Any
) -> None:
    """A note with a NUL pasted in, a wizard remark with one, and a scan named as Office
    names its lock files ("~$…"): each was stored as given and refused by the server, for
    good (a document number with one is refused when typed). They are sent as cleaned
    when saved."""
    from desktop.services import attachments, cases, people
    from desktop.ui.workflow_specs import FieldSpec, validate_field

    ann, bob = colleagues(server, make_device)
    made = people.create_person(
        ann.store,
        people.PersonInput(names=[people.NameInput("Aung Aung")]),
    )
    number = cases.open_case(ann.store, made.person_id)
    cases.add_note(ann.store, number, "from the payslip:\x00 9,000")
    scan = tmp_path / "~$payslip.jpg"
    scan.write_bytes(b"\xff\xd8 a scan")
    attachment = attachments.add_attachment(ann.store, scan, person_id=made.person_id)
    remark, _found = validate_field(FieldSpec("remark"), "seen\x00 twice", dt.date(2026, 1, 5))
    assert remark == "seen twice"

    summary = ann.sync()

    assert (summary.rejected, summary.failed) == (0, 0), summary.refused
    bob.sync()
    with bob.store.read() as session:
        assert session.scalars(select(Note.body)).one() == "from the payslip: 9,000"
    assert _get(bob, Attachment, attachment).filename == "$payslip.jpg"


def test_a_device_that_cannot_read_a_pulled_value_says_so_and_loses_nothing(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An app older than the server (here: reading ``raw_input`` as text, as the app did
    before it became a list) stops its pull at the page it cannot read, keeps the page and
    its cursor out, says what to do, and pulls on from there once it reads the value."""
    from desktop.services import people

    ann, bob = colleagues(server, make_device)
    people.create_person(
        ann.store,
        people.PersonInput(names=[people.NameInput("ေမာင္ေမာင္", convert_zawgyi=True)]),
    )
    ann.sync()
    reads = catalogue.from_wire

    def older(spec: catalogue.FieldSpec, value: object) -> object:
        if spec.name == "raw_input" and not isinstance(value, str):
            raise catalogue.WireError("raw_input: expected a string")
        return reads(spec, value)

    monkeypatch.setattr(catalogue, "from_wire", older)
    mine = new_person(bob, phone="0822222222")

    summary = bob.sync()

    assert not summary.ok
    assert summary.error == "unreadable: person_name.raw_input: expected a string"
    assert (summary.pushed, summary.waiting, summary.failed) == (1, 0, 0)  # bob's work went
    assert sync_view.reason_text(summary.error, i18n.text).startswith(
        "the server sent Name: name as typed in a form"
    )
    with bob.store.read() as session:
        assert session.scalar(select(func.count()).select_from(PersonName)) == 0
        assert session.get(SyncState, "cursor") is None  # the page is pulled again
    monkeypatch.setattr(catalogue, "from_wire", reads)  # the app updated
    again = bob.sync()
    assert again.ok
    assert _get(bob, Person, mine).phone == "0822222222"
    with bob.store.read() as session:
        [name] = session.scalars(select(PersonName))
        assert name.raw_input == ["ေမာင္ေမာင္"]


def test_every_device_derives_the_same_creation_event(server: Server, make_device: Any) -> None:
    """A row's creation event never travels: the device that made the row records it, and
    every device that pulls the row derives the same one from its insert (protocol 3),
    naming the account the server took the insert from, also on the creating device once
    its row comes back (its store was made under another name before registering)."""
    from desktop.domain.catalogue import is_creation_event
    from desktop.models.entities import AuditEvent

    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, phone="1")
    edit_row(a, Person, pid, phone="2")  # an edit's audit event still travels

    def events(device: Device) -> dict[str, dict[str, Any]]:
        with device.store.read() as session:
            return {
                e.id: {
                    name: getattr(e, name)
                    for name in ("at", "user", "device", "action", "entity", "details")
                }
                | {"row": e.row_id, "office": e.office, "kept": (e.version, e.deleted)}
                for e in session.scalars(select(AuditEvent))
            }

    made = events(a)
    assert {e["user"] for e in made.values()} == {a.store.user} != {"ann"}
    a.sync()
    b.sync()
    assert server.count("changes") == 3  # the person, the edit and its audit event
    mine, theirs = events(a), events(b)
    assert mine == theirs
    created = [e for e in theirs.values() if is_creation_event({"entity": "person", **e})]
    assert [(e["row"], e["user"], e["device"]) for e in created] == [
        (pid, "ann", a.store.device_id)
    ]
    assert sorted(e["action"] for e in theirs.values()) == ["person.created", "person.updated"]


def test_a_device_syncs_with_a_server_that_writes_pull_forms_up_to_4(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server from before pull form 5: the device asks for form 4 and gets the same rows
    and the same derived creation events."""
    from desktop.models.entities import AuditEvent
    from desktop.services.sync import SyncSummary
    from sync import protocol

    monkeypatch.setattr(protocol, "PULL_FORMS", (2, 3, 4))  # what GET /v1/info now lists
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, phone="1")
    a.sync()
    b.sync()
    assert b.service.forms(SyncSummary()) == (3, 4)
    with b.store.read() as session:
        assert session.get(Person, pid) is not None
        actions = [e.action for e in session.scalars(select(AuditEvent))]
    assert actions == ["person.created"]


def _events(device: Device) -> dict[str, dict[str, Any]]:
    from desktop.models.entities import AuditEvent

    names = ("office", "at", "user", "device", "action", "entity", "row_id", "details")
    with device.store.read() as session:
        return {
            e.id: {name: getattr(e, name) for name in names}
            for e in session.scalars(select(AuditEvent))
        }


@pytest.mark.parametrize("forms", [(2,), (2, 3)])
def test_a_device_reading_only_pull_forms_2_or_3_gets_every_creation_event(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch, forms: tuple[int, ...]
) -> None:
    """An app from before protocol 3 cannot derive creation events: pull forms 2 and 3
    carry each one after the row it creates, the same event protocol 3 devices derive."""
    from desktop.services.sync import SyncSummary

    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, phone="1")
    edit_row(a, Person, pid, phone="2")
    assert a.sync().ok
    from sync import protocol

    monkeypatch.setattr(protocol, "PULL_FORMS", forms)  # what GET /v1/info now lists
    assert b.sync().ok
    assert b.service.forms(SyncSummary())[1] == max(forms)
    assert _events(b) == _events(a)
    assert sorted(e["action"] for e in _events(b).values()) == ["person.created", "person.updated"]
    # the device that pushed the row recorded the event itself: not sent back to it
    mine = [r for r in a.client.pull(0, form=3).rows if r.entity == "audit_event"]
    theirs = [r for r in b.client.pull(0, form=3).rows if r.entity == "audit_event"]
    assert [r.values["action"] for r in mine] == ["person.updated"]
    assert sorted(r.values["action"] for r in theirs) == ["person.created", "person.updated"]
    assert {r.id for r in theirs} == set(_events(a))
    assert len(b.client.pull(0).rows) == len(b.client.pull(0, form=3).rows) == 3


def test_a_creation_event_stored_before_protocol_3_is_not_sent_twice(
    server: Server, make_device: Any
) -> None:
    """Rows made before the server knew protocol 3 kept their stored creation event (its
    own id, from its own stamp); forms 2 and 3 send that one, and derive none beside it."""
    import json

    from sync.server.db import changes, logged_creations

    server.user("bob")
    b = make_device(server, "bob")
    person = "0191a000-0000-7000-8000-000000000001"
    stored_event = "0191a000-0000-7000-8000-000000000002"
    event = {"office": "MS", "at": "2026-11-01T08:00:00+00:00", "user": "ann"}
    event |= {"device": "old", "action": "person.created", "entity": "person"}
    event |= {"row_id": person, "details": {"fields": ["office", "phone"]}}
    logged = [
        ("person", person, {"office": "MS", "phone": "1"}, "0001761984000000-0000-old"),
        ("audit_event", stored_event, event, "0001761984000000-0001-old"),
    ]
    with server.engine.begin() as conn:
        conn.execute(
            changes.insert(),
            [
                {
                    "seq": seq,
                    "change_id": f"old-{seq}",
                    "entity": entity,
                    "row_id": row_id,
                    "field": "*",
                    "value": json.dumps(values),
                    "hlc": stamp,
                    "device_id": "old",
                    "user_id": "ann",
                    "office": "MS",
                    "received_at": "2026-11-01T08:00:00Z",
                }
                for seq, (entity, row_id, values, stamp) in enumerate(logged, 1)
            ],
        )
        conn.execute(logged_creations.insert().values(row_id=person, entity="person"))
        conn.exec_driver_sql("UPDATE counter SET value = 2")
    for form in (2, 3):
        page = b.client.pull(0, form=form)
        assert [(r.entity, r.id) for r in page.rows] == [
            ("person", person),
            ("audit_event", stored_event),
        ]


def _provisional_numbers_collide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both devices draw the same provisional block (probability 1/1000 per pair)."""
    from desktop.models import case_numbers

    monkeypatch.setattr(case_numbers, "provisional_block", lambda _device: 9001)


def _numbers(device: Device) -> list[str]:
    from desktop.models.entities import Case

    with device.store.read() as session:
        return sorted(str(number) for number in session.scalars(select(Case.number)))


def test_case_numbers_made_offline_before_the_first_sync_are_moved_to_the_devices_block(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.services import cases

    _provisional_numbers_collide(monkeypatch)
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    made = [cases.open_case(d.store, new_person(d, sex="f")) for d in (a, b)]
    assert made == ["TAK-9001-000001", "TAK-9001-000001"]

    first, second = a.sync(), b.sync()
    assert first.renumbered == [("TAK-9001-000001", "TAK-0001-000001")]
    assert second.renumbered == [("TAK-9001-000001", "TAK-0002-000001")]
    assert a.sync().ok
    assert _numbers(a) == _numbers(b) == ["TAK-0001-000001", "TAK-0002-000001"]
    assert cases.open_case(a.store, new_person(a, sex="m")) == "TAK-0001-000002"
    assert a.sync().renumbered == []  # the block is asked for once


def test_a_case_number_collision_that_reached_the_server_does_not_stop_a_pull(
    server: Server, make_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Devices of a server from before case-number blocks (it answers 404) both keep
    provisional numbers; the second pull brings a case numbered like one of its own."""
    from desktop.services import cases
    from sync.client.http import SyncClient, SyncHttpError

    def old_server(self: SyncClient, above: int = 0) -> int:
        raise SyncHttpError(404, 999, "unexpected answer")

    monkeypatch.setattr(SyncClient, "case_block", old_server)
    _provisional_numbers_collide(monkeypatch)
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    for device in (a, b):
        cases.open_case(device.store, new_person(device, sex="f"))
    assert a.sync().ok
    summary = b.sync()
    assert summary.ok, summary.error
    assert a.sync().ok
    assert _numbers(a) == _numbers(b) == ["TAK-9001-000001", "TAK-9001-000001"]


def test_an_edit_to_a_merged_away_person_lands_on_the_target_and_every_device_agrees(
    server: Server, make_device: Any
) -> None:
    """design.md §4.5 and §4.6: bee edits B offline after a coordinator merged B into A.
    The edit lands on A, and bee's own copy of B goes back to B's real values."""
    server.user("ann")
    server.user("bee")
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    ann, bee = make_device(server, "ann"), make_device(server, "bee")
    target = new_person(ann, phone="0811111111")
    source = new_person(ann, phone="0822222222")
    ann.sync()
    bee.sync()
    server.device("cora").merge("person", source, target)
    edit_row(bee, Person, source, phone="0833333333", address_home="Mae Sot")  # offline
    assert bee.sync().ok
    assert ann.sync().ok
    for device in (ann, bee):
        a, b = _get(device, Person, target), _get(device, Person, source)
        assert (a.phone, a.address_home) == ("0833333333", "Mae Sot")
        assert (b.phone, b.address_home) == ("0822222222", None)
        assert b.merged_into == target


@pytest.mark.parametrize("first", ["deletion", "edit"])
def test_an_edit_and_a_deletion_that_crossed_leave_a_conflict_and_lose_nothing(
    server: Server, make_device: Any, first: str
) -> None:
    """ann deletes a person while bee, offline, edits them. Whichever reaches the server
    first, the deletion stands and a conflict on ``deleted`` asks a coordinator; flipping
    it brings the person back on every device, with bee's edit."""
    server.user("ann")
    server.user("bee")
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    ann, bee = make_device(server, "ann"), make_device(server, "bee")
    pid = new_person(ann, phone="0811111111")
    ann.sync()
    bee.sync()
    edit_row(ann, Person, pid, deleted=True)
    edit_row(bee, Person, pid, phone="0899999999")
    order = (ann, bee) if first == "deletion" else (bee, ann)
    summaries = [device.sync() for device in order]
    assert all(summary.ok for summary in summaries)
    assert sum(summary.conflicts for summary in summaries) == 1
    coordinator = server.device("cora")
    [conflict] = coordinator.conflicts("open")
    assert (conflict.entity, conflict.row_id, conflict.field) == ("person", pid, "deleted")
    assert (conflict.applied.value, conflict.other.value) == (True, False)
    for device in (ann, bee):
        device.sync()
        assert _get(device, Person, pid).deleted is True
    coordinator.resolve(conflict.id, flip=True)
    for device in (ann, bee):
        device.sync()
        kept = _get(device, Person, pid)
        assert (kept.deleted, kept.phone) == (False, "0899999999")


# -- scope changes: an account gains and loses offices (docs/sync-protocol.md §6) ------------


def _ids(device: Device, cls: Any) -> set[str]:
    with device.store.read() as session:
        return set(session.scalars(select(cls.id)))


def _creation_events(device: Device, row_id: str) -> int:
    with device.store.read() as session:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.row_id == row_id, AuditEvent.action.like("%created")
            )
        )
        return len(list(events))


def test_scope_change_both_ways_brings_earlier_rows_and_removes_lost_ones(
    server: Server, make_device: Any
) -> None:
    """dee moves from MS to TAK and back: each move brings the rows the new office had
    before the device's cursor (and the changes made while it was away), removes the old
    office's rows, and the device ends where a new device of the same account starts."""
    server.user("ann", offices=("TAK",))
    server.user("bob", offices=("MS",))
    server.user("dee", offices=("MS",))
    ann, bob = make_device(server, "ann", office="TAK"), make_device(server, "bob")
    tak = new_person(ann, phone="1")
    ms = new_person(bob, phone="2")
    ann.sync()
    bob.sync()
    dee = make_device(server, "dee")
    assert dee.sync().ok
    assert _ids(dee, Person) == {ms}

    moved = admin.set_offices(server.engine, "dee", ["TAK"])
    assert (moved.added, moved.removed) == (["TAK"], ["MS"])
    summary = dee.sync()
    assert summary.ok
    assert summary.scope_changed
    assert _ids(dee, Person) == {tak}  # TAK's case logged before the cursor: delivered
    assert summary.removed_rows >= 1
    assert summary.caught_up_rows >= 1
    assert dee.store.office == "TAK"  # the working office followed the account

    edit_row(bob, Person, ms, phone="22")  # while dee is away from MS
    bob.sync()
    admin.set_offices(server.engine, "dee", ["MS", "TAK"])
    assert dee.sync().scope_changed
    assert _ids(dee, Person) == {tak, ms}
    assert _get(dee, Person, ms).phone == "22"
    # pulled twice, created once: the derived creation events are not duplicated
    assert _creation_events(dee, ms) == _creation_events(dee, tak) == 1

    fresh = make_device(server, "dee")
    fresh.sync()
    assert _ids(fresh, Person) == _ids(dee, Person)
    assert _ids(fresh, AuditEvent) == _ids(dee, AuditEvent)
    assert not dee.sync().scope_changed  # told once per change


def test_a_lost_office_takes_its_scans_off_the_device_but_not_those_still_named(
    server: Server, make_device: Any, tmp_path: Any
) -> None:
    """dee leaves MS: the MS attachment rows go, and so do the encrypted scans only they
    named; a scan a TAK row names too stays."""
    from desktop.services.attachments import add_attachment, blob_store

    server.user("ann", offices=("TAK",))
    server.user("bob", offices=("MS",))
    server.user("dee", offices=("MS", "TAK"))
    ann, bob = make_device(server, "ann", office="TAK"), make_device(server, "bob")
    scans = {}
    for name, body in (("only-ms", b"MS passport scan"), ("shared", b"one payslip, twice")):
        scans[name] = tmp_path / f"{name}.jpg"
        scans[name].write_bytes(body)
    ms_person, tak_person = new_person(bob, phone="1"), new_person(ann, phone="2")
    add_attachment(bob.store, scans["only-ms"], person_id=ms_person)
    add_attachment(bob.store, scans["shared"], person_id=ms_person)
    add_attachment(ann.store, scans["shared"], person_id=tak_person)
    assert bob.sync().ok
    assert ann.sync().ok
    dee = make_device(server, "dee")
    assert dee.sync().ok
    blobs = blob_store(dee.store)
    names = {name: sha256(path.read_bytes()).hexdigest() for name, path in scans.items()}
    assert all(blobs.has(digest) for digest in names.values())

    admin.set_offices(server.engine, "dee", ["TAK"])
    assert dee.sync().scope_changed

    assert not blobs.has(names["only-ms"]), "MS's own scan left with its office"
    assert blobs.has(names["shared"]), "a TAK row still names this one"
    assert _ids(dee, Person) == {tak_person}


def test_lost_office_keeps_rows_with_unsent_changes_and_names_them(
    server: Server, make_device: Any
) -> None:
    server.user("dee", offices=("MS", "TAK"))
    dee = make_device(server, "dee")
    edited, untouched = new_person(dee, phone="1"), new_person(dee, phone="2")
    dee.sync()
    edit_row(dee, Person, edited, phone="11")  # not sent yet when MS leaves the account
    admin.set_offices(server.engine, "dee", ["TAK"])
    summary = dee.sync()
    assert summary.scope_changed
    assert _ids(dee, Person) == {edited}  # the unsent edit is not thrown away
    assert _get(dee, Person, edited).phone == "11"
    assert untouched not in _ids(dee, Person)
    assert summary.failed == 2  # the edit and its audit event, both of MS
    assert {reason(r.error)[0] for r in summary.refused} == {"sync.reason.office_left"}
    # MS comes back: the parked change goes back in line and reaches the server
    admin.set_offices(server.engine, "dee", ["MS", "TAK"])
    dee.sync()
    after = dee.sync()
    assert after.failed == 0
    assert after.waiting == 0
    assert _ids(dee, Person) == {edited, untouched}
    other = make_device(server, "dee")
    other.sync()
    assert _get(other, Person, edited).phone == "11"


def test_catch_up_to_every_office_keeps_a_local_unsent_edit(
    server: Server, make_device: Any
) -> None:
    """A coordinator given every office pulls the whole log again; a field edited here and
    not sent yet keeps its local value, and the edit still goes out afterwards."""
    server.user("ann", offices=("TAK",))
    server.user("cora", role=Role.COORDINATOR, offices=("MS",))
    ann = make_device(server, "ann", office="TAK")
    tak = new_person(ann, phone="1")
    ann.sync()
    cora = make_device(server, "cora")
    mine = new_person(cora, phone="5")
    cora.sync()
    edit_row(cora, Person, mine, phone="55")
    admin.set_offices(server.engine, "cora", ["*"])
    waiting = _outbox(cora)  # the edit and its audit event
    summary = SyncSummary()
    cora.service.pull(summary)  # no push first: the edit is still in the outbox
    assert summary.scope_changed
    assert summary.removed_rows == 0
    assert _ids(cora, Person) == {tak, mine}
    assert _get(cora, Person, mine).phone == "55"
    assert _outbox(cora) == waiting
    cora.sync()
    ann.sync()
    assert _get(ann, Person, tak).phone == "1"
    assert not admin.set_offices(server.engine, "cora", ["*"]).changed  # every office again


def test_after_an_update_that_knows_more_the_rows_sent_before_it_arrive(
    server: Server, make_device: Any
) -> None:
    """Bob's app is older and knows no consent records: his pulls skip them, as an older
    app must. Once his app is updated, his next sync reads the pages before the update
    again, so the consents colleagues recorded meanwhile reach him too; only once."""
    from desktop.models.entities import Consent

    ann, bob = colleagues(server, make_device)
    without_consents = {k: v for k, v in bob.service._classes.items() if k != "consent"}

    def older_app_syncs() -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bob.service, "_classes", without_consents)
            patch.setattr(catalogue, "fields_fingerprint", lambda: "older app")
            assert bob.sync().ok

    person = new_person(ann, phone="0811111111")
    consent = new_row(ann, Consent, person_id=person, scope="data_processing", given=True)
    ann.sync()
    older_app_syncs()
    assert _get(bob, Consent, consent) is None  # skipped by the older app
    edit_row(ann, Person, person, phone="0822222222")
    ann.sync()
    older_app_syncs()

    summary = bob.sync()  # Bob's app is updated

    assert summary.ok
    assert summary.caught_up_rows > 0
    assert _get(bob, Consent, consent).given is True
    assert _get(bob, Person, person).phone == "0822222222"
    assert bob.sync().caught_up_rows == 0  # read again once


def test_a_device_from_before_scope_versions_catches_up_once(
    server: Server, make_device: Any
) -> None:
    """A device that never named a scope version (and whose account was changed in the
    database directly) compares the offices it knew with the account's at its next pull."""
    server.user("ann", offices=("TAK",))
    server.user("dee", offices=("MS",))
    ann = make_device(server, "ann", office="TAK")
    tak = new_person(ann, phone="1")
    ann.sync()
    dee = make_device(server, "dee")
    dee.sync()
    with dee.store.remote_session() as session:  # as a device before this version left it
        session.execute(delete(SyncState).where(SyncState.key == "scope_version"))
    with server.engine.begin() as conn:
        conn.execute(
            accounts.update().where(accounts.c.username == "dee").values(offices='["TAK"]')
        )
    assert dee.sync().scope_changed
    assert _ids(dee, Person) == {tak}
