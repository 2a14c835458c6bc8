"""The UI's query services: tasks and the overdue filter, the journey timeline, the
eligibility panel, payslip paste, sync status, attachment checks and the store lifecycle."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from pathlib import Path

import pytest

from desktop.domain import eligibility, i18n, workflow
from desktop.domain.errors import UserError
from desktop.forms.samples import with_check_digit
from desktop.models.store import Store
from desktop.services import cases, employers, people, ui_queries
from tests.conftest import PASSPHRASE

TODAY = dt.date(2026, 3, 15)
COLLECT = "deadline.collect_payment"


def _case(store: Store, name: str = "အောင်ကျော်", **person: object) -> str:
    created = people.create_person(
        store,
        people.PersonInput(names=[people.NameInput(name)], **person),  # type: ignore[arg-type]
    )
    return cases.case_id_for(store, cases.open_case(store, created.person_id))


def _injury(store: Store, case_id: str, day: dt.date) -> str:
    return cases.start_track(
        store,
        case_id,
        cases.TrackInput(
            kind="work_injury", steps=["report"], benefit="work_injury", event_date=day
        ),
    )


# --- store lifecycle --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("short", "too_short"),
        ("abcdefgh", "weak"),
        ("abcdefghijkl", "fair"),
        ("Abc1!efgh", "fair"),
        ("Abcdef1!ghijkl", "strong"),
        ("a" * 20, "strong"),
    ],
)
def test_passphrase_strength_is_a_hint_by_length_and_variety(typed: str, level: str) -> None:
    assert ui_queries.passphrase_strength(typed) == level


def test_create_store_refuses_two_different_passphrases(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        ui_queries.create_store(tmp_path / "s", PASSPHRASE, PASSPHRASE + "x")
    assert caught.value.code == "error.passphrase_mismatch"
    assert not ui_queries.store_exists(tmp_path / "s")


def test_create_open_and_check_the_passphrase(tmp_path: Path, memory_keyring: object) -> None:
    root = tmp_path / "s"
    ui_queries.create_store(root, PASSPHRASE, PASSPHRASE).close()
    assert ui_queries.store_exists(root)
    with ui_queries.open_store(root, None) as opened:  # the keyring holds the key
        ui_queries.check_passphrase(opened, PASSPHRASE)
        with pytest.raises(UserError) as caught:
            ui_queries.check_passphrase(opened, "not the passphrase")
        assert caught.value.code == "error.wrong_passphrase"
    memory_keyring.secrets.clear()  # type: ignore[attr-defined]
    with pytest.raises(UserError) as needed:
        ui_queries.open_store(root, None)
    assert needed.value.code == "error.passphrase_needed"
    ui_queries.open_store(root, PASSPHRASE).close()


def test_default_data_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAPAN_DATA_DIR", str(tmp_path / "here"))
    assert ui_queries.default_data_dir() == tmp_path / "here"


# --- tasks and the overdue filter -------------------------------------------------------------


def test_tasks_are_due_soon_or_overdue_most_urgent_first(store: Store) -> None:
    late = _case(store, "สมชาย")
    soon = _case(store, "ស៊ុន")
    later = _case(store, "ສົມພອນ")
    _injury(store, late, dt.date(2025, 9, 1))  # 180 days: due 28 Feb 2026
    _injury(store, soon, dt.date(2025, 10, 1))  # due 30 Mar 2026, within 30 days
    _injury(store, later, dt.date(2026, 3, 1))  # due in August: not a task yet
    tasks = ui_queries.open_tasks(store, TODAY)
    assert [(t.case_id, t.state, t.action) for t in tasks] == [
        (late, "overdue", "deadline.claim_wcf"),
        (soon, "due_soon", "deadline.claim_wcf"),
    ]
    assert tasks[0].name == "สมชาย"
    assert tasks[0].due == dt.date(2026, 2, 28)
    assert tasks[0].case_number.startswith("TAK-")
    assert [t.case_id for t in ui_queries.open_tasks(store, TODAY, states=("due",))] == [later]


def test_an_illness_found_after_the_job_ended_has_two_years_not_180_days(store: Store) -> None:
    """A worker whose lungs the factory ruined, found after leaving it: the Tasks page, the
    journey, the packet's instructions and the eligibility panel give the two years of
    D13, never an overdue 180-day claim (which would tell the caseworker to give up)."""
    from desktop.services import eligibility, printing

    case_id = _case(store)
    found = dt.date(2025, 2, 1)  # 180 days: long overdue; two years: due 1 February 2027
    _injury(store, case_id, found)
    assert [t.action for t in ui_queries.open_tasks(store, TODAY)] == ["deadline.claim_wcf"]
    (track,) = cases.get_case_file(store, case_id).tracks
    cases.save_step(store, track.steps[0].id, data={cases.FOUND_AFTER_JOB: True})
    case = cases.get_case_file(store, case_id)
    assert ui_queries.open_tasks(store, TODAY) == []  # not overdue, not yet due soon
    [task] = ui_queries.open_tasks(store, TODAY, states=("due",))
    assert (task.action, task.due) == ("deadline.claim_wcf_illness", dt.date(2027, 2, 1))
    journey = ui_queries.journey(case, TODAY)
    deadlines_shown = [(e.label_key, e.day) for e in journey if e.kind == "deadline"]
    assert ("deadline.claim_wcf_illness", dt.date(2027, 2, 1)) in deadlines_shown
    assert "deadline.claim_wcf" not in {key for key, _ in deadlines_shown}
    assert printing.filing_deadline(case.tracks[0], TODAY) == dt.date(2027, 2, 1)
    judged = eligibility.case_facts(case, eligibility.Benefit.WORK_INJURY, found)
    assert judged.found_after_job
    line = ui_queries.eligibility_line(case, eligibility.Benefit.WORK_INJURY, found)
    assert line.result is not None
    assert line.result.filing_deadline == dt.date(2027, 2, 1)


def test_a_decided_track_has_no_tasks(store: Store) -> None:
    case_id = _case(store)
    track = _injury(store, case_id, dt.date(2025, 9, 1))
    cases.set_track_state(store, track, "decided", decided_on=dt.date(2025, 12, 1))
    assert ui_queries.open_tasks(store, TODAY) == []


def test_a_decided_claim_shows_its_end_on_the_journey_not_its_deadlines(store: Store) -> None:
    """The journey agrees with the Tasks page: a claim decided has no filing deadline left
    on the line (it was shown overdue after the claim was paid); its end is there instead."""
    case_id = _case(store)
    track = _injury(store, case_id, dt.date(2025, 9, 1))
    events = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert "deadline.claim_wcf" in {e.label_key for e in events if e.kind == "deadline"}
    cases.set_track_state(store, track, "closed", decided_on=dt.date(2025, 12, 1), outcome="paid")
    events = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert [e.kind for e in events if e.kind == "deadline"] == []
    [ended] = [e for e in events if e.kind == "claim_end"]
    assert (ended.day, ended.params) == (
        dt.date(2025, 12, 1),
        {"benefit": "work_injury", "outcome": "paid"},
    )


def test_an_ended_job_starts_its_deadlines(store: Store) -> None:
    case_id = _case(store)
    person_id = cases.get_case_file(store, case_id).person.id
    employers.add_employment(
        store,
        person_id,
        employers.EmploymentInput(None, dt.date(2024, 1, 1), end_date=dt.date(2026, 2, 20)),
    )
    actions = {t.action for t in ui_queries.open_tasks(store, TODAY, states=("overdue",))}
    assert "deadline.register_unemployment" not in actions  # 30 days: due 22 March
    due_soon = {t.action for t in ui_queries.open_tasks(store, TODAY)}
    assert "deadline.register_unemployment" in due_soon


def _shown(store: Store, case_id: str, actions: list[str]) -> list[str]:
    """Which of ``actions`` are due for the case, in their order (:func:`_due_dates`)."""
    return [a for a in actions if _due_dates(store, case_id, a)]


def _due_dates(store: Store, case_id: str, action: str) -> list[dt.date]:
    """When ``action`` is due for the case, as the Tasks page says (which the journey
    must say too)."""
    tasks = ui_queries.open_tasks(store, TODAY, states=("due", "due_soon", "overdue"))
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    found = [t.due for t in tasks if t.case_id == case_id and t.action == action]
    assert [e.day for e in journey if e.label_key == action] == found
    return found


def _enrollment(store: Store, case_id: str, key: str) -> dict[str, str]:
    """An enrollment track of workflow ``key`` with its steps; their ids by key."""
    steps = [step.key for step in workflow.load()[key].steps]
    cases.start_track(
        store, case_id, cases.TrackInput(kind="enrollment", steps=steps, workflow=key)
    )
    (track,) = [t for t in cases.get_case_file(store, case_id).tracks if t.workflow == key]
    return {step.key: step.id for step in track.steps}


def test_an_enrollment_not_handed_in_reminds_of_the_employer_s_30_days(store: Store) -> None:
    """The employer registers a new worker within 30 days of hiring (D2, SSO 1-03): while
    the enrollment's registration is not handed in, the Tasks page and the journey say by
    when; a section 39 enrollment (no employer) does not."""
    case_id = _case(store)
    person_id = cases.get_case_file(store, case_id).person.id
    job = employers.EmploymentInput(None, dt.date(2026, 3, 1))
    employers.add_employment(store, person_id, job)
    _enrollment(store, case_id, "section_39")
    action = "deadline.register_employee"
    assert _due_dates(store, case_id, action) == []
    steps = _enrollment(store, case_id, "enrollment_pink_card")
    assert _due_dates(store, case_id, action) == [dt.date(2026, 3, 31)]
    cases.save_step(store, steps["registration"], state="submitted")
    assert _due_dates(store, case_id, action) == []


def test_a_job_from_before_the_rule_data_does_not_break_the_journey(store: Store) -> None:
    case_id = _case(store)
    person_id = cases.get_case_file(store, case_id).person.id
    old = employers.EmploymentInput(None, dt.date(1980, 1, 1), dt.date(1985, 1, 1))
    employers.add_employment(store, person_id, old)
    current = employers.EmploymentInput(None, dt.date(1986, 5, 1))  # started before 1990
    employers.add_employment(store, person_id, current)
    _enrollment(store, case_id, "enrollment_pink_card")
    events = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert [e.kind for e in events if e.kind == "job_end"] == ["job_end"]
    assert not [e for e in events if e.kind == "deadline"]


def _pink_card_holder_out_of_work(store: Store) -> tuple[str, str]:
    """A case of a pink-card holder whose job ended on 20 February; (case id, person id)."""
    card = people.DocumentInput("pink_card", with_check_digit("000381234561"))
    person = people.create_person(
        store, people.PersonInput(names=[people.NameInput("နန်း")], documents=[card])
    )
    case_id = cases.case_id_for(store, cases.open_case(store, person.person_id))
    ended = employers.EmploymentInput(None, dt.date(2024, 1, 1), dt.date(2026, 2, 20))
    employers.add_employment(store, person.person_id, ended)
    return case_id, person.person_id


def test_a_pink_card_holder_whose_job_ended_has_days_to_find_an_employer(store: Store) -> None:
    """domain.md §6.2: a pink card's permission to stay lapses unless the worker finds a new
    employer within 60 days of losing the job (30 before 2024): the Tasks page and the
    journey say so; for a card recorded as replaced, neither does."""
    case_id, _person = _pink_card_holder_out_of_work(store)
    tasks = {t.action: t.due for t in ui_queries.open_tasks(store, TODAY, states=("due",))}
    assert tasks["deadline.find_employer"] == dt.date(2026, 4, 21)
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert ("deadline.find_employer", dt.date(2026, 4, 21)) in {
        (e.label_key, e.day) for e in journey if e.kind == "deadline"
    }
    (document,) = cases.get_case_file(store, case_id).person.documents
    people.update_document(store, document.id, issued_on=None, expires_on=None, status="replaced")
    shown = {t.action for t in ui_queries.open_tasks(store, TODAY, states=("due", "due_soon"))}
    assert "deadline.find_employer" not in shown
    assert "deadline.register_unemployment" in shown  # the job's other deadlines stay
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert "deadline.find_employer" not in {e.label_key for e in journey}


def test_a_complaint_waiting_on_the_sso_is_followed_up_every_30_days(store: Store) -> None:
    """A complaint about an unregistered worker, handed in: follow it up 30 days after
    filing, then 30 days after each follow-up; once decided, nothing more."""
    case_id = _case(store)
    keys = ["record_problem", "gather_evidence", "file_complaint", "follow_up", "outcome"]
    cases.start_track(store, case_id, cases.TrackInput(kind="enforcement", steps=keys))
    (track,) = cases.get_case_file(store, case_id).tracks
    step = {s.key: s.id for s in track.steps}

    def follow_ups() -> list[dt.date]:
        return _due_dates(store, case_id, "deadline.follow_up_complaint")

    assert follow_ups() == []  # not handed in yet
    filed = {"submitted_on": "2026-02-01"}
    cases.save_step(store, step["file_complaint"], state="submitted", data=filed)
    assert follow_ups() == [dt.date(2026, 3, 3)]  # overdue on 15 March
    cases.save_step(store, step["follow_up"], data={"followed_up_on": "2026-03-10"})
    assert follow_ups() == [dt.date(2026, 4, 9)]
    cases.save_step(store, step["file_complaint"], state="approved")
    assert follow_ups() == []


def test_a_dismissal_for_misconduct_starts_no_unemployment_task(store: Store) -> None:
    """No benefit follows such a dismissal: neither the Tasks page nor the case's journey
    asks the worker to register with the Department of Employment."""
    case_id = _case(store)
    person_id = cases.get_case_file(store, case_id).person.id
    ended = employers.EmploymentInput(
        None, dt.date(2024, 1, 1), dt.date(2026, 2, 20), end_reason="dismissed_misconduct"
    )
    employers.add_employment(store, person_id, ended)
    actions = {t.action for t in ui_queries.open_tasks(store, TODAY, states=("due", "due_soon"))}
    assert "deadline.register_unemployment" not in actions
    assert "deadline.notify_leaving" in actions  # the employer's notice is still due
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    labels = {e.label_key for e in journey if e.kind == "deadline"}
    assert "deadline.register_unemployment" not in labels
    assert "deadline.continued_cover_ends" in labels


def test_the_unemployment_claim_s_steps_or_a_new_job_settle_what_a_job_s_end_started(
    store: Store,
) -> None:
    """The unemployment claim's steps carry out what the job's end asked: the DOE
    registration marked done ends its reminder, the employer's leaving notice (6-09) done
    ends the employer's (a claim about an earlier job's end does not); a new job ends
    every reminder for the worker (s.39, cover ending, a pink card's employer search): on
    the Tasks page and the journey alike."""
    case_id, person_id = _pink_card_holder_out_of_work(store)
    worker = [
        "deadline.register_unemployment",
        "deadline.find_employer",
        "deadline.apply_section_39",
        "deadline.continued_cover_ends",
    ]
    every = [*worker, "deadline.notify_leaving"]

    assert _shown(store, case_id, every) == every
    keys = [s.key for s in workflow.load()["claim_unemployment"].steps]
    for lost_on in (dt.date(2025, 6, 1), dt.date(2026, 2, 20)):  # an earlier job's, this one's
        claim = cases.TrackInput(
            "claim", keys, benefit="unemployment", workflow="claim_unemployment", event_date=lost_on
        )
        cases.start_track(store, case_id, claim)
    earlier, this = cases.get_case_file(store, case_id).tracks

    def step(track: cases.TrackView, key: str) -> str:
        return next(s.id for s in track.steps if s.key == key)

    registered = {"doe_registered_on": "2026-02-25"}
    cases.save_step(store, step(earlier, "register_unemployment"), state="ready", data=registered)
    assert _shown(store, case_id, every) == every
    cases.save_step(store, step(this, "register_unemployment"), data=registered)
    assert _shown(store, case_id, every) == every  # typed, not yet marked done
    cases.save_step(store, step(this, "register_unemployment"), state="ready")
    assert _shown(store, case_id, every) == [*worker[1:], "deadline.notify_leaving"]
    cases.save_step(store, step(this, "employer_leaving_notice"), state="ready")
    assert _shown(store, case_id, every) == worker[1:]

    new_job = employers.EmploymentInput(None, dt.date(2026, 3, 9))
    employers.add_employment(store, person_id, new_job)
    assert _shown(store, case_id, every) == []


def test_a_worker_who_has_died_is_not_reminded_to_register_or_find_an_employer(
    store: Store,
) -> None:
    """A death claim on the case: the job's reminders for the worker (the DOE, s.39, a
    pink card's employer search, cover ending) go from the Tasks page and the journey; the
    employer's notice stays. A death claim withdrawn (opened by mistake) says nothing."""
    case_id, _person = _pink_card_holder_out_of_work(store)
    worker = ["deadline.register_unemployment", "deadline.find_employer"]
    every = [*worker, "deadline.apply_section_39", "deadline.notify_leaving"]

    assert _shown(store, case_id, every) == every
    keys = [s.key for s in workflow.load()["claim_death"].steps]
    death = cases.TrackInput(
        "claim", keys, benefit="death", workflow="claim_death", event_date=dt.date(2026, 3, 1)
    )
    track_id = cases.start_track(store, case_id, death)
    assert _shown(store, case_id, every) == ["deadline.notify_leaving"]
    cases.withdraw_track(store, track_id, "opened for the wrong person", TODAY)
    assert _shown(store, case_id, every) == every


def test_a_worker_a_work_injury_killed_is_not_reminded_either(store: Store) -> None:
    """The work injury's report says the worker died (or disappeared): as with a death
    claim, the job's reminders for the worker go; an injury they survived changes
    nothing."""
    from desktop.services import ui_wizards

    case_id, _person = _pink_card_holder_out_of_work(store)
    every = ["deadline.register_unemployment", "deadline.notify_leaving"]

    reported = {"injury_date": "2026-02-19", "injury_outcome": "injured"}
    commit = ui_wizards.TrackCommit(
        "work_injury", "work_injury", [("report_injury", reported, "in_progress")]
    )
    ui_wizards.commit_track(store, case_id, commit)
    assert _shown(store, case_id, every) == every
    (track,) = cases.get_case_file(store, case_id).tracks
    cases.save_step(store, track.steps[0].id, data={"injury_outcome": "disappeared"})
    assert _shown(store, case_id, every) == ["deadline.notify_leaving"]


def test_a_worker_gone_home_is_not_reminded_of_what_is_done_in_thailand(store: Store) -> None:
    """The worker left Thailand (recorded on the Person tab): the DOE registration, the
    s.39 application and a pink card's employer search go from the Tasks page and the
    journey, which shows the departure; the employer's notice stays. Back in Thailand (an
    arrival recorded after it), they come back."""
    case_id, person_id = _pink_card_holder_out_of_work(store)
    worker = ["deadline.register_unemployment", "deadline.find_employer"]
    every = [*worker, "deadline.apply_section_39", "deadline.notify_leaving"]

    assert _shown(store, case_id, every) == every
    people.update_person(store, person_id, left_on=dt.date(2026, 3, 1))
    assert _shown(store, case_id, every) == ["deadline.notify_leaving"]
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert ("departure", dt.date(2026, 3, 1)) in {(e.kind, e.day) for e in journey}
    people.update_person(store, person_id, arrived_on=dt.date(2026, 3, 10))
    assert _shown(store, case_id, every) == every


def test_the_section_39_application_handed_in_ends_its_reminder(store: Store) -> None:
    """Six months from the job's end to apply under s.39 (D5): checking the conditions is
    not applying; the application handed in is."""
    case_id, _person = _pink_card_holder_out_of_work(store)
    action = "deadline.apply_section_39"
    assert _due_dates(store, case_id, action) == [dt.date(2026, 8, 20)]
    ids = _enrollment(store, case_id, "section_39")
    cases.save_step(
        store, ids["check_section_39"], state="ready", data={"employment_end": "2026-02-20"}
    )
    assert _due_dates(store, case_id, action) == [dt.date(2026, 8, 20)]
    cases.save_step(store, ids["apply_section_39"], state="submitted")
    assert _due_dates(store, case_id, action) == []


def test_overdue_filter_keeps_only_cases_with_an_overdue_task(store: Store) -> None:
    late = _case(store, "สมชาย")
    fine = _case(store, "สมหญิง")
    _injury(store, late, dt.date(2025, 9, 1))
    _injury(store, fine, dt.date(2026, 3, 1))
    assert ui_queries.overdue_case_ids(store, TODAY) == {late}
    everything = ui_queries.case_ids(store, cases.CaseFilter())
    assert set(everything) == {late, fine}
    assert ui_queries.case_ids(store, cases.CaseFilter(), overdue_on=TODAY) == [late]
    assert ui_queries.case_ids(store, cases.CaseFilter(text="สมหญิง"), overdue_on=TODAY) == []


def test_the_first_page_of_case_ids_is_the_start_of_the_whole_list(store: Store) -> None:
    made = [_case(store, f"สมชาย {i}") for i in range(5)]
    everything = ui_queries.case_ids(store, cases.CaseFilter())
    assert set(everything) == set(made)
    assert ui_queries.case_ids(store, cases.CaseFilter(), limit=2) == everything[:2]
    by_name = ui_queries.case_ids(store, cases.CaseFilter(), "name", descending=True)
    assert ui_queries.case_ids(store, cases.CaseFilter(), "name", True, limit=3) == by_name[:3]
    assert ui_queries.case_ids(store, cases.CaseFilter(text="สมชาย 4"), limit=3) == [made[4]]


def test_the_first_page_of_overdue_cases_counts_only_overdue_ones(store: Store) -> None:
    late = [_case(store, f"สมชาย {i}") for i in range(3)]
    for case_id in late:
        _injury(store, case_id, dt.date(2025, 9, 1))
    _case(store, "สมหญิง")  # nothing overdue: never in the page
    overdue = ui_queries.case_ids(store, cases.CaseFilter(), overdue_on=TODAY)
    assert sorted(overdue) == sorted(late)
    assert ui_queries.case_ids(store, cases.CaseFilter(), overdue_on=TODAY, limit=2) == overdue[:2]


def test_filter_choices_offer_every_workflow_track_and_step(store: Store) -> None:
    case_id = _case(store)
    _injury(store, case_id, dt.date(2026, 3, 1))
    employer = employers.create_employer(store, employers.EmployerInput(name="Mae Sot Garments"))
    choices = ui_queries.filter_choices(store)
    tracks = workflow.load().values()
    assert set(choices.track_kinds) == {t.kind for t in tracks} | {"work_injury"}
    assert set(choices.step_keys) == {s.key for t in tracks for s in t.steps}
    assert choices.employers == ((employer, "Mae Sot Garments"),)
    assert ui_queries.filter_choices(store, max_employers=0).employers == ()


# --- journey ----------------------------------------------------------------------------------


def test_journey_puts_every_dated_fact_on_one_line(store: Store) -> None:
    case_id = _case(
        store,
        arrived_on=dt.date(2022, 5, 1),
        documents=[
            people.DocumentInput("passport", "MA1234567", issued_on=dt.date(2022, 1, 10)),
        ],
    )
    person_id = cases.get_case_file(store, case_id).person.id
    employer = employers.create_employer(store, employers.EmployerInput(name="Tak Farm"))
    employers.add_employment(
        store,
        person_id,
        employers.EmploymentInput(employer, dt.date(2022, 6, 1), end_date=dt.date(2026, 1, 31)),
    )
    employers.record_contributions(
        store,
        person_id,
        [employers.ContributionInput(f"2025-{m:02d}", decimal.Decimal(9000)) for m in (1, 2, 3)],
    )
    cases.start_track(store, case_id, cases.TrackInput(kind="enrollment", steps=["register"]))
    cases.start_track(
        store,
        case_id,
        cases.TrackInput(
            kind="claim", steps=["file"], benefit="maternity", event_date=dt.date(2025, 12, 1)
        ),
    )
    _injury(store, case_id, dt.date(2025, 11, 1))
    events = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert events == sorted(events, key=lambda e: (e.day, e.kind))
    first = {e.kind: e for e in reversed(events)}
    assert first["arrival"].day == dt.date(2022, 5, 1)
    assert first["document"].params == {"kind": "passport"}
    assert first["job"].params == {"employer": "Tak Farm"}
    assert first["job_end"].day == dt.date(2026, 1, 31)
    assert first["contributions"].day == dt.date(2025, 1, 1)
    assert first["contributions"].params == {"count": 3}
    assert "registration" in first
    claims = {e.params["benefit"] for e in events if e.kind == "claim"}
    assert claims == {"maternity", "work_injury"}
    deadlines = [e for e in events if e.kind == "deadline"]
    assert {e.label_key for e in deadlines} >= {"deadline.claim_wcf", "deadline.file_claim"}
    assert all(e.state in ("due", "due_soon", "overdue") for e in deadlines)


def test_journey_of_a_bare_case_is_empty(store: Store) -> None:
    assert ui_queries.journey(cases.get_case_file(store, _case(store)), TODAY) == []


# --- eligibility panel ------------------------------------------------------------------------


def test_eligibility_panel_judges_every_benefit(store: Store) -> None:
    case_id = _case(store)
    person_id = cases.get_case_file(store, case_id).person.id
    months = [
        employers.ContributionInput(f"{y}-{m:02d}", decimal.Decimal(12000))
        for y in (2025, 2026)
        for m in range(1, 13)
        if (y, m) < (2026, 3)
    ]
    employers.record_contributions(store, person_id, months)
    case = cases.get_case_file(store, case_id)
    lines = ui_queries.eligibility_panel(case, TODAY)
    assert [line.benefit for line in lines] == [str(b) for b in ui_queries.PANEL_BENEFITS]
    by_benefit = {line.benefit: line for line in lines}
    maternity = by_benefit["maternity"].result
    assert maternity is not None
    assert maternity.status is eligibility.Status.ELIGIBLE
    assert maternity.event_date == TODAY
    # no job on file, so no reason for leaving: unemployment is not judged on a guess
    assert by_benefit["unemployment"].error_code == "ui.eligibility.reason_unknown"
    assert all(line.error_code is None for line in lines if line.benefit != "unemployment")


def test_eligibility_panel_uses_a_claims_own_date(store: Store) -> None:
    case_id = _case(store)
    cases.start_track(
        store,
        case_id,
        cases.TrackInput(
            kind="claim", steps=["file"], benefit="sickness", event_date=dt.date(2025, 7, 4)
        ),
    )
    (line,) = ui_queries.eligibility_panel(
        cases.get_case_file(store, case_id), TODAY, [eligibility.Benefit.SICKNESS]
    )
    assert line.result is not None
    assert line.result.event_date == dt.date(2025, 7, 4)
    assert line.result.status is eligibility.Status.NOT_ELIGIBLE  # no contributions known


def test_a_new_claim_is_judged_on_its_own_date_not_an_earlier_claims(store: Store) -> None:
    case_id = _case(store)
    _injury(store, case_id, dt.date(2024, 12, 28))
    case = cases.get_case_file(store, case_id)
    line = ui_queries.eligibility_line(case, eligibility.Benefit.WORK_INJURY, TODAY)
    assert line.result is not None
    assert line.result.event_date == TODAY


def test_eligibility_panel_reports_an_engine_error_as_a_code(store: Store) -> None:
    case = cases.get_case_file(store, _case(store))
    odd = cases.ContributionView("x", "2025-01", decimal.Decimal(9000), 41, None, None, None)
    lines = ui_queries.eligibility_panel(
        dataclasses.replace(case, contributions=(odd,)), TODAY, [eligibility.Benefit.SICKNESS]
    )
    assert lines == [
        ui_queries.EligibilityLine("sickness", None, "error.eligibility_section", {"section": 41})
    ]


@pytest.mark.parametrize(
    ("born", "age_reasons"),
    [("1970-05-01", []), ("1980-05-01", [{"min_age": 55, "reached_on": dt.date(2035, 5, 1)}])],
)
def test_an_old_age_claim_is_judged_on_the_worker_s_birth_date(
    store: Store, born: str, age_reasons: list[dict[str, object]]
) -> None:
    # The claim wizard's eligibility page judges old age: the birth date must reach the
    # engine (without it every old-age claim read "birth date missing").
    case = cases.get_case_file(store, _case(store, birth_date=born))
    line = ui_queries.eligibility_line(case, eligibility.Benefit.OLD_AGE, TODAY)
    assert line.error_code is None
    assert line.result is not None
    assert [dict(r.params) for r in line.result.reasons if r.code == "rule.age_below"] == (
        age_reasons
    )


def test_with_no_reason_for_leaving_the_panel_says_so_and_promises_no_rate(
    store: Store,
) -> None:
    # Assuming "laid off" would promise 60% for 180 days to a worker who may have
    # resigned (30% for 90) or been dismissed for misconduct (nothing).
    case = cases.get_case_file(store, _case(store))
    job = cases.EmploymentView(
        "1", None, None, None, None, None, None, dt.date(2025, 4, 30), None, None, 33, None
    )
    case = dataclasses.replace(case, employments=(job,))
    line = ui_queries.eligibility_line(case, eligibility.Benefit.UNEMPLOYMENT, TODAY)
    assert line == ui_queries.EligibilityLine("unemployment", None, "ui.eligibility.reason_unknown")
    assert i18n.has("ui.eligibility.reason_unknown")


# --- payslip paste ----------------------------------------------------------------------------


@pytest.mark.parametrize(("section", "employer"), [(33, "e1"), (39, None), (40, None)])
def test_months_of_a_section_are_the_employer_s_only_under_s33(
    section: int, employer: str | None
) -> None:
    rows, found = ui_queries.parse_payslip_table("2025-07\t4800", "e1", section=section)
    assert found == []
    assert [(r.month, r.section, r.employer_id) for r in rows] == [("2025-07", section, employer)]


def test_payslip_rows_in_every_month_shape() -> None:
    pasted = "Month\tWage\n2025-01\t9,000\n02/2025\t9000.50\n2568-03\t฿ 9,100\n2025.4;8800\n"
    rows, found = ui_queries.parse_payslip_table(pasted, employer_id="e1")
    assert found == []
    assert [(r.month, r.wage, r.employer_id) for r in rows] == [
        ("2025-01", decimal.Decimal("9000"), "e1"),
        ("2025-02", decimal.Decimal("9000.50"), "e1"),
        ("2025-03", decimal.Decimal("9100"), "e1"),  # BE 2568 is CE 2025
        ("2025-04", decimal.Decimal("8800"), "e1"),
    ]


def test_payslip_bad_rows_are_reported_by_line_and_not_kept() -> None:
    pasted = "\n".join(
        [
            "2025-01\t9000",
            "2025-13\t9000",  # no 13th month
            "2025-02\tnine thousand",
            "2025-03\t-5",
            "2025-04",  # no wage
            "",
            "hello\t9000",
            "2025-05\tNaN",  # read by Decimal, no amount: once an uncaught error
            "2025-06\tInfinity",  # once kept, then refused by the sync server
        ]
    )
    rows, found = ui_queries.parse_payslip_table(pasted)
    assert [r.month for r in rows] == ["2025-01"]
    assert [(i.code, i.field, i.params["line"]) for i in found] == [
        ("ui.paste.bad_line", "contributions", n) for n in (2, 3, 4, 5, 7, 8, 9)
    ]


def test_a_first_line_with_a_month_but_a_bad_wage_is_not_a_header() -> None:
    rows, found = ui_queries.parse_payslip_table("2025-01\tx\n2025-02\t100")
    assert [r.month for r in rows] == ["2025-02"]
    assert [i.params["line"] for i in found] == [1]


def test_a_month_still_to_come_is_left_out() -> None:
    """2031-05 typed for 2021-05 was recorded as a contribution month."""
    rows, found = ui_queries.parse_payslip_table("2026-03\t9000\n2031-05\t9000", today=TODAY)
    assert [r.month for r in rows] == ["2026-03"]
    assert [(i.code, dict(i.params)) for i in found] == [
        ("ui.work.future_month", {"month": "2031-05"})
    ]


def test_empty_paste_gives_nothing() -> None:
    assert ui_queries.parse_payslip_table("") == ([], [])


# --- status bar and attachments ---------------------------------------------------------------


def test_sync_status_counts_waiting_and_failed_changes(store: Store) -> None:
    status = ui_queries.sync_status(store)
    assert status == ui_queries.SyncStatus(None, 0, 0, None)
    _case(store)
    waiting = ui_queries.sync_status(store).waiting
    assert waiting > 0
    from sqlalchemy import select, update

    from desktop.models.entities import OutboxEntry

    with store.remote_session() as session:
        first = session.scalars(select(OutboxEntry.seq).limit(2)).all()
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.seq.in_(first))
            .values(last_error="server said no")
        )
    store.set_setting("sync_server_url", "https://sync.example.org")
    store.set_setting("last_sync_at", "2026-03-15T09:00:00+00:00")
    assert ui_queries.sync_status(store) == ui_queries.SyncStatus(
        "https://sync.example.org", waiting, 2, "2026-03-15T09:00:00+00:00"
    )


