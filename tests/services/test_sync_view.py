"""The app-facing sync queries: backoff with jitter, the metered-link rule, bad input."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from desktop.domain.errors import UserError
from desktop.models.entities import OutboxEntry, Person, SyncState
from desktop.models.store import Store
from desktop.services import sync_view, ui_queries
from sync.server import admin
from tests.conftest import SERVER_PASSWORD, in_process_client, phoned_person
from tests.fakes import MemoryKeyring

PASSWORD = SERVER_PASSWORD


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    backoff = sync_view.Backoff(base=5.0, cap=40.0, rand=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(5)] == [5.0, 10.0, 20.0, 40.0, 40.0]
    backoff.reset()
    assert backoff.next_delay() == 5.0


def test_backoff_jitter_stays_in_the_upper_half_and_retry_after_is_a_floor() -> None:
    low = sync_view.Backoff(base=8.0, rand=lambda: 0.0)
    assert low.next_delay() == 4.0
    assert low.next_delay(retry_after=120.0) == 120.0


def test_overview_of_an_empty_store_and_the_metered_rule(store: Store) -> None:
    view = sync_view.overview(store)
    assert (view.waiting, view.failed, view.open_conflicts, view.registered) == (0, 0, 0, False)
    assert not sync_view.needs_confirmation(view)
    sync_view.set_metered(store, True, 0)
    metered = sync_view.overview(store)
    assert metered.metered
    assert metered.metered_limit_kb == 0
    assert not sync_view.needs_confirmation(metered)  # nothing to send, nothing to ask


def test_negative_metered_limit_is_refused(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.set_metered(store, True, -1)
    assert caught.value.code == "sync.bad_metered_limit"


def test_sync_without_registration_is_a_clear_error(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.run_sync(store)
    assert caught.value.code == "sync.not_registered"
    with pytest.raises(UserError) as probed:
        sync_view.probe(store)
    assert probed.value.code == "sync.not_registered"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("sync.example.org", "sync.bad_server_url"),
        ("http://", "sync.bad_server_url"),
        ("ftp://sync.example.org", "sync.bad_server_url"),
        ("https://[::1", "sync.bad_server_url"),
        ("http://localhost:abc", "sync.bad_server_url"),
        ("https://sync.example.org:99999", "sync.bad_server_url"),
        ("https://ann:s3cret@sync.example.org", "sync.server_url_credentials"),
    ],
)
def test_a_server_address_that_cannot_be_one_is_refused_before_any_request(
    store: Store, typed: str, code: str
) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.register(store, typed, "somchai", "pw", "laptop", _exploding_factory)
    assert caught.value.code == code
    assert "s3cret" not in caught.value.translated("en")
    assert sync_view.server_address(store) is None  # nothing kept


def _exploding_factory(url: str) -> Any:
    raise AssertionError(f"no request may be made ({url})")


@pytest.mark.parametrize(
    "url",
    [
        "http://sync.example.org",
        "http://sync.example.org:8765/",
        "http://49.231.10.7:8765",
        "http://[2404:6800:4001::1]:8765",
    ],
)
def test_plain_http_to_a_server_on_the_internet_is_refused_before_any_request(
    store: Store, url: str
) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.register(store, url, "somchai", "pw", "laptop", _exploding_factory)
    assert caught.value.code == "sync.plain_http"
    assert store.setting(sync_view.SERVER_SETTING, None) is None


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("http://192.168.1.20:8765", True),
        ("http://10.0.0.5", True),
        ("http://169.254.10.1", True),
        ("http://sapan-server:8765", True),
        ("http://sapan.local", True),
        ("http://office.home.arpa", True),
        ("http://user@10.0.0.5", True),
        ("http://sync.example.org", False),
        ("http://8.8.8.8", False),
        ("http://10.0.0.5.example.org", False),
        ("http://[::1", False),
    ],
)
def test_which_addresses_count_as_the_local_network(url: str, local: bool) -> None:
    assert sync_view.on_local_network(url) is local


# -- a revoked device wipes itself (design.md §5) ------------------------------------------


def test_a_revoked_device_destroys_its_key_and_token_and_counts_what_never_left(
    store: Store, server_app: Any, memory_keyring: MemoryKeyring
) -> None:
    factory = lambda url: in_process_client(server_app)  # noqa: E731
    sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop", factory)
    sent = phoned_person(store, "0811111111")
    assert sync_view.run_sync(store, factory).ok
    phoned_person(store, "0822222222")  # made after the last sync: never reaches the server
    with store.read() as session:
        unsent = session.scalar(select(func.count()).select_from(OutboxEntry))
    assert unsent
    ctx = server_app.state.ctx
    admin.revoke_device(ctx.engine, admin.list_devices(ctx.engine, "somchai")[0]["device_id"])

    summary = sync_view.run_sync(store, factory)

    assert (summary.ok, summary.wipe) == (False, True)
    assert "112" in str(summary.error)
    assert memory_keyring.secrets == {}, "store key and device token are gone"
    assert not store.paths.keyfile.exists()
    with pytest.raises(UserError) as refused, store.read():
        pass
    assert refused.value.code == "error.store_wiped"
    store.close()
    record = ui_queries.finish_wipe(store.paths.root)
    assert record is not None
    assert record.unsent == unsent
    assert not store.paths.db.exists()
    assert not store.paths.attachments.exists()
    with server_app.state.ctx.engine.connect() as conn:  # what was acknowledged is safe
        assert conn.execute(
            text("SELECT count(*) FROM changes WHERE row_id = :id"), {"id": sent}
        ).scalar_one()


@pytest.mark.parametrize("old_server", [False, True])
def test_a_new_devices_first_pull_goes_under_the_scope_its_registration_named(
    store: Store, server_app: Any, old_server: bool
) -> None:
    """The registration's answer names the account's scope version, so a new device's
    first pull is not answered errno 123 and asked again (a round trip more on a slow
    link). From a server that does not name it, the first pull catches up as before; and
    a later change of the account's offices is caught up as ever."""
    from sync import protocol as p

    class Link:
        def __init__(self) -> None:
            self.inner = in_process_client(server_app)

        def request(self, method: str, url: str, **kwargs: Any) -> Any:
            answer = self.inner.request(method, url, **kwargs)
            if old_server and url.endswith("/devices"):
                del answer.headers[p.SCOPE_HEADER]
            return answer

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    factory = lambda url: Link()  # noqa: E731
    engine = server_app.state.ctx.engine

    def pulls() -> list[int]:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT status FROM audit WHERE route = '/v1/pull'"))
            return [int(status) for (status,) in found]

    sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop", factory)
    phoned_person(store, "0811111111")
    summary = sync_view.run_sync(store, factory)
    assert summary.ok
    assert summary.scope_changed is old_server
    assert pulls() == ([409, 200] if old_server else [200])
    with store.read() as session:
        assert session.get(SyncState, "scope_version").value == "1"

    before = len(pulls())
    admin.set_offices(engine, "somchai", ["TAK-01", "TAK-02"])  # after the registration
    summary = sync_view.run_sync(store, factory)
    assert summary.ok
    assert summary.scope_changed
    later = pulls()[before:]
    assert later[0] == 409  # then the pull, and the catch-up on the office gained
    assert set(later[1:]) == {200}
    assert store.setting("account_offices") == ["TAK-01", "TAK-02"]


