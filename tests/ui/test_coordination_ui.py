"""A coordinator at work in the app, against a real sync server running in-process: the
Duplicates page merges and undoes, the Sync page settles a conflict; a caseworker sees
the same lists without the buttons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.models.entities import Person
from desktop.models.store import Store
from desktop.services import people, sync_view
from desktop.ui.context import AppContext
from desktop.ui.duplicates_page import DuplicatesPage
from desktop.ui.sync_worker import Phase, SyncWorker
from sync.protocol import Role
from tests.coordination import (
    Factory,
    add_account,
    conflicting_birth_dates,
    make_person,
    merged_then_cases_merged,
    new_device,
    register,
    synced,
)
from tests.fakes import FakeDialogs
from tests.ui.conftest import drain, open_sync_page


@pytest.fixture
def field_laptop(tmp_path: Path, server_http: Factory) -> Any:
    """The caseworker's device (somchai, TAK-01), beside the one the app runs on."""
    store = new_device(tmp_path / "field", "somchai", server_http)
    yield store
    store.close()


def _worker(ctx: AppContext, server_http: Factory) -> SyncWorker:
    return SyncWorker(ctx, http_factory=server_http, backoff=sync_view.Backoff(rand=lambda: 1.0))


def _wait_synced(qtbot: QtBot, ctx: AppContext, worker: SyncWorker) -> None:
    qtbot.waitUntil(lambda: not worker.running, timeout=20_000)
    drain(qtbot, ctx)
    assert worker.state.phase is Phase.IDLE, worker.state


def _select(view: Any, row: int) -> None:
    view.selectRow(row)


def _duplicates(
    qtbot: QtBot, ctx: AppContext, server_http: Factory
) -> tuple[DuplicatesPage, SyncWorker]:
    worker = _worker(ctx, server_http)
    page = DuplicatesPage(ctx, worker)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    drain(qtbot, ctx)
    return page, worker


