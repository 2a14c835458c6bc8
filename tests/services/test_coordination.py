"""A coordinator's work from a device, against a real sync server running in-process:
conflicts shown with their person and settled, duplicates found, merges made and undone,
and every refusal a clear error that changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.models.entities import Case, Person, PersonName
from desktop.models.store import Store
from desktop.models.sync_records import SyncConflict, SyncMerge
from desktop.services import cases, coordination, people, search
from sync import protocol as p
from sync.client.http import MERGE_BUSY_ASKS
from sync.protocol import Role
from sync.server.errors import ApiError
from tests.coordination import (
    Factory,
    add_account,
    case_of,
    conflicting_birth_dates,
    kept_conflict,
    make_person,
    merged_then_cases_merged,
    new_device,
    register,
    synced,
)


@pytest.fixture
def caseworker(store: Store, server_http: Factory) -> Store:
    return register(store, "somchai", server_http)


@pytest.fixture
def coordinator(tmp_path: Path, server_app: Any, server_http: Factory) -> Iterator[Store]:
    add_account(server_app, "nok", Role.COORDINATOR, ["TAK-01"])
    store = new_device(tmp_path / "office-pc", "nok", server_http)
    yield store
    store.close()


def test_registration_keeps_the_account_role(caseworker: Store, coordinator: Store) -> None:
    assert coordination.account_role(caseworker) == "caseworker"
    assert not coordination.may_coordinate(caseworker)
    assert coordination.account_role(coordinator) == "coordinator"
    assert coordination.may_coordinate(coordinator)


def test_the_role_is_asked_again_and_kept_as_it_was_offline(
    coordinator: Store, server_http: Factory
) -> None:
    coordinator.set_setting(coordination.ROLE_SETTING, None)  # registered by an older app
    assert coordination.refresh_role(coordinator, server_http) == "coordinator"
    assert coordination.may_coordinate(coordinator)
    assert coordination.refresh_role(coordinator, lambda url: _offline()) == "coordinator"


def test_duplicates_by_document_and_by_name_and_birth_date(store: Store) -> None:
    first = make_person(store, "Aung Aung", "1990-01-02", "MA1234567")
    same_passport = make_person(store, "Aung Aung Oo", "1991-05-05", "MA1234567")
    same_name = make_person(store, "aung  AUNG", "1990-01-02")
    make_person(store, "Aung Aung", "1990")  # a year only: too vague to pair
    make_person(store, "Mo", "1985-03-04")
    make_person(store, "Mo", "1985-03-04")  # too short a name to call two people one
    make_person(store, "Thida", "1992-02-02", "MB7654321")

    found = coordination.duplicate_people(store)

    pairs = {(d.reason, d.first.person_id, d.second.person_id, d.detail) for d in found}
    assert pairs == {
        ("document", *sorted((first, same_passport)), "passport:MA1234567"),
        ("name_birth_date", *sorted((first, same_name)), "1990-01-02"),
    }
    assert found[0].reason == "document", "a shared document first: the surest sign"
    by_id = {d.first.person_id: d.first for d in found} | {
        d.second.person_id: d.second for d in found
    }
    assert by_id[first].display_name == "Aung Aung"
    assert by_id[first].documents == ("passport:MA1234567",)
    assert by_id[first].birth_date == "1990-01-02"


def test_a_burmese_name_kept_in_zawgyi_pairs_with_the_same_name_in_unicode(store: Store) -> None:
    """One caseworker typed Kyaw Kyaw in Unicode, another on a Zawgyi keyboard and kept
    it as typed: the list missed the pair, and a search in Unicode missed the second."""
    unicode_typed = make_person(store, "Kyaw Kyaw", "1985-03-03", native="ကျော်ကျော်")
    zawgyi_typed = make_person(store, "K. Kyaw", "1985-03-03", native="ေက်ာ္ေက်ာ္")
    make_person(store, "Ko Ko", "1985-03-03", native="ကိုကို")  # another name: no pair

    found = coordination.duplicate_people(store)

    assert {(d.reason, d.first.person_id, d.second.person_id) for d in found} == {
        ("name_birth_date", *sorted((unicode_typed, zawgyi_typed)))
    }
    hits = {hit.person_id for hit in search.search(store, "ကျော်ကျော်")}
    assert hits == {unicode_typed, zawgyi_typed}


def test_a_pair_merged_here_is_not_offered_again_before_the_next_sync(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    """Merged from this laptop (by the command, or the page): the pair stayed on the list
    until a sync brought the merged-away person's ``merged_into``, and merging it again
    was refused as already merged."""
    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    cases.open_case(caseworker, kept)
    cases.open_case(caseworker, extra)
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    assert len(coordination.duplicate_people(coordinator)) == 1

    coordination.merge(coordinator, "person", extra, kept, server_http)

    assert coordination.duplicate_people(coordinator) == []
    assert coordination.duplicate_cases(coordinator) == [], "B's case: not A's before a sync"
    synced(coordinator, server_http)
    assert coordination.duplicate_people(coordinator) == []
    assert len(coordination.duplicate_cases(coordinator)) == 1, "now A's two cases"


def test_merge_moves_the_case_file_and_undo_gives_it_back(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    cases.open_case(caseworker, extra)
    case_id = case_of(caseworker, extra)
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    pair = coordination.duplicate_people(coordinator)[0]
    assert {pair.first.person_id, pair.second.person_id} == {kept, extra}

    merged = coordination.merge(coordinator, "person", extra, kept, server_http)

    assert (merged.source_name, merged.target_name, merged.merged_by) == (
        "Aung Aung Oo",
        "Aung Aung",
        "nok",
    )
    assert [m.id for m in coordination.merges(coordinator)] == [merged.id], "kept at once"
    synced(coordinator, server_http)
    synced(caseworker, server_http)
    for device in (coordinator, caseworker):
        with device.read() as session:
            assert session.get(Person, extra).merged_into == kept
            assert session.get(Case, case_id).person_id == kept, (
                "B's case now hangs from A on every device"
            )
    assert coordination.duplicate_people(coordinator) == []

    undone = coordination.undo_merge(coordinator, merged.id, server_http)

    assert undone.undone
    synced(coordinator, server_http)
    with coordinator.read() as session:
        assert session.get(Person, extra).merged_into is None
        assert session.get(Case, case_id).person_id == extra
    assert coordination.duplicate_people(coordinator) == [], "undo said: two people"
    with pytest.raises(UserError) as twice:
        coordination.undo_merge(coordinator, merged.id, server_http)
    assert twice.value.code == "coordination.not_found"


def test_undoing_a_merge_that_a_later_one_builds_on_names_the_later_one(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    kept, extra, people, later = merged_then_cases_merged(caseworker, coordinator, server_http)

    with pytest.raises(UserError) as refused:
        coordination.undo_merge(coordinator, people.id, server_http)

    assert refused.value.code == "coordination.undo_later_first"
    text = refused.value.english()
    assert f"{later.source_name} → {later.target_name}" in text, text
    with coordinator.read() as session:
        number = session.get(Case, later.source_id).number
    assert later.source_name.startswith(number), "a case is named by its number"
    synced(coordinator, server_http)
    with coordinator.read() as session:
        assert session.get(Person, extra).merged_into == kept, "nothing was undone"
    coordination.undo_merge(coordinator, later.id, server_http)
    assert coordination.undo_merge(coordinator, people.id, server_http).undone


def _merge_twins(
    caseworker: Store,
    coordinator: Store,
    factory: Factory,
    extra: str = "Aung Aung",
    native: tuple[str | None, str | None] = (None, None),
) -> tuple[str, str, coordination.Merge]:
    """The same worker recorded twice (one passport) by the caseworker, synced to the
    coordinator, who merges the second into the first: (kept, extra, the merge)."""
    kept_id = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567", native[0])
    extra_id = make_person(caseworker, extra, "1990-01-02", "MA1234567", native[1])
    synced(caseworker, factory)
    synced(coordinator, factory)
    merged = coordination.merge(coordinator, "person", extra_id, kept_id, factory)
    return kept_id, extra_id, merged


def test_a_merged_away_person_is_named_on_every_device_after_the_merge_and_the_undo(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    """Once the merge has synced, B's names hang from A: the list still names B by them,
    as lists named B before (native name first), on the coordinator's device and on a
    device that only pulled the merge."""
    _kept, extra, merged = _merge_twins(
        caseworker, coordinator, server_http, native=("အောင်အောင်", "အောင်အောင်ဦး")
    )
    synced(coordinator, server_http)
    synced(caseworker, server_http)

    for device in (coordinator, caseworker):
        with device.read() as session:
            assert search.summaries(session, {extra})[extra].names == (), "B's hang from A"
        [listed] = coordination.merges(device)
        assert (listed.id, listed.source_name, listed.target_name) == (
            merged.id,
            "အောင်အောင်ဦး",
            "အောင်အောင်",
        )
    coordination.undo_merge(coordinator, merged.id, server_http)
    synced(coordinator, server_http)
    synced(caseworker, server_http)
    for device in (coordinator, caseworker):
        [listed] = coordination.merges(device)
        assert (listed.undone, listed.source_name, listed.target_name) == (
            True,
            "အောင်အောင်ဦး",
            "အောင်အောင်",
        )


def test_the_kept_person_keeps_its_own_name_in_the_list_once_the_merge_has_synced(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    """A had only a Latin name and B a Burmese one: once synced, A holds both, native
    first, yet the list still reads "B into A" by their own names, not B's twice."""
    kept, _extra, _merged = _merge_twins(
        caseworker, coordinator, server_http, "Aung Aung Oo", native=(None, "အောင်အောင်ဦး")
    )
    synced(coordinator, server_http)
    synced(caseworker, server_http)

    for device in (coordinator, caseworker):
        with device.read() as session:
            assert search.summaries(session, {kept})[kept].display_name == "အောင်အောင်ဦး"
        [listed] = coordination.merges(device)
        assert (listed.source_name, listed.target_name) == ("အောင်အောင်ဦး", "Aung Aung")