def test_registering_after_wrong_passwords_in_a_row_says_how_long_to_wait(
    store: Store, server_app: Any
) -> None:
    from desktop.domain import i18n
    from sync.server import auth

    factory = lambda url: in_process_client(server_app)  # noqa: E731
    for _ in range(auth.FREE_TRIES):
        with pytest.raises(UserError) as wrong:
            sync_view.register(store, "http://testserver", "somchai", "guess-123", "x", factory)
        assert wrong.value.code == "sync.bad_credentials"
    with pytest.raises(UserError) as locked:
        sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop", factory)
    assert (locked.value.code, locked.value.params) == ("sync.sign_in_locked", {"minutes": 1})
    assert locked.value.translated("en").startswith(
        "Too many wrong passwords for this account: wait 1 min and try again"
    )
    assert "1 นาที" in locked.value.translated("th")
    assert i18n.text("sync.sign_in_locked", "my", minutes=1) == locked.value.translated("my")


def test_registering_from_an_address_that_guessed_too_often_says_it_is_the_network(
    store: Store, server_app: Any
) -> None:
    """The wait is the network's (an office's router that gave many wrong names), not
    the account's: the message says so, and not to ask for a new password."""
    from sync.server import auth

    factory = lambda url: in_process_client(server_app)  # noqa: E731
    for i in range(auth.ADDRESS_FREE_TRIES):
        with pytest.raises(UserError):
            sync_view.register(store, "http://testserver", f"name{i}", "guess-123", "x", factory)
    with pytest.raises(UserError) as locked:
        sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop", factory)
    assert (locked.value.code, locked.value.params) == (
        "sync.sign_in_locked_address",
        {"minutes": 1},
    )
    assert locked.value.translated("en").startswith(
        "Too many wrong user names or passwords from this network: wait 1 min"
    )
    assert "1 นาที" in locked.value.translated("th")
    assert "1 မိနစ်" in locked.value.translated("my")


def test_a_disabled_account_keeps_its_work_says_why_and_sends_it_once_enabled(
    store: Store, server_app: Any, memory_keyring: MemoryKeyring
) -> None:
    """Unlike a revoked device, a disabled account's device wipes nothing: what it has
    not sent waits, the reason reads as such, and enabling the account lets it through."""
    from desktop.domain import i18n

    factory = lambda url: in_process_client(server_app)  # noqa: E731
    sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop", factory)
    engine = server_app.state.ctx.engine
    admin.set_disabled(engine, "somchai", True)
    person = phoned_person(store, "0811111111")

    summary = sync_view.run_sync(store, factory)

    assert (summary.ok, summary.wipe, summary.waiting) == (False, False, 1)
    assert sync_view.reason_text(str(summary.error), i18n.text).startswith(
        "your account was disabled by an administrator"
    )
    assert memory_keyring.secrets, "the store key and token stay"
    with pytest.raises(UserError) as refused:  # registering again: refused, and says why
        sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop-2", factory)
    assert refused.value.code == "sync.account_disabled"

    admin.set_disabled(engine, "somchai", False)
    assert sync_view.run_sync(store, factory).ok
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT count(*) FROM changes WHERE row_id = :id"), {"id": person}
        ).scalar_one()


def _answering(status: int, body: dict[str, Any]) -> Any:
    """A server that answers every request the same way (hostile or future servers)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return lambda url: httpx.Client(transport=httpx.MockTransport(handler), base_url=url)


@pytest.mark.parametrize(
    ("errno", "details"),
    [
        (112, {}),  # revoked, but not told to wipe
        (112, {"wipe": "yes"}),  # not the protocol's true
        (111, {"wipe": True}),  # a bad token is not a revocation
    ],
)
def test_only_a_revocation_that_says_wipe_wipes(
    store: Store, memory_keyring: MemoryKeyring, errno: int, details: dict[str, Any]
) -> None:
    body = {"status": 401, "errno": errno, "error": "x", "message": "no", "details": details}
    factory = _answering(401, body)
    with store.remote_session() as session:
        session.merge(SyncState(key="server_url", value="http://sync.example"))
    memory_keyring.set_password("sapan", f"sync-device-token:{store.store_id}", "sp1_x")
    pid = phoned_person(store, "0833333333")

    summary = sync_view.run_sync(store, factory)

    assert (summary.ok, summary.wipe) == (False, False)
    assert store.paths.keyfile.exists()
    with store.read() as session:
        assert session.get(Person, pid) is not None


def test_a_network_login_page_is_waited_out_and_loses_nothing(
    store: Store, memory_keyring: MemoryKeyring
) -> None:
    """No credit left on the SIM: the operator answers every request with 200 and a page.
    The probe sees a busy server (backoff), the sync a failure; the outbox stays whole."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Top up to continue</html>")

    factory = lambda url: httpx.Client(  # noqa: E731
        transport=httpx.MockTransport(handler), base_url=url
    )
    with store.remote_session() as session:
        session.merge(SyncState(key="server_url", value="http://sync.example"))
    memory_keyring.set_password("sapan", f"sync-device-token:{store.store_id}", "sp1_x")
    phoned_person(store, "0844444444")
    with store.read() as session:
        waiting = session.scalar(select(func.count()).select_from(OutboxEntry))

    probe = sync_view.probe(store, factory)
    summary = sync_view.run_sync(store, factory)

    assert (probe.reachable, probe.busy) == (False, True)
    assert not summary.ok
    assert "login page" in str(summary.error)
    assert summary.waiting == waiting


def test_the_probe_measures_how_far_the_device_clock_is_from_the_servers(
    store: Store, server_app: Any
) -> None:
    factory = lambda url: in_process_client(server_app)  # noqa: E731
    sync_view.register(store, "http://testserver", "somchai", PASSWORD, "laptop", factory)
    right = sync_view.probe(store, factory)
    behind = sync_view.probe(store, factory, clock=lambda: time.time() - 3 * 86400)
    assert right.clock_offset is not None
    assert abs(right.clock_offset) < 5
    assert not sync_view.clock_is_off(right.clock_offset)
    assert behind.clock_offset is not None
    assert abs(behind.clock_offset - 3 * 86400) < 5
    assert sync_view.clock_is_off(behind.clock_offset)


@pytest.mark.parametrize("server_time", ["yesterday", "2026-11-23T06:00:00"])
def test_a_server_time_without_a_zone_or_unreadable_measures_nothing(
    store: Store, server_time: str
) -> None:
    info = {"protocol": 5, "push_forms": [3], "pull_forms": [5], "max_batch": 1000}
    info |= {"max_body_bytes": 1, "max_page": 1, "max_chunk_bytes": 1, "server_time": server_time}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=info)

    factory = lambda url: httpx.Client(  # noqa: E731
        transport=httpx.MockTransport(handler), base_url=url
    )
    with store.remote_session() as session:
        session.merge(SyncState(key="server_url", value="http://sync.example"))
    found = sync_view.probe(store, factory)
    assert found.reachable
    assert found.clock_offset is None


# -- the device's office comes from the account ---------------------------------------------


def _factory(server_app: Any) -> Any:
    return lambda url: in_process_client(server_app)


def _account(server_app: Any, name: str, role: Any, offices: list[str]) -> None:
    ctx = server_app.state.ctx
    admin.create_user(ctx.engine, ctx.hasher, name, PASSWORD, role, offices)


def test_a_caseworker_of_another_office_works_for_it_and_syncs_without_refusals(
    store: Store, server_app: Any
) -> None:
    from sync.protocol import Role

    _account(server_app, "bob", Role.CASEWORKER, ["TAK-02"])
    sync_view.register(store, "http://testserver", "bob", PASSWORD, "laptop", _factory(server_app))
    assert store.office == "TAK-02"
    person = _person_of_store(store)

    summary = sync_view.run_sync(store, _factory(server_app))

    assert (summary.ok, summary.rejected, summary.failed, summary.refused) == (True, 0, 0, [])
    assert person.office == "TAK-02"
    view = sync_view.overview(store)
    assert (view.office, view.offices) == ("TAK-02", ("TAK-02",))


def _person_of_store(store: Store) -> Any:
    from desktop.services import people

    made = people.create_person(store, people.PersonInput(names=[people.NameInput("Min Thu")]))
    with store.read() as session:
        person = session.get(Person, made.person_id)
        assert person is not None
        session.expunge(person)
        return person


def test_a_coordinator_keeps_the_current_office_if_hers_else_gets_her_first(
    store: Store, server_app: Any, tmp_path: Any
) -> None:
    from desktop.models.store import create_store
    from sync.protocol import Role

    _account(server_app, "cora", Role.COORDINATOR, ["TAK-03", "TAK-02"])
    store.set_setting("office", "TAK-03")
    sync_view.register(store, "http://testserver", "cora", PASSWORD, "one", _factory(server_app))
    assert store.office == "TAK-03"
    with create_store(tmp_path / "other", "correct horse battery") as other:
        assert other.office == "TAK-01"  # a new store's office, not one of cora's
        sync_view.register(
            other, "http://testserver", "cora", PASSWORD, "two", _factory(server_app)
        )
        assert other.office == "TAK-02"
        assert sync_view.set_office(other, " TAK-03 ") == "TAK-03"
        assert other.office == "TAK-03"


def test_an_office_outside_the_account_cannot_be_chosen(store: Store, server_app: Any) -> None:
    sync_view.register(store, "http://testserver", "somchai", PASSWORD, "l", _factory(server_app))
    with pytest.raises(UserError) as outside:
        sync_view.set_office(store, "TAK-02")
    assert outside.value.code == "sync.office_out_of_scope"
    assert outside.value.params == {"office": "TAK-02", "offices": "TAK-01"}
    with pytest.raises(UserError) as empty:
        sync_view.set_office(store, "  ")
    assert empty.value.code == "sync.office_required"
    assert store.office == "TAK-01"


