"""Workflow engine: every track's state machine, readiness checks, reopen, and the data."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from desktop.domain import i18n, ids, workflow
from desktop.domain.deadlines import rule_ids
from desktop.domain.errors import UserError
from desktop.domain.validation import Issue, Severity, issue
from desktop.domain.workflow import (
    FieldType,
    Outcome,
    StepDef,
    StepProgress,
    StepState,
    TrackDef,
    WorkflowDataError,
    advance,
    check,
    current_step,
    reopen,
)

S = StepState
FORMS = {"sso_1_03", "sso_2_01", "sso_6_09", "sso_1_20", "wcf_kt16", "complaint_letter"}
SAMPLE: dict[FieldType, Any] = {
    FieldType.TEXT: "Aung Aung",
    FieldType.ID_NUMBER: "MA1234567",
    FieldType.PHONE: "0812345678",
    FieldType.DATE: dt.date(2026, 3, 1),
    FieldType.MONEY: Decimal("12000"),
    FieldType.NUMBER: 14,
    FieldType.BOOL: True,
    FieldType.PROVINCE: "63",
}


def filled(step: StepDef) -> StepProgress:
    """Progress of ``step`` with every field, document and form done."""
    values = {f.name: f.choices[0] if f.choices else SAMPLE[f.type] for f in step.fields}
    return StepProgress(
        step.key,
        S.IN_PROGRESS,
        values,
        frozenset(step.documents),
        frozenset(step.forms),
    )


def run(track: TrackDef, step: StepDef, progress: StepProgress, *states: StepState) -> StepProgress:
    for state in states:
        progress, event = advance(track, progress, state)
        assert event.kind == "step.advanced"
        assert event.to_state is state
    return progress


def test_every_track_is_defined() -> None:
    tracks = workflow.load()
    assert {t.document_path for t in tracks.values() if t.kind == "enrollment"} == {
        "mou_passport",
        "certificate_of_identity",
        "pink_card",
        "border_pass",
        "section_39",
    }
    benefits = {t.benefit for t in tracks.values() if t.kind == "claim"}
    assert benefits == {
        "sickness",
        "maternity",
        "invalidity",
        "death",
        "child_allowance",
        "old_age",
        "unemployment",
    }
    assert tracks["work_injury"].benefit == "work_injury"
    assert tracks["enforcement"].kind == "enforcement"
    for track in tracks.values():
        if track.kind in ("claim", "work_injury", "enforcement"):
            assert track.steps[-1].key == "appeal"
            assert track.steps[-1].deadline == "D10"


def test_definitions_reference_known_forms_deadlines_and_labels() -> None:
    deadlines = set(rule_ids())
    used_forms: set[str] = set()
    for track in workflow.load().values():
        assert i18n.has(f"workflow.track.{track.key}")
        for step in track.steps:
            assert i18n.has(f"workflow.step.{step.key}"), step.key
            assert step.deadline is None or step.deadline in deadlines
            assert set(step.forms) <= FORMS
            used_forms.update(step.forms)
            for name in step.documents:
                assert i18n.has(f"workflow.document.{name}"), name
            for field in step.fields:
                assert i18n.has(f"workflow.field.{field.name}"), field.name
                for choice in field.choices:
                    assert i18n.has(f"workflow.choice.{choice}"), choice
    assert used_forms == FORMS
    for form in FORMS:
        assert i18n.has(f"workflow.form.{form}")
    for state in StepState:
        assert i18n.has(f"workflow.state.{state}")


def test_every_identity_number_an_enrollment_asks_for_fills_in_the_persons_document() -> None:
    """The passport and pink-card paths stored their number as the person's document; the
    CI and border-pass paths, and every work permit, kept theirs in the step alone, so a
    CI holder could not be found or paired by it."""
    paths = [
        t
        for t in workflow.load().values()
        if t.kind == "enrollment" and any(step.key == "identity" for step in t.steps)
    ]
    assert len(paths) == 4  # one per identity-document path
    for track in paths:
        for field in track.step("identity").fields:
            if field.type != "id_number":
                continue
            kind = field.name.removesuffix("_number")
            assert kind in set(ids.DocumentKind), (track.key, field.name)
            assert field.fact == f"document.{kind}.number", (track.key, field.name)


def test_every_identity_number_an_enrollment_asks_for_is_checked() -> None:
    """The border-pass number was taken as typed (any text, any length) while the
    passport, CI, pink-card and work-permit numbers were checked; a validator for it
    existed but no workflow named it."""
    for track in workflow.load().values():
        if track.kind != "enrollment" or track.find("identity") is None:
            continue
        for field in track.step("identity").fields:
            if field.type == "id_number":
                assert field.validator is not None, (track.key, field.name)


def test_claim_documents_follow_the_checklists() -> None:
    tracks = workflow.load()
    gather = tracks["claim_maternity"].step("gather_documents")
    assert "child_birth_certificate" in gather.documents
    assert "bank_passbook" in gather.documents
    assert "kt44_copy" in tracks["work_injury"].step("gather_documents").optional_documents
    evidence = tracks["enforcement"].step("gather_evidence").documents
    assert "payslips_showing_deductions" in evidence


@pytest.mark.parametrize("key", sorted(workflow.load()))
def test_each_track_runs_to_the_end(key: str) -> None:
    """Walk every track: each step through its states, approved where there is a decision."""
    track = workflow.load()[key]
    progress: dict[str, StepProgress] = {}
    seen = []
    while (step := current_step(track, progress)) is not None:
        seen.append(step.key)
        state = progress.get(step.key, StepProgress(step.key)).state
        item = filled(step) if state is S.NOT_STARTED else progress[step.key]
        if state is S.NOT_STARTED:
            item = dataclasses.replace(item, state=S.NOT_STARTED)
            item = run(track, step, item, S.IN_PROGRESS, S.READY)
            if step.outcome is not Outcome.NONE:
                item = run(track, step, item, S.SUBMITTED)
        elif state is S.SUBMITTED:
            item = run(track, step, item, S.APPROVED)
            if step.outcome is Outcome.PAYMENT:
                item = run(track, step, item, S.PAID)
        progress[step.key] = item
        assert len(seen) < 20
    assert "appeal" not in seen
    assert all(workflow.is_done(s, progress[s.key].state) for s in track.steps if s.key in seen)


@pytest.mark.parametrize("key", ["claim_sickness", "work_injury", "claim_unemployment"])
def test_rejected_claim_opens_the_appeal(key: str) -> None:
    track = workflow.load()[key]
    submit = track.step("submit_claim")
    progress = {s.key: dataclasses.replace(filled(s), state=S.READY) for s in track.steps[:-2]}
    item = run(track, submit, filled(submit), S.READY, S.SUBMITTED, S.REJECTED)
    progress["submit_claim"] = item
    appeal = current_step(track, progress)
    assert appeal is not None
    assert appeal.key == "appeal"
    with pytest.raises(UserError) as caught:
        advance(track, item, S.PAID)
    assert caught.value.code == "error.workflow_transition"
    progress["submit_claim"] = run(track, submit, item, S.APPEALED)
    assert current_step(track, progress) == appeal
    progress["appeal"] = run(track, appeal, filled(appeal), S.READY, S.SUBMITTED, S.APPROVED)
    assert current_step(track, progress) is None


def test_enforcement_follow_up_while_the_complaint_waits() -> None:
    track = workflow.load()["enforcement"]
    progress = {
        key: dataclasses.replace(filled(track.step(key)), state=S.READY)
        for key in ("record_problem", "gather_evidence")
    }
    complaint = track.step("file_complaint")
    progress["file_complaint"] = run(track, complaint, filled(complaint), S.READY, S.SUBMITTED)
    assert current_step(track, progress) == track.step("follow_up")
    progress["follow_up"] = dataclasses.replace(filled(track.step("follow_up")), state=S.READY)
    # only the waiting complaint is left
    assert current_step(track, progress) == complaint
    progress["file_complaint"] = run(track, complaint, progress["file_complaint"], S.REJECTED)
    assert current_step(track, progress) == track.step("outcome")


TRANSITIONS = [
    # outcome none: ends at ready
    (Outcome.NONE, S.NOT_STARTED, (S.IN_PROGRESS,)),
    (Outcome.NONE, S.IN_PROGRESS, (S.READY,)),
    (Outcome.NONE, S.READY, ()),
    (Outcome.DECISION, S.READY, (S.SUBMITTED,)),
    (Outcome.DECISION, S.SUBMITTED, (S.APPROVED, S.REJECTED)),
    (Outcome.DECISION, S.APPROVED, ()),
    (Outcome.DECISION, S.REJECTED, (S.APPEALED,)),
    (Outcome.PAYMENT, S.APPROVED, (S.PAID,)),
    (Outcome.PAYMENT, S.PAID, ()),
    (Outcome.PAYMENT, S.APPEALED, ()),
]


@pytest.mark.parametrize(("outcome", "state", "allowed"), TRANSITIONS)
def test_states_only_move_forward(
    outcome: Outcome, state: StepState, allowed: tuple[StepState, ...]
) -> None:
    step = StepDef("s", outcome=outcome)
    track = TrackDef("t", "claim", (step,))
    assert workflow.allowed_next(step, state) == allowed
    for target in StepState:
        if target in allowed:
            continue
        with pytest.raises(UserError) as caught:
            advance(track, StepProgress("s", state), target)
        assert caught.value.code == "error.workflow_transition"


def test_ready_needs_fields_documents_and_forms() -> None:
    track = workflow.load()["claim_sickness"]
    prepare = track.step("prepare_claim")
    empty = StepProgress("prepare_claim", S.IN_PROGRESS)
    with pytest.raises(UserError) as caught:
        advance(track, empty, S.READY)
    assert caught.value.code == "error.workflow_not_ready"
    codes = {(i.code, i.field) for i in caught.value.issues}
    assert ("workflow.field_required", "bank_account") in codes
    assert ("workflow.form_not_printed", "sso_2_01") in codes
    gather = StepProgress("gather_documents", S.IN_PROGRESS, documents=frozenset({"id_copy"}))
    found = check(track.step("gather_documents"), gather)
    assert ("workflow.document_missing", "medical_certificate") in {
        (i.code, i.field) for i in found
    }
    done, _ = advance(track, filled(prepare), S.READY)
    assert done.state is S.READY


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (FieldType.DATE, dt.date(2026, 1, 1), "2026-01-01"),
        (FieldType.MONEY, Decimal("0"), Decimal("-1")),
        (FieldType.MONEY, 100, True),
        (FieldType.NUMBER, -3, "3"),
        (FieldType.NUMBER, Decimal("2.5"), False),
        (FieldType.BOOL, False, "yes"),
        (FieldType.TEXT, "x", "   "),
        (FieldType.ID_NUMBER, "123", 123),
        (FieldType.PROVINCE, "63", "99"),  # Tak; no province has code 99
    ],
)
def test_field_types_are_checked(kind: FieldType, good: Any, bad: Any) -> None:
    step = StepDef("s", fields=(workflow.FieldDef("f", kind),))
    assert check(step, StepProgress("s", values={"f": good})) == ()
    found = check(step, StepProgress("s", values={"f": bad}))
    assert [(i.code, i.field) for i in found] == [("workflow.field_invalid", "f")]


def test_choices_optional_fields_and_named_validators() -> None:
    fields = (
        workflow.FieldDef("pick", FieldType.CHOICE, choices=("a", "b")),
        workflow.FieldDef("note", FieldType.TEXT, required=False),
        workflow.FieldDef("id", FieldType.ID_NUMBER, validator="thai_id"),
        workflow.FieldDef("other", FieldType.TEXT, validator="not_supplied"),
    )
    step = StepDef("s", fields=fields, advance_when=(workflow.Condition.FIELDS_COMPLETE,))

    def thai_id(value: Any) -> list[Issue]:
        return [] if value == "ok" else [issue("id.check_digit", "id", Severity.WARNING)]

    validators = {"thai_id": thai_id}
    values = {"pick": "a", "id": "bad", "other": "x", "note": ""}
    found = check(step, StepProgress("s", values=values), validators)
    assert [i.code for i in found] == ["id.check_digit"]
    track = TrackDef("t", "claim", (step,))
    moved, _ = advance(track, StepProgress("s", S.IN_PROGRESS, values), S.READY, validators)
    assert moved.state is S.READY  # a warning does not block
    wrong = check(step, StepProgress("s", values={**values, "pick": "c", "id": "ok"}))
    assert [i.code for i in wrong] == ["workflow.field_invalid"]
    # without fields_complete, a missing required field does not block
    lenient = StepDef("s", fields=fields)
    assert check(lenient, StepProgress("s")) == ()


def test_reopen_goes_back_with_a_reason_for_the_audit_trail() -> None:
    track = workflow.load()["claim_maternity"]
    item = StepProgress("submit_claim", S.SUBMITTED)
    back, event = reopen(track, item, "  wrong bank account  ")
    assert back.state is S.IN_PROGRESS
    assert (event.kind, event.from_state, event.to_state, event.reason) == (
        "step.reopened",
        S.SUBMITTED,
        S.IN_PROGRESS,
        "wrong bank account",
    )
    assert event.track == "claim_maternity"
    ready, _ = reopen(track, item, "recount", S.READY)
    assert ready.state is S.READY
    with pytest.raises(UserError) as caught:
        reopen(track, item, "   ")
    assert caught.value.code == "error.workflow_reopen_reason"
    for target in (S.SUBMITTED, S.APPROVED):
        with pytest.raises(UserError) as caught:
            reopen(track, item, "why", target)
        assert caught.value.code == "error.workflow_reopen_backward"


def test_unknown_track_and_step() -> None:
    with pytest.raises(UserError) as caught:
        workflow.track("claim_lottery")
    assert caught.value.code == "error.workflow_unknown_track"
    assert workflow.track("work_injury").key == "work_injury"
    with pytest.raises(KeyError):
        workflow.track("work_injury").step("nope")


STEP = {"key": "a"}


@pytest.mark.parametrize(
    "document",
    [
        ["not a mapping"],
        {"tracks": {"t": {"steps": []}}},
        {"tracks": {"t": {"steps": "a"}}},
        {"tracks": {"t": "x"}},
        {"tracks": {"t": {"steps": [{"fields": []}]}}},
        {"tracks": {"t": {"steps": ["a"]}}},
        {"tracks": {"t": {"steps": [STEP, STEP]}}},
        {"tracks": {"t": {"steps": [{"use": "missing"}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "outcome": "maybe"}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "advance_when": ["luck"]}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "advance_when": "fields_complete"}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "when": {"step": "a"}}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "when": {"step": "b", "states": ["ready"]}}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "documents": [1]}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "fields": [{"type": "text"}]}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "fields": ["f"]}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "fields": [{"name": "f", "type": "colour"}]}]}}},
        {"tracks": {"t": {"steps": [{**STEP, "fields": [{"name": "f", "type": "choice"}]}]}}},
        {
            "tracks": {
                "t": {
                    "steps": [{**STEP, "fields": [{"name": "f", "type": "text", "choices": ["x"]}]}]
                }
            }
        },
    ],
)
def test_malformed_workflow_data_is_refused(document: Any) -> None:
    with pytest.raises(WorkflowDataError):
        workflow.parse({"bad.yaml": document})


@pytest.mark.parametrize(
    "fact",
    [
        "document.pink_card.numbr",  # misspelt attribute
        "document.library_card.number",  # no such document kind
        "document.number",
        "employer.phone",
        "employment.wage",
        "person.name",
        "person.name.",  # no kind
        "person.name.as in.passport",
        "person.name.pasport",  # a kind of name the person has not: misspelt
        "event",
    ],
)
def test_a_field_fact_the_commit_does_not_know_is_refused(fact: str) -> None:
    field = {"name": "f", "type": "text", "fact": fact}
    document = {"tracks": {"t": {"steps": [{**STEP, "fields": [field]}]}}}
    with pytest.raises(WorkflowDataError, match="unknown fact"):
        workflow.parse({"bad.yaml": document})


@pytest.mark.parametrize(
    "fact",
    [
        "event_date",
        "document.passport.expires_on",
        "employer.sso_branch",
        "employment.section",
        "person.name.passport",
    ],
)
def test_known_field_facts_load(fact: str) -> None:
    field = {"name": "f", "type": "text", "fact": fact}
    tracks = workflow.parse(
        {"ok.yaml": {"tracks": {"t": {"steps": [{**STEP, "fields": [field]}]}}}}
    )
    assert tracks["t"].steps[0].fields[0].fact == fact


@pytest.mark.parametrize(
    ("fact", "kind"),
    [
        ("person.name.passport", "passport"),
        ("person.name.thai", "thai"),
        ("person.name.", None),
        ("person.birth_date", None),
        ("document.passport.number", None),
        (None, None),
    ],
)
def test_the_kind_of_name_a_field_fact_asks_for(fact: str | None, kind: str | None) -> None:
    assert workflow.name_kind(fact) == kind


def test_shared_steps_and_overrides() -> None:
    tracks = workflow.parse(
        {
            "shared.yaml": {
                "steps": {"base": {"key": "b", "deadline": "D8", "outcome": "decision"}}
            },
            "t.yaml": {"tracks": {"t": {"steps": [STEP, {"use": "base", "deadline": "D12"}]}}},
        }
    )
    step = tracks["t"].step("b")
    assert (step.deadline, step.outcome) == ("D12", Outcome.DECISION)
    with pytest.raises(WorkflowDataError, match="defined twice"):
        workflow.parse(
            {
                "a.yaml": {"tracks": {"t": {"steps": [STEP]}}},
                "b.yaml": {"tracks": {"t": {"steps": [STEP]}}},
            }
        )


def test_load_reads_the_bundled_files_afresh() -> None:
    # As for the rules: make the loader run on this thread whatever ran first.
    workflow.load.cache_clear()
    assert "claim_maternity" in workflow.load()


def test_find_answers_none_for_a_step_no_longer_defined() -> None:
    track = workflow.parse({"t.yaml": {"tracks": {"t": {"steps": [STEP]}}}})["t"]
    assert track.find(STEP["key"]) is track.step(STEP["key"])
    assert track.find("gone") is None
    with pytest.raises(KeyError):
        track.step("gone")


def test_optional_documents_are_on_the_checklist_but_never_wait() -> None:
    """A work-injury claim needs the medical certificate; a KT.44 referral only if the
    employer issued one (domain.md §5.2): its absence does not hold the step up."""
    gather = workflow.track("work_injury").step("gather_documents")
    assert {"kt44_copy", "receipts"} <= set(gather.optional_documents)
    have = frozenset(gather.documents)
    assert workflow.check(gather, StepProgress(gather.key, documents=have)) == ()
    without = frozenset(have - {"medical_certificate"})
    assert [
        i.field for i in workflow.check(gather, StepProgress(gather.key, documents=without))
    ] == ["medical_certificate"]
    both = {**STEP, "documents": ["a"], "optional_documents": ["a"]}
    with pytest.raises(WorkflowDataError, match="both required and optional"):
        workflow.parse({"bad.yaml": {"tracks": {"t": {"steps": [both]}}}})


def test_an_appeal_filed_before_its_decision_arrived_is_questioned() -> None:
    appeal = workflow.track("claim_maternity").step("appeal")
    values = {"decision_received_on": dt.date(2026, 3, 10), "appeal_grounds": "paid"}
    documents = frozenset(appeal.documents)
    early = StepProgress(
        appeal.key, values={**values, "appeal_filed_on": dt.date(2026, 3, 1)}, documents=documents
    )
    (found,) = workflow.check(appeal, early)
    assert (found.code, found.field) == ("workflow.date_before", "appeal_filed_on")
    assert i18n.text("workflow.date_before", "en", **found.params) == (
        "This date is before Decision received on; check both."
    )
    same_day = dataclasses.replace(
        early, values={**values, "appeal_filed_on": values["decision_received_on"]}
    )
    assert workflow.check(appeal, same_day) == ()
    unknown = dataclasses.replace(
        early, values={"appeal_grounds": "paid", "appeal_filed_on": dt.date(2026, 3, 1)}
    )
    assert [i.code for i in workflow.check(appeal, unknown)] == ["workflow.field_required"]


def test_dates_out_of_order_compares_dates_or_their_iso_text_as_the_editors_give_them() -> None:
    """One check for the engine (dates) and the editors (ISO text): a value missing or not a
    date is not compared, the same day is in order."""
    pairs = [("appeal_filed_on", "decision_received_on")]
    (found,) = workflow.dates_out_of_order(
        pairs, {"decision_received_on": "2026-03-10", "appeal_filed_on": dt.date(2026, 3, 9)}
    )
    assert (found.code, found.field) == ("workflow.date_before", "appeal_filed_on")
    for letter, filed in [
        ("2026-03-10", "2026-03-10"),
        ("2026-03-10", None),
        (None, "2026-03-09"),
        ("soon", "2026-03-09"),
    ]:
        values = {"decision_received_on": letter, "appeal_filed_on": filed}
        assert workflow.dates_out_of_order(pairs, values) == []


@pytest.mark.parametrize(
    "fields",
    [
        [{"name": "a", "type": "date", "not_before": "gone"}],
        [{"name": "a", "type": "text", "not_before": "b"}, {"name": "b", "type": "date"}],
        [{"name": "a", "type": "date", "not_before": "b"}, {"name": "b", "type": "text"}],
    ],
)
def test_not_before_names_a_date_field_of_the_same_step(fields: list[dict[str, Any]]) -> None:
    step = {**STEP, "fields": fields}
    with pytest.raises(WorkflowDataError, match="not_before"):
        workflow.parse({"bad.yaml": {"tracks": {"t": {"steps": [step]}}}})


def test_a_step_has_carried_out_its_work_once_ready_or_handed_in() -> None:
    """What a step's deadline asks is done: a step without a decision once ready; a filing
    once handed in, whatever was decided (a claim rejected was still filed)."""
    unemployment = workflow.track("claim_unemployment")
    notice, submit = unemployment.step("employer_leaving_notice"), unemployment.step("submit_claim")
    assert [s for s in StepState if workflow.carried_out(notice, s)] == [StepState.READY]
    assert not workflow.carried_out(submit, StepState.READY)
    assert all(workflow.carried_out(submit, s) for s in workflow.FILED)
    assert not workflow.carried_out(notice, None)


def test_reopen_targets_follow_the_path_a_step_took() -> None:
    submit = workflow.track("claim_maternity").step("submit_claim")
    assert workflow.reopen_targets(submit, StepState.PAID) == (
        StepState.APPROVED,
        StepState.SUBMITTED,
        StepState.READY,
        StepState.IN_PROGRESS,
    )
    assert StepState.APPROVED not in workflow.reopen_targets(submit, StepState.APPEALED)
    assert workflow.reopen_targets(submit, StepState.IN_PROGRESS) == ()


def test_labels_are_the_engines_keys_first_then_the_screens() -> None:
    assert workflow.label_key("field", "appeal_grounds") == "workflow.field.appeal_grounds"
    assert workflow.label_key("doc", "kt44_copy") == "workflow.document.kt44_copy"
    assert workflow.label_key("step", "collect_documents") == "ui.wf.step.collect_documents"
    assert workflow.label_key("field", "no_such_field") == "ui.wf.field.no_such_field"


def test_filing_steps_are_the_decided_steps_every_case_goes_through() -> None:
    claim = workflow.track("claim_maternity")
    assert [s.key for s in claim.steps if workflow.is_filing(s)] == ["submit_claim"]
    enrollment = workflow.track("enrollment_pink_card")
    assert [s.key for s in enrollment.steps if workflow.is_filing(s)] == ["registration"]
    assert frozenset(StepState) == workflow.UNFILED | workflow.FILED
    assert not workflow.UNFILED & workflow.FILED


def test_a_refused_move_names_the_step_and_states_in_the_readers_language() -> None:
    track = workflow.load()["work_injury"]
    progress = workflow.StepProgress(step="report_injury", state=workflow.StepState.NOT_STARTED)
    with pytest.raises(UserError) as caught:
        workflow.advance(track, progress, workflow.StepState.PAID)
    english = caught.value.english()
    assert "report_injury" not in english
    assert "not_started" not in english
    assert "Report the injury" in english
    assert "report_injury" not in caught.value.translated("th")


def test_a_mothers_maternity_claim_never_waits_for_a_marriage_certificate() -> None:
    """The marriage certificate is gathered when the insured father claims for his
    uninsured wife, not when the mother claims for herself (domain.md §3 row 2)."""
    gather = workflow.track("claim_maternity").step("gather_documents")
    assert "marriage_certificate" in gather.documents
    mother = {"claimant_is": "mother"}
    father = {"claimant_is": "father_wife_uninsured"}
    assert "marriage_certificate" not in workflow.needed_documents(gather, mother)
    assert "marriage_certificate" in workflow.needed_documents(gather, father)
    assert "marriage_certificate" not in workflow.needed_documents(gather, {})
    assert workflow.needed_documents(gather, father, optional=True) == ()
    have = frozenset(gather.documents) - {"marriage_certificate"}
    progress = StepProgress(gather.key, documents=have, track_values=mother)
    assert workflow.check(gather, progress) == ()
    waiting = dataclasses.replace(progress, track_values=father)
    assert [i.field for i in workflow.check(gather, waiting)] == ["marriage_certificate"]


def _conditional(document: Any, choices: list[str] | None = None) -> dict[str, Any]:
    first = {
        "key": "first",
        "fields": [{"name": "who", "type": "choice", "choices": choices or ["a", "b"]}],
    }
    second = {"key": "second", "optional_documents": [document]}
    return {"t.yaml": {"tracks": {"t": {"steps": [first, second]}}}}


def test_an_optional_document_with_a_list_of_values() -> None:
    track = workflow.parse(_conditional({"key": "d", "when": {"who": ["a", "b"]}}))["t"]
    step = track.step("second")
    assert step.optional_documents == ("d",)
    assert workflow.needed_documents(step, {"who": "b"}, optional=True) == ("d",)
    assert workflow.needed_documents(step, {"who": "c"}, optional=True) == ()


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ({"key": "d", "when": {"nobody": "a"}}, "no choice field"),
        ({"key": "d", "when": {"who": "c"}}, "cannot have"),
        ({"key": "d", "when": {"who": ["a", "c"]}}, "cannot have"),
        ({"key": "d"}, "a key and a when"),
        ({"key": "d", "when": {}}, "a key and a when"),
        ({"key": "d", "when": {"who": "a"}, "extra": 1}, "a key and a when"),
        ({"when": {"who": "a"}}, "list of names"),
        (3, "list of names"),
    ],
)
def test_a_document_condition_the_track_cannot_meet_is_refused(document: Any, match: str) -> None:
    with pytest.raises(WorkflowDataError, match=match):
        workflow.parse(_conditional(document))


def test_a_step_documents_must_be_a_list() -> None:
    step = {**STEP, "documents": "a"}
    with pytest.raises(WorkflowDataError, match="list of names"):
        workflow.parse({"bad.yaml": {"tracks": {"t": {"steps": [step]}}}})


def test_a_field_asked_only_after_a_death_is_required_only_then() -> None:
    """The work injury's report asks who claims only when the worker died or disappeared:
    required then, not asked (nor checked) otherwise; the condition reads the track's
    values, so a choice made in another step counts too."""
    report = workflow.track("work_injury").step("report_injury")
    claimant = next(f for f in report.fields if f.name == "claimant_name")
    assert dict(claimant.when) == {"injury_outcome": ("died", "disappeared")}
    base = {
        "injury_date": dt.date(2026, 3, 1),
        "injury_place": "Pier 3",
        "injury_description": "Fell from the boat",
        "treatment_facility": "Ranong Hospital",
        "employer_reported": True,
    }

    def missing(values: dict[str, Any], track_values: dict[str, Any] | None = None) -> set[str]:
        progress = StepProgress(
            "report_injury",
            StepState.IN_PROGRESS,
            values=values,
            forms_printed=frozenset({"wcf_kt16"}),
            track_values=track_values or {},
        )
        return {i.field for i in workflow.check(report, progress)}

    assert missing(base) == set()
    assert missing({**base, "injury_outcome": "injured"}) == set()
    asked = {"claimant_is", "claimant_name", "claimant_relationship"}
    assert missing({**base, "injury_outcome": "died"}) == asked
    assert missing(base, {"injury_outcome": "disappeared"}) == asked
    named = {"claimant_is": "heir", "claimant_name": "Ma Hla", "claimant_relationship": "spouse"}
    assert missing({**base, "injury_outcome": "died", **named}) == set()
    # a value held from before the outcome changed is neither asked for nor checked
    assert missing({**base, "injury_outcome": "injured", "claimant_is": "nobody"}) == set()


@pytest.mark.parametrize(
    ("when", "match"),
    [
        ({"nobody": "a"}, "no choice field"),
        ({"who": "c"}, "cannot have"),
        ({}, "names fields and their values"),
        ("who", "names fields and their values"),
    ],
)
def test_a_field_condition_the_track_cannot_meet_is_refused(when: Any, match: str) -> None:
    first = {
        "key": "first",
        "fields": [{"name": "who", "type": "choice", "choices": ["a", "b"]}],
    }
    second = {"key": "second", "fields": [{"name": "x", "type": "text", "when": when}]}
    with pytest.raises(WorkflowDataError, match=match):
        workflow.parse({"t.yaml": {"tracks": {"t": {"steps": [first, second]}}}})