def test_attachment_size_is_checked_before_copying(store: Store, tmp_path: Path) -> None:
    small = tmp_path / "scan.jpg"
    small.write_bytes(b"x" * 1000)
    assert ui_queries.check_attachment(store, small) == 1000
    store.set_setting("attachment_max_mb", 1)
    big = tmp_path / "video.mp4"
    with big.open("wb") as handle:
        handle.truncate(3 * 1_048_576)  # sparse: no 3 MB written
    with pytest.raises(UserError) as caught:
        ui_queries.check_attachment(store, big)
    assert caught.value.code == "error.attachment_too_large"
    assert caught.value.params == {"size_mb": 3.0, "max_mb": 1}
    with pytest.raises(UserError) as missing:
        ui_queries.check_attachment(store, tmp_path / "gone.pdf")
    assert missing.value.code == "error.attachment_unreadable"


def test_an_appeal_to_file_has_its_30_days_from_the_decision_letter(store: Store) -> None:
    """A claim rejected: once the caseworker records when the letter came (the appeal's
    Fill in…), the appeal's deadline (D10) is a task and on the journey, until filed."""
    from desktop.services import ui_wizards

    case_id = _case(store, "นาง ส่ายสุนี")
    letter = TODAY - dt.timedelta(days=25)
    rows = [
        ("submit_claim", {"submitted_on": "2026-01-05", "sso_office": "Mae Sot"}, "rejected"),
        ("appeal", {"decision_received_on": letter.isoformat()}, "in_progress"),
    ]
    commit = ui_wizards.TrackCommit("claim", "claim_maternity", rows, benefit="maternity")
    track_id = ui_wizards.commit_track(store, case_id, commit)

    [task] = [t for t in ui_queries.open_tasks(store, TODAY) if t.action == "deadline.appeal"]
    assert (task.case_id, task.due, task.state) == (case_id, letter + dt.timedelta(30), "due_soon")
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert "deadline.appeal" in {e.label_key for e in journey if e.kind == "deadline"}

    appeal = next(
        s for s in cases.get_case_file(store, case_id).tracks[0].steps if s.key == "appeal"
    )
    assert cases.get_case_file(store, case_id).tracks[0].id == track_id
    cases.save_step(store, appeal.id, state="submitted")  # filed: nothing left to do by a day
    assert "deadline.appeal" not in {t.action for t in ui_queries.open_tasks(store, TODAY)}
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert "deadline.appeal" not in {e.label_key for e in journey}


def test_a_payment_announced_is_to_be_collected_within_two_years(store: Store) -> None:
    """A claim approved: once the caseworker records when the SSO's payment notice came
    (the filing step's Fill in…), collecting the money (D9, two years, or it reverts to the
    Fund) is a task and on the journey, until the step is marked paid; not before the
    approval, and not without the day."""
    from desktop.services import steps, ui_wizards

    case_id = _case(store, "Aung Aung")
    notice = TODAY - dt.timedelta(days=700)
    submitted = {"submitted_on": "2024-03-01", "sso_office": "Mae Sot"}
    rows = [("submit_claim", {**submitted, "payment_notified_on": notice.isoformat()}, "ready")]
    commit = ui_wizards.TrackCommit(
        "claim", "claim_sickness", rows, benefit="sickness", event_date=dt.date(2024, 2, 1)
    )
    ui_wizards.commit_track(store, case_id, commit)

    def collect() -> list[ui_queries.TaskRow]:
        return [t for t in ui_queries.open_tasks(store, TODAY) if t.action == COLLECT]

    def on_journey() -> bool:
        journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
        return COLLECT in {e.label_key for e in journey if e.kind == "deadline"}

    submit = cases.get_case_file(store, case_id).tracks[0].steps[0]
    assert not collect()  # handed in, not decided: nothing to collect yet
    assert not on_journey()
    steps.move_step(store, submit.id, "submitted", TODAY)
    steps.move_step(store, submit.id, "approved", TODAY)
    [task] = collect()
    assert (task.case_id, task.state) == (case_id, "due_soon")
    assert task.due == dt.date(notice.year + 2, notice.month, notice.day)
    assert on_journey()
    assert cases.get_case_file(store, case_id).tracks[0].state == "in_progress"

    steps.move_step(store, submit.id, "paid", TODAY)  # collected: nothing left to do by a day
    assert not collect()
    assert not on_journey()


def test_an_approved_claim_without_the_notice_day_has_no_collection_task(store: Store) -> None:
    """Approved, but the day the payment notice came not recorded (or not a date): no task."""
    from desktop.services import ui_wizards

    case_id = _case(store, "Mya Mya")
    for notice in (None, "soon"):
        data = {"submitted_on": "2026-01-05", "sso_office": "Ranong"}
        if notice:
            data["payment_notified_on"] = notice
        commit = ui_wizards.TrackCommit(
            "claim", "claim_maternity", [("submit_claim", data, "approved")], benefit="maternity"
        )
        ui_wizards.commit_track(store, case_id, commit)
    assert COLLECT not in {t.action for t in ui_queries.open_tasks(store, TODAY)}


def test_a_claim_handed_in_has_met_its_filing_deadline(store: Store) -> None:
    """Marked submitted in the case file, a claim's filing deadline leaves the Tasks page
    and the journey, though the claim waits for its decision."""
    from desktop.services import steps, ui_wizards

    case_id = _case(store, "Sok Dara")
    rows = [("submit_claim", {"submitted_on": "2026-03-01", "sso_office": "Mae Sot"}, "ready")]
    commit = ui_wizards.TrackCommit(
        "claim", "claim_maternity", rows, benefit="maternity", event_date=dt.date(2024, 4, 1)
    )
    ui_wizards.commit_track(store, case_id, commit)
    filing = {"deadline.file_claim"}
    assert filing <= {t.action for t in ui_queries.open_tasks(store, TODAY)}

    submit = cases.get_case_file(store, case_id).tracks[0].steps[0]
    steps.move_step(store, submit.id, "submitted", TODAY)
    assert not filing & {t.action for t in ui_queries.open_tasks(store, TODAY)}
    journey = ui_queries.journey(cases.get_case_file(store, case_id), TODAY)
    assert not filing & {e.label_key for e in journey}
    assert cases.get_case_file(store, case_id).tracks[0].state == "in_progress"


