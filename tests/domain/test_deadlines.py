"""Deadline engine: every rule D1-D15 turned into a dated task with its state."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.domain import deadlines, rules
from desktop.domain.deadlines import (
    CaseEvent,
    TaskState,
    add_months,
    claim_event,
    job_end_events,
    state_on,
    task_for,
    tasks_for,
)
from desktop.domain.errors import UserError
from desktop.domain.rules import RuleDataError

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("rule_id", "trigger_date", "due", "form"),
    [
        ("D1", dt.date(2026, 1, 5), dt.date(2026, 2, 4), "sso_1_01"),
        ("D2", dt.date(2026, 2, 20), dt.date(2026, 3, 22), "sso_1_03"),
        ("D3", dt.date(2026, 2, 28), dt.date(2026, 3, 15), "sso_1_10"),
        ("D3", dt.date(2025, 12, 31), dt.date(2026, 1, 15), "sso_1_10"),
        ("D4", dt.date(2026, 1, 31), dt.date(2026, 2, 15), "sso_6_09"),
        ("D5", dt.date(2025, 8, 31), dt.date(2026, 2, 28), "sso_1_20"),
        ("D6", dt.date(2025, 10, 15), dt.date(2026, 4, 15), None),
        ("D7", dt.date(2026, 3, 1), dt.date(2026, 3, 31), None),
        ("D8", dt.date(2025, 4, 1), dt.date(2026, 4, 1), "sso_2_01"),
        ("D9", dt.date(2024, 2, 29), dt.date(2026, 2, 28), None),
        ("D10", dt.date(2026, 3, 1), dt.date(2026, 3, 31), None),
        ("D11", dt.date(2026, 3, 2), dt.date(2026, 3, 17), "wcf_kt16"),
        ("D12", dt.date(2025, 10, 1), dt.date(2026, 3, 30), "wcf_kt16"),
        ("D13", dt.date(2024, 6, 30), dt.date(2026, 6, 30), "wcf_kt16"),
        ("D14", dt.date(2026, 1, 1), dt.date(2026, 1, 31), None),
        ("D15", dt.date(2023, 12, 31), dt.date(2024, 1, 30), None),
        ("D15", dt.date(2024, 1, 1), dt.date(2024, 3, 1), None),
        ("death_claim", dt.date(2026, 1, 10), dt.date(2028, 1, 10), "sso_2_01"),
        ("complaint_follow_up", dt.date(2026, 3, 1), dt.date(2026, 3, 31), None),
    ],
)
def test_every_rule_gives_its_due_date(
    rule_id: str, trigger_date: dt.date, due: dt.date, form: str | None
) -> None:
    task = task_for(rule_id, trigger_date, TODAY)
    assert task.due == due
    assert task.form == form
    assert task.rule_id == rule_id
    assert task.sources
    assert task.action.startswith("deadline.")


def test_all_fifteen_rules_and_the_app_deadlines_are_in_the_data() -> None:
    assert deadlines.rule_ids() == (
        *(f"D{n}" for n in range(1, 16)),
        "death_claim",
        "complaint_follow_up",
    )


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (dt.date(2026, 3, 1), TaskState.DUE),
        (dt.date(2026, 3, 20), TaskState.DUE),
        (dt.date(2026, 3, 21), TaskState.DUE_SOON),
        (dt.date(2026, 3, 31), TaskState.DUE_SOON),
        (dt.date(2026, 4, 1), TaskState.OVERDUE),
    ],
)
def test_state_relative_to_today(today: dt.date, state: TaskState) -> None:
    # D7: 30 days from leaving on 1 March = 31 March, due soon from 10 days before
    assert task_for("D7", dt.date(2026, 3, 1), today).state is state


def test_default_warning_days_apply_when_the_rule_sets_none() -> None:
    assert state_on(dt.date(2026, 4, 1), 14, dt.date(2026, 3, 18)) is TaskState.DUE_SOON
    task = task_for("D1", dt.date(2026, 3, 1), dt.date(2026, 3, 17))
    assert task.state is TaskState.DUE_SOON  # due 31 March, 14 days before
    assert task_for("D1", dt.date(2026, 3, 1), dt.date(2026, 3, 16)).state is TaskState.DUE
    assert task.actor == "employer"


def test_claim_filing_limit_is_an_unconfirmed_setting() -> None:
    task = task_for("D8", dt.date(2025, 4, 1), TODAY)
    assert task.unconfirmed == ("claim_filing_limit_months",)
    assert task.confidence is rules.Confidence.CONFLICT
    longer = rules.load().with_settings(claim_filing_limit_months=24)
    assert task_for("D8", dt.date(2025, 4, 1), TODAY, longer).due == dt.date(2027, 4, 1)
    assert task_for("D12", dt.date(2025, 4, 1), TODAY).unconfirmed == ()


def test_tasks_for_case_events_sorted_by_due_date() -> None:
    events = [
        CaseEvent("employment_ended", dt.date(2026, 2, 27)),
        CaseEvent("work_injury", dt.date(2026, 2, 20)),
    ]
    tasks = tasks_for(events, TODAY)
    assert [t.rule_id for t in tasks] == ["D4", "D7", "D12", "D5", "D6"]
    assert [t.due for t in tasks] == sorted(t.due for t in tasks)
    assert tasks[0].state is TaskState.DUE_SOON


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (None, ["D4", "D7", "D5", "D6"]),
        ("laid_off", ["D4", "D7", "D5", "D6"]),
        ("dismissed_misconduct", ["D4", "D5", "D6"]),  # no benefit: nothing to register for
    ],
)
def test_a_job_ended_for_misconduct_starts_no_unemployment_registration(
    reason: str | None, expected: list[str]
) -> None:
    ended = CaseEvent("employment_ended", dt.date(2026, 2, 27), reason=reason)
    assert [t.rule_id for t in tasks_for([ended], TODAY)] == expected


@pytest.mark.parametrize(
    ("settled", "done", "expected"),
    [
        ((), (), ["D4", "D7", "D15", "D5", "D6"]),
        # a later job: covered again, nothing for the worker left (the employer's notice is)
        (("next_job",), (), ["D4"]),
        # the worker has died: only the employer's notice (a 6-09 gives death as a reason)
        (("died",), (), ["D4"]),
        # the unemployment claim's steps: the DOE registration done, then the leaving notice
        ((), ("D7",), ["D4", "D15", "D5", "D6"]),
        ((), ("D4", "D7"), ["D15", "D5", "D6"]),
    ],
)
def test_what_the_case_shows_since_a_job_ended_settles_its_tasks(
    settled: tuple[str, ...], done: tuple[str, ...], expected: list[str]
) -> None:
    events = job_end_events(dt.date(2026, 2, 27), pink_card=True, settled=settled, done=done)
    assert [t.rule_id for t in tasks_for(events, TODAY)] == expected


def test_a_milestone_that_has_passed_is_no_task() -> None:
    """Continued cover ending (actor system) warns while it is ahead; once passed there is
    nothing to do about it, unlike the overdue tasks of people."""
    ended = [CaseEvent("employment_ended", dt.date(2025, 6, 1))]  # cover ended 2025-12-01
    assert [(t.rule_id, t.state) for t in tasks_for(ended, TODAY)] == [
        ("D7", TaskState.OVERDUE),  # 2025-07-01
        ("D4", TaskState.OVERDUE),  # 2025-07-15
        ("D5", TaskState.OVERDUE),  # 2025-12-01
    ]
    ahead = [CaseEvent("employment_ended", dt.date(2025, 9, 20))]  # ends 2026-03-20
    assert ("D6", TaskState.DUE_SOON) in [(t.rule_id, t.state) for t in tasks_for(ahead, TODAY)]


@pytest.mark.parametrize(
    ("benefit", "expected"),
    [
        ("death", ["death_claim"]),
        ("maternity", ["D8"]),
        (None, ["D8", "death_claim"]),
        ("unemployment", []),
    ],
)
def test_entitlement_rules_by_benefit(benefit: str | None, expected: list[str]) -> None:
    tasks = tasks_for([CaseEvent("entitlement", dt.date(2026, 1, 10), benefit)], TODAY)
    assert [t.rule_id for t in tasks] == expected


@pytest.mark.parametrize(
    ("benefit", "found_after_job", "expected"),
    [
        ("work_injury", False, CaseEvent("work_injury", TODAY)),
        ("work_injury", True, CaseEvent("illness_known_after_employment", TODAY)),
        ("maternity", True, CaseEvent("entitlement", TODAY, "maternity")),  # means nothing
        (None, False, CaseEvent("entitlement", TODAY)),  # every benefit's
    ],
)
def test_the_event_a_claim_files_against(
    benefit: str | None, found_after_job: bool, expected: CaseEvent
) -> None:
    assert claim_event(benefit, TODAY, found_after_job=found_after_job) == expected
    illness = claim_event("work_injury", TODAY, found_after_job=True)
    [task] = tasks_for([illness], TODAY)
    assert (task.rule_id, task.due) == ("D13", dt.date(2028, 3, 15))


@pytest.mark.parametrize(
    ("ended", "pink_card", "find_employer_by"),
    [
        (dt.date(2026, 2, 20), False, None),  # not a pink-card holder: no such window
        (dt.date(2026, 2, 20), True, dt.date(2026, 4, 21)),  # 60 days since 2024
        (dt.date(2020, 5, 1), True, dt.date(2020, 5, 31)),  # 30 days before
        (dt.date(2015, 5, 1), True, None),  # before any rule for it: none (in force only)
    ],
)
def test_a_pink_card_holder_s_job_end_starts_the_days_to_find_an_employer(
    ended: dt.date, pink_card: bool, find_employer_by: dt.date | None
) -> None:
    events = job_end_events(ended, "laid_off", pink_card=pink_card)
    assert events[0] == CaseEvent("employment_ended", ended, reason="laid_off")
    assert len(events) == (2 if pink_card else 1)
    found = [t.due for t in tasks_for(events, TODAY, in_force_only=True) if t.rule_id == "D15"]
    assert found == ([find_employer_by] if find_employer_by else [])


def test_unknown_trigger_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown deadline trigger"):
        tasks_for([CaseEvent("moon_landing", TODAY)], TODAY)


def test_event_before_the_rule_data_is_a_user_error() -> None:
    with pytest.raises(UserError) as caught:
        tasks_for([CaseEvent("pink_card_job_lost", dt.date(2010, 1, 1))], TODAY)
    assert caught.value.code == "error.rule_no_value"


def test_a_screen_s_events_before_the_rule_data_start_nothing() -> None:
    """A job typed as ended in 1985 (a Buddhist-Era year mistaken, or a long life): the
    journey and the Tasks page show what the rules say, not an error."""
    old = [CaseEvent("employment_ended", dt.date(1985, 1, 1))]
    assert tasks_for(old, TODAY, in_force_only=True) == []
    with pytest.raises(UserError):
        tasks_for(old, TODAY)


def _book_with(value: dict[str, object]) -> rules.RuleBook:
    documents = rules.read_documents()
    documents["deadlines.yaml"]["rules"]["D1"]["periods"][0]["value"] = value
    return rules.parse(documents)


def test_malformed_deadline_data_is_refused() -> None:
    bad_trigger = _book_with({"trigger": "never", "actor": "x", "action": "y", "offset": {}})
    with pytest.raises(RuleDataError, match="unknown trigger"):
        task_for("D1", TODAY, TODAY, bad_trigger)
    bad_offset = _book_with(
        {"trigger": "employment_started", "actor": "x", "action": "y", "offset": {"weeks": 2}}
    )
    with pytest.raises(RuleDataError, match="unknown offset"):
        task_for("D1", TODAY, TODAY, bad_offset)
    misspelt = _book_with(
        {
            "trigger": "employment_ended",
            "actor": "worker",
            "action": "y",
            "offset": {"days": 30},
            "settled_by": ["new_job"],
        }
    )
    with pytest.raises(RuleDataError, match="unknown settled_by"):
        tasks_for([CaseEvent("employment_ended", TODAY)], TODAY, misspelt)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2025, 8, 31), 6, dt.date(2026, 2, 28)),
        (dt.date(2025, 12, 15), 2, dt.date(2026, 2, 15)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected
