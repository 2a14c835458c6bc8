"""A claim that will not go on, withdrawn: closed with its reason, its deadlines off the
Tasks page and the print queue, reopened when one of its steps moves again."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.domain.errors import UserError
from desktop.models.store import Store
from desktop.services import cases, people, printing, ui_queries
from desktop.services.cases import CaseFilter, TrackInput

TODAY = dt.date(2026, 3, 15)


def _claim(store: Store) -> tuple[str, str]:
    """A sickness claim for an illness of 1 March, still to be handed in: (case id, track)."""
    person = people.create_person(
        store, people.PersonInput(names=[people.NameInput("Sok Dara")])
    ).person_id
    case_id = cases.case_id_for(store, cases.open_case(store, person))
    track = cases.start_track(
        store,
        case_id,
        TrackInput(
            "claim",
            ["check_eligibility", "prepare_claim", printing.FILING_STEP],
            benefit="sickness",
            event_date=dt.date(2026, 3, 1),
            workflow="claim_sickness",
        ),
    )
    return case_id, track


def test_a_withdrawn_claim_is_closed_and_leaves_the_tasks_and_the_print_queue(
    store: Store,
) -> None:
    case_id, track_id = _claim(store)
    waiting = CaseFilter(step_key="check_eligibility")  # a step waiting (the print queue's)
    assert cases.list_case_ids(store, waiting) == [case_id]
    far = dt.date(2027, 2, 20)  # the filing deadline near: a task
    assert [t.case_id for t in ui_queries.open_tasks(store, far)] == [case_id]

    cases.withdraw_track(store, track_id, "  went home to Kayin State ", TODAY)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert (track.state, track.outcome, track.decided_on) == ("closed", "withdrawn", TODAY)
    assert cases.get_case_file(store, case_id).status == "closed"  # nothing else open
    assert ui_queries.open_tasks(store, far) == []
    assert cases.list_case_ids(store, waiting) == []
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert [e.params for e in journey if e.kind == "claim_end"] == [
        {"benefit": "sickness", "outcome": "withdrawn"}
    ]
    assert [e for e in journey if e.kind == "deadline"] == []  # its filing deadline went
    trail = cases.audit_trail(store, [track_id])
    assert "track.withdrawn" in [action for _when, action, _who in trail]

    # the worker came back: the claim is resumed as it was left, and the case opens again
    cases.resume_track(store, track_id, "came back for the claim", TODAY)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert (track.state, track.outcome, track.decided_on) == ("in_progress", None, None)
    assert [s.state for s in track.steps] == ["in_progress", "not_started", "not_started"]
    assert cases.get_case_file(store, case_id).status == "open"
    assert [t.case_id for t in ui_queries.open_tasks(store, far)] == [case_id]
    with pytest.raises(UserError) as caught:  # only a withdrawn one is resumed
        cases.resume_track(store, track_id, "again", TODAY)
    assert caught.value.code == "error.track_not_withdrawn"


def test_a_withdrawal_without_a_reason_or_of_a_closed_claim_is_refused(store: Store) -> None:
    case_id, track_id = _claim(store)
    with pytest.raises(UserError) as caught:
        cases.withdraw_track(store, track_id, "  ", TODAY)
    assert caught.value.code == "error.withdraw_reason_required"
    assert cases.get_case_file(store, case_id).tracks[0].state != "closed"
    cases.withdraw_track(store, track_id, "chose not to claim", TODAY)
    with pytest.raises(UserError) as caught:
        cases.withdraw_track(store, track_id, "again", TODAY)
    assert caught.value.code == "error.track_closed"
    with pytest.raises(UserError) as caught:
        cases.withdraw_track(store, "no-such-track", "x", TODAY)
    assert caught.value.code == "error.not_found"