def test_tasks_are_filtered_by_state_and_by_whose_action_they_are() -> None:
    """The Tasks page's filters: the heir's tasks count as the worker's (the caseworker
    helps either the same way); "all" lets every one through."""

    def task(action: str, state: str, actor: str) -> ui_queries.TaskRow:
        return ui_queries.TaskRow("c", "TAK-1", "A", action, TODAY, state, actor)

    rows = [
        task("deadline.file_claim", "overdue", "heir"),
        task("deadline.register_unemployment", "due_soon", "worker"),
        task("deadline.notify_leaving", "overdue", "employer"),
        task("deadline.continued_cover_ends", "due_soon", "system"),
    ]
    assert ui_queries.filter_tasks(rows) == rows
    assert [r.actor for r in ui_queries.filter_tasks(rows, actor="worker")] == ["heir", "worker"]
    assert [r.actor for r in ui_queries.filter_tasks(rows, "overdue")] == ["heir", "employer"]
    assert ui_queries.filter_tasks(rows, "due_soon", "employer") == []
    assert [r.actor for r in ui_queries.filter_tasks(rows, "due_soon", "system")] == ["system"]
    tak = dataclasses.replace(rows[0], province_code="63")
    assert ui_queries.filter_tasks([*rows, tak], province="63") == [tak]