def test_a_merged_away_person_whose_only_name_repeated_the_kept_ones_is_named_by_it(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    """The merge retired B's name as a repeat of A's (deleted on A): it was B's name."""
    kept, _extra, _merged = _merge_twins(caseworker, coordinator, server_http)
    synced(caseworker, server_http)

    [listed] = coordination.merges(caseworker)

    with caseworker.read() as session:
        retired = session.scalars(select(PersonName).where(PersonName.deleted.is_(True))).one()
    assert retired.person_id == kept
    assert (listed.source_name, listed.target_name) == ("Aung Aung", "Aung Aung")


def test_a_device_whose_server_sends_no_moved_rows_names_b_by_its_id_as_before(
    caseworker: Store,
    coordinator: Store,
    server_http: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server before pull form 6 sends merge records without ``moved``: B, whose names
    hang from A once the merge has synced, gets no name (the page says it is part of A)."""
    _kept, extra, _merged = _merge_twins(caseworker, coordinator, server_http, "Aung Aung Oo")
    monkeypatch.setattr(p, "PULL_FORMS", (2, 3, 4, 5))  # what GET /v1/info now lists

    synced(caseworker, server_http)

    with caseworker.read() as session:
        assert session.scalars(select(SyncMerge.moved)).one() is None
    [listed] = coordination.merges(caseworker)
    assert (listed.source_id, listed.source_name, listed.target_name) == (
        extra,
        "",
        "Aung Aung",
    )


def test_a_caseworker_is_refused_and_loses_the_buttons(
    caseworker: Store, server_http: Factory, server_app: Any
) -> None:
    a = make_person(caseworker, "Aung Aung", "1990-01-02")
    b = make_person(caseworker, "Aung Aung", "1990-01-02")
    synced(caseworker, server_http)
    caseworker.set_setting(coordination.ROLE_SETTING, "coordinator")  # stale

    with pytest.raises(UserError) as refused:
        coordination.merge(caseworker, "person", b, a, server_http)

    assert refused.value.code == "coordination.not_coordinator"
    assert not coordination.may_coordinate(caseworker)
    assert coordination.merges(caseworker) == []
    with caseworker.read() as session:
        assert session.get(Person, b).merged_into is None


@pytest.mark.parametrize(
    ("entity", "same"), [("employer", False), ("person", True)], ids=["entity", "itself"]
)
def test_a_merge_the_server_could_not_make_is_refused_before_asking(
    caseworker: Store, entity: str, same: bool
) -> None:
    a = make_person(caseworker, "Aung Aung")
    with pytest.raises(UserError) as refused:
        coordination.merge(caseworker, entity, a, a if same else "x", _exploding)
    assert refused.value.code == "coordination.merge_invalid"


def test_a_merge_outside_the_coordinators_scope_is_refused(
    tmp_path: Path, server_app: Any, coordinator: Store, server_http: Factory
) -> None:
    add_account(server_app, "dara", Role.CASEWORKER, ["KAN-01"])
    elsewhere = new_device(tmp_path / "kan", "dara", server_http)
    a = make_person(elsewhere, "Sok Dara", "1990-01-02")
    b = make_person(elsewhere, "Sok Dara", "1990-01-02")
    synced(elsewhere, server_http)
    elsewhere.close()

    with pytest.raises(UserError) as refused:
        coordination.merge(coordinator, "person", b, a, server_http)

    assert refused.value.code in ("coordination.out_of_scope", "coordination.not_found")
    assert coordination.merges(coordinator) == []


def test_a_conflict_shows_its_person_and_case_and_flipping_puts_the_other_value_in_force(
    caseworker: Store, coordinator: Store, tmp_path: Path, server_http: Factory
) -> None:
    person, number = conflicting_birth_dates(caseworker, tmp_path / "second", server_http)
    synced(coordinator, server_http)

    [conflict] = coordination.conflicts(coordinator)

    assert (conflict.what, conflict.person_id, conflict.person_name, conflict.case_number) == (
        "person.birth_date",
        person,
        "Aung Aung",
        number,
    )
    assert conflict.case_id == case_of(coordinator, person), "a person's row: their case"
    assert (conflict.applied.value, conflict.other.value) == ("1991-01-02", "1990-02-01")
    assert conflict.applied.by == conflict.other.by == "somchai"
    assert conflict.applied.at is not None
    assert conflict.other.at is not None
    assert conflict.other.at <= conflict.applied.at

    status = coordination.resolve_conflict(coordinator, conflict.id, True, server_http)

    assert status == "flipped"
    assert coordination.conflicts(coordinator) == [], "no longer open on this device"
    [settled] = coordination.conflicts(coordinator, status=None)
    assert settled.resolved_by == "nok"
    synced(coordinator, server_http)
    synced(caseworker, server_http)
    for device in (coordinator, caseworker):
        with device.read() as session:
            assert session.get(Person, person).birth_date == "1990-02-01"
    with pytest.raises(UserError) as again:
        coordination.resolve_conflict(coordinator, conflict.id, False, server_http)
    assert again.value.code == "coordination.already_resolved"
    # this coordinator settled it: the message may not say someone else did
    assert again.value.translated("en").startswith("This conflict is already settled")


def test_confirming_keeps_the_value_in_force(
    caseworker: Store, coordinator: Store, tmp_path: Path, server_http: Factory
) -> None:
    person, _number = conflicting_birth_dates(caseworker, tmp_path / "second", server_http)
    synced(coordinator, server_http)
    [conflict] = coordination.conflicts(coordinator)

    assert (
        coordination.resolve_conflict(coordinator, conflict.id, False, server_http) == "confirmed"
    )

    synced(coordinator, server_http)
    with coordinator.read() as session:
        assert session.get(Person, person).birth_date == "1991-01-02"


def test_a_value_changed_since_the_conflict_is_the_one_keeping_keeps(
    caseworker: Store, coordinator: Store, tmp_path: Path, server_http: Factory
) -> None:
    """A coordinator found an older conflict after a later edit changed the birth date
    again: the list named the value in force when the conflict was found, and "keep" said
    it would make that one the birth date, while the later one stayed. The conflict now
    carries the value the row holds, and keeping keeps that one."""
    person, _number = conflicting_birth_dates(caseworker, tmp_path / "second", server_http)
    synced(caseworker, server_http)  # the second device's value, in force
    people.update_person(caseworker, person, birth_date="1989-03-03")  # seen it: no conflict
    synced(caseworker, server_http)
    synced(coordinator, server_http)

    [conflict] = coordination.conflicts(coordinator)

    assert conflict.in_force.value == "1991-01-02"
    assert conflict.now is not None
    assert conflict.now.value == "1989-03-03"
    assert coordination.side_text(conflict, conflict.now, _in("en")) == "1989-03-03"
    coordination.resolve_conflict(coordinator, conflict.id, False, server_http)
    synced(coordinator, server_http)
    with coordinator.read() as session:
        assert session.get(Person, person).birth_date == "1989-03-03"
    [settled] = coordination.conflicts(coordinator, status=None)
    assert settled.now is None, "settled: the decision is what it shows"


def test_a_value_still_in_force_is_not_said_to_have_changed_nor_a_flip_not_yet_pulled(
    caseworker: Store, coordinator: Store, tmp_path: Path, server_http: Factory
) -> None:
    conflicting_birth_dates(caseworker, tmp_path / "second", server_http)
    synced(coordinator, server_http)
    [conflict] = coordination.conflicts(coordinator)
    assert conflict.now is None
    coordination.resolve_conflict(coordinator, conflict.id, True, server_http)
    [flipped] = coordination.conflicts(coordinator, status=None)  # the row not synced yet
    assert (flipped.in_force.value, flipped.now) == ("1990-02-01", None)


@pytest.mark.parametrize("lang", ["en", "th"])
def test_a_deletion_in_dispute_reads_removed_or_not_not_true_or_false(
    store: Store, lang: str
) -> None:
    """A passport removed on one laptop while another edited it: "true" and "false" were
    all the coordinator read, in every language."""
    kept_conflict(
        store,
        "identity_document",
        SOME_ID,
        "deleted",
        {"value": True, "user_id": "chan"},
        {"value": False, "user_id": "bo"},
    )
    [conflict] = coordination.conflicts(store)
    applied = coordination.side_text(conflict, conflict.applied, _in(lang))
    other = coordination.side_text(conflict, conflict.other, _in(lang))
    assert (applied, other) == (
        _in(lang)("coordination.deleted.true"),
        _in(lang)("coordination.deleted.false"),
    )
    assert {"true", "false"}.isdisjoint({applied, other})


def _in(lang: str) -> Callable[..., str]:
    return lambda key, **params: i18n.text(key, lang, **params)


def _kept_step_conflict(
    store: Store,
    applied: dict[str, Any],
    other: dict[str, Any],
    field: str = "data",
    entity: str = "step",
) -> None:
    """A conflict on the data (or ``field``) of a step (or ``entity``) this device does not
    hold, as a pull keeps it."""
    kept_conflict(store, entity, "no-such-step", field, applied, other)


def test_a_conflict_on_a_row_this_device_lacks_still_lists(store: Store) -> None:
    _kept_step_conflict(
        store,
        {"value": {"a": 1}, "hlc": "garbage", "device_id": "d", "user_id": "x"},
        {"value": None, "hlc": "0001763812345678-0003-n", "device_id": "d"},
    )
    [conflict] = coordination.conflicts(store)
    assert (conflict.person_id, conflict.person_name, conflict.case_number) == (None, "", "")
    assert (conflict.applied.value, conflict.applied.at) == ('{"a": 1}', None)
    assert (conflict.other.value, conflict.other.by) == ("", "")
    assert conflict.other.at is not None


def test_a_conflict_on_step_data_shows_only_the_entries_in_dispute(store: Store) -> None:
    in_force = {"event_date": "2026-01-05", "hospital": "Tak", "days": "3"}
    _kept_step_conflict(
        store,
        {"value": in_force, "hlc": "0001763812345678-0003-n", "user_id": "b"},
        {"value": {**in_force, "hospital": "แม่สอด"}, "user_id": "a"},
    )
    [conflict] = coordination.conflicts(store)
    assert (conflict.applied.value, conflict.other.value) == (
        '{"hospital": "Tak"}',
        '{"hospital": "แม่สอด"}',
    )
    assert coordination.side_text(conflict, conflict.other, _in("th")) == "โรงพยาบาลตามสิทธิ: แม่สอด"


def test_a_step_entry_changed_since_is_shown_alone_and_one_not_held_says_nothing(
    store: Store,
) -> None:
    from desktop.models.entities import Step

    number = cases.open_case(store, make_person(store, "Aung Aung", "1990-01-02"))
    cases.start_track(store, number, cases.TrackInput("claim", ["file"], benefit="sickness"))
    with store.read() as session:
        step_id = session.scalars(select(Step.id)).one()
    cases.save_step(store, step_id, data={"hospital": "Mae Sot", "days": "3"})
    applied = {"value": {"hospital": "Tak", "days": "3"}, "user_id": "b"}
    other = {"value": {"hospital": "Mae Ramat", "days": "3"}}
    kept_conflict(store, "step", step_id, "data", applied, other)

    [conflict] = coordination.conflicts(store)

    assert conflict.now is not None
    assert conflict.now.entries == (("hospital", "Mae Sot"),)  # the entry in dispute alone
    with store.remote_session() as session:  # the same conflict on a row's entries not held
        session.get(SyncConflict, "c1").applied = {"value": {"ward": "2"}}
        session.get(SyncConflict, "c1").other = {"value": {"ward": "3"}}
    [conflict] = coordination.conflicts(store)
    assert conflict.now is None


def test_step_data_entries_are_named_by_their_step_field_and_dates_shown_as_the_ui_shows_them(
    store: Store,
) -> None:
    _kept_step_conflict(
        store,
        {"value": {"event_date": "2026-01-05", "days": "3", "x_custom": "2026"}, "user_id": "b"},
        {"value": {"event_date": "2026-01-04", "days": "4", "x_custom": "2025"}, "user_id": "a"},
    )
    [conflict] = coordination.conflicts(store)

    shown = coordination.side_text(conflict, conflict.applied, _in("en"), lambda d: f"<{d}>")

    assert shown.startswith("Date of the event: <2026-01-05>; ")  # as the wizard names it
    assert shown.endswith("; x_custom: 2026"), "no workflow names it; not a date"


def test_an_entry_of_a_step_field_only_the_workflow_names_reads_by_that_name(
    store: Store,
) -> None:
    """An appeal's grounds are named by the workflow's own label (``workflow.field.*``),
    as the wizard and the step editor name them, not by their stored key."""
    _kept_step_conflict(
        store,
        {"value": {"appeal_grounds": "ส่งเงินสมทบครบ"}, "user_id": "b"},
        {"value": {"appeal_grounds": "contributions paid"}, "user_id": "a"},
    )
    [conflict] = coordination.conflicts(store)
    shown = coordination.side_text(conflict, conflict.other, _in("en"))
    assert shown == _in("en")("workflow.field.appeal_grounds") + ": contributions paid"
    assert not shown.startswith("appeal_grounds")


def test_a_step_state_in_dispute_reads_as_the_ui_names_the_state(store: Store) -> None:
    """A step reopened while another device moved it on: both states by their names."""
    decided, reopened = {"value": "decided", "user_id": "b"}, {"value": "in_progress"}
    _kept_step_conflict(store, decided, reopened, "state")
    [conflict] = coordination.conflicts(store)

    applied = coordination.side_text(conflict, conflict.applied, _in("th"))
    other = coordination.side_text(conflict, conflict.other, _in("en"))

    assert applied == _in("th")("ui.step_state.decided") != "decided"
    assert other == _in("en")("ui.step_state.in_progress") != "in_progress"


SOME_ID = "0b8f6c1e-4d2a-4c53-9a61-2f3e1d0c9b71"
OTHER_ID = "1c9f7d2f-5e3b-4d64-8b72-3f4e2e1d0cae"


@pytest.mark.parametrize(
    "bad", ["", "x", "../../etc/passwd", SOME_ID.upper(), SOME_ID + " ", "١" * 36]
)
def test_a_malformed_id_is_refused_before_anything_is_asked(caseworker: Store, bad: str) -> None:
    calls = [
        lambda: coordination.resolve_conflict(caseworker, bad, True, _exploding),
        lambda: coordination.undo_merge(caseworker, bad, _exploding),
        lambda: coordination.merge(caseworker, "person", bad, SOME_ID, _exploding),
        lambda: coordination.merge(caseworker, "case", SOME_ID, bad, _exploding),
    ]
    for call in calls:
        with pytest.raises(UserError) as refused:
            call()
        assert refused.value.code == "coordination.bad_id"
    assert coordination.merges(caseworker) == []


def test_without_registration_nothing_is_asked(store: Store) -> None:
    with pytest.raises(UserError) as unregistered:
        coordination.resolve_conflict(store, SOME_ID, True, _exploding)
    assert unregistered.value.code == "sync.not_registered"


def test_an_unreachable_server_is_a_clear_error_that_says_nothing_was_done(
    caseworker: Store,
) -> None:
    """A merge, undo or decision is made on the server or not at all: unlike an edit, it
    is not kept to go with the next sync, so the message must not promise that it will."""
    calls = [
        lambda: coordination.undo_merge(caseworker, SOME_ID, lambda url: _offline()),
        lambda: coordination.merge(caseworker, "person", SOME_ID, OTHER_ID, _offline_url),
        lambda: coordination.resolve_conflict(caseworker, SOME_ID, True, _offline_url),
    ]
    for call in calls:
        with pytest.raises(UserError) as offline:
            call()
        assert offline.value.code == "coordination.unreachable"
        said = offline.value.translated("en")
        assert "cannot be reached" in said
        assert "Nothing was changed" in said
        assert "will sync" not in said
    assert coordination.account_role(caseworker) == "caseworker"
    assert coordination.merges(caseworker) == []


def _offline_url(url: str) -> httpx.Client:
    return _offline()


def _offline() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable")

    return httpx.Client(transport=httpx.MockTransport(refuse))


def _exploding(url: str) -> Any:
    raise AssertionError("no request should be made")


def test_a_name_and_date_that_many_share_is_not_offered_and_the_list_is_capped(
    store: Store,
) -> None:
    for _ in range(coordination.MAX_NAME_GROUP + 1):  # a common name, a stand-in date
        make_person(store, "Aung Aung", "1990-01-01")
    shared = [make_person(store, f"Worker {i}", None, "MA7777777") for i in range(4)]

    assert coordination.duplicate_people(store) == coordination.duplicate_people(store, 6)
    found = coordination.duplicate_people(store)
    assert {d.reason for d in found} == {"document"}
    assert len(found) == 6, "four people sharing a passport: every pair of them"
    assert {d.first.person_id for d in found} | {d.second.person_id for d in found} == set(shared)
    assert len(coordination.duplicate_people(store, limit=2)) == 2


def test_the_two_cases_a_person_merge_leaves_are_offered_and_merged(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    cases.open_case(caseworker, kept)
    cases.open_case(caseworker, extra)
    closed = make_person(caseworker, "Thida", "1992-02-02")
    cases.open_case(caseworker, closed)
    cases.open_case(caseworker, closed)
    with caseworker.session() as session:  # one of Thida's two cases is closed: not a pair
        session.get(Case, _first_case(caseworker, closed)).status = "closed"
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    assert coordination.duplicate_cases(coordinator) == []
    coordination.merge(coordinator, "person", extra, kept, server_http)
    synced(coordinator, server_http)

    [pair] = coordination.duplicate_cases(coordinator)

    assert pair.first.person_id == pair.second.person_id == kept
    assert pair.first.name == "Aung Aung"
    assert pair.first.id < pair.second.id, "older case first"
    merged = coordination.merge(coordinator, "case", pair.second.id, pair.first.id, server_http)
    assert (merged.entity, merged.target_name) == ("case", f"{pair.first.number} Aung Aung")
    synced(coordinator, server_http)
    with coordinator.read() as session:
        assert session.get(Case, pair.second.id).merged_into == pair.first.id
    [listed, _person_merge] = coordination.merges(coordinator)
    assert (listed.source_name, listed.target_name) == (
        f"{pair.second.number} Aung Aung",
        f"{pair.first.number} Aung Aung",
    ), "B's case keeps its number and its person once the merge has synced"
    assert coordination.duplicate_cases(coordinator) == []
    coordination.undo_merge(coordinator, merged.id, server_http)
    synced(coordinator, server_http)
    assert coordination.duplicate_cases(coordinator) == [], "undo said: two cases"


def _first_case(store: Store, person_id: str) -> str:
    with store.read() as session:
        return session.scalars(select(Case.id).where(Case.person_id == person_id)).first()


def test_a_passport_typed_with_spaces_pairs_with_the_same_one_imported_without(
    store: Store,
) -> None:
    """The forms kept a number as typed ("ma 123 4567"), the importer stored it as the
    domain says numbers are stored ("MA1234567"): the same passport never paired."""
    typed = make_person(store, "Aung Aung", "1990-01-02", "ma 123-4567")
    imported = make_person(store, "Aung Aung Oo", "1991-05-05", "MA1234567")

    [pair] = coordination.duplicate_people(store)

    assert (pair.reason, pair.detail) == ("document", "passport:MA1234567")
    assert {pair.first.person_id, pair.second.person_id} == {typed, imported}


@pytest.mark.parametrize(
    ("entity", "field", "applied", "other", "key"),
    [
        ("track", "state", "closed", "in_progress", "ui.step_state."),
        ("case", "status", "closed", "open", "ui.case_status."),
    ],
)
def test_a_tracks_state_and_a_cases_status_in_dispute_read_by_their_names(
    store: Store, entity: str, field: str, applied: str, other: str, key: str
) -> None:
    """A claim closed on one laptop while reopened on another: the track's state and the
    case's status are named as the screens name them."""
    _kept_step_conflict(store, {"value": applied}, {"value": other}, field, entity)
    [conflict] = coordination.conflicts(store)
    assert coordination.side_text(conflict, conflict.applied, _in("th")) == _in("th")(key + applied)
    assert coordination.side_text(conflict, conflict.other, _in("en")) == _in("en")(key + other)


@pytest.mark.parametrize(
    ("status", "in_force"), [("open", "kept"), ("confirmed", "kept"), ("flipped", "lost")]
)
def test_the_value_in_force_is_the_other_one_once_flipped(status: str, in_force: str) -> None:
    kept, lost = coordination.Side("kept", "ann", None), coordination.Side("lost", "bo", None)
    found = coordination.Conflict(
        SOME_ID, "person", "birth_date", OTHER_ID, kept, lost, status, None, None, "", ""
    )
    assert found.in_force.value == in_force
    assert found.set_aside.value == ({"kept", "lost"} - {in_force}).pop()


def test_a_withdrawn_device_or_disabled_account_is_told_why_nothing_was_done(
    coordinator: Store, server_app: Any, server_http: Factory
) -> None:
    """The server refuses a revoked device (errno 112) and a disabled account (114): the
    coordinator reads why, as sapan sync says it, not "error 112"."""
    from sync.server import admin

    engine = server_app.state.ctx.engine
    admin.set_disabled(engine, "nok", True)
    with pytest.raises(UserError) as disabled:
        coordination.merge(coordinator, "person", SOME_ID, OTHER_ID, server_http)
    said = disabled.value.translated("en")
    assert said.startswith("The server refused: your account was disabled by an administrator")
    assert said.endswith("Nothing was changed.")
    assert "ผู้ดูแลระบบปิดใช้งานบัญชีของคุณแล้ว" in disabled.value.translated("th")
    admin.set_disabled(engine, "nok", False)
    [device] = admin.list_devices(engine, "nok")
    admin.revoke_device(engine, device["device_id"])
    with pytest.raises(UserError) as revoked:
        coordination.undo_merge(coordinator, SOME_ID, server_http)
    assert "this device was withdrawn by an administrator" in revoked.value.translated("en")


def test_a_server_behind_is_asked_nothing_and_a_new_log_takes_the_coordinators_work_back(
    coordinator: Store, server_app: Any, tmp_path: Path
) -> None:
    """The address leads to a database restored from a backup older than the coordinator's
    last sync (which still knows this device's token): a merge, undo or decision is not
    sent to it, and the coordinator reads why, not "cannot be reached". Once the
    administrator gave it a new log, the coordinator's laptop takes it, with its own
    changes the restore lost back in its outbox, before the request goes; the server
    does not know the records yet, and says so."""
    from desktop.services import sync_view
    from tests.conftest import (
        backup_server,
        file_server,
        in_process_client,
        new_server_log,
        restore_server,
    )

    path = tmp_path / "server.db"
    backup = backup_server(path)
    make_person(coordinator, "Aung Aung")
    synced(coordinator, lambda url: in_process_client(server_app))
    assert sync_view.overview(coordinator).waiting == 0

    behind = restore_server(path, server_app, backup)
    _asks_nothing_and_says(coordinator, behind, "the server holds less than")
    other = file_server(tmp_path / "other.db")  # another server answers at the address
    _asks_nothing_and_says(coordinator, other, "the server at this address is not the one")
    other.state.ctx.engine.dispose()
    renamed = new_server_log(path, behind)
    with pytest.raises(UserError) as refused:
        coordination.merge(
            coordinator, "person", SOME_ID, OTHER_ID, lambda url: in_process_client(renamed)
        )
    assert "Sync, then look again" in refused.value.translated("en")
    assert sync_view.overview(coordinator).waiting > 0
    renamed.state.ctx.engine.dispose()


def _asks_nothing_and_says(coordinator: Store, app: Any, reason: str) -> None:
    """Merge, undo and resolve each refused with ``reason``, ``app`` asked only for its info."""
    from sqlalchemy import text

    from tests.conftest import in_process_client

    with app.state.ctx.engine.connect() as conn:
        before = conn.execute(text("SELECT max(id) FROM audit")).scalar_one()
    factory = lambda url: in_process_client(app)  # noqa: E731
    calls = [
        lambda: coordination.merge(coordinator, "person", SOME_ID, OTHER_ID, factory),
        lambda: coordination.undo_merge(coordinator, SOME_ID, factory),
        lambda: coordination.resolve_conflict(coordinator, SOME_ID, True, factory),
    ]
    for call in calls:
        with pytest.raises(UserError) as refused:
            call()
        said = refused.value.translated("en")
        assert said.startswith(f"The server refused: {reason}")
        assert said.endswith("Nothing was changed.")
    with app.state.ctx.engine.connect() as conn:
        asked = conn.execute(
            text("SELECT method, route FROM audit WHERE id > :before"), {"before": before}
        ).all()
    assert [tuple(row) for row in asked] == [("GET", "/v1/info")] * 3


def test_a_kept_person_merged_away_since_is_named_when_its_merge_is_listed_alone(
    caseworker: Store, coordinator: Store, server_http: Factory
) -> None:
    """B into A, then A into C (after a restore: another coordinator's merge, which made
    the first one's redo fail): listed alone, as the refusal names it, the first merge
    still names A, by the names A's own merge moved on to C."""
    kept, _extra, first = _merge_twins(
        caseworker, coordinator, server_http, native=("အောင်အောင်", "အောင်အောင်ဦး")
    )
    other = make_person(caseworker, "Min Thu", "1985-03-04", "MB7654321", None)
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    coordination.merge(coordinator, "person", kept, other, server_http)
    synced(coordinator, server_http)

    [listed] = coordination.merges(coordinator, ids=[first.id])

    assert (listed.source_name, listed.target_name) == ("အောင်အောင်ဦး", "အောင်အောင်")


class _Link:
    """The coordinator's link to the server: it may lose the first merge's answer on the
    way back (the server made the merge), or hide what the server says it accepts."""

    def __init__(
        self, inner: Any, *, lose_answer: int = 0, old_server: bool = False, busy: int = 0
    ):
        # lose_answer: how many merges' answers to lose (True: the first)
        self.inner, self.lose_answer, self.old_server = inner, int(lose_answer), old_server
        self.busy = busy  # merge asks after the first answered "busy" before they pass
        self.merge_bodies: list[bytes] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if method == "POST" and url.endswith("/merges") and self.merge_bodies and self.busy:
            self.busy -= 1  # the first ask still holds the server's lock
            self.merge_bodies.append(kwargs.get("content") or b"")
            return _BusyAnswer()
        answer = self.inner.request(method, url, **kwargs)
        if method == "POST" and url.endswith("/merges"):
            self.merge_bodies.append(kwargs.get("content") or b"")
            if self.lose_answer:
                self.lose_answer -= 1
                raise httpx.ReadError("the answer was lost")
        if self.old_server and url.endswith("/info"):
            del answer.headers[p.FEATURES_HEADER]
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _BusyAnswer:
    """What a SQLite server answers while another request holds its lock."""

    status_code = 503
    headers = {"Retry-After": "2"}  # noqa: RUF012 - a fixed answer
    content = (
        ApiError(503, p.Errno.SERVICE_BUSY, "the server is busy", retry_after=2)
        .body()
        .model_dump_json()
        .encode()
    )
    num_bytes_downloaded = 0


@pytest.mark.parametrize("busy", [1, 4])
def test_a_merge_asked_again_while_the_first_still_holds_the_server_waits_it_out(
    caseworker: Store,
    coordinator: Store,
    server_http: Factory,
    server_app: Any,
    busy: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The link gave up on a merge the server was still making: asked again, a SQLite
    server may answer "busy" while the first holds its lock. The laptop waits out the
    server's Retry-After and asks again under the same id (three times at most): one
    merge, never two; past that, the coordinator is told the server is busy."""
    waits: list[float] = []
    monkeypatch.setattr("sync.client.http.time.sleep", waits.append)
    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    link = _Link(server_http("http://testserver"), lose_answer=True, busy=busy)

    if busy > MERGE_BUSY_ASKS:
        with pytest.raises(UserError) as told:
            coordination.merge(coordinator, "person", extra, kept, lambda url: link)
        assert told.value.code == "coordination.refused"
        assert "busy" in told.value.translated("en")
        assert waits == [2.0] * MERGE_BUSY_ASKS
        assert len(link.merge_bodies) == 1 + MERGE_BUSY_ASKS + 1
    else:
        merged = coordination.merge(coordinator, "person", extra, kept, lambda url: link)
        assert waits == [2.0]
        assert [m.id for m in coordination.merges(coordinator)] == [merged.id]
        assert len(link.merge_bodies) == 3
    assert len(set(link.merge_bodies)) == 1  # one id, asked again as it was
    with server_app.state.ctx.engine.connect() as conn:
        made = conn.exec_driver_sql("SELECT source_id, target_id FROM merges").all()
    assert [tuple(m) for m in made] == [(extra, kept)]  # the first ask made it, once


@pytest.mark.parametrize("old_server", [False, True])
def test_a_merge_whose_answer_the_link_loses_is_asked_again_and_made_once(
    caseworker: Store, coordinator: Store, server_app: Any, server_http: Factory, old_server: bool
) -> None:
    """On a flaky link the merge reached the server but its answer did not come back: the
    merge, named by the coordinator's laptop, is asked once more and answered as made,
    one merge on the server. A server that does not name the ``merge-id`` feature is
    never sent an id (it would refuse it); there the loss is said as before."""
    import gzip

    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    link = _Link(server_http("http://testserver"), lose_answer=True, old_server=old_server)

    if old_server:
        with pytest.raises(UserError) as lost:
            coordination.merge(coordinator, "person", extra, kept, lambda url: link)
        assert lost.value.code == "coordination.answer_lost"  # not "nothing was changed"
        assert "may have done it" in lost.value.translated("en")
    else:
        merged = coordination.merge(coordinator, "person", extra, kept, lambda url: link)
        assert [m.id for m in coordination.merges(coordinator)] == [merged.id]

    bodies = [gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b for b in link.merge_bodies]
    assert [b'"id"' in body for body in bodies] == ([False] if old_server else [True, True])
    with server_app.state.ctx.engine.connect() as conn:
        made = conn.exec_driver_sql("SELECT id, source_id, target_id FROM merges").all()
    assert [(source, target) for _id, source, target in made] == [(extra, kept)]
    if not old_server:
        assert made[0][0] == merged.id


def test_a_merge_whose_answers_the_link_loses_twice_says_it_may_be_made_and_asked_again_is(
    caseworker: Store, coordinator: Store, server_app: Any, server_http: Factory
) -> None:
    """Both asks reached the server, neither answer came back: the coordinator was told
    "Nothing was changed" although the merge stood, and asking again was refused as
    "already merged". Now the laptop says the server may have done it, and the same merge
    asked again (a new request) is answered with the merge made, one merge."""
    kept = make_person(caseworker, "Aung Aung", "1990-01-02", "MA1234567")
    extra = make_person(caseworker, "Aung Aung Oo", "1990-01-02", "MA1234567")
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    lossy = _Link(server_http("http://testserver"), lose_answer=2)

    with pytest.raises(UserError) as lost:
        coordination.merge(coordinator, "person", extra, kept, lambda url: lossy)
    assert lost.value.code == "coordination.answer_lost"

    again = coordination.merge(coordinator, "person", extra, kept, server_http)
    with server_app.state.ctx.engine.connect() as conn:
        made = conn.exec_driver_sql("SELECT id, source_id, target_id, undone FROM merges").all()
    assert [tuple(m) for m in made] == [(again.id, extra, kept, False)]
    # merging it elsewhere is still refused
    other = make_person(caseworker, "Ko Ko", "1985-05-05")
    synced(caseworker, server_http)
    synced(coordinator, server_http)
    with pytest.raises(UserError) as refused:
        coordination.merge(coordinator, "person", extra, other, server_http)
    assert refused.value.code != "coordination.answer_lost"
