"""The server over HTTP on both backends: security refusals, limits, attachments, OpenAPI.

Every refusal is a 4xx with a numbered errno, and stores nothing.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import logging
import os
import tracemalloc
import uuid
from typing import Any

import pytest

from desktop.domain.errors import UserError
from sync import protocol as p
from sync.client import attachments as wire
from sync.client.http import SyncClient, SyncHttpError
from sync.protocol import Errno, Role
from sync.server import admin, db, uploads
from sync.server.ingest import current_rows
from tests.sync.conftest import PASSWORD, MemorySink, Server


def _change(
    client: SyncClient, row: str, field: str, value: Any, entity: str = "person"
) -> dict[str, Any]:
    return {
        "change_id": str(uuid.uuid4()),
        "entity": entity,
        "row_id": row,
        "field": field,
        "value": value,
        "base_version": 0,
        "hlc": "0001763812345678-0000-dev",
        "device_id": "dev",
        "user_id": "ann",
    }


def _post(client: SyncClient, changes: list[dict[str, Any]]) -> Any:
    return client.http.request(  # type: ignore[attr-defined]
        "POST",
        "/v1/push",
        content=json.dumps({"changes": changes}).encode(),
        headers={"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"},
    )


SMALL = p.MIN_CHUNK_BYTES  # the smallest chunk an upload may use


def _refused(response: Any, status: int, errno: Errno) -> None:
    assert response.status_code == status, response.text
    assert response.json()["errno"] == errno


@pytest.fixture
def ann(server: Server) -> SyncClient:
    server.user("ann", offices=("MS",))
    return server.device("ann")


def test_push_and_pull_round_trip(server: Server, ann: SyncClient) -> None:
    row = str(uuid.uuid4())
    response = _post(ann, [_change(ann, row, "office", "MS"), _change(ann, row, "phone", "1")])
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]
    page = ann.pull(0)
    assert page.rows[0].values == {"office": "MS", "phone": "1"}
    assert not page.more


@pytest.mark.parametrize(
    ("field", "value", "errno"),
    [
        ("sex", 5, Errno.WRONG_TYPE),
        ("arrived_on", "2024-02-30", Errno.WRONG_TYPE),
        ("languages", ["my", 3], Errno.WRONG_TYPE),
        ("no_such_field", "x", Errno.UNKNOWN_FIELD),
        ("phone", "9" * 41, Errno.VALUE_TOO_LONG),
        ("office", None, Errno.REQUIRED_VALUE),
    ],
)
def test_bad_values_refused_whole_batch(
    server: Server, ann: SyncClient, field: str, value: Any, errno: Errno
) -> None:
    row = str(uuid.uuid4())
    response = _post(ann, [_change(ann, row, "office", "MS"), _change(ann, row, field, value)])
    _refused(response, 400, errno)
    assert response.json()["details"]["index"] == 1
    assert server.count("changes") == 0


def test_unknown_entity_refused(server: Server, ann: SyncClient) -> None:
    _refused(
        _post(ann, [_change(ann, str(uuid.uuid4()), "office", "MS", "spaceship")]),
        400,
        Errno.UNKNOWN_ENTITY,
    )
    assert server.count("changes") == 0


def test_malformed_json_and_bad_gzip_refused(server: Server, ann: SyncClient) -> None:
    headers = {"Authorization": f"Bearer {ann.token}", "Content-Type": "application/json"}
    http = ann.http
    _refused(
        http.request("POST", "/v1/push", content=b'{"changes": [', headers=headers),
        400,
        Errno.MALFORMED_JSON,
    )  # type: ignore[attr-defined]
    zipped = headers | {"Content-Encoding": "gzip"}
    _refused(
        http.request("POST", "/v1/push", content=b"not gzip", headers=zipped),
        400,
        Errno.BAD_ENCODING,
    )  # type: ignore[attr-defined]
    _refused(
        http.request(
            "POST", "/v1/push", content=json.dumps({"rows": []}).encode(), headers=headers
        ),
        400,
        Errno.INVALID_PAYLOAD,
    )  # type: ignore[attr-defined]
    assert server.count("changes") == 0


def test_push_body_not_utf8_or_not_declared_json_refused(server: Server, ann: SyncClient) -> None:
    headers = {"Authorization": f"Bearer {ann.token}", "Content-Type": "application/json"}
    row = str(uuid.uuid4()).encode()
    not_utf8 = (
        b'{"v": 2, "changes": [[null, "person", "' + row + b'", "*", {"office": "M\xff"}, 0, "1"]]}'
    )
    http: Any = ann.http
    _refused(
        http.request("POST", "/v1/push", content=not_utf8, headers=headers),
        400,
        Errno.MALFORMED_JSON,
    )
    empty = http.request("POST", "/v1/push", content=b"", headers=headers)
    _refused(empty, 400, Errno.INVALID_PAYLOAD)
    assert empty.json()["details"]["errors"] == [{"loc": ["body"], "type": "missing"}]
    as_text = headers | {"Content-Type": "text/plain"}
    body = json.dumps({"v": 2, "changes": []}).encode()
    _refused(
        http.request("POST", "/v1/push", content=body, headers=as_text), 400, Errno.INVALID_PAYLOAD
    )
    assert server.count("changes") == 0


def test_push_refusal_names_where_the_body_does_not_fit(server: Server, ann: SyncClient) -> None:
    change = ["not-a-uuid", "person", str(uuid.uuid4()), "*", {"office": "MS"}, 0, "1-0-x"]
    response = _batch(ann, [change])
    _refused(response, 400, Errno.INVALID_PAYLOAD)
    errors = response.json()["details"]["errors"]
    # the id and the stamp ("1-0-x") at their places in change 0, nothing else
    assert {"loc": ["body", "changes", 0, 0], "type": "string_pattern_mismatch"} in errors
    assert {tuple(error["loc"][:4]) for error in errors} == {
        ("body", "changes", 0, 0),
        ("body", "changes", 0, 6),
    }
    # a body that is no batch at all: located in either form (pydantic names the form)
    refused = _raw(ann, json.dumps({"v": 2, "changes": {}}).encode())
    _refused(refused, 400, Errno.INVALID_PAYLOAD)
    found = refused.json()["details"]["errors"]
    assert {"loc": ["body", "PushBatch", "changes"], "type": "list_type"} in found
    assert all(error["loc"][0] == "body" for error in found)


def test_oversized_batch_refused(server: Server, ann: SyncClient) -> None:
    row = str(uuid.uuid4())
    changes = [_change(ann, row, "phone", str(i)) for i in range(p.MAX_BATCH + 1)]
    _refused(_post(ann, changes), 413, Errno.BATCH_TOO_LARGE)
    headers = {"Authorization": f"Bearer {ann.token}", "Content-Encoding": "gzip"}
    bomb = gzip.compress(b" " * (9 * 1024 * 1024))  # inflates past the body limit
    _refused(
        ann.http.request("POST", "/v1/push", content=bomb, headers=headers),
        413,
        Errno.BATCH_TOO_LARGE,
    )  # type: ignore[attr-defined]
    assert server.count("changes") == 0


def test_gzip_request_accepted(server: Server, ann: SyncClient) -> None:
    row = str(uuid.uuid4())
    body = gzip.compress(json.dumps({"changes": [_change(ann, row, "office", "MS")]}).encode())
    headers = {
        "Authorization": f"Bearer {ann.token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    assert ann.http.request("POST", "/v1/push", content=body, headers=headers).status_code == 200  # type: ignore[attr-defined]


def test_scope_enforced_on_push_and_pull(server: Server, ann: SyncClient) -> None:
    server.user("tom", offices=("TAK",))
    tom = server.device("tom")
    row = str(uuid.uuid4())
    _refused(_post(ann, [_change(ann, row, "office", "TAK")]), 403, Errno.OUT_OF_SCOPE)
    assert server.count("changes") == 0
    assert (
        _post(
            tom, [_change(tom, row, "office", "TAK"), _change(tom, row, "phone", "1")]
        ).status_code
        == 200
    )
    # ann may not edit tom's row, nor see it
    _refused(_post(ann, [_change(ann, row, "phone", "2")]), 403, Errno.OUT_OF_SCOPE)
    assert ann.pull(0).rows == []
    assert len(tom.pull(0).rows) == 1


def test_coordinator_region_sees_its_offices(server: Server, ann: SyncClient) -> None:
    server.user("cora", Role.COORDINATOR, offices=("MS", "TAK"))
    cora = server.device("cora")
    row = str(uuid.uuid4())
    _post(ann, [_change(ann, row, "office", "MS")])
    assert [r.id for r in cora.pull(0).rows] == [row]


def test_revoked_device_told_to_wipe(server: Server, ann: SyncClient) -> None:
    """Refused from then on, and what it last sent for a step is dropped with it."""
    device_id = admin.list_devices(server.engine, "ann")[0]["device_id"]
    step = str(uuid.uuid4())
    _post(
        ann,
        [_change(ann, step, "office", "MS", "step"), _change(ann, step, "state", "ready", "step")],
    )
    assert server.count("last_sent") == 1
    admin.revoke_device(server.engine, device_id)
    with pytest.raises(SyncHttpError) as refused:
        ann.pull(0)
    assert refused.value.errno == Errno.DEVICE_REVOKED
    assert refused.value.details["wipe"] is True
    assert server.count("last_sent") == 0


def test_a_disabled_account_is_refused_everywhere_stores_nothing_and_comes_back_when_enabled(
    server: Server, ann: SyncClient
) -> None:
    """Someone who left: every device of the account is refused (not told to wipe, so
    unsent work survives), no new device registers, and enabling lets it all through."""
    row = str(uuid.uuid4())
    assert admin.set_disabled(server.engine, "ann", True) is True
    assert admin.set_disabled(server.engine, "ann", True) is False  # already: no change
    for call in (
        lambda: ann.pull(0),
        lambda: ann.me(),
        lambda: server.device("ann", "new-laptop"),
    ):
        with pytest.raises(SyncHttpError) as refused:
            call()
        assert refused.value.status == 403
        assert refused.value.errno == Errno.ACCOUNT_DISABLED
        assert "wipe" not in refused.value.details
    _refused(_post(ann, [_change(ann, row, "office", "MS")]), 403, Errno.ACCOUNT_DISABLED)
    assert server.count("changes") == 0
    assert len(admin.list_devices(server.engine, "ann")) == 1  # no device was registered

    assert admin.set_disabled(server.engine, "ann", False) is True
    assert _post(ann, [_change(ann, row, "office", "MS")]).status_code == 200
    assert [r.id for r in ann.pull(0).rows] == [row]
    [user] = admin.list_users(server.engine)
    assert (user["username"], user["disabled"], user["devices"]) == ("ann", False, 1)


@pytest.mark.parametrize(
    ("username", "password", "offices", "code"),
    [
        ("a" * 81, PASSWORD, ("MS",), "sync.server.bad_username"),
        ("", PASSWORD, ("MS",), "sync.server.bad_username"),
        (" ann", PASSWORD, ("MS",), "sync.server.bad_username"),
        ("ann\x00", PASSWORD, ("MS",), "sync.server.bad_username"),
        ("ann\n", PASSWORD, ("MS",), "sync.server.bad_username"),
        ("dee", "x" * 1025, ("MS",), "sync.server.password_too_long"),
        ("dee", PASSWORD, ("M" * 33,), "sync.server.bad_office"),
        ("dee", PASSWORD, ("MS TAK",), "sync.server.bad_office"),
    ],
)
def test_an_account_no_device_could_use_is_refused_and_nothing_stored(
    server: Server, username: str, password: str, offices: tuple[str, ...], code: str
) -> None:
    """A name or password registration would refuse, or an office no row can carry: the
    account could never be used (on PostgreSQL a long name was a database error)."""
    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    with pytest.raises(UserError) as refused:
        admin.create_user(server.engine, ctx.hasher, username, password, Role.CASEWORKER, offices)
    assert refused.value.code == code
    assert server.count("accounts") == server.count("audit") == 0


def test_a_password_or_offices_no_device_could_use_change_nothing(
    server: Server, ann: SyncClient
) -> None:
    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    with pytest.raises(UserError) as too_long:
        admin.set_password(server.engine, ctx.hasher, "ann", "x" * 1025)
    assert too_long.value.code == "sync.server.password_too_long"
    with pytest.raises(UserError) as bad_office:
        admin.set_offices(server.engine, "ann", ["MS", "T" * 40])
    assert bad_office.value.code == "sync.server.bad_office"
    assert ann.me().offices == ["MS"]
    SyncClient(server.http()).register("ann", PASSWORD, "second-laptop")  # the old password


def test_a_new_password_registers_new_devices_and_keeps_the_old_ones(
    server: Server, ann: SyncClient
) -> None:
    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    with pytest.raises(UserError):
        admin.set_password(server.engine, ctx.hasher, "ann", "short")
    admin.set_password(server.engine, ctx.hasher, "ann", "a-new-password-456")
    with pytest.raises(SyncHttpError) as refused:
        server.device("ann", "second-laptop")  # the old password
    assert refused.value.errno == Errno.BAD_CREDENTIALS
    SyncClient(server.http()).register("ann", "a-new-password-456", "second-laptop")
    assert ann.me().username == "ann"  # the device registered before keeps its token
    routes = [r["route"] for r in _audit_rows(server)]
    assert "server set-password" in routes
    assert not any("a-new-password" in r["detail"] for r in _audit_rows(server))


def test_a_role_change_reaches_the_device_and_an_admin_sees_every_office(
    server: Server, ann: SyncClient
) -> None:
    server.user("tom", offices=("TAK",))
    tom = server.device("tom")
    row = str(uuid.uuid4())
    _post(tom, [_change(tom, row, "office", "TAK")])

    admin.set_role(server.engine, "ann", Role.COORDINATOR)
    assert ann.me().role is Role.COORDINATOR
    assert ann.me().offices == ["MS"]  # the offices stay
    assert ann.pull(0, scope=1).rows == []  # a coordinator of MS: no TAK row, same scope

    widened = admin.set_role(server.engine, "ann", Role.ADMIN)
    assert (widened.after, widened.scope_version) == (["*"], 2)
    assert ann.me().all_offices
    with pytest.raises(SyncHttpError) as moved:
        ann.pull(0, scope=1)  # the scope widened: the device is told to catch up
    assert moved.value.errno == Errno.SCOPE_CHANGED
    assert [r.id for r in ann.pull(0, scope=2).rows] == [row]
    with pytest.raises(UserError):
        admin.set_role(server.engine, "ann", Role.CASEWORKER)  # which offices would it keep?
    assert ann.me().role is Role.ADMIN  # nothing changed

    narrowed = admin.set_role(server.engine, "ann", Role.CASEWORKER, ["MS"])
    assert (narrowed.before, narrowed.after, narrowed.scope_version) == (["*"], ["MS"], 3)
    assert ann.me().role is Role.CASEWORKER
    routes = [r["route"] for r in _audit_rows(server)]
    assert routes.count("server set-role") == 5  # three role changes, two moved the scope


def _audit_rows(server: Server) -> list[dict[str, Any]]:
    with server.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(db.audit.select())]


def test_each_device_gets_its_own_case_number_block_once(server: Server, ann: SyncClient) -> None:
    second_laptop = server.device("ann", "laptop-2")
    server.user("tom", offices=("TAK",))
    tom = server.device("tom")
    assert [ann.case_block(), second_laptop.case_block(), tom.case_block()] == [1, 2, 3]
    assert ann.case_block() == 1  # the same block on every later ask
    ann.rotate()
    assert ann.case_block() == 1  # a new token is the same device


def test_a_revoked_devices_block_is_never_given_again(server: Server, ann: SyncClient) -> None:
    assert ann.case_block() == 1
    admin.revoke_device(server.engine, admin.list_devices(server.engine, "ann")[0]["device_id"])
    with pytest.raises(SyncHttpError) as refused:
        ann.case_block()
    assert refused.value.errno == Errno.DEVICE_REVOKED
    assert server.device("ann", "replacement").case_block() == 2


def test_a_restored_database_does_not_give_again_the_blocks_it_forgot(
    server: Server, ann: SyncClient
) -> None:
    """After ``sapan server new-log`` a new device's block lies past the highest block
    the database knows by BLOCKS_SKIPPED_AFTER_RESTORE: blocks given after the backup
    (which the restored database forgot) are not given again; a second restore skips
    again from there, and known devices keep theirs."""
    assert ann.case_block() == 1
    assert admin.new_log(server.engine).case_blocks_from == 2 + db.BLOCKS_SKIPPED_AFTER_RESTORE
    laptops = [server.device("ann", f"after-{n}") for n in range(2)]
    assert [laptop.case_block() for laptop in laptops] == [102, 103]
    assert admin.new_log(server.engine).case_blocks_from == 104 + db.BLOCKS_SKIPPED_AFTER_RESTORE
    assert server.device("ann", "after-a-second-restore").case_block() == 204
    assert ann.case_block() == 1


def test_a_device_holding_another_servers_numbers_gets_a_block_past_them(
    server: Server, ann: SyncClient
) -> None:
    """A device that comes from another server says the highest block its cases are
    numbered from; its first block lies past it (and past this server's), and the devices
    after it go on from there. A device that has its block keeps it whatever it says."""
    assert ann.case_block(above=40) == 41
    assert server.device("ann", "next").case_block() == 42
    assert server.device("ann", "from-the-same-server").case_block(above=3) == 43
    assert ann.case_block(above=90) == 41


@pytest.mark.parametrize("above", ["-1", "9000", "twelve", "1e3"])
def test_a_block_asked_past_a_block_no_server_gives_is_refused(
    server: Server, ann: SyncClient, above: str
) -> None:
    answer = server.http().post(
        "/v1/devices/case-block",
        params={"above": above},
        headers={"Authorization": f"Bearer {ann.token}"},
    )
    assert (answer.status_code, answer.json()["errno"]) == (400, Errno.INVALID_PAYLOAD)
    assert ann.case_block() == 1  # nothing was reserved by the refused ask


def test_when_no_block_is_left_the_device_is_told_so(
    server: Server, ann: SyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.server import auth

    monkeypatch.setattr(auth, "MAX_CASE_BLOCK", 1)
    assert ann.case_block() == 1
    late = server.device("ann", "one-too-many")
    with pytest.raises(SyncHttpError) as refused:
        late.case_block()
    assert (refused.value.status, refused.value.errno) == (409, Errno.NO_CASE_BLOCK)
    assert ann.case_block() == 1


def test_devices_asking_at_the_same_moment_get_different_blocks(server: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server.user("ann", offices=("MS",))
    laptops = [server.device("ann", f"laptop-{n}") for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        blocks = list(pool.map(lambda client: client.case_block(), laptops))
    assert sorted(blocks) == list(range(1, 9))


def test_a_device_that_loses_the_race_for_a_block_takes_the_next(
    postgres_url: str, pg_template: str
) -> None:
    """On PostgreSQL, where several server processes hand out blocks: another device
    takes block 1 between this request's read of the highest block and its write."""
    import psycopg
    from sqlalchemy import event

    from sync.server.app import Settings, create_app
    from tests.sync.conftest import fresh_pg_database

    url = fresh_pg_database(postgres_url, pg_template)
    srv = Server(create_app(Settings(db_url=url, cheap_hashing=True)), url)
    srv.user("ann", offices=("MS",))
    first, other = srv.device("ann", "first"), srv.device("ann", "other")
    listed = admin.list_devices(srv.engine, "ann")
    other_id = next(row["device_id"] for row in listed if row["name"] == "other")
    taken: list[bool] = []

    def sneak(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE devices SET case_block") and not taken:
            taken.append(True)
            with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as raw:
                raw.execute("UPDATE devices SET case_block = 1 WHERE id = %s", (other_id,))

    event.listen(srv.engine, "before_cursor_execute", sneak)
    try:
        assert first.case_block() == 2
    finally:
        event.remove(srv.engine, "before_cursor_execute", sneak)
    assert taken == [True]
    assert other.case_block() == 1
    srv.engine.dispose()


def test_a_block_needs_a_device_token(server: Server) -> None:
    with pytest.raises(SyncHttpError) as refused:
        SyncClient(server.http()).case_block()
    assert refused.value.errno == Errno.MISSING_TOKEN


def test_forged_and_replayed_tokens_refused(server: Server, ann: SyncClient) -> None:
    old = ann.token
    assert old is not None
    ann.token = old[:-2] + ("AA" if not old.endswith("AA") else "BB")
    with pytest.raises(SyncHttpError) as forged:
        ann.pull(0)
    assert forged.value.errno == Errno.INVALID_TOKEN
    ann.token = old
    ann.rotate()
    ann.pull(0)  # the new token works
    ann.token = old
    with pytest.raises(SyncHttpError) as replayed:
        ann.pull(0)
    assert replayed.value.errno == Errno.INVALID_TOKEN
    ann.token = None
    with pytest.raises(SyncHttpError) as missing:
        ann.pull(0)
    assert missing.value.errno == Errno.MISSING_TOKEN


def test_wrong_password_refused(server: Server) -> None:
    server.user("ann")
    client = SyncClient(server.http())
    with pytest.raises(SyncHttpError) as refused:
        client.register("ann", PASSWORD + "x", "laptop")
    assert refused.value.errno == Errno.BAD_CREDENTIALS
    with pytest.raises(SyncHttpError) as nobody:
        client.register("nobody", PASSWORD, "laptop")
    assert nobody.value.errno == Errno.BAD_CREDENTIALS


def test_wrong_passwords_in_a_row_lock_registering_for_a_while(server: Server) -> None:
    """Someone trying passwords online gets five, then waits that double up to 15
    minutes; the account's own person, right password or not, is told to wait too, and
    a right password after the wait, or the administrator's set-password, starts over."""
    import datetime as dt

    from sqlalchemy import text

    from sync.server import auth

    server.user("ann")
    server.user("bob")
    http = server.http()

    def register(user: str, password: str) -> Any:
        body = {"username": user, "password": password, "device_name": "laptop"}
        return http.post("/v1/devices", json=body)

    def wait_over(user: str) -> None:
        with server.engine.begin() as conn:
            conn.execute(
                text("UPDATE accounts SET locked_until = :past WHERE username = :user"),
                {"past": "2026-01-01T00:00:00.000+00:00", "user": user},
            )

    for _ in range(auth.FREE_TRIES):
        _refused(register("ann", "guess-123"), 401, Errno.BAD_CREDENTIALS)
    locked = register("ann", PASSWORD)  # the right one, but the account waits now
    _refused(locked, 429, Errno.SIGN_IN_LOCKED)
    assert 25 <= int(locked.headers["Retry-After"]) <= 30
    assert register("bob", PASSWORD).status_code == 201  # other accounts are not touched
    # each wrong password past the free ones doubles the wait, up to 15 minutes
    wait_over("ann")
    _refused(register("ann", "guess-456"), 401, Errno.BAD_CREDENTIALS)
    assert 55 <= int(register("ann", PASSWORD).headers["Retry-After"]) <= 60
    assert [auth.lock_after(n) for n in (4, 5, 6, 9, 10, 60)] == [
        None,
        dt.timedelta(seconds=30),
        dt.timedelta(seconds=60),
        dt.timedelta(seconds=480),
        dt.timedelta(minutes=15),
        dt.timedelta(minutes=15),
    ]
    # after the wait the right password registers and starts the count over
    wait_over("ann")
    assert register("ann", PASSWORD).status_code == 201
    for _ in range(auth.FREE_TRIES - 1):
        _refused(register("ann", "guess-789"), 401, Errno.BAD_CREDENTIALS)
    assert register("ann", PASSWORD).status_code == 201
    # the administrator's new password lifts a wait at once
    for _ in range(auth.FREE_TRIES):
        register("ann", "guess-000")
    _refused(register("ann", PASSWORD), 429, Errno.SIGN_IN_LOCKED)
    users = {u["username"]: u for u in admin.list_users(server.engine)}
    assert users["ann"]["locked_until"] > users["ann"]["created_at"]
    assert users["bob"]["locked_until"] is None
    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    admin.set_password(ctx.engine, ctx.hasher, "ann", "a-new-password-1")
    assert [u["locked_until"] for u in admin.list_users(server.engine)] == [None, None]
    assert register("ann", "a-new-password-1").status_code == 201
    # names no account has lock no account (from another address: this one has given
    # fifteen wrong passwords in its hour, see the next test)
    other = server.http("203.0.113.9")
    for _ in range(2 * auth.FREE_TRIES):
        body = {"username": "nobody", "password": PASSWORD, "device_name": "laptop"}
        _refused(other.post("/v1/devices", json=body), 401, Errno.BAD_CREDENTIALS)


def test_many_wrong_sign_ins_from_one_address_make_it_wait(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account's lock does not see names no account has, nor one password tried
    against many accounts. An address that gives twenty wrong user names or passwords in
    an hour waits (30 s, doubling), before any password is hashed; other addresses and
    the accounts themselves are not touched; the administrator lifts it, and an address
    is forgotten once its hour and wait are over."""
    import datetime as dt

    from sqlalchemy import text

    from sync.server import auth

    server.user("ann")
    server.user("bob")
    near, far = server.http("198.51.100.7"), server.http("203.0.113.9")
    long_ago = "2026-01-01T00:00:00.000+00:00"

    def register(http: Any, user: str, password: str) -> Any:
        body = {"username": user, "password": password, "device_name": "laptop"}
        return http.post("/v1/devices", json=body)

    def wait_over() -> None:
        with server.engine.begin() as conn:
            conn.execute(text(f"UPDATE sign_in_addresses SET locked_until = '{long_ago}'"))

    # a password sprayed over many names, a few tries each: no account reaches its five
    names = ["ann", "bob", *(f"user{i}" for i in range(auth.ADDRESS_FREE_TRIES))]
    for name in names[: auth.ADDRESS_FREE_TRIES]:
        _refused(register(near, name, "Summer2026!"), 401, Errno.BAD_CREDENTIALS)
    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    hashed: list[str] = []

    class Counting:  # the server's hasher, counting what it is asked
        def verify(self, *args: Any) -> bool:
            hashed.append("verify")
            return False

        def hash(self, *args: Any) -> str:
            hashed.append("hash")
            return ""

    monkeypatch.setattr(ctx, "hasher", Counting())
    locked = register(near, "ann", PASSWORD)  # the right password, from the address
    _refused(locked, 429, Errno.SIGN_IN_LOCKED)
    assert locked.json()["details"]["locked"] == "address"
    assert 25 <= int(locked.headers["Retry-After"]) <= 30
    assert hashed == []  # refused before any hashing
    with server.engine.connect() as conn:  # the audit says whose wait, never the address
        waits = conn.execute(text("SELECT detail FROM audit WHERE status = 429")).scalars()
        assert [json.loads(d) for d in waits] == [{"errno": 117, "locked": "address"}]
    monkeypatch.undo()
    assert register(far, "ann", PASSWORD).status_code == 201  # other addresses go on
    assert all(u["locked_until"] is None for u in admin.list_users(server.engine))
    [counted] = admin.list_addresses(server.engine)
    assert (counted["address"], counted["failures"]) == ("198.51.100.7", 20)
    assert counted["locked_until"] > counted["since"]
    # each wrong try past the twenty doubles the wait
    wait_over()
    _refused(register(near, "nobody", PASSWORD), 401, Errno.BAD_CREDENTIALS)
    assert 55 <= int(register(near, "ann", PASSWORD).headers["Retry-After"]) <= 60
    assert [auth.address_lock_after(n) for n in (19, 20, 21, 30)] == [
        None,
        dt.timedelta(seconds=30),
        dt.timedelta(seconds=60),
        dt.timedelta(minutes=15),
    ]
    # the administrator lets the office's router in again at once
    assert admin.unlock_address(server.engine, "198.51.100.7")
    assert not admin.unlock_address(server.engine, "198.51.100.7")
    assert admin.list_addresses(server.engine) == []
    assert register(near, "ann", PASSWORD).status_code == 201
    # a right password neither counts nor resets; an hour after the first wrong one,
    # with no wait left, the address is forgotten (the next wrong try anywhere drops it)
    _refused(register(near, "nobody", PASSWORD), 401, Errno.BAD_CREDENTIALS)
    with server.engine.begin() as conn:
        conn.execute(text(f"UPDATE sign_in_addresses SET since = '{long_ago}'"))
    _refused(register(far, "nobody", PASSWORD), 401, Errno.BAD_CREDENTIALS)
    assert [a["address"] for a in admin.list_addresses(server.engine)] == ["203.0.113.9"]
    with server.engine.begin() as conn:
        conn.execute(text(f"UPDATE sign_in_addresses SET since = '{long_ago}'"))
    assert admin.prune(server.engine).addresses_forgotten == 1
    assert admin.list_addresses(server.engine) == []
    # whatever a proxy trusted too widely passes on is kept to the column's length
    odd = server.http("x" * 200)
    _refused(register(odd, "nobody", PASSWORD), 401, Errno.BAD_CREDENTIALS)
    assert [a["address"] for a in admin.list_addresses(server.engine)] == ["x" * 64]


def test_attachment_resumable_upload_and_hash_check(server: Server, ann: SyncClient) -> None:
    data = bytes(range(256)) * 640  # 163,840 bytes: three chunks of 64 KiB, the last shorter
    sha = hashlib.sha256(data).hexdigest()
    # a first attempt that stops after one chunk, as when the link drops
    ann.attachment_start(p.UploadStart(sha256=sha, size=len(data), chunk_size=SMALL))
    ann.attachment_chunk(sha, 0, data[:SMALL])
    assert ann.upload_status(sha).received == [0]
    done = _upload(ann, data, SMALL)
    assert (done.chunks, done.sent_chunks, done.sent_bytes) == (3, 2, len(data) - SMALL)
    status = ann.upload_status(sha)
    assert status.complete
    assert status.received == [0, 1, 2]
    assert _download(ann, sha) == data


def _upload(client: SyncClient, data: bytes, chunk_size: int) -> wire.UploadResult:
    sha256 = hashlib.sha256(data).hexdigest()
    return wire.upload_blob(client, sha256, len(data), lambda: [data], chunk_size=chunk_size)


def _download(client: SyncClient, sha256: str) -> bytes:
    sink = MemorySink()
    wire.download_blob(client, sha256, sink)
    return bytes(sink.data)


def _get(client: SyncClient, sha256: str, **headers: str) -> Any:
    return client.http.request(  # type: ignore[attr-defined]
        "GET",
        "/v1/attachments/content",
        params={"sha256": sha256},
        headers={
            "Authorization": f"Bearer {client.token}",
            "Accept-Encoding": "identity",
            **headers,
        },
    )


def test_attachment_content_serves_byte_ranges(server: Server, ann: SyncClient) -> None:
    data = bytes(range(256)) * 768 + b"tail"  # 196,612 bytes in chunks of 64 KiB
    sha = hashlib.sha256(data).hexdigest()
    assert _upload(ann, data, SMALL).sent_chunks == 4
    end = len(data) - 1
    whole = _get(ann, sha)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(data))
    # a client that accepts gzip (protocol 1 devices) may get it compressed, same bytes
    assert _get(ann, sha, **{"Accept-Encoding": "gzip"}).content == data
    asked = {
        "bytes=0-": (0, end),
        "bytes=60000-140000": (60000, 140000),  # across two chunk boundaries
        "bytes=131072-": (131072, end),  # starts on a boundary
        f"bytes={end}-": (end, end),  # the last byte
        "bytes=196000-999999": (196000, end),  # a last byte past the end is clipped
        "bytes=-100": (len(data) - 100, end),
        "bytes=-999999": (0, end),
        " Bytes = 7-7 ": (7, 7),
    }
    for header, (first, last) in asked.items():
        part = _get(ann, sha, Range=header)
        assert part.status_code == 206, header
        assert part.content == data[first : last + 1], header
        assert part.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
        assert part.headers["content-length"] == str(last - first + 1)
    # ranges this server does not serve are ignored (RFC 9110): the whole blob
    for header in ("bytes=0-10,20-30", "items=0-5", "bytes=10-5", "bytes=a-", "bytes=-"):
        ignored = _get(ann, sha, Range=header)
        assert (ignored.status_code, ignored.content) == (200, data), header
    # a header far longer than any range: refused before it is read
    _refused(_get(ann, sha, Range="bytes=" + "0" * 300 + "-"), 400, Errno.INVALID_PAYLOAD)
    for header in (f"bytes={len(data)}-", "bytes=999999-1000000", "bytes=-0"):
        past = _get(ann, sha, Range=header)
        _refused(past, 416, Errno.RANGE_NOT_SATISFIABLE)
        assert past.headers["content-range"] == f"bytes */{len(data)}"


def test_attachment_ranges_keep_the_scope_check(server: Server, ann: SyncClient) -> None:
    data = b"x" * 100_000
    sha = hashlib.sha256(data).hexdigest()
    _upload(ann, data, SMALL)
    server.user("eve", offices=("TK",))
    eve = server.device("eve")
    _refused(_get(eve, sha, Range="bytes=100-"), 403, Errno.OUT_OF_SCOPE)
    _refused(_get(eve, "ab" * 32, Range="bytes=0-"), 404, Errno.NOT_FOUND)
    _refused(_get(eve, "../" * 20, Range="bytes=0-"), 400, Errno.BAD_ATTACHMENT_NAME)


def test_an_attachment_follows_its_row_to_another_office(server: Server, ann: SyncClient) -> None:
    data = b"passport page " * 10_000
    sha = hashlib.sha256(data).hexdigest()
    _upload(ann, data, SMALL)
    row = str(uuid.uuid4())
    made = _post(
        ann,
        [
            _change(ann, row, "office", "MS", entity="attachment"),
            _change(ann, row, "sha256", sha, entity="attachment"),
        ],
    )
    office_seq = made.json()["results"][0]["seq"]
    assert server.count("attachment_offices") == 1
    server.user("tom", offices=("TAK",))
    tom = server.device("tom")
    _refused(_get(tom, sha), 403, Errno.OUT_OF_SCOPE)
    # a coordinator moves the row (the worker's case went to another office)
    server.user("cora", Role.COORDINATOR, offices=("MS", "TAK"))
    cora = server.device("cora")
    move = _change(cora, row, "office", "TAK", entity="attachment")
    move.update(base_version=office_seq, hlc="0001763812399999-0000-cora", device_id="cora")
    assert _post(cora, [move]).json()["results"][0]["status"] == "accepted"
    assert _get(tom, sha).content == data
    # the office it was logged to before keeps it too, as for every row it ever held
    server.user("mo", offices=("MS",))
    assert _get(server.device("mo"), sha).content == data
    server.user("kay", offices=("KB",))
    _refused(_get(server.device("kay"), sha), 403, Errno.OUT_OF_SCOPE)


def test_attachment_hash_mismatch_discards(server: Server, ann: SyncClient) -> None:
    from sync import protocol as p

    data = b"hello world"
    wrong = hashlib.sha256(b"other").hexdigest()
    ann._request(
        "POST",
        "/attachments/start",
        body=p.UploadStart(sha256=wrong, size=len(data), chunk_size=SMALL),
    )
    ann._request("PUT", "/attachments/chunk", raw=data, params={"sha256": wrong, "index": 0})
    with pytest.raises(SyncHttpError) as refused:
        ann._request("POST", "/attachments/verify", body=p.UploadVerify(sha256=wrong))
    assert refused.value.errno == Errno.HASH_MISMATCH
    assert refused.value.status == 422
    assert server.count("attachment_chunks") == 0


def _send(client: SyncClient, method: str, path: str, **kwargs: Any) -> Any:
    """A raw request with the client's token, as a hostile or broken client sends it."""
    headers = {"Authorization": f"Bearer {client.token}", **kwargs.pop("headers", {})}
    return client.http.request(method, f"/v1{path}", headers=headers, **kwargs)  # type: ignore[attr-defined]


def _put_chunk(client: SyncClient, sha256: str, index: int, data: bytes) -> Any:
    return _send(
        client,
        "PUT",
        "/attachments/chunk",
        params={"sha256": sha256, "index": index},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )


def _start(client: SyncClient, sha256: str, size: int, chunk_size: int = SMALL) -> Any:
    body = {"sha256": sha256, "size": size, "chunk_size": chunk_size}
    return _send(client, "POST", "/attachments/start", json=body)


def _verify(client: SyncClient, sha256: str) -> Any:
    return _send(client, "POST", "/attachments/verify", json={"sha256": sha256})


def _stored_chunks(server: Server, sha256: str) -> dict[int, bytes]:
    with server.engine.connect() as conn:
        rows = conn.execute(
            db.attachment_chunks.select().where(db.attachment_chunks.c.sha256 == sha256)
        )
        return {row.idx: bytes(row.data) for row in rows}


def _upload_row(server: Server, sha256: str) -> Any:
    with server.engine.connect() as conn:
        return conn.execute(db.attachments.select().where(db.attachments.c.sha256 == sha256)).one()


def test_only_the_account_that_started_an_upload_writes_or_verifies_it(
    server: Server, ann: SyncClient
) -> None:
    data = os.urandom(3 * SMALL)
    sha = hashlib.sha256(data).hexdigest()
    assert _start(ann, sha, len(data)).status_code == 200
    assert _put_chunk(ann, sha, 0, data[:SMALL]).status_code == 200
    server.user("bob", offices=("TK",))
    bob = server.device("bob")
    writes = _upload_row(server, sha).writes
    _refused(_put_chunk(bob, sha, 0, b"\0" * SMALL), 403, Errno.UPLOAD_NOT_YOURS)
    _refused(_put_chunk(bob, sha, 1, b"\0" * SMALL), 403, Errno.UPLOAD_NOT_YOURS)
    _refused(_verify(bob, sha), 403, Errno.UPLOAD_NOT_YOURS)
    # nor can bob take over an upload in progress by starting it again
    taken = _start(bob, sha, len(data))
    _refused(taken, 403, Errno.UPLOAD_NOT_YOURS)
    assert 0 < taken.json()["details"]["takeover_after"] <= 15 * 60 + 1
    with pytest.raises(wire.BlobRefused) as refused:  # the client sets this blob aside
        _upload(bob, data, SMALL)
    assert refused.value.errno == Errno.UPLOAD_NOT_YOURS
    assert _stored_chunks(server, sha) == {0: data[:SMALL]}
    assert _upload_row(server, sha).writes == writes
    # another device of the same account goes on with the upload
    phone = server.device("ann", "phone")
    done = _upload(phone, data, SMALL)
    assert (done.sent_chunks, ann.upload_status(sha).complete) == (2, True)
    # once complete, nobody's chunk changes it: the uploader's is answered, not stored
    for client in (ann, bob):
        again = _put_chunk(client, sha, 0, b"\0" * SMALL)
        assert (again.status_code, again.json()["complete"]) == (200, True)
    assert _download(ann, sha) == data


@pytest.mark.parametrize("writer", ["same account", "other account"])
def test_a_chunk_written_while_verify_hashes_never_lands_in_a_complete_upload(
    server: Server, ann: SyncClient, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    """The tester's race, made deterministic: a chunk arrives after verify hashed the
    chunks and before it marks the upload complete."""
    data = os.urandom(4 * SMALL)
    sha = hashlib.sha256(data).hexdigest()
    for index in range(4):
        assert _start(ann, sha, len(data)).status_code == 200
        assert _put_chunk(ann, sha, index, data[index * SMALL : (index + 1) * SMALL])
    if writer == "same account":
        sender = server.device("ann", "phone")
    else:
        server.user("bob", offices=("TK",))
        sender = server.device("bob")
    answers: list[Any] = []
    hash_chunks = uploads._hash_chunks

    def hash_then_write(*args: Any) -> str | None:
        digest = hash_chunks(*args)
        answers.append(_put_chunk(sender, sha, 0, b"\0" * SMALL))
        return digest

    monkeypatch.setattr(uploads, "_hash_chunks", hash_then_write)
    verified = _verify(ann, sha)
    monkeypatch.undo()
    if writer == "same account":
        assert answers[0].status_code == 200  # stored, before the upload is complete
        _refused(verified, 409, Errno.CHUNK_REJECTED)
        assert verified.json()["details"] == {"changed": True}
        assert not ann.upload_status(sha).complete
        _refused(_get(ann, sha), 404, Errno.NOT_FOUND)
        # verified again, the zeros do not match: discarded, and the upload starts over
        _refused(_verify(ann, sha), 422, Errno.HASH_MISMATCH)
        assert server.count("attachment_chunks") == 0
        assert _upload(ann, data, SMALL).sent_chunks == 4
    else:
        _refused(answers[0], 403, Errno.UPLOAD_NOT_YOURS)
        assert verified.status_code == 200
        assert verified.json()["complete"]
    got = _get(ann, sha)
    assert hashlib.sha256(got.content).hexdigest() == sha


def test_a_restart_while_verify_hashes_makes_it_refuse(
    server: Server, ann: SyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(2 * SMALL)
    sha = hashlib.sha256(data).hexdigest()
    _start(ann, sha, len(data))
    _put_chunk(ann, sha, 0, data[:SMALL])
    _put_chunk(ann, sha, 1, data[SMALL:])
    hash_chunks = uploads._hash_chunks

    def restart_then_hash(*args: Any) -> str | None:
        # another start announcing another size discards the chunks being hashed
        assert _start(ann, sha, len(data) + 1).status_code == 200
        return hash_chunks(*args)

    monkeypatch.setattr(uploads, "_hash_chunks", restart_then_hash)
    refused = _verify(ann, sha)
    _refused(refused, 409, Errno.CHUNK_REJECTED)
    assert refused.json()["details"] == {"changed": True}
    row = _upload_row(server, sha)
    assert (row.complete, row.size, server.count("attachment_chunks")) == (False, len(data) + 1, 0)


def test_tiny_chunks_and_chunk_indexes_past_the_limit_are_refused(
    server: Server, ann: SyncClient
) -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    for chunk_size in (1, SMALL - 1, p.MAX_CHUNK_BYTES + 1, 0):
        refused = _start(ann, sha, p.MAX_ATTACHMENT_BYTES, chunk_size)
        _refused(refused, 400, Errno.INVALID_PAYLOAD)
        assert refused.json()["details"]["errors"][0]["loc"] == ["body", "chunk_size"]
    assert server.count("attachments") == 0
    # the last chunk may be shorter than the chunk size: a one-byte file is one chunk
    assert _start(ann, sha, 1).json()["chunks"] == 1
    _refused(_put_chunk(ann, sha, p.MAX_CHUNKS, b"x"), 400, Errno.INVALID_PAYLOAD)
    _refused(_put_chunk(ann, sha, 1, b"x"), 409, Errno.CHUNK_REJECTED)
    assert server.count("attachment_chunks") == 0
    assert _upload(ann, b"x", SMALL).sent_chunks == 1


def _legacy_upload(server: Server, sha256: str, account: str, chunk_size: int = 1) -> None:
    """An upload started before the minimum chunk size (200 MiB in chunks of one byte)."""
    with server.engine.begin() as conn:
        account_id = (
            conn.execute(db.accounts.select().where(db.accounts.c.username == account)).one().id
        )
        conn.execute(
            db.attachments.insert().values(
                sha256=sha256,
                size=p.MAX_ATTACHMENT_BYTES,
                chunk_size=chunk_size,
                complete=False,
                account_id=account_id,
                created_at="2026-01-01T00:00:00.000+00:00",
                writes=0,
                touched_at="2026-01-01T00:00:00.000+00:00",
            )
        )
        conn.execute(db.attachment_chunks.insert().values(sha256=sha256, idx=5, data=b"x"))


def test_verify_of_an_upload_of_millions_of_chunks_names_the_missing_without_listing_all(
    server: Server, ann: SyncClient
) -> None:
    sha = "ab" * 32
    _legacy_upload(server, sha, "ann")
    tracemalloc.start()
    try:
        refused = _verify(ann, sha)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _refused(refused, 409, Errno.CHUNK_REJECTED)
    assert refused.json()["details"]["missing"] == [0, 1, 2, 3, 4, *range(6, 101)]
    assert peak < 20 * 1024 * 1024  # building every index took 14 GiB
    # a start now restarts it with a chunk size the server accepts (its chunks go)
    restarted = _start(ann, sha, p.MAX_ATTACHMENT_BYTES).json()
    assert (restarted["chunk_size"], restarted["chunks"], restarted["received"]) == (
        SMALL,
        p.MAX_CHUNKS,
        [],
    )
    assert server.count("attachment_chunks") == 0


def test_a_start_in_smaller_chunks_cuts_the_stored_ones_and_keeps_every_byte(
    server: Server, ann: SyncClient
) -> None:
    """A device whose link got worse goes on in smaller chunks: its own start announcing
    a chunk size that divides the upload's cuts the chunks stored to it, nothing resent."""
    big = 4 * SMALL
    data = os.urandom(2 * big + SMALL + 5)  # 3 chunks of 4 * SMALL, the last short
    sha = hashlib.sha256(data).hexdigest()
    assert _start(ann, sha, len(data), big).json()["chunks"] == 3
    assert _put_chunk(ann, sha, 0, data[:big]).status_code == 200
    assert _put_chunk(ann, sha, 2, data[2 * big :]).status_code == 200
    status = _start(ann, sha, len(data), 2 * SMALL).json()
    assert (status["chunk_size"], status["chunks"]) == (2 * SMALL, 5)
    assert status["received"] == [0, 1, 4]
    stored = _stored_chunks(server, sha)
    assert b"".join(stored[i] for i in (0, 1)) == data[:big]
    assert stored[4] == data[2 * big :]
    # down to the smallest; a size that does not divide, or a larger one, changes nothing
    status = _start(ann, sha, len(data), SMALL).json()
    assert (status["chunk_size"], status["received"]) == (SMALL, [0, 1, 2, 3, 8, 9])
    assert _start(ann, sha, len(data), 3 * SMALL).json()["chunk_size"] == SMALL
    server.user("bob", offices=("MS",))
    _refused(_start(server.device("bob"), sha, len(data), SMALL), 403, Errno.UPLOAD_NOT_YOURS)
    # the rest in the smaller chunks, and the bytes are the blob
    for index in (4, 5, 6, 7):
        piece = data[index * SMALL : (index + 1) * SMALL]
        assert _put_chunk(ann, sha, index, piece).status_code == 200
    assert _verify(ann, sha).json()["complete"]
    assert _download(ann, sha) == data
    # a complete upload is not cut again
    assert _start(ann, sha, len(data), SMALL).json()["chunk_size"] == SMALL
    with server.engine.connect() as conn:
        rows = conn.execute(db.attachment_chunks.select()).all()
    assert len(rows) == 10


def test_a_squatted_hash_does_not_lock_the_real_uploader_out(
    server: Server, ann: SyncClient
) -> None:
    server.user("bob", offices=("TK",))
    bob = server.device("bob")
    data = os.urandom(2 * SMALL + 7)
    sha = hashlib.sha256(data).hexdigest()
    # bob announces the hash with a wrong size and sends nothing: ann's start takes it
    _start(bob, sha, 5)
    assert _start(ann, sha, len(data)).json()["size"] == len(data)
    _refused(_put_chunk(bob, sha, 0, b"\0" * 5), 403, Errno.UPLOAD_NOT_YOURS)
    # bob announces it again with a wrong size: ann's upload is restarted, but ann's next
    # start restarts it with the right size again, and bob can never finish his
    _put_chunk(ann, sha, 0, data[:SMALL])
    assert _start(bob, sha, 5).status_code == 200
    assert _stored_chunks(server, sha) == {}
    assert _start(ann, sha, len(data)).status_code == 200
    _put_chunk(ann, sha, 0, data[:SMALL])
    # the right size and one chunk of garbage: ann is refused while bob's upload is
    # fresh, and takes it over once it has been idle
    eve_data = os.urandom(len(data))
    server.user("eve", offices=("MS",))
    eve = server.device("eve")
    with server.engine.begin() as conn:
        conn.execute(db.attachments.update().values(touched_at="2026-01-01T00:00:00.000+00:00"))
    assert _start(eve, sha, len(data)).status_code == 200  # ann's upload was idle
    assert _put_chunk(eve, sha, 0, eve_data[:SMALL]).status_code == 200
    _refused(_start(ann, sha, len(data)), 403, Errno.UPLOAD_NOT_YOURS)
    _refused(_put_chunk(ann, sha, 1, data[SMALL : 2 * SMALL]), 403, Errno.UPLOAD_NOT_YOURS)
    with server.engine.begin() as conn:
        conn.execute(db.attachments.update().values(touched_at="2026-01-01T00:00:00.000+00:00"))
    taken = _upload(ann, data, SMALL)
    assert (taken.sent_chunks, ann.upload_status(sha).complete) == (3, True)
    assert _download(ann, sha) == data
    # a complete upload is never restarted, whatever a start announces
    assert _start(bob, sha, 5).json() == ann.upload_status(sha).model_dump()


@pytest.mark.parametrize("name", ["../../etc/passwd", "..%2F..%2Fetc", "abc", "A" * 64])
def test_path_traversal_attachment_names_refused(
    server: Server, ann: SyncClient, name: str
) -> None:
    with pytest.raises(SyncHttpError) as refused:
        ann.upload_status(name)
    assert refused.value.status == 400
    assert refused.value.errno == Errno.BAD_ATTACHMENT_NAME
    row = str(uuid.uuid4())
    response = _post(
        ann,
        [
            _change(ann, row, "office", "MS", "attachment"),
            _change(ann, row, "filename", "../../etc/passwd", "attachment"),
        ],
    )
    _refused(response, 400, Errno.BAD_ATTACHMENT_NAME)
    assert server.count("attachments") == 0
    assert server.count("changes") == 0


def test_openapi_and_info_published(server: Server) -> None:
    http = server.http()
    spec = http.get("/v1/openapi.json").json()
    assert "/v1/push" in spec["paths"]
    body = spec["paths"]["/v1/push"]["post"]["requestBody"]
    forms = body["content"]["application/json"]["schema"]["anyOf"]
    assert [form["$ref"].rsplit("/", 1)[1] for form in forms] == ["PushRequest", "PushBatch"]
    assert {"PushRequest", "PushBatch", "Change"} <= set(spec["components"]["schemas"])
    assert "/v1/pull" in spec["paths"]
    # a form 2 page's rows as they travel: what the reference client keeps of form 4's
    # creator is not a member of them
    row = spec["components"]["schemas"]["RowUpdate"]
    assert set(row["properties"]) == {"entity", "id", "version", "values"}
    assert "Creation" not in spec["components"]["schemas"]
    # errors as they are answered: the error body, never FastAPI's 422 that is not sent
    answers = [
        a for ops in spec["paths"].values() for op in ops.values() for a in [op["responses"]]
    ]
    assert all("422" not in a for a in answers)
    assert all(
        a["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
        for a in answers
    )
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert set(spec["components"]["schemas"]["ErrorBody"]["properties"]) == {
        "status", "errno", "error", "message", "details"
    }  # fmt: skip
    info = http.get("/v1/info").json()
    assert (info["protocol"], info["push_forms"], info["pull_forms"]) == (
        3,
        [1, 2, 3],
        [2, 3, 4, 5, 6, 7],
    )


def test_every_request_audited_without_personal_data(server: Server, ann: SyncClient) -> None:
    row = str(uuid.uuid4())
    _post(ann, [_change(ann, row, "office", "MS"), _change(ann, row, "phone", "0899999999")])
    ann.pull(0)
    from sqlalchemy import text

    with server.engine.connect() as conn:
        rows = conn.execute(text("SELECT route, status, detail, account FROM audit")).all()
    routes = [r.route for r in rows]
    assert "/v1/push" in routes
    assert "/v1/pull" in routes
    assert "/v1/devices" in routes
    assert all("0899999999" not in r.detail and row not in r.detail for r in rows)


def test_a_compressed_push_is_audited_under_its_route(server: Server, ann: SyncClient) -> None:
    """The gzip inflater hands the router the scope the audit reads: the record names
    the route, not "(no route)"."""
    import gzip

    from sqlalchemy import text

    body = json.dumps({"v": 2, "changes": [_insert(str(uuid.uuid4()), {"office": "MS"})]})
    response = ann.http.request(  # type: ignore[attr-defined]
        "POST",
        "/v1/push",
        content=gzip.compress(body.encode()),
        headers={
            "Authorization": f"Bearer {ann.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 200, response.text
    # a body that is not gzip is refused before the router sees it, and audited under
    # the route it was for too
    refused = ann.http.request(  # type: ignore[attr-defined]
        "POST",
        "/v1/push",
        content=body.encode(),
        headers={
            "Authorization": f"Bearer {ann.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert refused.status_code == 400
    assert refused.json()["errno"] == Errno.BAD_ENCODING
    with server.engine.connect() as conn:
        audited = conn.execute(text("SELECT route, status FROM audit")).all()
    assert [tuple(r) for r in audited[-2:]] == [("/v1/push", 200), ("/v1/push", 400)]
    assert "(no route)" not in {r.route for r in audited}


def _cut_off(
    server: Server,
    client: SyncClient,
    path: str,
    sent: bytes,
    *,
    query: str = "",
    gzipped: bool = False,
) -> None:
    """PUT or POST ``path`` announcing a body twice as long as ``sent``, whose client goes
    away (the link drops) after sending ``sent``: called as the ASGI server calls the app."""
    import asyncio

    messages: list[dict[str, Any]] = [{"type": "http.request", "body": sent, "more_body": True}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        pass  # nobody is there to read it

    headers = [
        (b"host", b"testserver"),
        (b"authorization", f"Bearer {client.token}".encode()),
        (b"content-length", str(2 * len(sent)).encode()),
        (b"content-type", b"application/octet-stream" if "chunk" in path else b"application/json"),
    ]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT" if "chunk" in path else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(server.app(scope, receive, send))  # type: ignore[operator]


def test_a_client_gone_mid_request_is_audited_as_gone_and_stores_nothing(
    server: Server, ann: SyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A link that drops while a chunk or a push is on its way is an everyday event on a
    2G link, not a server error: no traceback in the log, no 500 in the audit, nothing
    stored; the device sends it again on its next sync."""
    from sqlalchemy import text

    data = os.urandom(3 * SMALL)
    sha = hashlib.sha256(data).hexdigest()
    assert _start(ann, sha, len(data)).status_code == 200
    head = server.head()
    body = json.dumps({"v": 2, "changes": [_insert(str(uuid.uuid4()), {"office": "MS"})]})
    with caplog.at_level("INFO", logger="sapan.server"):
        _cut_off(
            server, ann, "/v1/attachments/chunk", data[: SMALL // 2], query=f"sha256={sha}&index=0"
        )
        _cut_off(server, ann, "/v1/push", body.encode()[:40])
        _cut_off(server, ann, "/v1/push", gzip.compress(body.encode())[:30], gzipped=True)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not [r for r in caplog.records if r.exc_info]
    gone = [r.getMessage() for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 3, gone
    with server.engine.connect() as conn:
        audited = conn.execute(text("SELECT route, status, account FROM audit")).all()
    # the token is checked and the route found before any body is read (a compressed
    # one is inflated before the router sees it)
    assert [tuple(r) for r in audited[-3:]] == [
        ("/v1/attachments/chunk", 499, "ann"),
        ("/v1/push", 499, "ann"),
        ("/v1/push", 499, "ann"),
    ]
    assert _stored_chunks(server, sha) == {}
    assert server.head() == head
    # the next try, whole, is taken as if nothing had happened
    assert _put_chunk(ann, sha, 0, data[:SMALL]).status_code == 200
    whole = _send(ann, "POST", "/push", content=body, headers={"Content-Type": "application/json"})
    assert whole.status_code == 200, whole.text
    assert server.head() == head + 1


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_request_without_a_valid_token_is_refused_before_its_body_is_read(
    server: Server, token: str | None
) -> None:
    """Anyone who reaches the server could otherwise make it read, inflate and parse a
    body of up to the largest allowed before being told the token is missing or wrong:
    every route that takes a body and a token refuses first (registering needs none)."""
    import re

    from fastapi.routing import APIRoute

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    http: Any = server.http()
    routes = [
        (method, re.sub(r"\{[^}]*\}", str(uuid.uuid4()), route.path))
        for route in server.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute)
        for method in sorted(route.methods & {"POST", "PUT", "PATCH"})
        if route.path != "/v1/devices"
    ]
    some = {("POST", "/v1/push"), ("POST", "/v1/merges"), ("PUT", "/v1/attachments/chunk")}
    assert some <= set(routes)
    for method, path in routes:
        answer = http.request(
            method, path, content=b'{"v": 2, "changes": [nonsense', headers=headers
        )
        _refused(answer, 401, Errno.MISSING_TOKEN if token is None else Errno.INVALID_TOKEN)
    assert _stored(server) == 0


def test_a_refused_batch_names_every_change_refused_for_the_same_reason(
    server: Server, ann: SyncClient
) -> None:
    """A device parks every change the refusal names and sends the rest at once, rather
    than one request per refused change (docs/sync-protocol.md §5)."""
    ms, tak = {"office": "MS"}, {"office": "TAK"}
    rows = [str(uuid.uuid4()) for _ in range(5)]
    offices = [ms, tak, ms, tak, {"office": "KAN"}]
    outside = _batch(ann, [_insert(row, values) for row, values in zip(rows, offices, strict=True)])
    _refused(outside, 403, Errno.OUT_OF_SCOPE)
    assert (outside.json()["details"]["index"], outside.json()["details"]["indexes"]) == (
        1,
        [1, 3, 4],
    )
    malformed = _batch(
        ann,
        [
            _insert(rows[0], ms),
            _insert(rows[1], {"office": "MS", "birth_date": "not a date"}),
            _insert(rows[2], {"office": "MS", "birth_date": "31/12/1990"}),
        ],
    )
    assert malformed.status_code == 400
    assert malformed.json()["details"]["indexes"] == [1, 2]
    mixed = _batch(
        ann,
        [
            _insert(rows[0], {"office": "MS", "phone": "0" * 41}),
            _insert(rows[1], ms),
            _insert(rows[2], {"office": "MS", "birth_date": "31/12/1990"}),
            _insert(rows[3], {"office": "MS", "phone": "0" * 50}),
        ],
    )
    details = mixed.json()["details"]
    assert (mixed.json()["errno"], details["index"], details["indexes"]) == (105, 0, [0, 3])
    assert [(r["index"], r["errno"]) for r in details["refused"]] == [(0, 105), (2, 104), (3, 105)]
    assert details["refused"][1]["message"] == "person.birth_date: expected partial_date"
    assert server.count("changes") == 0


@pytest.mark.parametrize(
    ("values", "errno", "at_fault", "message"),
    [
        ({"family_name": "x" * 201}, Errno.VALUE_TOO_LONG, "family_name", "longer than 200"),
        ({"family_name": 7}, Errno.WRONG_TYPE, "family_name", "expected text"),
        ({"nickname": "Ko"}, Errno.UNKNOWN_FIELD, "nickname", "unknown field"),
    ],
)
def test_a_bad_field_inside_a_new_row_is_named_in_the_refusal(
    server: Server,
    ann: SyncClient,
    values: dict[str, Any],
    errno: Errno,
    at_fault: str,
    message: str,
) -> None:
    """A new row travels as one change (field ``*``); the refusal names the field inside it
    that is wrong, so the device can say which detail of the case file to mend."""
    person = str(uuid.uuid4())
    name = {"office": "MS", "person_id": person, **values}
    phone = [str(uuid.uuid4()), "person", person, "phone", "0" * 41, 0, "0001763812345679-0000-d"]
    response = _batch(
        ann,
        [
            _insert(person, {"office": "MS"}),
            _insert(str(uuid.uuid4()), name, entity="person_name"),
            phone,  # one field on its own: its field is the one at fault
        ],
    )
    _refused(response, 400, errno)
    body = response.json()
    assert body["message"] == f"person_name.{at_fault}: {message}"
    # what older clients read stays as it was: the change's own field, its position
    assert (body["details"]["field"], body["details"]["index"]) == ("*", 1)
    assert body["details"]["refused"] == [
        {"index": 1, "errno": errno, "field": at_fault, "message": body["message"]},
        {"index": 2, "errno": 105, "field": "phone", "message": "person.phone: longer than 40"},
    ]
    assert _stored(server) == 0


@pytest.mark.parametrize(
    ("entity", "values", "at_fault"),
    [
        ("person", {"phone": "1"}, "office"),
        ("person_name", {"office": "MS", "full_name": "Aung Aung"}, "person_id"),
        ("person_name", {"office": "MS", "person_id": None}, "person_id"),
        ("step", {"office": "MS", "key": "intake"}, "track_id"),
    ],
)
def test_a_new_row_without_a_required_field_is_refused_naming_it(
    server: Server, ann: SyncClient, entity: str, values: dict[str, Any], at_fault: str
) -> None:
    """A name of no person, a step of no track: left out or null, a required field of a
    new row is refused (errno 107) as the field it is, and nothing is stored."""
    response = _batch(ann, [_insert(str(uuid.uuid4()), values, entity=entity)])
    _refused(response, 400, Errno.REQUIRED_VALUE)
    [refused] = response.json()["details"]["refused"]
    assert refused["field"] == at_fault
    assert response.json()["message"].startswith(f"{entity}.{at_fault}: ")
    assert _stored(server) == 0


# --- protocol 2: rows created whole, compact batches -------------------------------------


def _batch(client: SyncClient, changes: list[list[Any]]) -> Any:
    return client.http.request(  # type: ignore[attr-defined]
        "POST",
        "/v1/push",
        content=json.dumps({"v": 2, "changes": changes}).encode(),
        headers={"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"},
    )


def _insert(row: str, values: Any, hlc: str = "0001763812345678-0000-dev", entity: str = "person"):  # type: ignore[no-untyped-def]
    return [str(uuid.uuid4()), entity, row, "*", values, 0, hlc]


def _new_people(count: int) -> list[list[Any]]:
    """Inserts of ``count`` people of office MS, stamped a millisecond apart."""
    return [
        _insert(
            str(uuid.uuid4()),
            {"office": "MS", "phone": str(n)},
            f"{1763812345678 + n:016d}-0000-dev",
        )
        for n in range(count)
    ]


def test_row_insert_travels_once_and_pulls_as_a_row(server: Server, ann: SyncClient) -> None:
    row = str(uuid.uuid4())
    response = _batch(ann, [_insert(row, {"office": "MS", "phone": "1", "nationality": "MMR"})])
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result[0] == "accepted"
    assert isinstance(result[1], int)
    assert server.count("changes") == 1  # one log entry for the whole row
    (update,) = ann.pull(0).rows
    assert update.values == {"office": "MS", "phone": "1", "nationality": "MMR"}
    assert update.version == result[1]
    # a later single-field edit is logged per field; the pull folds both
    edit = [str(uuid.uuid4()), "person", row, "phone", "2", result[1], "0001763812345679-0000-d"]
    assert _batch(ann, [edit]).json()["results"][0][0] == "accepted"
    assert ann.pull(0).rows[0].values == {"office": "MS", "phone": "2", "nationality": "MMR"}


@pytest.mark.parametrize(
    ("values", "errno"),
    [
        ("not an object", Errno.WRONG_TYPE),
        (["office", "MS"], Errno.WRONG_TYPE),
        ({"office": "MS", "no_such_field": "x"}, Errno.UNKNOWN_FIELD),
        ({"office": "MS", "deleted": True}, Errno.UNKNOWN_FIELD),
        ({"office": "MS", "*": {}}, Errno.UNKNOWN_FIELD),
        ({"office": "MS", "sex": 5}, Errno.WRONG_TYPE),
        ({"office": "MS", "arrived_on": "2024-02-30"}, Errno.WRONG_TYPE),
        ({"office": "MS", "merged_into": "not-a-uuid"}, Errno.WRONG_TYPE),
        ({"office": "MS", "phone": "9" * 41}, Errno.VALUE_TOO_LONG),
        ({"phone": "1"}, Errno.REQUIRED_VALUE),
        ({"office": None}, Errno.REQUIRED_VALUE),
    ],
)
def test_bad_row_inserts_refused_whole_batch(
    server: Server, ann: SyncClient, values: Any, errno: Errno
) -> None:
    good = _insert(str(uuid.uuid4()), {"office": "MS"})
    response = _batch(ann, [good, _insert(str(uuid.uuid4()), values)])
    _refused(response, 400, errno)
    assert response.json()["details"]["index"] == 1
    assert server.count("changes") == server.count("row_state") == 0


def test_bad_row_insert_of_unknown_entity_refused(server: Server, ann: SyncClient) -> None:
    response = _batch(ann, [_insert(str(uuid.uuid4()), {"office": "MS"}, entity="spaceship")])
    _refused(response, 400, Errno.UNKNOWN_ENTITY)
    assert server.count("changes") == 0


def test_oversized_row_insert_refused(db_url: str) -> None:
    from sync.server.app import Settings, create_app

    app = create_app(Settings(db_url=db_url, cheap_hashing=True, max_body_bytes=4096))
    small = Server(app, db_url)
    small.user("ann")
    ann = small.device("ann")
    huge = {"office": "MS", "address_th": "x" * 400, "address_home": "y" * 400}
    rows = [_insert(str(uuid.uuid4()), huge) for _ in range(10)]
    _refused(_batch(ann, rows), 413, Errno.BATCH_TOO_LARGE)
    assert small.count("changes") == small.count("row_state") == 0
    small.engine.dispose()


@pytest.mark.parametrize(
    "change",
    [
        ["not-a-uuid", "person", str(uuid.uuid4()), "*", {"office": "MS"}, 0, "1-0-x"],
        [str(uuid.uuid4()), "person", str(uuid.uuid4()), "*", {"office": "MS"}, 0],
        [str(uuid.uuid4()), "person", str(uuid.uuid4()), "*", {"office": "MS"}, -1, "x"],
        {"change_id": str(uuid.uuid4())},
    ],
)
def test_malformed_batch_refused(server: Server, ann: SyncClient, change: Any) -> None:
    _refused(_batch(ann, [change]), 400, Errno.INVALID_PAYLOAD)
    assert server.count("changes") == 0


def test_insert_out_of_scope_refused(server: Server, ann: SyncClient) -> None:
    _refused(_batch(ann, [_insert(str(uuid.uuid4()), {"office": "TAK"})]), 403, Errno.OUT_OF_SCOPE)
    assert server.count("changes") == server.count("row_state") == 0


def test_insert_naming_a_row_of_another_office_refused(server: Server, ann: SyncClient) -> None:
    """Ids are not secrets: an insert that reuses another office's row id changes nothing."""
    server.user("tom", offices=("TAK",))
    tom = server.device("tom")
    row = str(uuid.uuid4())
    assert _batch(tom, [_insert(row, {"office": "TAK", "phone": "1"})]).status_code == 200
    before = server.count("changes"), server.count("row_state")
    _refused(_batch(ann, [_insert(row, {"office": "MS", "phone": "2"})]), 403, Errno.OUT_OF_SCOPE)
    assert (server.count("changes"), server.count("row_state")) == before
    assert [(r.id, r.values["phone"]) for r in tom.pull(0).rows] == [(row, "1")]
    assert ann.pull(0).rows == []


def test_recreated_row_merges_field_by_field(server: Server, ann: SyncClient) -> None:
    """A second whole row for a row the server has is settled as single-field edits are."""
    server.user("bob")
    bob = server.device("bob")
    row = str(uuid.uuid4())
    first = {"office": "MS", "nationality": "MMR", "phone": "1", "sex": "f"}
    assert _batch(ann, [_insert(row, first, "0001763812345678-0000-a")]).status_code == 200
    second = {"office": "MS", "nationality": "LAO", "phone": "2", "sex": "f"}
    answer = _batch(bob, [_insert(row, second, "0001763812345679-0000-b")]).json()
    status, _seq, _errno, conflict_id = answer["results"][0]
    assert status == "conflict"
    assert conflict_id is not None
    (record,) = ann.conflicts()
    # review field: the newer stamp wins, the record keeps both values
    assert (record.field, record.applied.value, record.other.value) == ("nationality", "LAO", "MMR")
    assert ann.pull(0).rows[0].values == second  # lww: newer stamp; equal values: no record
    # an older re-creation loses on every field, and still leaves the review record
    third = {"office": "MS", "nationality": "KHM", "phone": "3"}
    server.user("cy")
    cy = server.device("cy")
    assert _batch(cy, [_insert(row, third, "0001763812345600-0000-c")]).status_code == 200
    assert ann.pull(0).rows[0].values == second
    assert {(c.applied.value, c.other.value) for c in ann.conflicts()} == {
        ("LAO", "MMR"),
        ("LAO", "KHM"),
    }


def test_insert_onto_merged_rows_lands_on_the_target(server: Server, ann: SyncClient) -> None:
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    cora = server.device("cora")
    keep, dup = str(uuid.uuid4()), str(uuid.uuid4())
    _batch(ann, [_insert(keep, {"office": "MS", "phone": "1"}), _insert(dup, {"office": "MS"})])
    cora.merge("person", dup, keep)
    case = str(uuid.uuid4())
    late = {"office": "MS", "phone": "2"}
    answer = _batch(
        ann,
        [
            _insert(case, {"office": "MS", "person_id": dup, "number": "MS-1"}, entity="case"),
            _insert(dup, late, "0001763812345699-0000-dev"),  # B's row again, after the merge
        ],
    )
    assert [r[0] for r in answer.json()["results"]] == ["accepted", "accepted"]
    rows = {(r.entity, r.id): r.values for r in ann.pull(0).rows}
    assert rows[("case", case)]["person_id"] == keep
    assert rows[("person", keep)]["phone"] == "2"
    assert rows[("person", dup)]["merged_into"] == keep


def _keys(inserts: list[list[Any]]) -> list[tuple[str, str]]:
    """(entity, row id) of each row insert."""
    return [(entity, row) for _cid, entity, row, *_rest in inserts]


def test_a_merge_moves_only_what_hangs_from_b_in_scope_and_undo_only_what_stayed(
    server: Server, ann: SyncClient
) -> None:
    """A person merge moves B's rows of the coordinator's offices (not another office's,
    not A's other references); undo moves back what still names A, not what was moved on."""
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    server.user("tom", offices=("TAK",))
    cora, tom = server.device("cora"), server.device("tom")
    keep, dup, third = (str(uuid.uuid4()) for _ in range(3))
    name, case, moved_on = (str(uuid.uuid4()) for _ in range(3))
    people = [_insert(row, {"office": "MS"}) for row in (keep, dup, third)]
    hanging = [
        _insert(name, {"office": "MS", "person_id": dup, "full_name": "Ko"}, entity="person_name"),
        _insert(case, {"office": "MS", "person_id": dup, "number": "MS-1"}, entity="case"),
        _insert(moved_on, {"office": "MS", "person_id": dup}, entity="consent"),
    ]
    assert _batch(ann, people + hanging).status_code == 200
    elsewhere = str(uuid.uuid4())  # another office's row naming B (a caseworker's mistake)
    foreign = _insert(elsewhere, {"office": "TAK", "person_id": dup}, entity="identity_document")
    assert _batch(tom, [foreign]).status_code == 200
    record = cora.merge("person", dup, keep)
    with server.engine.connect() as conn:
        rows = current_rows(conn)
    assert [rows[(e, r)]["person_id"] for e, r in _keys(hanging)] == [keep] * 3
    assert rows[("identity_document", elsewhere)]["person_id"] == dup
    later = [
        str(uuid.uuid4()),
        "consent",
        moved_on,
        "person_id",
        third,
        0,
        "0009999999999999-0000-x",
    ]
    assert _batch(ann, [later]).json()["results"][0][0] == "accepted"
    cora.undo_merge(record.id)
    with server.engine.connect() as conn:
        rows = current_rows(conn)
    assert rows[("person_name", name)]["person_id"] == dup
    assert rows[("case", case)]["person_id"] == dup
    assert rows[("consent", moved_on)]["person_id"] == third
    assert rows[("person", dup)]["merged_into"] is None


def _nationality_conflict(first: SyncClient, second: SyncClient, row: str, office: str) -> int:
    """A person of ``office`` made by ``first``, its nationality then edited on both
    laptops from that version (a ``review`` field: a conflict record); the insert's seq."""
    made = _batch(first, [_insert(row, {"office": office, "nationality": "MMR"})]).json()
    base: int = made["results"][0][1]
    for laptop, value, stamp in (
        (first, "KHM", "0001763812345679"),
        (second, "LAO", "0001763812345680"),
    ):
        edit = [str(uuid.uuid4()), "person", row, "nationality", value, base, f"{stamp}-0000-t"]
        assert _batch(laptop, [edit]).status_code == 200
    return base


def _across_offices(server: Server, ann: SyncClient) -> tuple[Any, str, str, str]:
    """A person of TAK (B) with an open conflict on its nationality, merged into a person
    of MS (A) by a coordinator of both: (the coordinators by name, A, B, the conflict)."""
    server.user("tom", offices=("TAK",))
    coordinators = {
        name: server.device(server.user(name, Role.COORDINATOR, offices=offices))
        for name, offices in (("cora", ("MS",)), ("dave", ("MS", "TAK")), ("erin", ("TAK",)))
    }
    keep, dup = str(uuid.uuid4()), str(uuid.uuid4())
    assert _batch(ann, [_insert(keep, {"office": "MS", "nationality": "MMR"})]).status_code == 200
    _nationality_conflict(server.device("tom"), server.device("tom", "second laptop"), dup, "TAK")
    [conflict] = coordinators["erin"].conflicts("open")
    coordinators["dave"].merge("person", dup, keep)
    return coordinators, keep, dup, conflict.id


def test_a_coordinator_of_one_office_writes_nothing_into_another_through_a_merge(
    server: Server, ann: SyncClient
) -> None:
    """Found by a security test: after a coordinator of both offices merged a person of
    TAK into one of MS, a coordinator of TAK alone flipped an old conflict of the merged
    person, and the value was written on the MS person (the flip lands on the row kept);
    a coordinator of MS alone undid the merge, B's office's rows staying on A. Both are
    refused now (403 errno 120), nothing stored; the coordinator of both may."""
    people, keep, dup, conflict = _across_offices(server, ann)
    head = server.head()
    with pytest.raises(SyncHttpError) as flipped:
        people["erin"].resolve(conflict, flip=True)
    assert (flipped.value.status, flipped.value.errno) == (403, Errno.OUT_OF_SCOPE)
    assert [c.status for c in people["dave"].conflicts()] == ["open"]  # still open
    [made] = _merge_ids(server)
    with pytest.raises(SyncHttpError) as undone:
        people["cora"].undo_merge(made)
    assert (undone.value.status, undone.value.errno) == (403, Errno.OUT_OF_SCOPE)
    assert server.head() == head  # nothing logged
    with server.engine.connect() as conn:
        rows = current_rows(conn)
    assert rows[("person", keep)]["nationality"] == "MMR"
    assert rows[("person", dup)]["merged_into"] == keep
    # the coordinator of both offices may do either
    assert people["dave"].resolve(conflict, flip=True).status == "flipped"
    assert people["dave"].undo_merge(made).undone


def test_a_flip_of_a_row_moved_to_another_office_is_refused_to_a_coordinator_without_it(
    server: Server, ann: SyncClient
) -> None:
    """The conflict record stays in the office it was made in; the row it is about may
    have moved since. A coordinator of the first office alone flipped it, writing into
    the other office (a security test); refused now."""
    cora = server.device(server.user("cora", Role.COORDINATOR, offices=("MS",)))
    dave = server.device(server.user("dave", Role.COORDINATOR, offices=("MS", "TAK")))
    row = str(uuid.uuid4())
    seq = _nationality_conflict(ann, server.device("ann", "second laptop"), row, "MS")
    [conflict] = cora.conflicts("open")
    moved = [str(uuid.uuid4()), "person", row, "office", "TAK", seq + 2, "0001763812345690-0000-d"]
    assert _batch(dave, [moved]).json()["results"][0][0] == "accepted"
    with pytest.raises(SyncHttpError) as flipped:
        cora.resolve(conflict.id, flip=True)
    assert (flipped.value.status, flipped.value.errno) == (403, Errno.OUT_OF_SCOPE)
    assert dave.resolve(conflict.id, flip=True).status == "flipped"


def _merge_ids(server: Server) -> list[str]:
    with server.engine.connect() as conn:
        return [str(r.id) for r in conn.execute(db.merges.select())]


def _as(client: SyncClient, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {client.token}"}
    return client.http.request(method, path, headers=headers, **kwargs)  # type: ignore[attr-defined]


def test_a_merge_sent_again_under_its_id_is_answered_with_what_it_made(
    server: Server, ann: SyncClient
) -> None:
    """A merge whose client chose its id (one made again after a restore) is made under
    that id; the same request again merges nothing twice and answers the record as it
    stands (undone, if it was since); the id naming other rows is refused."""
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    cora = server.device("cora")
    keep, dup, other = (str(uuid.uuid4()) for _ in range(3))
    rows = [_insert(row, {"office": "MS"}) for row in (keep, dup, other)]
    assert _batch(ann, rows).status_code == 200
    merge_id = str(uuid.uuid4())

    made = cora.merge("person", dup, keep, merge_id=merge_id)
    head = server.head()
    again = cora.merge("person", dup, keep, merge_id=merge_id)

    assert made.id == again.id == merge_id
    assert again == made
    assert server.head() == head  # nothing logged twice
    with server.engine.connect() as conn:
        assert len(conn.execute(db.merges.select()).all()) == 1
    cora.undo_merge(merge_id)
    assert cora.merge("person", dup, keep, merge_id=merge_id).undone
    with pytest.raises(SyncHttpError) as refused:
        cora.merge("person", other, keep, merge_id=merge_id)
    assert (refused.value.status, refused.value.errno) == (409, Errno.MERGE_INVALID)
    with pytest.raises(SyncHttpError) as caseworker:
        ann.merge("person", dup, keep, merge_id=merge_id)
    assert caseworker.value.errno == Errno.ROLE_FORBIDDEN


def test_two_requests_making_one_merge_id_at_once_both_answer_its_record(
    postgres_url: str, pg_template: str
) -> None:
    """On PostgreSQL, two laptops of one coordinator making the same lost merge again at
    once: the other request's merge is committed between this one's look for the id and
    its insert. This one's transaction is undone and it answers the merge as made."""
    import psycopg
    from sqlalchemy import event

    from sync.server.app import Settings, create_app
    from tests.sync.conftest import fresh_pg_database

    url = fresh_pg_database(postgres_url, pg_template)
    srv = Server(create_app(Settings(db_url=url, cheap_hashing=True)), url)
    srv.user("ann", offices=("MS",))
    srv.user("cora", Role.COORDINATOR, offices=("MS",))
    ann, cora = srv.device("ann"), srv.device("cora")
    keep, dup, merge_id = (str(uuid.uuid4()) for _ in range(3))
    assert _batch(ann, [_insert(row, {"office": "MS"}) for row in (keep, dup)]).status_code == 200
    head = srv.head()
    sneaked: list[bool] = []

    def sneak(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO merges") and not sneaked:
            sneaked.append(True)
            with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as raw:
                raw.execute(
                    "INSERT INTO merges (id, seq, entity, source_id, target_id, office,"
                    " merged_by, undone, created_at)"
                    " VALUES (%s, 999, 'person', %s, %s, 'MS', 'cora', false, 'then')",
                    (merge_id, dup, keep),
                )

    event.listen(srv.engine, "before_cursor_execute", sneak)
    try:
        record = cora.merge("person", dup, keep, merge_id=merge_id)
    finally:
        event.remove(srv.engine, "before_cursor_execute", sneak)
    assert sneaked == [True]
    assert (record.id, record.seq, record.undone) == (merge_id, 999, False)
    assert srv.head() == head  # nothing of this request's own merge stayed
    srv.engine.dispose()


def test_a_merge_record_lists_what_moved_only_to_those_that_ask_for_form_6(
    server: Server, ann: SyncClient
) -> None:
    """``moved`` names B's rows the merge moved, and the ones it retired as repeats of A's.
    Devices before form 6 refuse a record with a key they do not know: answers and pages
    of older forms leave it out, as do records the server kept no list for."""
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    cora = server.device("cora")
    keep, dup = str(uuid.uuid4()), str(uuid.uuid4())
    own, name, repeat, case = (str(uuid.uuid4()) for _ in range(4))
    ko = {"office": "MS", "kind": "latin", "full_name": "Ko Ko"}
    inserts = [
        *(_insert(row, {"office": "MS"}) for row in (keep, dup)),
        _insert(own, ko | {"person_id": keep}, entity="person_name"),
        _insert(repeat, ko | {"person_id": dup}, entity="person_name"),
        _insert(
            name, {"office": "MS", "person_id": dup, "full_name": "Mg Ko"}, entity="person_name"
        ),
        _insert(case, {"office": "MS", "person_id": dup, "number": "MS-1"}, entity="case"),
    ]
    assert _batch(ann, inserts).status_code == 200
    request = {"entity": "person", "source_id": dup, "target_id": keep}

    answer = _as(cora, "POST", "/v1/merges", json=request)

    assert answer.status_code == 201, answer.text
    assert "moved" not in answer.json()
    undo = _as(cora, "POST", f"/v1/merges/{answer.json()['id']}/undo", params={"form": 6})
    assert undo.status_code == 200, undo.text
    undone = p.MergeRecord.model_validate_json(undo.content)
    assert undone.undone
    assert sorted(map(tuple, undone.moved or [])) == sorted(
        [
            ("case", case, "person_id"),
            ("person_name", name, "person_id"),
            ("person_name", repeat, "person_id"),
            ("person_name", repeat, "deleted"),
        ]
    )
    for form in (2, 3, 4, 5):
        page = _as(cora, "GET", "/v1/pull", params={"since": 0, "form": form})
        assert page.status_code == 200
        assert b'"moved"' not in page.content, form
        assert p.parse_pull_page(page.content).merges[0].moved is None
    [pulled] = cora.pull(0, form=6).merges
    assert pulled == undone
    with server.engine.begin() as conn:  # a merge recorded before the server kept the list
        conn.execute(db.merges.update().values(moved=None))
    assert b'"moved"' not in _as(cora, "GET", "/v1/pull", params={"form": 6}).content
    _refused(
        _as(cora, "POST", "/v1/merges", params={"form": max(p.PULL_FORMS) + 1}, json=request),
        400,
        Errno.INVALID_PAYLOAD,
    )


def test_a_page_of_big_values_stops_early_and_the_pull_goes_on(
    server: Server, ann: SyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a security test: a page was read whole, superseded values too, and a
    step's ``data`` is bounded only by the body limit, so pulls of a row edited many times
    with megabytes each held gigabytes at once. A page now stops once the values it read
    pass a budget (``more`` true), the first entry always going, and the pull goes on."""
    from sync.server import ingest

    monkeypatch.setattr(ingest, "PAGE_VALUE_CHARS", 10_000)
    step, track = str(uuid.uuid4()), str(uuid.uuid4())
    big = {"notes": "x" * 6_000}
    _batch(ann, [_insert(step, {"office": "MS", "track_id": track, "data": big}, entity="step")])
    edits = [
        [str(uuid.uuid4()), "step", step, "data", {"notes": str(n) * 6_000}, 0, _HLC]
        for n in range(1, 6)
    ]
    assert _batch(ann, edits).status_code == 200
    _batch(ann, _new_people(3))  # small rows after them
    cursors, rows, since = [], [], 0
    while True:
        page = ann.pull(since, 100, 7)
        cursors.append(page.cursor)
        rows.extend(page.rows)
        since = page.cursor
        if not page.more:
            break
    # about 6,000 characters a change: two a page (the second passes the budget), then
    # the three small rows
    assert cursors == [2, 4, 6, 9]
    assert [r.values["data"]["notes"][0] for r in rows if r.entity == "step"] == ["1", "3", "5"]


def test_a_form_7_page_names_the_head_of_the_log_it_reads_up_to(
    server: Server, ann: SyncClient
) -> None:
    """What a device tells its progress from: the head on every page of form 7 (the
    ``until`` of a catch-up, when lower), on no page of an earlier form."""
    rows = _new_people(5)
    assert _batch(ann, rows).status_code == 200
    head = server.count("changes")
    first = ann.pull(0, 2, 7)
    assert (first.more, first.head) == (True, head)
    assert ann.pull(first.cursor, 100, 7).head == head
    assert ann.pull(0, 100, 7, until=3).head == 3
    for form in (2, 3, 4, 5, 6):
        page = _as(ann, "GET", "/v1/pull", params={"since": 0, "limit": 2, "form": form})
        assert b'"head"' not in page.content, form


def test_a_change_id_sent_again_for_another_new_row_is_a_duplicate_not_a_500(
    server: Server, ann: SyncClient
) -> None:
    """Found by a security test: a change id the log holds, sent again for a row the
    server never saw, passed the quick duplicate check (it asks only about rows with
    state) and the log's unique index refused it: a 500, whose trace held the row's
    values in the server's log. It is answered as any change id seen before is."""
    first = _insert(str(uuid.uuid4()), {"office": "MS", "phone": "1"})
    [accepted] = _batch(ann, [first]).json()["results"]
    again = [first[0], "person", str(uuid.uuid4()), "*", {"office": "MS", "phone": "2"}, 0, _HLC]
    answer = _batch(ann, [_insert(str(uuid.uuid4()), {"office": "MS"}), again])
    assert answer.status_code == 200, answer.text
    ok, reused = answer.json()["results"]
    assert ok[0] == "accepted"
    assert (reused[0], reused[1]) == ("duplicate", accepted[1])
    assert server.count("changes") == 2


def test_duplicate_row_insert_answered_with_its_seq(server: Server, ann: SyncClient) -> None:
    insert = _insert(str(uuid.uuid4()), {"office": "MS", "phone": "1"})
    first = _batch(ann, [insert]).json()["results"][0]
    again = _batch(ann, [insert]).json()["results"][0]
    assert (again[0], again[1]) == ("duplicate", first[1])
    assert server.count("changes") == server.count("row_state") == 1


def test_insert_without_change_id_gets_one_per_device_and_row(
    server: Server, ann: SyncClient
) -> None:
    row = str(uuid.uuid4())
    insert = [
        None,
        "person",
        row,
        "*",
        {"office": "MS", "nationality": "MMR"},
        0,
        "0001763812345678-0000-a",
    ]
    first = _batch(ann, [insert]).json()["results"][0]
    again = _batch(ann, [insert]).json()["results"][0]  # the answer was lost: resent
    assert (first[0], again[0], again[1]) == ("accepted", "duplicate", first[1])
    # another device inserting the same row id is not taken for a duplicate
    server.user("bob")
    bob = server.device("bob")
    other = [
        None,
        "person",
        row,
        "*",
        {"office": "MS", "nationality": "LAO"},
        0,
        "0001763812345679-0000-b",
    ]
    assert _batch(bob, [other]).json()["results"][0][0] == "conflict"
    assert server.count("changes") == 2


def test_change_id_may_be_null_only_for_a_row_insert(server: Server, ann: SyncClient) -> None:
    row = str(uuid.uuid4())
    good = _insert(row, {"office": "MS"})
    edit = [None, "person", row, "phone", "1", 0, "0001763812345678-0000-dev"]
    response = _batch(ann, [good, edit])
    _refused(response, 400, Errno.INVALID_PAYLOAD)
    assert response.json()["details"]["index"] == 1
    assert server.count("changes") == server.count("row_state") == 0


def test_push_form_3_derives_audit_ids_and_stamps_and_refuses_what_it_cannot(
    server: Server, ann: SyncClient
) -> None:
    from desktop.domain.catalogue import audit_event_id
    from sync.server.ingest import current_rows

    row, first = str(uuid.uuid4()), "0001763812345678-0000-dev"
    audit = {
        "office": "MS", "at": "2026-11-22T10:00:00+00:00", "user": "ann", "device": "dev",
        "action": "person.reopened", "entity": "person", "row_id": row, "details": {},
    }  # fmt: skip
    bad = [None, "person", None, "*", {"office": "MS"}, 0, first]
    good = [[None, "person", row, "*", {"office": "MS"}, 0, first],
            [None, "audit_event", None, "*", audit, 0, [1, 0]]]  # fmt: skip

    def post(changes: list[Any]) -> Any:
        return ann.http.request(  # type: ignore[attr-defined]
            "POST",
            "/v1/push",
            content=json.dumps({"v": 3, "changes": changes}).encode(),
            headers={"Authorization": f"Bearer {ann.token}", "Content-Type": "application/json"},
        )

    refused = post([*good, bad])
    _refused(refused, 400, Errno.INVALID_PAYLOAD)
    assert refused.json()["details"]["index"] == 2
    assert server.count("changes") == 0
    assert [result[0] for result in post(good).json()["results"]] == ["accepted", "accepted"]
    with server.engine.connect() as conn:
        rows = current_rows(conn)
    derived = audit_event_id("0001763812345679-0000-dev")
    assert rows[("audit_event", derived)]["row_id"] == row


def test_pull_form_3_means_what_form_2_means_and_other_forms_are_refused(
    server: Server, ann: SyncClient
) -> None:
    from desktop.domain.catalogue import audit_event_id

    rows: list[list[Any]] = []
    for number in range(3):
        row = str(uuid.uuid4())
        stamp = f"{1763812345678 + number:016d}-0000-dev"
        audit = {
            "office": "MS", "at": "2026-11-22T10:00:00+00:00", "user": "ann", "device": "dev",
            "action": "person.reopened", "entity": "person", "row_id": row, "details": {},
        }  # fmt: skip
        rows.append(_insert(row, {"office": "MS", "phone": str(number)}, stamp))
        rows.append([None, "audit_event", audit_event_id(stamp + "1"), "*", audit, 0, stamp + "1"])
    assert _batch(ann, rows).status_code == 200
    assert _post(ann, [_change(ann, rows[0][2], "phone", "09")]).status_code == 200
    full, compact = ann.pull(0, 100), ann.pull(0, 100, 3)
    assert compact == full
    assert {r.entity for r in full.rows} == {"person", "audit_event"}
    raw = ann.http.request(  # type: ignore[attr-defined]
        "GET", "/v1/pull", params={"since": 0, "form": 3},
        headers={"Authorization": f"Bearer {ann.token}"},
    )  # fmt: skip
    assert raw.content.startswith(b'{"v":3,')
    assert b'"audit_event",null,' in raw.content  # derived ids left out
    for form in (1, max(p.PULL_FORMS) + 1, "x"):
        refused = ann.http.request(  # type: ignore[attr-defined]
            "GET", "/v1/pull", params={"since": 0, "form": form},
            headers={"Authorization": f"Bearer {ann.token}"},
        )  # fmt: skip
        _refused(refused, 400, Errno.INVALID_PAYLOAD)


def test_pull_form_4_names_the_creator_of_each_row_the_page_creates(
    server: Server, ann: SyncClient
) -> None:
    """Form 2 and 3 rows plus the insert's stamp and account, from which devices derive the
    row's creation event; not for audit events, nor for rows created before the page."""
    from desktop.domain.catalogue import audit_event_id

    rows, stamps = [str(uuid.uuid4()) for _ in range(3)], []
    changes: list[list[Any]] = []
    for number, row in enumerate(rows):
        stamps.append(f"{1763812345678 + number:016d}-0000-dev")
        changes.append(_insert(row, {"office": "MS", "phone": str(number)}, stamps[-1]))
    event_stamp = "0001763812349999-0000-dev"
    event_row = {"office": "MS", "action": "case.reopened", "entity": "case", "row_id": rows[0]}
    changes.append(
        [None, "audit_event", audit_event_id(event_stamp), "*", event_row, 0, event_stamp]
    )
    assert _batch(ann, changes).status_code == 200
    assert _post(ann, [_change(ann, rows[1], "phone", "09")]).status_code == 200
    page = ann.pull(0, 100, 4)
    assert [dataclasses.replace(r, created=None) for r in page.rows] == ann.pull(0, 100, 3).rows
    assert all(r.created is None for r in ann.pull(0, 100, 3).rows)
    created = {r.id: r.created for r in page.rows}
    for row, stamp in zip(rows, stamps, strict=True):
        # the second row was edited after its insert, in the same page: still named
        assert created[row] == p.Creation(hlc=stamp, user_id="ann")
    assert created[audit_event_id(event_stamp)] is None
    raw = ann.http.request(  # type: ignore[attr-defined]
        "GET", "/v1/pull", params={"since": 0, "form": 4},
        headers={"Authorization": f"Bearer {ann.token}"},
    )  # fmt: skip
    assert raw.content.startswith(b'{"v":4,')
    assert f'"{stamps[0]}","ann"]'.encode() in raw.content
    # a page after the insert: the edit alone, no creator
    later = ann.pull(page.cursor - 1, 100, 4)
    assert [(r.id, r.created) for r in later.rows] == [(rows[1], None)]


def test_pull_form_5_means_what_form_4_means_with_stamps_as_differences(
    server: Server, ann: SyncClient
) -> None:
    from desktop.domain.catalogue import audit_event_id

    server.user("bob")
    bob = server.device("bob")
    changes = _new_people(3)
    event_stamp = "0001763812345680-0001-dev"
    event_row = {
        "office": "MS",
        "action": "case.reopened",
        "entity": "case",
        "row_id": changes[0][2],
    }
    changes.append(
        [None, "audit_event", audit_event_id(event_stamp), "*", event_row, 0, event_stamp]
    )
    assert _batch(ann, changes).status_code == 200
    other = str(uuid.uuid4())
    assert (
        _batch(bob, [_insert(other, {"office": "MS"}, "0001763812300000-0007-pc")]).status_code
        == 200
    )
    assert ann.pull(0, 100, 5) == ann.pull(0, 100, 4)
    assert ann.pull(2, 100, 5) == ann.pull(2, 100, 4)  # a page starts with a whole stamp
    raw = ann.http.request(  # type: ignore[attr-defined]
        "GET", "/v1/pull", params={"since": 0, "form": 5},
        headers={"Authorization": f"Bearer {ann.token}"},
    )  # fmt: skip
    assert raw.content.startswith(b'{"v":5,')
    stamps = [row[4] for row in json.loads(raw.content)["rows"]]
    assert stamps == [
        "0001763812345678-0000-dev",
        [1, 0],
        [1, 0],
        [0, 1],
        "0001763812300000-0007-pc",
    ]


def test_a_creation_event_sent_by_an_older_device_is_accepted_and_not_stored(
    server: Server, ann: SyncClient
) -> None:
    """Devices derive it from the row's insert (pull form 4): storing it would show it twice."""
    row = str(uuid.uuid4())
    event_row = {
        "office": "MS", "at": "2026-11-22T10:00:00+00:00", "user": "ann", "device": "dev",
        "action": "person.created", "entity": "person", "row_id": row, "details": {},
    }  # fmt: skip
    changes = [
        _insert(row, {"office": "MS"}),
        _insert(str(uuid.uuid4()), event_row, entity="audit_event"),
    ]
    response = _batch(ann, changes)
    assert response.status_code == 200, response.text
    assert [result[0] for result in response.json()["results"]] == ["accepted", "accepted"]
    assert server.count("changes") == 1
    assert [r.entity for r in ann.pull(0, 100, 4).rows] == ["person"]
    # still checked like any change: out of scope is refused, nothing stored
    event_row["office"] = "TAK"
    refused = _batch(ann, [_insert(str(uuid.uuid4()), event_row, entity="audit_event")])
    _refused(refused, 403, Errno.OUT_OF_SCOPE)
    assert server.count("changes") == 1


def test_a_creation_event_stored_before_protocol_3_is_left_out_of_form_4(
    server: Server, ann: SyncClient
) -> None:
    """Form 4 devices derive it from the insert; forms 2 and 3 still serve it as a row."""
    from desktop.domain.catalogue import audit_event_id, creation_event

    row, stamp = str(uuid.uuid4()), "0001763812345678-0000-dev"
    old = creation_event("person", row, "MS", stamp, "ann")
    old_id = str(old.pop("id"))
    other = old | {"action": "person.reopened"}
    other_stamp = "0001763812345679-0000-dev"
    assert _batch(ann, [_insert(row, {"office": "MS"}, stamp)]).status_code == 200
    with server.engine.begin() as conn:  # as an older server stored it
        conn.execute(
            db.changes.insert().values(
                seq=2, change_id=str(uuid.uuid4()), entity="audit_event", row_id=old_id,
                field="*", value=json.dumps(old), hlc=stamp, device_id="dev", user_id="ann",
                office="MS", received_at="2026-11-22T10:00:00+00:00",
            )
        )  # fmt: skip
        conn.execute(db.counter.update().values(value=2))
    assert (
        _batch(
            ann,
            [[None, "audit_event", audit_event_id(other_stamp), "*", other, 0, other_stamp]],
        ).status_code
        == 200
    )
    form4 = ann.pull(0, 100, 4)
    assert [(r.entity, r.id) for r in form4.rows] == [
        ("person", row),
        ("audit_event", audit_event_id(other_stamp)),
    ]
    assert [r.id for r in ann.pull(0, 100, 3).rows] == [row, old_id, audit_event_id(other_stamp)]


@pytest.mark.parametrize(
    "stamp",
    [
        "9999999999999999-9999-evil",  # past the year 9999: no date can be read from it
        "٠٠٠١٧٩٥٤١٥٠٩٨٤٤٤-٠٠٠٠-devX",  # Arabic-Indic digits
        "０００１７９５４１５０９８４４４-0000-devX",  # fullwidth digits
        "0001763812345678-0000-a\u0000b",  # NUL in the node (PostgreSQL text refuses it)
    ],
)
@pytest.mark.parametrize("form", [1, 2, 3])
def test_a_stamp_that_is_not_one_is_refused_in_every_push_form(
    server: Server, ann: SyncClient, stamp: str, form: int
) -> None:
    row = str(uuid.uuid4())
    if form == 1:
        change = _change(ann, row, "*", {"office": "MS"}) | {"hlc": stamp}
        response = _post(ann, [change])
        expected = Errno.INVALID_PAYLOAD
    else:
        body = {"v": form, "changes": [[None, "person", row, "*", {"office": "MS"}, 0, stamp]]}
        response = ann.http.request(  # type: ignore[attr-defined]
            "POST",
            "/v1/push",
            content=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {ann.token}", "Content-Type": "application/json"},
        )
        expected = Errno.INVALID_PAYLOAD
    _refused(response, 400, expected)
    assert server.count("changes") == 0


def test_a_device_clock_years_ahead_neither_breaks_pulls_nor_drags_the_servers_clock(
    server: Server, ann: SyncClient
) -> None:
    """Its edits are kept and ordered by their stamps; forms 2 and 3 still derive their
    creation events; a merge on the server gets a stamp from the server's own clock."""
    server.user("cora", Role.COORDINATOR, offices=("MS",))
    cora = server.device("cora")
    ahead, now = "0002395415098444-0000-devX", "0001763812345678-0000-devX"  # 2045, 2025
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    response = _batch(
        ann,
        [
            [None, "person", a, "*", {"office": "MS", "merged_into": None}, 0, ahead],
            [None, "person", b, "*", {"office": "MS"}, 0, now],
        ],
    )
    assert response.status_code == 200, response.text
    assert cora.merge("person", a, b).source_id == a
    for form in (2, 3, 4, 5):
        page = cora.pull(0, 100, form)
        merged = {row.id: row.values.get("merged_into") for row in page.rows if row.id == a}
        assert merged == {a: b}, form
    with server.engine.connect() as conn:
        stamp = (
            conn.execute(
                db.field_state.select().where(
                    db.field_state.c.row_id == a, db.field_state.c.field == "merged_into"
                )
            )
            .one()
            .hlc
        )
    assert stamp.endswith("-server")
    assert stamp < "0002000000000000"  # the server's own clock, not the device's 2045


def test_a_note_or_audit_event_cannot_be_rewritten_field_by_field(
    server: Server, ann: SyncClient
) -> None:
    """Append-only rows are written once, whole: a field change to one would make the
    audit trail editable (design.md §4, merge class append)."""
    note, event, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    written = {"office": "MS", "case_id": case, "body": "original text", "author": "ann"}
    audit = {
        "office": "MS", "at": "2026-11-22T10:00:00+00:00", "user": "ann", "device": "dev",
        "action": "person.reopened", "entity": "person", "row_id": case, "details": {},
    }  # fmt: skip
    stamp = "0001763812345678-0000-dev"
    created = _batch(
        ann, [_insert(note, written, entity="note"), _insert(event, audit, entity="audit_event")]
    )
    assert [r[0] for r in created.json()["results"]] == ["accepted", "accepted"]
    other = server.device("ann", "another-laptop")
    edits = [
        [str(uuid.uuid4()), "note", note, "body", "REWRITTEN", 1, stamp],
        [str(uuid.uuid4()), "note", note, "author", "someone-else", 1, stamp],
        [str(uuid.uuid4()), "audit_event", event, "action", "person.viewed", 1, stamp],
        [str(uuid.uuid4()), "note", note, "deleted", True, 1, stamp],
    ]
    results = _batch(other, edits).json()["results"]
    assert [(r[0], r[2]) for r in results] == [("rejected", Errno.APPEND_ONLY)] * 4
    rows = {row.id: row for row in other.pull(0, 100, 5).rows}
    assert rows[note].values["body"] == "original text"
    assert rows[note].values["author"] == "ann"
    assert rows[event].values["action"] == "person.reopened"


# --- input the server refused too late, or accepted changed (the robustness hunt) --------

_HLC = "0001763812345678-0000-dev"


def _raw(client: SyncClient, body: bytes, **headers: str) -> Any:
    """POST ``body`` to /v1/push as it is, declared JSON unless ``headers`` say otherwise."""
    sent = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    return client.http.request("POST", "/v1/push", content=body, headers=sent | headers)  # type: ignore[attr-defined]


def _stored(server: Server) -> int:
    return server.count("changes") + server.count("row_state") + server.count("field_state")


def _deep(depth: int) -> str:
    """JSON text of an object nested ``depth`` levels (the object itself is level 1)."""
    return '{"k":' * (depth - 1) + "{}" + "}" * (depth - 1)


def _step_insert(data: str) -> bytes:
    """A push form 2 body inserting a step whose ``data`` is the JSON text ``data``."""
    row, track = uuid.uuid4(), uuid.uuid4()
    values = f'{{"office":"MS","track_id":"{track}","data":{data}}}'
    return f'{{"v":2,"changes":[[null,"step","{row}","*",{values},0,"{_HLC}"]]}}'.encode()


@pytest.mark.parametrize(
    ("depth", "errno"),
    [
        (33, Errno.WRONG_TYPE),  # past the bound of json fields, well within the parser's
        (150, Errno.WRONG_TYPE),
        (201, Errno.MALFORMED_JSON),  # past the parser's bound: both parsers refuse it
        (253, Errno.MALFORMED_JSON),
        (260, Errno.MALFORMED_JSON),
    ],
)
def test_json_nested_too_deep_is_refused_and_never_stored(
    server: Server, ann: SyncClient, depth: int, errno: Errno
) -> None:
    _refused(_raw(ann, _step_insert(_deep(depth))), 400, errno)
    assert _stored(server) == 0
    # a version 1 body takes the other parser: the same answers
    change = _change(ann, str(uuid.uuid4()), "details", {}, entity="audit_event")
    body = json.dumps({"changes": [change]}).replace('"details", "value": {}', "@")
    body = body.replace("@", f'"details", "value": {_deep(depth)}')
    _refused(_raw(ann, body.encode()), 400, errno)
    assert _stored(server) == 0
    ok = _raw(ann, _step_insert(_deep(p.MAX_JSON_DEPTH)))
    assert ok.status_code == 200, ok.text


def test_a_body_nested_without_end_is_malformed_json_not_a_crash(
    server: Server, ann: SyncClient
) -> None:
    _refused(_raw(ann, b"[" * 100_000), 400, Errno.MALFORMED_JSON)
    _refused(_raw(ann, b'{"changes":' + b"[" * 100_000), 400, Errno.MALFORMED_JSON)
    assert _stored(server) == 0


def test_an_unforeseen_error_answers_500_with_the_error_body_and_no_traceback(
    server: Server,
    ann: SyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from starlette.testclient import TestClient

    from sync.server import ingest

    secret = "secret detail of the bug: AungAung-0812345678"

    def broken(*_args: Any) -> Any:
        raise RuntimeError(secret)

    monkeypatch.setattr(ingest, "list_conflicts", broken)
    # raised on, it would reach uvicorn, whose log prints its message: not any more
    http = TestClient(server.app, raise_server_exceptions=True)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="sapan.server"):
        response = http.get("/v1/conflicts", headers={"Authorization": f"Bearer {ann.token}"})
    _refused(response, 500, Errno.INTERNAL)
    assert set(response.json()) == {"status", "errno", "error", "message", "details"}
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    with server.engine.connect() as conn:
        last = conn.execute(db.audit.select().order_by(db.audit.c.id.desc())).first()
    assert last is not None
    assert (last.status, json.loads(last.detail)["errno"]) == (500, 999)
    # the log says where it happened, never the message (a database's quotes a row)
    [logged] = [r.getMessage() for r in caplog.records if r.name == "sapan.server"]
    assert logged.startswith("unhandled error on GET /v1/conflicts\nRuntimeError\n")
    assert "in broken" in logged
    assert "AungAung" not in logged


def test_a_database_error_is_logged_by_its_statement_not_its_values() -> None:
    from sqlalchemy.exc import IntegrityError

    from sync.server.app import bug_text

    refusal = Exception("duplicate key (name)=(Aung Aung); Failing row contains (Aung Aung)")
    try:
        try:
            raise refusal
        except Exception as exc:
            raise IntegrityError(
                "INSERT INTO people (name) VALUES (?)", ("Aung Aung",), exc
            ) from exc
    except IntegrityError as error:
        said = bug_text(error)
    assert said.startswith("IntegrityError in: INSERT INTO people (name) VALUES (?)\n")
    assert "caused by Exception\n" in said
    assert "Aung" not in said


@pytest.mark.parametrize(
    "body",
    [
        b'{"v":2,"changes":[[null,"person","%s","*",{"office":"MS","phone":"\\ud800"},0,"%s"]]}',
        b'{"v":2,"changes":[[null,"person","%s","*",{"office":"MS","phone":"\\udc00x"},0,"%s"]]}',
        b'{"changes":[{"change_id":"%s","entity":"person","row_id":"%s","field":"phone",'
        b'"value":"\\ud800","base_version":0,"hlc":"x","device_id":"d","user_id":"u"}]}',
    ],
)
def test_a_lone_surrogate_is_malformed_json(server: Server, ann: SyncClient, body: bytes) -> None:
    ids = (str(uuid.uuid4()).encode(), _HLC.encode())
    if b"change_id" in body:
        ids = (str(uuid.uuid4()).encode(), str(uuid.uuid4()).encode())
    _refused(_raw(ann, body % ids), 400, Errno.MALFORMED_JSON)
    assert _stored(server) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "08\x001"), ("office", "M\x00S"), ("languages", ["my", "\x00"])],
)
def test_nul_in_a_value_is_refused_on_both_backends(
    server: Server, ann: SyncClient, field: str, value: Any
) -> None:
    row = str(uuid.uuid4())
    _refused(_post(ann, [_change(ann, row, "office", "MS"), _change(ann, row, field, value)]),
             400, Errno.WRONG_TYPE)  # fmt: skip
    _refused(_batch(ann, [_insert(row, {"office": "MS", field: value})]), 400, Errno.WRONG_TYPE)
    data = {"office": "MS", "track_id": str(uuid.uuid4()), "data": {"k\x00": 1}}
    _refused(_batch(ann, [_insert(row, data, entity="step")]), 400, Errno.WRONG_TYPE)
    assert _stored(server) == 0


def test_nul_in_names_queries_and_paths_is_refused_before_any_query(
    server: Server, ann: SyncClient
) -> None:
    server.user("cora", role=Role.COORDINATOR)
    cora = server.device("cora")
    devices = server.count("devices")
    http: Any = server.http()
    for body in (
        {"username": "ann\x00", "password": PASSWORD, "device_name": "d"},
        {"username": "ann", "password": PASSWORD, "device_name": "d\x00"},
    ):
        _refused(http.post("/v1/devices", json=body), 400, Errno.INVALID_PAYLOAD)
    assert server.count("devices") == devices
    auth = {"Authorization": f"Bearer {cora.token}"}
    _refused(http.get("/v1/conflicts?status=%00", headers=auth), 400, Errno.INVALID_PAYLOAD)
    _refused(http.get("/v1/conflicts?status=nope", headers=auth), 400, Errno.INVALID_PAYLOAD)
    assert http.get("/v1/conflicts?status=open", headers=auth).json() == []
    for path in ("/v1/merges/%00/undo", "/v1/merges/" + "x" * 5000 + "/undo"):
        _refused(http.post(path, headers=auth), 404, Errno.NOT_FOUND)
    for conflict in ("a%00b", str(uuid.uuid4()).upper()):
        path = f"/v1/conflicts/{conflict}/resolve"
        _refused(http.post(path, headers=auth, json={"choice": "flip"}), 404, Errno.NOT_FOUND)
    assert server.count("changes") == server.count("merges") == 0


def test_unknown_paths_and_unserved_methods_answer_with_the_error_body(server: Server) -> None:
    http: Any = server.http()
    for response, status, errno in (
        (http.get("/v1/nothing-here"), 404, Errno.NOT_FOUND),
        (http.get("/"), 404, Errno.NOT_FOUND),
        (http.delete("/v1/push"), 405, Errno.METHOD_NOT_ALLOWED),
        (http.get("/v1/push"), 405, Errno.METHOD_NOT_ALLOWED),
        (http.put("/v1/info"), 405, Errno.METHOD_NOT_ALLOWED),
    ):
        _refused(response, status, errno)
        assert set(response.json()) == {"status", "errno", "error", "message", "details"}
        assert response.headers[p.PROTOCOL_HEADER] == str(p.PROTOCOL_VERSION)
    assert http.delete("/v1/push").headers["Allow"] == "POST"


@pytest.mark.parametrize(
    ("data", "errno"),
    [
        ("NaN", Errno.WRONG_TYPE),
        ("Infinity", Errno.WRONG_TYPE),
        ("-Infinity", Errno.WRONG_TYPE),
        ("1e999", Errno.WRONG_TYPE),
        ("[1, -1e400]", Errno.WRONG_TYPE),
    ],
)
def test_numbers_json_cannot_hold_are_refused(
    server: Server, ann: SyncClient, data: str, errno: Errno
) -> None:
    _refused(_raw(ann, _step_insert(f'{{"x":{data}}}')), 400, errno)
    # the version 1 body's parser refuses NaN and Infinity as JSON; 1e999 parses as inf
    change = _change(ann, str(uuid.uuid4()), "details", "@", entity="audit_event")
    body = json.dumps({"changes": [change]}).replace('"@"', f'{{"x":{data}}}')
    assert _raw(ann, body.encode()).json()["errno"] in (Errno.MALFORMED_JSON, Errno.WRONG_TYPE)
    assert _stored(server) == 0
    assert ann.pull(0).rows == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("monthly_wage", "1e5"),
        ("monthly_wage", " 12 "),
        ("monthly_wage", "1_000"),
        ("start_date", "2025-W01-1"),
        ("start_date", "20250101  "),
        ("start_date", "\u0e52\u0e50\u0e52\u0e55-01-01"),
        ("person_id", "5C1E0F7A-0000-4000-8000-000000000001"),
        ("person_id", "urn:uuid:5c1e0f7a-0000-4000-8000-000000000001"),
    ],
)
def test_values_in_spellings_no_device_writes_are_refused_not_rewritten(
    server: Server, ann: SyncClient, field: str, value: str
) -> None:
    values = {"office": "MS", "person_id": "5c1e0f7a-0000-4000-8000-000000000001", field: value}
    response = _batch(ann, [_insert(str(uuid.uuid4()), values, entity="employment")])
    _refused(response, 400, Errno.WRONG_TYPE)
    assert _stored(server) == 0


def test_a_datetime_without_offset_is_refused(server: Server, ann: SyncClient) -> None:
    values = {"office": "MS", "case_id": str(uuid.uuid4()), "written_at": "2025-01-06T10:00:00"}
    _refused(_batch(ann, [_insert(str(uuid.uuid4()), values, entity="note")]), 400,
             Errno.WRONG_TYPE)  # fmt: skip
    assert _stored(server) == 0


@pytest.mark.parametrize(
    "spell",
    [
        lambda u: u.upper(),
        lambda u: "{" + u + "}",
        lambda u: u.replace("-", ""),
        lambda u: "urn:uuid:" + u,
    ],
)
def test_ids_in_other_spellings_are_refused_in_every_form(
    server: Server, ann: SyncClient, spell: Any
) -> None:
    row, cid = str(uuid.uuid4()), str(uuid.uuid4())
    _refused(_batch(ann, [_insert(spell(row), {"office": "MS"})]), 400, Errno.INVALID_PAYLOAD)
    _refused(_batch(ann, [[spell(cid), "person", row, "*", {"office": "MS"}, 0, _HLC]]), 400,
             Errno.INVALID_PAYLOAD)  # fmt: skip
    change = _change(ann, spell(row), "office", "MS") | {"change_id": spell(cid)}
    _refused(_post(ann, [change]), 400, Errno.INVALID_PAYLOAD)
    assert _stored(server) == 0


@pytest.mark.parametrize("form", [2, 3])
def test_changes_that_do_not_fit_the_batch_form_are_named_like_refused_values(
    server: Server, ann: SyncClient, form: int
) -> None:
    """A change that does not fit the form (an id in upper case, a stamp past 9999, a
    version that is not an integer) refused the batch naming no change: a device could
    set nothing aside, and every push of it was refused again. The answer now names the
    changes as a refused value does (``index``, ``indexes``), and its errors are the
    batch form's alone (the version 1 form's were listed beside them)."""
    good = [_insert(str(uuid.uuid4()), {"office": "MS"}) for _ in range(4)]
    upper = _insert(str(uuid.uuid4()).upper(), {"office": "MS"})
    late = _insert(str(uuid.uuid4()), {"office": "MS"}, hlc="9999999999999999-0000-dev")
    version = _insert(str(uuid.uuid4()), {"office": "MS"})
    version[5] = "0"
    changes = [good[0], upper, good[1], late, good[2], version, good[3]]
    response = _raw(ann, json.dumps({"v": form, "changes": changes}).encode())
    _refused(response, 400, Errno.INVALID_PAYLOAD)
    details = response.json()["details"]
    assert (details["index"], details["indexes"]) == (1, [1, 3, 5])
    assert response.json()["message"].startswith("change 1: row_id: String should match")
    assert {tuple(e["loc"][:4]) for e in details["errors"]} == {
        ("body", "changes", 1, 2),
        ("body", "changes", 3, 6),
        ("body", "changes", 5, 5),
    }
    assert _stored(server) == 0
    # the rest, sent again without them, go
    rest = [change for i, change in enumerate(changes) if i not in details["indexes"]]
    assert _batch(ann, rest).status_code == 200
    assert server.count("changes") == 4
    # a batch wrong as a whole names no change
    for body in ({"v": 9, "changes": [good[0]]}, {"changes": [good[0]]}, {"v": 2}):
        refused = _raw(ann, json.dumps(body).encode())
        _refused(refused, 400, Errno.INVALID_PAYLOAD)
        assert "index" not in refused.json()["details"]


@pytest.mark.parametrize(
    ("hlc", "base"),
    [([1.0, 0], 0), ([True, False], 0), (["1", "0"], 0), ([1, 0], "0"), ([1, 0], 0.0)],
)
def test_stamp_deltas_and_base_versions_are_strict_integers(
    server: Server, ann: SyncClient, hlc: Any, base: Any
) -> None:
    row = str(uuid.uuid4())
    changes = [[None, "person", row, "*", {"office": "MS"}, 0, _HLC],
               [str(uuid.uuid4()), "person", row, "phone", "1", base, hlc]]  # fmt: skip
    body = json.dumps({"v": 3, "changes": changes}).encode()
    _refused(_raw(ann, body), 400, Errno.INVALID_PAYLOAD)
    assert _stored(server) == 0
    one = _change(ann, row, "office", "MS") | {"base_version": base}
    if not isinstance(base, int):
        _refused(_post(ann, [one]), 400, Errno.INVALID_PAYLOAD)
        assert _stored(server) == 0


def test_bodies_not_in_utf8_are_malformed_json(server: Server, ann: SyncClient) -> None:
    text = json.dumps({"v": 2, "changes": [_insert(str(uuid.uuid4()), {"office": "MS"})]})
    for body in (text.encode("utf-16"), text.encode("utf-16-le"), text.encode("utf-32"),
                 b"\xef\xbb\xbf" + text.encode()):  # fmt: skip
        _refused(_raw(ann, body), 400, Errno.MALFORMED_JSON)
    register = json.dumps({"username": "ann", "password": PASSWORD, "device_name": "d"})
    http: Any = server.http()
    headers = {"Content-Type": "application/json"}
    for body in (register.encode("utf-16"), b"\xef\xbb\xbf" + register.encode()):
        response = http.post("/v1/devices", content=body, headers=headers)
        _refused(response, 400, Errno.MALFORMED_JSON)
    assert _stored(server) == 0
    assert _raw(ann, text.encode()).status_code == 200


@pytest.mark.parametrize(
    "tail",
    [b"garbage", gzip.compress(b"{}"), b"\x00"],
)
def test_data_after_a_gzip_body_is_refused(server: Server, ann: SyncClient, tail: bytes) -> None:
    body = json.dumps({"v": 2, "changes": [_insert(str(uuid.uuid4()), {"office": "MS"})]})
    response = _raw(ann, gzip.compress(body.encode()) + tail, **{"Content-Encoding": "gzip"})
    _refused(response, 400, Errno.BAD_ENCODING)
    assert _stored(server) == 0
    whole = _raw(ann, gzip.compress(body.encode()), **{"Content-Encoding": "gzip"})
    assert whole.status_code == 200, whole.text


def _stream_to(server: Server, path: str, headers: dict[str, str]) -> tuple[int, Any, int]:
    """POST 300 MiB of 1 MiB chunks without Content-Length straight to the ASGI app.

    The TestClient reads a streamed body whole before the app sees any of it, so the
    app is driven here as a server drives it. Returns the status, the body and how
    many chunks the app read.
    """
    import asyncio

    read = 0
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read == 300:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": b" " * (1024 * 1024), "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    sent = {"content-type": "application/json", "transfer-encoding": "chunked"} | headers
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items()],
    }  # fmt: skip
    asyncio.run(server.app(scope, receive, send))  # type: ignore[operator]
    return answer["status"], json.loads(answer["body"]), read


def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(
    server: Server, ann: SyncClient
) -> None:
    limit_chunks = p.MAX_BODY_BYTES // (1024 * 1024)
    for path, headers in (
        ("/v1/push", {"authorization": f"Bearer {ann.token}"}),
        ("/v1/devices", {}),  # registering: the body holds the password
    ):
        status, body, read = _stream_to(server, path, headers)
        assert (status, body["errno"]) == (413, Errno.BATCH_TOO_LARGE)
        assert read == limit_chunks + 1  # stopped at the first byte past the limit
    # without a token, a push or a merge is refused before a byte of its body is read
    for path in ("/v1/push", "/v1/merges"):
        status, body, read = _stream_to(server, path, {})
        assert (status, body["errno"], read) == (401, Errno.MISSING_TOKEN, 0)
    assert _stored(server) == 0


@pytest.mark.parametrize("param", ["since", "until", "scope"])
def test_a_sequence_number_past_64_bits_is_a_bad_request(
    server: Server, ann: SyncClient, param: str
) -> None:
    response = ann.http.request(  # type: ignore[attr-defined]
        "GET",
        "/v1/pull",
        params={param: str(2**63)},
        headers={"Authorization": f"Bearer {ann.token}"},
    )
    _refused(response, 400, Errno.INVALID_PAYLOAD)