def test_a_coordinator_merges_a_pair_and_undoes_it(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    field_laptop: Store,
    dialogs: FakeDialogs,
) -> None:
    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01"])
    register(store, "nok", server_http)
    kept = make_person(field_laptop, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(field_laptop, "Aung Aung Oo", "1990-01-02", "MA1234567")
    synced(field_laptop, server_http)
    synced(store, server_http)
    page, worker = _duplicates(qtbot, ctx, server_http)

    assert page.pair_model.rowCount() == 1
    assert page.tabs.tabText(0) == "People (1)"
    assert page.tabs.tabText(1) == "Cases of one person (0)"
    texts = [page.pair_model.data(page.pair_model.index(0, c)) for c in range(3)]
    assert texts[2] == "Same document Passport MA1234567"
    assert "Passport MA1234567" in texts[0]
    assert not page.merge_into_first.isEnabled(), "nothing chosen yet"
    assert page.role_label.isHidden()
    _select(page.pair_view, 0)
    assert page.merge_into_first.isEnabled()
    first_is_kept = page.pair_model.row_at(0).first.person_id == kept
    button = page.merge_into_first if first_is_kept else page.merge_into_second

    button.click()
    drain(qtbot, ctx)
    _wait_synced(qtbot, ctx, worker)

    assert "Merge Aung Aung Oo" in dialogs.questions[-1]
    # the page's "first" and "second" are its columns: the question does not reuse them
    assert "moves to the person kept" in dialogs.questions[-1]
    assert "the first" not in dialogs.questions[-1]
    assert page.tabs.tabText(1) == "Cases of one person (0)", "neither had a case"
    assert dialogs.errors == []
    assert "Merged on the server" in dialogs.infos[-1]
    with store.read() as session:
        assert session.get(Person, extra).merged_into == kept, "the sync brought the merge"
    assert page.pair_model.rowCount() == 0
    assert page.merge_model.rowCount() == 1
    merge_row = [page.merge_model.data(page.merge_model.index(0, c)) for c in range(4)]
    # B's names now hang from A: B is named by the names its merge moved
    assert merge_row == ["Aung Aung Oo", "Aung Aung", "nok", "merged"]

    _select(page.merge_view, 0)
    page.undo_button.click()
    drain(qtbot, ctx)
    _wait_synced(qtbot, ctx, worker)

    assert "Undo the merge of Aung Aung Oo into Aung Aung" in dialogs.questions[-1]
    # what undo does not take back, said before it is done (a coordinator's finding)
    assert (
        "edited after the merge (a phone, a date) were written on Aung Aung"
        in (dialogs.questions[-1])
    )
    with store.read() as session:
        assert session.get(Person, extra).merged_into is None
    assert page.merge_model.data(page.merge_model.index(0, 3)) == "undone"
    _select(page.merge_view, 0)
    assert not page.undo_button.isEnabled(), "an undone merge cannot be undone again"


def test_an_undo_that_a_later_merge_builds_on_says_which_to_undo_first(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    dialogs: FakeDialogs,
) -> None:
    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01"])
    register(store, "nok", server_http)
    kept, extra, _people, later = merged_then_cases_merged(store, store, server_http)
    page, _worker = _duplicates(qtbot, ctx, server_http)
    people_row = [m.entity for m in page.merge_model.rows].index("person")

    _select(page.merge_view, people_row)
    page.undo_button.click()
    drain(qtbot, ctx)

    assert f"{later.source_name} → {later.target_name}" in dialogs.errors[-1]
    assert "Undo them first" in dialogs.errors[-1]
    assert page.merge_model.data(page.merge_model.index(people_row, 3)) == "merged"
    with store.read() as session:
        assert session.get(Person, extra).merged_into == kept


def test_saying_no_merges_nothing(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    dialogs: FakeDialogs,
) -> None:
    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01"])
    register(store, "nok", server_http)
    make_person(store, "Aung Aung", "1990-01-02", "MA1234567")
    make_person(store, "Aung Aung Oo", "1990-01-02", "MA1234567")
    synced(store, server_http)
    page, worker = _duplicates(qtbot, ctx, server_http)
    _select(page.pair_view, 0)
    dialogs.confirm_answer = False

    page.merge_into_second.click()
    drain(qtbot, ctx)

    assert len(dialogs.questions) == 1
    assert dialogs.infos == []
    assert not worker.running
    assert page.merge_model.rowCount() == 0
    with server_app.state.ctx.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM merges")).scalar_one() == 0


def test_merging_people_of_two_offices_says_what_the_other_office_keeps(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    dialogs: FakeDialogs,
) -> None:
    """A coordinator of two offices merged a TAK-02 record into a TAK-01 one: the TAK-02
    caseworker kept the case file but lost the person (a finding; what should happen is a
    product question). The question now says so before anything is merged."""
    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01", "TAK-02"])
    register(store, "nok", server_http)
    make_person(store, "Aung Aung", "1990-01-02", "MA1234567")
    other = make_person(store, "Aung Aung Oo", "1990-01-02", "MA1234567")
    with store.session() as session:
        session.get(Person, other).office = "TAK-02"
    page, _worker = _duplicates(qtbot, ctx, server_http)
    _select(page.pair_view, 0)
    dialogs.confirm_answer = False

    page.merge_into_first.click()  # the TAK-02 record into the TAK-01 one

    [question] = dialogs.questions
    assert question.endswith(
        "They belong to different offices: the person kept stays in TAK-01. Laptops of"
        " TAK-02 keep their case files but will no longer show this person's details."
    ), question


def test_a_caseworker_sees_the_pairs_but_cannot_merge(
    qtbot: QtBot, ctx: AppContext, store: Store, server_http: Factory
) -> None:
    register(store, "somchai", server_http)
    make_person(store, "Aung Aung", "1990-01-02")
    make_person(store, "aung aung", "1990-01-02")
    page, _worker = _duplicates(qtbot, ctx, server_http)

    assert page.pair_model.rowCount() == 1
    why = page.pair_model.index(0, 2)
    # the birth date as the rest of the row shows it: the Buddhist Era year in Thai
    assert page.pair_model.data(why) == "Same name and birth date (02/01/1990)"
    ctx.language.set_language("th")
    assert page.pair_model.data(why) == "ชื่อและวันเกิดเดียวกัน (02/01/2533)"
    assert "02/01/2533" in page.pair_model.data(page.pair_model.index(0, 0))
    ctx.language.set_language("en")
    _select(page.pair_view, 0)
    assert not page.role_label.isHidden()
    assert "Only a coordinator can merge" in page.role_label.text()
    assert not page.merge_into_first.isEnabled()
    assert not page.merge_into_second.isEnabled()
    page.merge(into_first=True)  # even if asked directly
    assert ctx.ops.busy is False


def test_a_promoted_caseworker_gets_the_buttons_when_the_page_opens(
    qtbot: QtBot, ctx: AppContext, store: Store, server_app: Any, server_http: Factory
) -> None:
    register(store, "somchai", server_http)
    make_person(store, "Aung Aung", "1990-01-02")
    make_person(store, "aung aung", "1990-01-02")
    engine = server_app.state.ctx.engine
    with engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE accounts SET role = 'coordinator' WHERE username = 'somchai'"))

    page, _worker = _duplicates(qtbot, ctx, server_http)
    drain(qtbot, ctx)  # the role, asked after the lists

    _select(page.pair_view, 0)
    assert page.role_label.isHidden()
    assert page.merge_into_first.isEnabled()


def _conflict_seen_by_coordinator(
    store: Store, server_app: Any, field_laptop: Store, tmp_path: Path, server_http: Factory
) -> tuple[str, str]:
    """The app's store registered as coordinator nok, holding one open conflict."""
    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01"])
    register(store, "nok", server_http)
    found = conflicting_birth_dates(field_laptop, tmp_path / "second", server_http)
    synced(store, server_http)
    return found


def _settle(qtbot: QtBot, ctx: AppContext, worker: SyncWorker, button: Any) -> None:
    """Click the selected conflict's keep or flip button; wait for the sync it starts."""
    button.click()
    drain(qtbot, ctx)
    _wait_synced(qtbot, ctx, worker)


def test_a_coordinator_settles_a_conflict_from_the_sync_page(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    field_laptop: Store,
    tmp_path: Path,
    dialogs: FakeDialogs,
) -> None:
    person, number = _conflict_seen_by_coordinator(
        store, server_app, field_laptop, tmp_path, server_http
    )
    worker = _worker(ctx, server_http)
    page = open_sync_page(qtbot, ctx, worker)

    model = page.conflict_model
    assert model.rowCount() == 1
    row = [model.data(model.index(0, c)) for c in range(4)]
    assert row[:2] == [f"Aung Aung · {number}", "Person: birth date"]
    assert row[2].startswith("02/01/1991 (somchai, ")
    assert row[3].startswith("01/02/1990 (somchai, ")
    assert page.flip_button.isVisible() or not page.isVisible()
    assert not page.flip_button.isHidden()
    assert not page.flip_button.isEnabled()
    _select(page.conflict_view, 0)

    conflict = model.row_at(0)
    assert conflict.case_id is not None
    with qtbot.waitSignal(page.case_opened) as opened:  # to see the row in its case file
        page.conflict_view.activated.emit(model.index(0, 1))
    assert opened.args == [conflict.case_id, conflict.place]
    assert conflict.place.tab == "person"  # a birth date

    _settle(qtbot, ctx, worker, page.flip_button)

    assert (
        dialogs.questions[-1]
        == "Make “01/02/1990” the Person: birth date of Aung Aung, on every device?"
    )
    assert dialogs.errors == []
    assert "Settled on the server" in dialogs.infos[-1]
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=10_000)
    with store.read() as session:
        assert session.get(Person, person).birth_date == "1990-02-01"