def test_registering_with_an_unreachable_server_says_the_device_is_not_registered(
    store: Store,
) -> None:
    """Nothing waits to register later: the message may not promise that work will sync
    by itself once the connection is back."""

    def offline(url: str) -> httpx.Client:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("network is unreachable")

        return httpx.Client(transport=httpx.MockTransport(refuse))

    with pytest.raises(UserError) as caught:
        sync_view.register(store, "http://127.0.0.1:8799", "somchai", PASSWORD, "pc", offline)
    said = caught.value.translated("en")
    assert said.startswith("The sync server http://127.0.0.1:8799 cannot be reached")
    assert "not registered" in said
    assert "will sync" not in said
    assert not sync_view.overview(store).registered


def test_before_registration_the_office_waits_for_the_account(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.set_office(store, "TAK-02")
    assert caught.value.code == "sync.office_unknown_scope"
    assert sync_view.overview(store).offices == ("TAK-01",)
    assert sync_view.set_office(store, "TAK-01") == "TAK-01"


def test_an_account_of_every_office_keeps_its_office_and_may_choose_any(
    store: Store, server_app: Any
) -> None:
    from sync.protocol import Role

    _account(server_app, "root", Role.ADMIN, ["*"])
    sync_view.register(store, "http://testserver", "root", PASSWORD, "l", _factory(server_app))
    assert store.office == "TAK-01"
    assert sync_view.set_office(store, "KRI-01") == "KRI-01"
    assert sync_view.overview(store).offices == ("KRI-01",)


def test_without_a_protected_keyring_the_server_never_hears_of_the_device(
    store: Store, server_app: Any
) -> None:
    from keyring.backends import fail

    from desktop.models.secret_store import SecretStore

    no_keyring = SecretStore(backend=fail.Keyring())
    with pytest.raises(UserError) as caught:
        sync_view.register(
            store, "http://testserver", "somchai", PASSWORD, "l", _factory(server_app), no_keyring
        )
    assert caught.value.code == "sync.no_keyring"
    assert admin.list_devices(server_app.state.ctx.engine, "somchai") == []
    assert not sync_view.is_registered(store)


@pytest.mark.parametrize(
    ("error", "key", "params"),
    [
        ("unreachable: ConnectError", "sync.reason.unreachable", {}),
        ("unreachable: ReadTimeout", "sync.reason.timeout", {}),
        ("errno 120: office outside your scope", "sync.reason.out_of_scope", {}),
        ("errno 112: device revoked", "sync.reason.revoked", {}),
        ("errno 201: busy", "sync.reason.busy", {}),
        ("errno 199: something new", "sync.reason.other", {"errno": 199}),
        (  # one change alone bigger than the server takes: the change's own detail
            "errno 106: bigger than the server takes",
            "sync.reason.too_big",
            {"entity": "note", "field": "*", "reason": "bigger than the server takes"},
        ),
        ("something odd", "sync.reason.other", {"errno": "?"}),
        (
            "errno 105: person_name.family_name: longer than 200",
            "sync.reason.too_long",
            {"entity": "person_name", "field": "family_name", "reason": "longer than 200"},
        ),
        (
            "errno 104: person.*: expected an object of fields",
            "sync.reason.bad_value",
            {"entity": "person", "field": "*", "reason": "expected an object of fields"},
        ),
        (
            "errno 103: person.nickname: unknown field",
            "sync.reason.unknown_detail",
            {"entity": "person", "field": "nickname", "reason": "unknown field"},
        ),
        # per-change refusals carry no message: the change's own detail is named
        ("errno 140", "sync.reason.append_only", {"entity": "note", "field": "*", "reason": ""}),
    ],
)
def test_stored_sync_errors_read_as_translated_reasons(
    error: str, key: str, params: dict[str, Any]
) -> None:
    from desktop.services import sync as core

    assert core.reason(error, "note", "*") == (key, params)


@pytest.mark.parametrize(
    ("error", "english"),
    [
        (
            "errno 105: person_name.family_name: longer than 200",
            "Name: family name is longer than the server accepts; shorten it in the case file,"
            " then press “Retry them”",
        ),
        (
            "errno 107: person.*: office required",
            "the server cannot accept this value of Person: new record (office required);"
            " tell your coordinator",
        ),
        (
            "errno 103: person.line_id: unknown field",
            "the server does not know Person: LINE ID: it runs an older version of Sapan; ask"
            " for it to be updated, then press “Retry them”",
        ),
        (
            "errno 140",
            "Note: new record is kept on the server as first written and cannot be changed;"
            " write a new note to correct it, or tell your coordinator",
        ),
    ],
)
def test_a_change_refused_for_its_value_says_which_detail_and_what_to_do(
    error: str, english: str
) -> None:
    from desktop.domain import i18n

    assert sync_view.reason_text(error, i18n.text, "note", "*") == english
    thai = sync_view.reason_text(error, lambda key, **params: i18n.text(key, "th", **params))
    assert "{" not in thai
    assert thai != english


def test_an_attachments_own_problem_is_shown_as_it_was_kept() -> None:
    def translate(key: str, **params: Any) -> str:
        return f"<{key}>"

    assert sync_view.reason_text("scan.pdf: file missing", translate) == "scan.pdf: file missing"
    assert sync_view.reason_text("errno 120: x", translate) == "<sync.reason.out_of_scope>"


def test_work_done_before_registration_moves_to_the_accounts_office(
    store: Store, server_app: Any
) -> None:
    """A caseworker of Mae Sot sets the app up and records a worker offline before the
    first connection: the store's default office (TAK-01) is outside the account, and the
    server would refuse every row. Registration moves the rows never sent to MS."""
    from desktop.models.entities import Case
    from desktop.services import cases, people
    from sync.protocol import Role

    ctx = server_app.state.ctx
    admin.create_user(ctx.engine, ctx.hasher, "moe", PASSWORD, Role.CASEWORKER, ["MS"])
    assert store.office == "TAK-01"
    made = people.create_person(
        store, people.PersonInput(names=[people.NameInput("Aung", "latin")])
    )
    cases.open_case(store, made.person_id)
    factory = lambda url: in_process_client(server_app)  # noqa: E731

    sync_view.register(store, "http://testserver", "moe", PASSWORD, "laptop", factory)
    summary = sync_view.run_sync(store, factory)

    assert summary.ok
    assert (summary.failed, summary.refused) == (0, [])
    assert store.office == "MS"
    with store.read() as session:
        assert session.get(Person, made.person_id).office == "MS"
        assert {c.office for c in session.scalars(select(Case))} == {"MS"}
    with ctx.engine.connect() as conn:
        offices = conn.execute(
            text("SELECT DISTINCT office FROM changes WHERE row_id = :id"),
            {"id": made.person_id},
        ).scalars()
        assert set(offices) == {"MS"}


def test_work_done_before_registration_keeps_its_creation_events(
    store: Store, server_app: Any
) -> None:
    """The creation events of rows made before registration are never queued (other
    devices derive them), so moving the rows must move them too: left in TAK-01, the first
    pull removed them as rows of an office the account does not have, and the laptop that
    made the case no longer said who opened it, nor when."""
    from desktop.models.entities import AuditEvent, Case
    from desktop.services import cases, people
    from sync.protocol import Role

    _account(server_app, "moe", Role.CASEWORKER, ["MS"])
    made = people.create_person(store, people.PersonInput(names=[people.NameInput("Aung")]))
    case_id = cases.case_id_for(store, cases.open_case(store, made.person_id))

    sync_view.register(store, "http://testserver", "moe", PASSWORD, "laptop", _factory(server_app))
    summary = sync_view.run_sync(store, _factory(server_app))

    assert (summary.ok, summary.failed, summary.removed_rows) == (True, 0, 0)
    trail = cases.audit_trail(store, [case_id])
    assert ("case.created", "moe") in {(action, user) for _at, action, user in trail}
    with store.read() as session:
        assert session.get(Case, case_id) is not None
        assert set(session.scalars(select(AuditEvent.office))) == {"MS"}


def test_a_pulls_expected_rows_follow_the_log_up_to_its_head() -> None:
    from desktop.services.sync import expected_rows
    from sync import protocol as p

    def page(cursor: int, more: bool, head: int | None) -> p.PullPage:
        return p.PullPage(
            since=0, cursor=cursor, more=more, rows=[], merges=[], conflicts=[], head=head
        )

    assert expected_rows(300, 100, page(400, True, 1_300)) == 1_200  # a quarter of the way
    assert expected_rows(300, 100, page(400, True, None)) == 0  # a server before form 7
    assert expected_rows(0, 100, page(400, True, 1_300)) == 0  # nothing of ours yet
    assert expected_rows(512, 100, page(1_300, False, 1_300)) == 512  # the last page: exact
    assert expected_rows(300, 100, page(100, True, 1_300)) == 0  # no seq read yet
