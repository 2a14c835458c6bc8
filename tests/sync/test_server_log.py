"""A device's cursor is a place in one server's change log: every answer names the log
(``X-Sapan-Log``), ``GET /v1/info`` its head (``X-Sapan-Head``), and a device stops,
sending nothing, when another log answers at its address or the log ends before its
cursor (a database restored from an older backup). Registering under another log is
asked for, then starts over with it and keeps everything on the laptop."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.models.entities import Person, SyncState
from desktop.models.store import Store, create_store
from desktop.services import sync_view
from desktop.services.sync import CURSOR_KEY, LOG_KEY, SyncService, SyncSummary
from sync import protocol as p
from sync.protocol import Role
from sync.server import admin
from sync.server.app import Settings, create_app
from tests.conftest import PASSPHRASE, SERVER_PASSWORD, in_process_client, phoned_person
from tests.fakes import MemoryKeyring
from tests.sync.conftest import Server, new_row

URL = "http://testserver"
OTHER_URL = "http://sync.example.lan"


def _app(path: Path) -> Any:
    """A server on the SQLite file ``path`` (made when missing) with caseworker somchai."""
    made = not path.exists()
    app = create_app(Settings(db_url=str(path), cheap_hashing=True))
    if made:
        ctx = app.state.ctx
        admin.create_user(
            ctx.engine, ctx.hasher, "somchai", SERVER_PASSWORD, Role.CASEWORKER, ["TAK-01"]
        )
    return app


def _factory(app: Any) -> Any:
    return lambda url: in_process_client(app)


def _phones(store: Store) -> set[str | None]:
    with store.read() as session:
        return set(session.scalars(select(Person.phone)))


def _state(store: Store, key: str) -> str | None:
    with store.read() as session:
        row = session.get(SyncState, key)
        return row.value if row is not None else None


def _server_phones(app: Any) -> set[str]:
    """The phones the server's log holds (values of persons' inserts and edits)."""
    with app.state.ctx.engine.connect() as conn:
        values = conn.exec_driver_sql("SELECT value FROM changes WHERE entity = 'person'").scalars()
        return {phone for value in values for phone in [_phone(value)] if phone}


def _phone(value: str | None) -> str | None:
    import json

    loaded = json.loads(value) if value else None
    return loaded.get("phone") if isinstance(loaded, dict) else None


def _reason(summary: Any) -> str:
    return sync_view.reason_text(str(summary.error), i18n.text)


def test_every_answer_names_the_log_and_info_its_head(server: Server) -> None:
    http = server.http()
    info = http.get("/v1/info")
    log = info.headers[p.LOG_HEADER]
    assert str(uuid.UUID(log)) == log
    assert info.headers[p.HEAD_HEADER] == "0"
    refused = http.get("/v1/pull", params={"since": 0})  # no token: refused, still named
    assert refused.status_code == 401
    assert refused.headers[p.LOG_HEADER] == log
    too_big = http.post(
        "/v1/push",
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
    renamed = admin.new_log(server.engine)
    assert (renamed.parent, renamed.parent_head) == (log, 0)
    assert renamed.log != log
    restarted = create_app(Settings(db_url=server.url, cheap_hashing=True, migrate=False))
    try:
        again = in_process_client(restarted).get("/v1/info")
        assert again.headers[p.LOG_HEADER] == renamed.log
        assert again.headers[p.PARENT_LOG_HEADER] == log
        assert again.headers[p.PARENT_HEAD_HEADER] == "0"
    finally:
        restarted.state.ctx.engine.dispose()


def test_a_device_stops_when_another_server_answers_at_its_address(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """The address now leads to another server (reinstalled, or a name pointed elsewhere):
    nothing is sent to it and nothing pulled; what waits stays waiting, and the device's
    own server takes it when it answers again."""
    first, second = _app(tmp_path / "first.db"), _app(tmp_path / "second.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(first))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(first)).ok
    cursor = _state(store, CURSOR_KEY)
    phoned_person(store, "0822222222")

    summary = sync_view.run_sync(store, _factory(second))

    assert not summary.ok
    assert str(summary.error).startswith("server_changed")
    assert _reason(summary).startswith(
        "the server at this address is not the one this laptop is registered with"
    )
    assert (summary.pushed, summary.pulled_rows, summary.waiting) == (0, 0, 1)
    assert _state(store, CURSOR_KEY) == cursor
    assert _server_phones(second) == set()
    assert sync_view.run_sync(store, _factory(first)).ok
    assert _server_phones(first) == {"0811111111", "0822222222"}


def test_registering_with_another_server_asks_then_starts_over_keeping_everything(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    first, second = _app(tmp_path / "first.db"), _app(tmp_path / "second.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(first))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(first)).ok
    phoned_person(store, "0822222222")  # not sent yet
    log, cursor = _state(store, LOG_KEY), _state(store, CURSOR_KEY)
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
    assert (_state(store, LOG_KEY), _state(store, CURSOR_KEY)) == (log, cursor)
    assert sync_view.server_address(store) == URL

    sync_view.register(
        store, OTHER_URL, "somchai", SERVER_PASSWORD, "new", _factory(second), other_server=True
    )

    assert _state(store, LOG_KEY) == second.state.ctx.lineage.log
    assert _state(store, CURSOR_KEY) is None
    summary = sync_view.run_sync(store, _factory(second))
    assert summary.ok, summary.error
    # what waited went to the new server, the colleague's row came from its start, and
    # the row sent to the old server stays on the laptop
    assert _server_phones(second) == {"0822222222", "0833333333"}
    assert _phones(store) == {"0811111111", "0822222222", "0833333333"}


def test_a_server_restored_from_an_older_backup_stops_devices_past_it(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A device that pulled past what the backup kept is told so before it sends
    anything: changes the restored server numbers anew below its cursor would never
    reach it. After ``sapan server new-log`` it stops alike, and registering again starts
    it over with the restored log; a device that had not synced since the backup goes on
    unasked, from where it was."""
    path = tmp_path / "server.db"
    live = _app(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    office = create_store(tmp_path / "office", PASSPHRASE)
    sync_view.register(office, URL, "somchai", SERVER_PASSWORD, "office", _factory(live))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    assert sync_view.run_sync(office, _factory(live)).ok
    office_cursor = _state(office, CURSOR_KEY)
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    phoned_person(store, "0822222222")
    assert sync_view.run_sync(store, _factory(live)).ok
    live.state.ctx.engine.dispose()
    for lost in tmp_path.glob("server.db*"):
        lost.unlink()
    backup.rename(path)  # the disk failed; the administrator restored last night's backup
    restored = _app(path)
    waiting = phoned_person(store, "0833333333")

    summary = sync_view.run_sync(store, _factory(restored))

    assert not summary.ok
    assert str(summary.error).startswith("server_behind")
    assert _reason(summary).startswith("the server holds less than this laptop already received")
    assert (summary.pushed, summary.waiting) == (0, 1)
    assert _server_phones(restored) == {"0811111111"}

    restored.state.ctx.engine.dispose()
    admin.new_log(_app(path).state.ctx.engine)
    renamed = _app(path)
    assert str(sync_view.run_sync(store, _factory(renamed)).error).startswith("server_changed")
    with pytest.raises(UserError):
        sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(renamed))
    sync_view.register(
        store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(renamed), other_server=True
    )
    assert sync_view.run_sync(store, _factory(renamed)).ok
    assert _server_phones(renamed) == {"0811111111", "0833333333"}
    assert waiting in {row for row in _ids(store)}
    assert _phones(store) == {"0811111111", "0822222222", "0833333333"}

    # the office's laptop was offline since before the backup: it goes on by itself
    phoned_person(office, "0844444444")
    assert _state(office, CURSOR_KEY) == office_cursor
    summary = sync_view.run_sync(office, _factory(renamed))
    assert summary.ok, summary.error
    assert _state(office, LOG_KEY) == renamed.state.ctx.lineage.log
    assert _server_phones(renamed) == {"0811111111", "0833333333", "0844444444"}
    assert _phones(office) == {"0811111111", "0833333333", "0844444444"}
    office.close()