def test_a_value_changed_since_the_conflict_is_shown_and_is_what_keeping_keeps(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    field_laptop: Store,
    tmp_path: Path,
    dialogs: FakeDialogs,
) -> None:
    """The birth date changed again after the conflict: the column named the value in
    force when it was found, and "keep" asked to make that one the birth date, while a
    later value stayed in force (seen by a coordinator with three caseworkers)."""
    person, _number = _conflict_seen_by_coordinator(
        store, server_app, field_laptop, tmp_path, server_http
    )
    synced(field_laptop, server_http)
    people.update_person(field_laptop, person, birth_date="1989-03-03")
    synced(field_laptop, server_http)
    synced(store, server_http)
    worker = _worker(ctx, server_http)
    page = open_sync_page(qtbot, ctx, worker)

    model = page.conflict_model
    shown = model.data(model.index(0, 2))
    assert shown.startswith("03/03/1989 (changed since; was 02/01/1991 (somchai, "), shown
    _select(page.conflict_view, 0)
    _settle(qtbot, ctx, worker, page.keep_button)

    assert dialogs.questions[-1] == (
        "Make “03/03/1989” the Person: birth date of Aung Aung, on every device?"
    )
    assert dialogs.errors == []
    with store.read() as session:
        assert session.get(Person, person).birth_date == "1989-03-03"


def test_an_unreachable_server_leaves_the_conflict_open_with_a_clear_error(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    field_laptop: Store,
    tmp_path: Path,
    dialogs: FakeDialogs,
) -> None:
    _conflict_seen_by_coordinator(store, server_app, field_laptop, tmp_path, server_http)

    def offline(url: str) -> Any:
        import httpx

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("network is unreachable")

        return httpx.Client(transport=httpx.MockTransport(refuse))

    page = open_sync_page(qtbot, ctx, _worker(ctx, offline))
    _select(page.conflict_view, 0)

    page.keep_button.click()
    drain(qtbot, ctx)

    assert len(dialogs.errors) == 1
    assert "cannot be reached" in dialogs.errors[0]
    page.refresh()
    drain(qtbot, ctx)
    assert page.conflict_model.rowCount() == 1, "still open"


def test_a_coordinator_merges_the_two_cases_a_person_has(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    server_app: Any,
    server_http: Factory,
    dialogs: FakeDialogs,
) -> None:
    from desktop.models.entities import Case
    from desktop.services import cases

    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01"])
    register(store, "nok", server_http)
    person = make_person(store, "Aung Aung", "1990-01-02")
    cases.open_case(store, person)
    cases.open_case(store, person)
    synced(store, server_http)
    page, worker = _duplicates(qtbot, ctx, server_http)
    assert page.tabs.tabText(1) == "Cases of one person (1)"
    page.tabs.setCurrentIndex(1)
    assert not page.merge_into_first.isEnabled()
    _select(page.case_view, 0)
    pair = page.case_model.row_at(0)
    with qtbot.waitSignal(page.case_opened) as opened:
        page.case_view.activated.emit(page.case_model.index(0, 1))
    assert opened.args == [pair.first.id]
    row = [page.case_model.data(page.case_model.index(0, c)) for c in range(3)]
    assert row[0] == "Aung Aung"
    assert row[1].startswith(pair.first.number)

    page.merge_into_first.click()
    drain(qtbot, ctx)
    _wait_synced(qtbot, ctx, worker)

    assert dialogs.questions[-1].startswith(f"Merge case {pair.second.number}")
    assert "move to the case kept" in dialogs.questions[-1]
    assert "the second" not in dialogs.questions[-1], "the button said: keep the first"
    assert dialogs.errors == []
    with store.read() as session:
        assert session.get(Case, pair.second.id).merged_into == pair.first.id
    assert page.case_model.rowCount() == 0
    assert page.merge_model.data(page.merge_model.index(0, 1)) == f"{pair.first.number} Aung Aung"
