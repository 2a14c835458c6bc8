"""A device's cursor is a place in one server's change log: every answer names the log
(``X-Sapan-Log``), ``GET /v1/info`` its head (``X-Sapan-Head``), and a device stops,
sending nothing, when another log answers at its address or the log ends before its
cursor (a database restored from an older backup). Registering under another log is
asked for, then starts over with it and keeps everything on the laptop. A restored
database's new log (``sapan server new-log``) continues the old one from its head: a
device goes back there and sends again, unchanged, what it sent past it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.models.entities import Case, Person, SyncState
from desktop.models.store import Store, create_store
from desktop.models.sync_records import SyncConflict
from desktop.services import coordination, sync, sync_view
from desktop.services.attachments import add_attachment
from desktop.services.sync import CURSOR_KEY, LOG_KEY, SyncService, SyncSummary
from sync import protocol as p
from sync.protocol import Role
from sync.server import admin, db
from sync.server.app import Settings, create_app
from tests.conftest import (
    PASSPHRASE,
    SERVER_PASSWORD,
    backup_server,
    file_server,
    in_process_client,
    merged_elsewhere,
    new_server_log,
    phoned_person,
    restore_server,
)
from tests.fakes import MemoryKeyring
from tests.sync.conftest import Server, new_row

URL = "http://testserver"
OTHER_URL = "http://sync.example.lan"


def _factory(app: Any) -> Any:
    return lambda url: in_process_client(app)


def _phones(store: Store) -> set[str | None]:
    with store.read() as session:
        return set(session.scalars(select(Person.phone)))


def _server_phones(app: Any) -> set[str]:
    """The phones the server's log holds (values of persons' inserts and edits)."""
    with app.state.ctx.engine.connect() as conn:
        changes = conn.exec_driver_sql("SELECT field, value FROM changes WHERE entity = 'person'")
        return {phone for field, value in changes for phone in [_phone(field, value)] if phone}


def _phone(field: str, value: str | None) -> str | None:
    """The phone a change of a person sets: an insert's row, or an edit of the phone."""
    loaded = json.loads(value) if value else None
    if field == "phone":
        return loaded if isinstance(loaded, str) else None
    return loaded.get("phone") if isinstance(loaded, dict) else None


def _reason(summary: Any) -> str:
    return sync_view.reason_text(str(summary.error), i18n.text)


def test_every_answer_names_the_log_and_info_its_head(server: Server) -> None:
    http = server.http()
    info = http.get("/v1/info")
    log = info.headers[p.LOG_HEADER]
    assert str(uuid.UUID(log)) == log
    assert info.headers[p.HEAD_HEADER] == "0"
    assert info.headers[p.FEATURES_HEADER] == "merge-id"  # what it takes beyond its forms
    refused = http.get("/v1/pull", params={"since": 0})  # no token: refused, still named
    assert refused.status_code == 401
    assert refused.headers[p.LOG_HEADER] == log
    too_big = http.post(  # refused by the body's limit, before any route
        "/v1/devices",
        content=b"[" * (p.MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert (too_big.status_code, too_big.headers[p.LOG_HEADER]) == (413, log)

    server.user("ann")
    device = server.device("ann")
    assert device.log == log
    device.info()
    assert device.head == 0

    assert p.PARENT_LOG_HEADER not in info.headers
    renamed = admin.new_log(server.engine).log
    assert (renamed.parent, renamed.parent_head) == (log, 0)
    assert renamed.log != log
    restarted = create_app(Settings(db_url=server.url, cheap_hashing=True, migrate=False))
    try:
        again = in_process_client(restarted).get("/v1/info")
        assert again.headers[p.LOG_HEADER] == renamed.log
        assert again.headers[p.PARENT_LOG_HEADER] == log
        assert again.headers[p.PARENT_HEAD_HEADER] == "0"
        assert p.ANCESTORS_HEADER not in again.headers
    finally:
        restarted.state.ctx.engine.dispose()
    # restored again: the log before keeps its place among the ancestors
    third = admin.new_log(server.engine).log
    assert (third.parent, third.ancestors) == (renamed.log, ((log, 0),))
    restarted = create_app(Settings(db_url=server.url, cheap_hashing=True, migrate=False))
    try:
        again = in_process_client(restarted).get("/v1/info")
        assert again.headers[p.ANCESTORS_HEADER] == f"{log} 0"
    finally:
        restarted.state.ctx.engine.dispose()


def test_a_device_stops_when_another_server_answers_at_its_address(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The address now leads to another server (reinstalled, or a name pointed elsewhere):
    nothing is sent to it and nothing pulled; what waits stays waiting, and the device's
    own server takes it when it answers again."""
    first, second = file_server(tmp_path / "first.db"), file_server(tmp_path / "second.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(first))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(first)).ok
    cursor = sync.sync_state(store, CURSOR_KEY)
    phoned_person(store, "0822222222")

    summary = sync_view.run_sync(store, _factory(second))

    assert not summary.ok
    assert str(summary.error).startswith("server_changed")
    assert _reason(summary).startswith(
        "the server at this address is not the one this laptop is registered with"
    )
    assert (summary.pushed, summary.pulled_rows, summary.waiting) == (0, 0, 1)
    assert sync.sync_state(store, CURSOR_KEY) == cursor
    assert _server_phones(second) == set()
    assert sync_view.run_sync(store, _factory(first)).ok
    assert _server_phones(first) == {"0811111111", "0822222222"}


def test_registering_with_another_server_asks_then_starts_over_keeping_everything(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    first, second = file_server(tmp_path / "first.db"), file_server(tmp_path / "second.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(first))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(first)).ok
    phoned_person(store, "0822222222")  # not sent yet
    log, cursor = sync.sync_state(store, LOG_KEY), sync.sync_state(store, CURSOR_KEY)
    assert log == first.state.ctx.lineage.log
    assert cursor not in (None, "0")
    # a colleague's work on the second server, numbered below this device's cursor
    colleague = in_process_client(second)
    token = colleague.post(
        "/v1/devices",
        json={"username": "somchai", "password": SERVER_PASSWORD, "device_name": "other"},
    ).json()["token"]
    from desktop.domain.hlc import HybridClock

    stamp = str(HybridClock("colleague").tick())
    pushed = colleague.post(
        "/v1/push",
        json={
            "changes": [
                {
                    "change_id": str(uuid.uuid4()),
                    "entity": "person",
                    "row_id": str(uuid.uuid4()),
                    "field": "*",
                    "value": {"office": "TAK-01", "sex": "m", "phone": "0833333333"},
                    "base_version": 0,
                    "hlc": stamp,
                    "device_id": "colleague",
                    "user_id": "somchai",
                }
            ],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert pushed.status_code == 200, pushed.text

    with pytest.raises(UserError) as asked:
        sync_view.register(store, OTHER_URL, "somchai", SERVER_PASSWORD, "new", _factory(second))

    assert asked.value.code == sync_view.OTHER_SERVER
    assert asked.value.params == {"server": OTHER_URL, "previous": URL}
    assert "stay on this laptop only" in asked.value.english()
    assert [d["name"] for d in admin.list_devices(second.state.ctx.engine)] == ["other"]
    assert (sync.sync_state(store, LOG_KEY), sync.sync_state(store, CURSOR_KEY)) == (log, cursor)
    assert sync_view.server_address(store) == URL

    with store.remote_session() as session:  # a restore's re-reads, not done yet
        for key in (sync.RECHECK_CONFLICTS_KEY, sync.REDO_MERGES_KEY):
            session.merge(SyncState(key=key, value="1"))

    sync_view.register(
        store, OTHER_URL, "somchai", SERVER_PASSWORD, "new", _factory(second), other_server=True
    )

    assert sync.sync_state(store, LOG_KEY) == second.state.ctx.lineage.log
    assert sync.sync_state(store, CURSOR_KEY) is None
    # what was to be read again or made again belonged to the old server's log
    assert sync.sync_state(store, sync.RECHECK_CONFLICTS_KEY) is None
    assert sync.sync_state(store, sync.REDO_MERGES_KEY) is None
    summary = sync_view.run_sync(store, _factory(second))
    assert summary.ok, summary.error
    # what waited went to the new server, the colleague's row came from its start, and
    # the row sent to the old server stays on the laptop
    assert _server_phones(second) == {"0822222222", "0833333333"}
    assert _phones(store) == {"0811111111", "0822222222", "0833333333"}


def test_a_scan_attached_again_after_registering_elsewhere_reaches_the_new_server(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The first server holds two scans of the laptop. Registered with another server,
    the laptop attaches one of them to a new person: that scan goes to the new server
    with its row; the other, whose row stays on the laptop only, does not."""
    first, second = file_server(tmp_path / "first.db"), file_server(tmp_path / "second.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(first))
    scans = []
    for name in ("passport.jpg", "payslip.jpg"):
        scan = tmp_path / name
        scan.write_bytes(name.encode() * 2000)
        add_attachment(store, scan, person_id=phoned_person(store, "0811111111"))
        scans.append(scan)
    assert sync_view.run_sync(store, _factory(first)).attachments_uploaded == 2
    sync_view.register(
        store, OTHER_URL, "somchai", SERVER_PASSWORD, "laptop", _factory(second), other_server=True
    )
    add_attachment(store, scans[0], person_id=phoned_person(store, "0822222222"))

    summary = sync_view.run_sync(store, _factory(second))

    assert (summary.ok, summary.attachments_uploaded, summary.attachments_failed) == (True, 1, 0)
    with second.state.ctx.engine.connect() as conn:
        held = conn.exec_driver_sql("SELECT complete FROM attachments").scalars().all()
    assert [bool(complete) for complete in held] == [True]
    again = sync_view.run_sync(store, _factory(second))
    assert (again.ok, again.attachments_uploaded) == (True, 0)


def test_after_registering_elsewhere_new_case_numbers_do_not_repeat_ones_the_laptop_holds(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A colleague's case from the first server (block 1) is on the laptop. The second
    server is new: without being told, it would give the laptop block 1 again, and the
    laptop's next case would print the colleague's number."""
    from desktop.services import cases

    first, second = file_server(tmp_path / "first.db"), file_server(tmp_path / "second.db")
    colleague = create_store(tmp_path / "colleague", PASSPHRASE, office="TAK-01")
    try:
        sync_view.register(colleague, URL, "somchai", SERVER_PASSWORD, "other", _factory(first))
        cases.open_case(colleague, phoned_person(colleague, "0811111111"))
        assert sync_view.run_sync(colleague, _factory(first)).renumbered[0][1] == "TAK-0001-000001"
    finally:
        colleague.close()
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(first))
    assert sync_view.run_sync(store, _factory(first)).ok
    sync_view.register(
        store, OTHER_URL, "somchai", SERVER_PASSWORD, "laptop", _factory(second), other_server=True
    )

    assert sync_view.run_sync(store, _factory(second)).ok
    made = cases.open_case(store, phoned_person(store, "0822222222"))

    assert made == "TAK-0002-000001"  # past block 1, held (2 was its own, never used)
    with store.read() as session:
        numbers = sorted(str(n) for n in session.scalars(select(Case.number)))
    assert numbers == ["TAK-0001-000001", "TAK-0002-000001"]


def test_a_server_restored_from_an_older_backup_gets_back_what_devices_sent_it(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A device that synced past what the backup kept is told so before it sends
    anything: changes the restored server numbers anew below its cursor would never
    reach it. After ``sapan server new-log`` it sends again what it sent past the backup,
    unasked, and pulls on from there; a device that had not synced since the backup goes
    on from where it was."""
    path = tmp_path / "server.db"
    live = file_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    office = create_store(tmp_path / "office", PASSPHRASE)
    sync_view.register(office, URL, "somchai", SERVER_PASSWORD, "office", _factory(live))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    assert sync_view.run_sync(office, _factory(live)).ok
    office_cursor = sync.sync_state(office, CURSOR_KEY)
    backup = backup_server(path)
    lost = phoned_person(store, "0822222222")
    assert sync_view.run_sync(store, _factory(live)).ok
    restored = restore_server(path, live, backup)
    waiting = phoned_person(store, "0833333333")
    # an edit of the row the restore lost: it waits behind that row's insert, sent again
    _set_nationality(store, lost, "MMR")

    summary = sync_view.run_sync(store, _factory(restored))

    assert not summary.ok
    assert str(summary.error).startswith("server_behind")
    assert _reason(summary).startswith("the server holds less than this laptop already received")
    assert (summary.pushed, summary.waiting) == (0, 3)  # the new person, the edit, its event
    assert _server_phones(restored) == {"0811111111"}

    renamed = new_server_log(path, restored)
    summary = sync_view.run_sync(store, _factory(renamed))
    assert summary.ok, summary.error
    assert (summary.resent, summary.pushed, summary.waiting, summary.failed) == (1, 4, 0, 0)
    assert _server_phones(renamed) == {"0811111111", "0822222222", "0833333333"}
    with renamed.state.ctx.engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT value FROM changes WHERE field = 'nationality'"
        ).scalars().all() == ['"MMR"']
    assert waiting in _ids(store)
    assert sync.sync_state(store, LOG_KEY) == renamed.state.ctx.lineage.log
    assert _phones(store) == {"0811111111", "0822222222", "0833333333"}
    again = sync_view.run_sync(store, _factory(renamed))
    assert (again.ok, again.resent, again.pushed) == (True, 0, 0)

    # the office's laptop was offline since before the backup: it goes on by itself
    phoned_person(office, "0844444444")
    assert sync.sync_state(office, CURSOR_KEY) == office_cursor
    summary = sync_view.run_sync(office, _factory(renamed))
    assert summary.ok, summary.error
    assert summary.resent == 0
    assert sync.sync_state(office, LOG_KEY) == renamed.state.ctx.lineage.log
    assert _server_phones(renamed) == {"0811111111", "0822222222", "0833333333", "0844444444"}
    assert _phones(office) == {"0811111111", "0822222222", "0833333333", "0844444444"}
    office.close()


@pytest.mark.parametrize("taken_meanwhile", [False, True])
def test_a_coordinators_merges_and_undos_a_restore_lost_are_made_again(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring, taken_meanwhile: bool
) -> None:
    """Cora merged C into D before the backup; after it, she merged A into B and undid
    C into D. The restored server has C merged into D and no A into B: her laptop's next
    sync makes both again, the merge under its own id, and her laptop ends as the server.
    When another coordinator merged A elsewhere on the restored server first, making it
    again is refused and said; nothing else changes."""
    path = tmp_path / "server.db"
    live = file_server(path)
    ctx = live.state.ctx
    for name in ("cora", "dara"):
        coordinator = (name, SERVER_PASSWORD, Role.COORDINATOR, ["TAK-01"])
        admin.create_user(ctx.engine, ctx.hasher, *coordinator)
    sync_view.register(store, URL, "cora", SERVER_PASSWORD, "laptop", _factory(live))
    a, b, c, d = (phoned_person(store, f"08{n}" * 4) for n in range(11, 15))
    assert sync_view.run_sync(store, _factory(live)).ok
    early = coordination.merge(store, "person", c, d, _factory(live))
    backup = backup_server(path)
    late = coordination.merge(store, "person", a, b, _factory(live))
    coordination.undo_merge(store, early.id, _factory(live))
    assert sync_view.run_sync(store, _factory(live)).ok
    renamed = new_server_log(path, restore_server(path, live, backup))
    if taken_meanwhile:
        merged_elsewhere(renamed, "dara", a, d)

    summary = sync_view.run_sync(store, _factory(renamed))

    assert summary.ok, summary.error
    with renamed.state.ctx.engine.connect() as conn:
        held = {r.id: bool(r.undone) for r in conn.execute(db.merges.select())}
    assert held[early.id] is True
    if taken_meanwhile:
        assert (summary.merges_redone, late.id in held) == (1, False)
        assert summary.merges_not_redone == [
            {
                "id": late.id,
                "entity": "person",
                "source_id": a,
                "target_id": b,
                "undone": False,
                "errno": p.Errno.MERGE_INVALID,
            }
        ]
    else:
        assert (summary.merges_redone, summary.merges_not_redone) == (2, [])
        assert held[late.id] is False
    with store.read() as session:
        merged = {pid: session.get(Person, pid).merged_into for pid in (a, c)}
    assert merged == {a: d if taken_meanwhile else b, c: None}
    again = sync_view.run_sync(store, _factory(renamed))
    assert (again.ok, again.merges_redone, again.merges_not_redone) == (True, 0, [])


def test_a_device_that_pulled_past_the_backup_pulls_on_from_its_head(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The office's laptop pulled the caseworker's change that the backup missed. After
    the restore it goes back to the restored log's head, sends nothing it did not make,
    and receives what the caseworker's laptop sent again, and an edit made since."""
    path = tmp_path / "server.db"
    live = file_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    office = create_store(tmp_path / "office", PASSPHRASE)
    sync_view.register(office, URL, "somchai", SERVER_PASSWORD, "office", _factory(live))
    assert sync_view.run_sync(office, _factory(live)).ok
    backup = backup_server(path)
    made = phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    assert sync_view.run_sync(office, _factory(live)).ok
    assert _phones(office) == {"0811111111"}
    renamed = new_server_log(path, restore_server(path, live, backup))
    head = renamed.state.ctx.lineage.parent_head

    summary = sync_view.run_sync(office, _factory(renamed))
    assert summary.ok, summary.error
    assert (summary.resent, summary.pushed) == (0, 0)
    assert int(str(sync.sync_state(office, CURSOR_KEY))) == head
    assert _server_phones(renamed) == set()

    assert sync_view.run_sync(store, _factory(renamed)).resent == 1
    with store.session() as session:
        person = session.get(Person, made)
        assert person is not None
        person.phone = "0899999999"
    assert sync_view.run_sync(store, _factory(renamed)).ok
    summary = sync_view.run_sync(office, _factory(renamed))
    assert summary.ok, summary.error
    assert _phones(office) == {"0899999999"}
    assert _server_phones(renamed) == {"0811111111", "0899999999"}
    office.close()


def test_a_device_offline_through_two_restores_sends_again_what_both_lost(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The laptop synced once after a backup and went to the field. The server was
    restored from that backup, then, later, from a second one: its log now continues the
    first restored log, which continues the laptop's. The laptop finds its own log among
    the ancestors (``X-Sapan-Ancestors``) and goes on from the lowest head between, as the
    office's laptop, one restore behind, goes on from the second."""
    path = tmp_path / "server.db"
    live = file_server(path)
    office = create_store(tmp_path / "office", PASSPHRASE)
    for name, device in {"laptop": store, "office": office}.items():
        sync_view.register(device, URL, "somchai", SERVER_PASSWORD, name, _factory(live))
    backup = backup_server(path)
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    first = new_server_log(path, restore_server(path, live, backup))

    phoned_person(office, "0822222222")
    assert sync_view.run_sync(office, _factory(first)).ok
    second_backup = backup_server(path)
    phoned_person(office, "0833333333")
    assert sync_view.run_sync(office, _factory(first)).ok
    second = new_server_log(path, restore_server(path, first, second_backup))
    info = in_process_client(second).get("/v1/info")
    assert info.headers[p.ANCESTORS_HEADER] == f"{second.state.ctx.lineage.ancestors[0][0]} 0"

    for device, resent in ((store, 1), (office, 1), (store, 0)):
        summary = sync_view.run_sync(device, _factory(second))
        assert (summary.ok, summary.resent) == (True, resent), summary.error
    assert _server_phones(second) == {"0811111111", "0822222222", "0833333333"}
    assert _phones(store) == _phones(office) == {"0811111111", "0822222222", "0833333333"}
    office.close()


def test_a_change_a_restored_server_lost_is_sent_again_though_no_pull_followed_its_push(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A push acknowledged after the backup, whose sync broke before its pull: the cursor
    is still within the restored log, but the change is not. The device knows how far the
    server's numbers for its own changes went, and stops; under a new log it sends the
    change again."""
    path = tmp_path / "server.db"
    live = file_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    backup = backup_server(path)
    cursor = sync.sync_state(store, CURSOR_KEY)
    phoned_person(store, "0822222222")
    with sync_view.device_session(store, _factory(live)) as client:
        pushed = SyncService(store, client)
        pushed.push(SyncSummary())  # the link dropped before the pull
    assert (sync.sync_state(store, CURSOR_KEY), sync_view.overview(store).waiting) == (cursor, 0)
    restored = restore_server(path, live, backup)

    summary = sync_view.run_sync(store, _factory(restored))
    assert str(summary.error).startswith("server_behind")

    renamed = new_server_log(path, restored)
    summary = sync_view.run_sync(store, _factory(renamed))
    assert (summary.ok, summary.resent) == (True, 1), summary.error
    assert _server_phones(renamed) == {"0811111111", "0822222222"}


def test_an_edit_sent_again_meets_one_made_since_the_restore_as_any_concurrent_edit(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """What a device sends again is decided as when it was first sent: the office set a
    person's nationality on the restored server, not knowing the laptop's (lost) edit of
    it; the laptop's edit comes back as a concurrent one, and the conflict record keeps
    both values (a ``review`` field)."""
    path = tmp_path / "server.db"
    live = file_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    office = create_store(tmp_path / "office", PASSPHRASE)
    sync_view.register(office, URL, "somchai", SERVER_PASSWORD, "office", _factory(live))
    person = phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    assert sync_view.run_sync(office, _factory(live)).ok
    backup = backup_server(path)
    _set_nationality(store, person, "MMR")
    assert sync_view.run_sync(store, _factory(live)).ok
    renamed = new_server_log(path, restore_server(path, live, backup))

    _set_nationality(office, person, "KHM")
    assert sync_view.run_sync(office, _factory(renamed)).ok
    summary = sync_view.run_sync(store, _factory(renamed))
    # the edit and its audit event
    assert (summary.ok, summary.resent, summary.conflicts) == (True, 2, 1), summary.error
    assert sync_view.run_sync(office, _factory(renamed)).ok

    with renamed.state.ctx.engine.connect() as conn:
        held = conn.exec_driver_sql("SELECT field, applied, other FROM conflicts").all()
    assert [
        (field, {json.loads(applied)["value"], json.loads(other)["value"]})
        for field, applied, other in held
    ] == [("nationality", {"MMR", "KHM"})]
    assert _nationality(store, person) == _nationality(office, person)
    office.close()


@pytest.mark.parametrize("flip", [False, True])
def test_conflict_records_past_the_restored_head_are_read_again(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring, flip: bool
) -> None:
    """Conflict records the devices pulled from the lost part of the log: one made after
    the backup is gone from the restored server (the edits sent again make a new one,
    which every device ends with, alone); one decided after it is open there again, and
    the coordinator's laptop makes her decision again (a flip writes its value again), so
    that every device ends with it decided, and with the value the server holds."""
    path = tmp_path / "server.db"
    live = file_server(path)
    ctx = live.state.ctx
    admin.create_user(
        ctx.engine, ctx.hasher, "kanya", SERVER_PASSWORD, Role.COORDINATOR, ["TAK-01"]
    )
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    office = create_store(tmp_path / "office", PASSPHRASE)
    sync_view.register(office, URL, "kanya", SERVER_PASSWORD, "office", _factory(live))
    early, late = phoned_person(store, "0811111111"), phoned_person(store, "0822222222")
    assert sync_view.run_sync(store, _factory(live)).ok
    assert sync_view.run_sync(office, _factory(live)).ok
    _disagree(store, office, early, _factory(live))  # a conflict before the backup
    backup = backup_server(path)
    decided = _conflict_ids(office)
    in_force = _nationality(store, early)
    coordination.resolve_conflict(office, decided[0], flip, _factory(live))
    _disagree(store, office, late, _factory(live))  # and one after it
    made_after = sorted(set(_conflict_ids(store)) - set(decided))
    assert len(made_after) == 1
    assert _conflict_ids(office) == _conflict_ids(store)
    decision = _nationality(store, early)
    assert (decision != in_force) == flip

    renamed = new_server_log(path, restore_server(path, live, backup))
    redone = []
    for device in (office, store, office, store):
        summary = sync_view.run_sync(device, _factory(renamed))
        assert summary.ok, summary.error
        redone.append(summary.decisions_redone)
    assert redone == [1, 0, 0, 0]
    with renamed.state.ctx.engine.connect() as conn:
        on_server = dict(conn.exec_driver_sql("SELECT id, status FROM conflicts").all())
    assert decided[0] in on_server
    assert made_after[0] not in on_server
    assert on_server[decided[0]] == ("flipped" if flip else "confirmed")
    assert sorted(on_server.values()) == sorted([on_server[decided[0]], "open"])
    for device in (store, office):
        with device.read() as session:
            held = {c.id: c.status for c in session.scalars(select(SyncConflict))}
        assert held == on_server
        assert sync.sync_state(device, sync.RECHECK_CONFLICTS_KEY) is None
        assert _nationality(device, early) == decision
    office.close()
    newcomer = create_store(tmp_path / "newcomer", PASSPHRASE)  # what the server holds
    sync_view.register(newcomer, URL, "somchai", SERVER_PASSWORD, "new", _factory(renamed))
    assert sync_view.run_sync(newcomer, _factory(renamed)).ok
    assert _nationality(newcomer, early) == decision
    newcomer.close()


def test_what_a_device_saw_past_the_restored_head_counts_as_unseen(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """Versions are seqs of one log. The laptop saw the office's edit of a nationality
    (lost in the restore) and changed it again, offline. On the restored log a colleague,
    offline since before the backup, set it too, and the numbers the laptop's edit was
    based on now name the colleague's edit: judged by them, the laptop's value would have
    replaced the colleague's without a conflict record. Past the head, what the laptop
    saw counts as unseen: the conflict record keeps both values."""
    office, colleague, person, restored = _seen_past_the_head(store, tmp_path)
    _set_nationality(store, person, "MMR")  # having seen KHM; waits on the laptop
    renamed = restored()
    devices = {"laptop": store, "office": office, "colleague": colleague}

    _set_nationality(colleague, person, "LAO")
    for device in (colleague, store, office, colleague, store):
        summary = sync_view.run_sync(device, _factory(renamed))
        assert summary.ok, summary.error

    with renamed.state.ctx.engine.connect() as conn:
        held = conn.exec_driver_sql("SELECT applied, other FROM conflicts").all()
    sides = [{json.loads(a)["value"], json.loads(o)["value"]} for a, o in held]
    assert {"LAO", "MMR"} in sides
    # concurrent: the later stamp (the colleague's) is in force, the record keeps both
    assert {_nationality(device, person) for device in devices.values()} == {"LAO"}
    office.close()
    colleague.close()


def test_a_row_the_device_pulled_past_the_restored_head_is_edited_as_unseen(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The same for an edit made after the laptop took the new log: the row it had pulled
    past the head (the office's edit, not yet sent again) keeps no version from the old
    log, so the laptop's later edit is judged against the colleague's on the new log."""
    office, colleague, person, restored = _seen_past_the_head(store, tmp_path)
    renamed = restored()
    assert sync_view.run_sync(store, _factory(renamed)).ok  # the laptop takes the new log

    _set_nationality(colleague, person, "LAO")
    assert sync_view.run_sync(colleague, _factory(renamed)).ok
    _set_nationality(store, person, "MMR")  # offline: the laptop has not seen LAO
    assert sync_view.run_sync(store, _factory(renamed)).ok

    with renamed.state.ctx.engine.connect() as conn:
        held = conn.exec_driver_sql("SELECT applied, other FROM conflicts").all()
    assert [{json.loads(a)["value"], json.loads(o)["value"]} for a, o in held] == [{"LAO", "MMR"}]
    office.close()
    colleague.close()


def _seen_past_the_head(store: Store, tmp_path: Path) -> tuple[Store, Store, str, Any]:
    """The laptop (``store``), the office and a colleague share a person; after the
    backup the office sets the person's nationality (KHM) and the laptop pulls it.
    Returns the office, the colleague, the person, and what restores the server from the
    backup and gives it a new log (returning the restarted server)."""
    path = tmp_path / "server.db"
    live = file_server(path)
    office = create_store(tmp_path / "office", PASSPHRASE)
    colleague = create_store(tmp_path / "colleague", PASSPHRASE)
    for name, device in {"laptop": store, "office": office, "colleague": colleague}.items():
        sync_view.register(device, URL, "somchai", SERVER_PASSWORD, name, _factory(live))
    person = phoned_person(store, "0811111111")
    for device in (store, office, colleague):
        assert sync_view.run_sync(device, _factory(live)).ok
    backup = backup_server(path)
    _set_nationality(office, person, "KHM")
    for device in (office, store):
        assert sync_view.run_sync(device, _factory(live)).ok
    return (
        office,
        colleague,
        person,
        lambda: new_server_log(path, restore_server(path, live, backup)),
    )


def _disagree(laptop: Store, office: Store, person: str, factory: Any) -> None:
    """The laptop and the office set the person's nationality apart, offline; both sync."""
    _set_nationality(laptop, person, "MMR")
    _set_nationality(office, person, "KHM")
    for device in (laptop, office, laptop):
        assert sync_view.run_sync(device, factory).ok


def _conflict_ids(store: Store) -> list[str]:
    with store.read() as session:
        return sorted(session.scalars(select(SyncConflict.id)))


def _set_nationality(store: Store, person_id: str, code: str) -> None:
    with store.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        person.nationality = code


def _nationality(store: Store, person_id: str) -> str | None:
    with store.read() as session:
        return session.scalar(select(Person.nationality).where(Person.id == person_id))


def test_a_device_the_restored_server_never_met_registers_again_and_sends_its_work(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The laptop was registered after the backup was made: the restored server does not
    know its token (a sync says so). Registering again is not asked about (the new log
    continues the laptop's), and takes the new log the way a sync does: what the restore
    lost goes again."""
    path = tmp_path / "server.db"
    live = file_server(path)
    backup = backup_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    renamed = new_server_log(path, restore_server(path, live, backup))

    # the administrator told everyone to register again; this laptop did before syncing
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(renamed))
    assert sync_view.overview(store).waiting == 1
    summary = sync_view.run_sync(store, _factory(renamed))
    assert (summary.ok, summary.pushed, summary.failed) == (True, 1, 0), summary.error
    assert _server_phones(renamed) == {"0811111111"}


def test_changes_kept_no_longer_leave_the_device_to_its_person(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """Sent changes are kept SENT_KEPT_DAYS days. A backup older than what a device still
    keeps cannot be mended by it: it stops as before, and registering again is asked."""
    path = tmp_path / "server.db"
    live = file_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    backup = backup_server(path)
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    assert sync.prune_sent(store) == 0  # once a day: today's look was the sync's
    later = dt.date.today() + dt.timedelta(days=sync.SENT_KEPT_DAYS + 1)
    assert sync.prune_sent(store, later) == 1
    assert sync.prune_sent(store, later) == 0
    renamed = new_server_log(path, restore_server(path, live, backup))

    summary = sync_view.run_sync(store, _factory(renamed))
    assert str(summary.error).startswith("server_changed")
    assert _server_phones(renamed) == set()
    with pytest.raises(UserError):
        sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(renamed))


def test_a_scan_sent_again_is_uploaded_again_when_the_server_lost_it(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The restored database holds the blobs it held at the backup: a scan uploaded after
    it is asked about again, and uploaded, with the attachment row sent again."""
    path = tmp_path / "server.db"
    live = file_server(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    backup = backup_server(path)
    scan = tmp_path / "passport.jpg"
    scan.write_bytes(b"\xff\xd8 a passport page " * 500)
    add_attachment(store, scan, person_id=phoned_person(store, "0811111111"))
    summary = sync_view.run_sync(store, _factory(live))
    assert (summary.ok, summary.attachments_uploaded) == (True, 1)
    renamed = new_server_log(path, restore_server(path, live, backup))

    summary = sync_view.run_sync(store, _factory(renamed))
    assert summary.ok, summary.error
    assert (summary.resent, summary.attachments_uploaded) == (2, 1)
    with renamed.state.ctx.engine.connect() as conn:
        held = conn.exec_driver_sql("SELECT sha256, complete FROM attachments").all()
    assert [bool(complete) for _sha, complete in held] == [True]


def _ids(store: Store) -> set[str]:
    with store.read() as session:
        return set(session.scalars(select(Person.id)))


def test_a_device_registered_before_servers_named_their_logs_keeps_the_first_it_sees(
    server: Server, make_device: Any
) -> None:
    """And a new log made while it held everything the old one had (nothing lost) lets it
    go on under the new one."""
    server.user("ann")
    device = make_device(server, "ann")  # registered by the client alone: no log kept
    new_row(device, Person, sex="f", phone="0811111111")
    assert sync.sync_state(device.store, LOG_KEY) is None

    assert device.sync().ok

    assert sync.sync_state(device.store, LOG_KEY) == server.app.state.ctx.lineage.log  # type: ignore[attr-defined]
    made = admin.new_log(server.engine).log
    assert made.parent_head == int(sync.sync_state(device.store, CURSOR_KEY) or 0) > 0
    renamed = create_app(Settings(db_url=server.url, cheap_hashing=True, migrate=False))
    device.client.http = in_process_client(renamed)
    try:
        new_row(device, Person, sex="m", phone="0822222222")
        summary = device.sync()
        assert (summary.ok, summary.pushed) == (True, 1)
        assert sync.sync_state(device.store, LOG_KEY) == made.log
    finally:
        renamed.state.ctx.engine.dispose()


def test_the_same_server_at_a_new_address_registers_without_asking_and_keeps_the_cursor(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """Moved from an IP address to a name (or the database copied whole to new hardware):
    the log is the same, so the device's place in it stays."""
    app = file_server(tmp_path / "server.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(app))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(app)).ok
    cursor = sync.sync_state(store, CURSOR_KEY)

    sync_view.register(store, OTHER_URL, "somchai", SERVER_PASSWORD, "laptop", _factory(app))

    assert sync_view.server_address(store) == OTHER_URL
    assert sync.sync_state(store, CURSOR_KEY) == cursor
    summary = sync_view.run_sync(store, _factory(app))
    assert (summary.ok, summary.pulled_rows) == (True, 0)