def test_a_change_a_restored_server_lost_is_noticed_though_no_pull_followed_its_push(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A push acknowledged after the backup, whose sync broke before its pull: the cursor
    is still within the restored log, but the change is not. The device knows how far the
    server's numbers for its own changes went, and stops, with or without a new log."""
    path = tmp_path / "server.db"
    live = _app(path)
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(live))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(live)).ok
    backup = tmp_path / "backup.db"
    with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    cursor = _state(store, CURSOR_KEY)
    phoned_person(store, "0822222222")
    with sync_view.device_session(store, _factory(live)) as client:
        pushed = SyncService(store, client)
        pushed.push(SyncSummary())  # the link dropped before the pull
    assert (_state(store, CURSOR_KEY), sync_view.overview(store).waiting) == (cursor, 0)
    live.state.ctx.engine.dispose()
    for lost in tmp_path.glob("server.db*"):
        lost.unlink()
    backup.rename(path)

    summary = sync_view.run_sync(store, _factory(_app(path)))
    assert str(summary.error).startswith("server_behind")

    admin.new_log(_app(path).state.ctx.engine)
    summary = sync_view.run_sync(store, _factory(_app(path)))
    assert str(summary.error).startswith("server_changed")


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
    assert _state(device.store, LOG_KEY) is None

    assert device.sync().ok

    assert _state(device.store, LOG_KEY) == server.app.state.ctx.lineage.log  # type: ignore[attr-defined]
    made = admin.new_log(server.engine)
    assert made.parent_head == int(_state(device.store, CURSOR_KEY) or 0) > 0
    renamed = create_app(Settings(db_url=server.url, cheap_hashing=True, migrate=False))
    device.client.http = in_process_client(renamed)
    try:
        new_row(device, Person, sex="m", phone="0822222222")
        summary = device.sync()
        assert (summary.ok, summary.pushed) == (True, 1)
        assert _state(device.store, LOG_KEY) == made.log
    finally:
        renamed.state.ctx.engine.dispose()


def test_the_same_server_at_a_new_address_registers_without_asking_and_keeps_the_cursor(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """Moved from an IP address to a name (or the database copied whole to new hardware):
    the log is the same, so the device's place in it stays."""
    app = _app(tmp_path / "server.db")
    sync_view.register(store, URL, "somchai", SERVER_PASSWORD, "laptop", _factory(app))
    phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, _factory(app)).ok
    cursor = _state(store, CURSOR_KEY)

    sync_view.register(store, OTHER_URL, "somchai", SERVER_PASSWORD, "laptop", _factory(app))

    assert (sync_view.server_address(store), _state(store, CURSOR_KEY)) == (OTHER_URL, cursor)
    summary = sync_view.run_sync(store, _factory(app))
    assert (summary.ok, summary.pulled_rows) == (True, 0)
