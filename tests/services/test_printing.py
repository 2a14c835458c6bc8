"""desktop.services.printing: stored cases become form data, packets and SSO files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.domain import i18n, workflow
from desktop.domain.errors import UserError
from desktop.forms import packet, sso_export
from desktop.forms.data import BankAccount, CaseData, Office
from desktop.forms.samples import with_check_digit
from desktop.models.base import utcnow
from desktop.models.entities import AuditEvent, ChecklistItem, OutboxEntry, Person
from desktop.models.store import Store
from desktop.services import cases, employers, people, printing, steps, ui_wizards
from desktop.services.cases import CaseFilter, TrackInput
from desktop.services.people import DocumentInput, NameInput, PersonInput
from tests.conftest import unemployment_claim
from tests.forms.conftest import pdftotext

PINK = with_check_digit("000163123456")


def _setup(store: Store) -> str:
    pid = people.create_person(
        store,
        PersonInput(
            names=[
                NameInput("မောင်ကျော်ဇင်", "native"),
                NameInput("Maung Kyaw Zin", "passport"),
                NameInput("หม่อง จ่อ ซิน", "thai"),
            ],
            sex="male",
            birth_date="1994-07-02",
            nationality="MMR",
            preferred_language="my",
            documents=[DocumentInput("pink_card", PINK)],
        ),
    ).person_id
    employer = employers.create_employer(
        store, employers.EmployerInput("Mae Sot Garment Co.", sso_account="6300012345")
    )
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(employer, dt.date(2026, 2, 2), None, decimal.Decimal(20000)),
    )
    employers.record_contributions(
        store, pid, [employers.ContributionInput("2026-02", decimal.Decimal(20000), employer)]
    )
    number = cases.open_case(store, pid)
    cases.start_track(
        store,
        number,
        TrackInput(
            "claim",
            ["file"],
            [("medical_certificate", True), ("bank_passbook", True)],
            benefit="sickness",
            event_date=dt.date(2026, 3, 1),
        ),
    )
    return number


def test_case_data_from_a_stored_case(store: Store) -> None:
    number = _setup(store)
    data = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert data.case_number == number
    assert data.case_id == uuid.UUID(cases.case_id_for(store, number))
    assert data.person.language == "my"
    assert data.person.name_native == "မောင်ကျော်ဇင်"
    assert data.person.name_latin == "Maung Kyaw Zin"
    assert data.person.national_id == PINK
    assert data.person.sex == "M"
    assert data.person.birth_date == dt.date(1994, 7, 2)
    assert data.employer.account == "6300012345"
    assert data.forms == ("sps2_01",)
    assert data.benefit.kind == "sickness"
    assert data.benefit.filing_deadline is not None
    assert data.benefit.filing_deadline > dt.date(2026, 3, 1)
    assert [item.present for item in data.checklist] == [False, False]
    assert packet.render_packet_bytes(data).startswith(b"%PDF")


def test_a_worker_known_only_by_a_burmese_name_is_named_on_the_forms(store: Store) -> None:
    """No language recorded (the new-case dialog asks none): the packet's worker cell and
    every form's name were blank, the forms looking for a Thai-script name."""
    pid = people.create_person(store, PersonInput(names=[NameInput("မောင်မောင်")])).person_id
    number = cases.open_case(store, pid)
    data = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert data.person.language == "my"
    assert data.person.name_native == "မောင်မောင်"
    assert data.person.display_name == "မောင်မောင်"


def test_a_khmer_name_is_printed_in_the_order_its_documents_write_it(store: Store) -> None:
    """Khmer writes the family name first, and so does the passport (SOK SAMNANG): the
    forms printed both given name first, a name the office could not match to the
    worker's documents."""
    names = [
        NameInput("សុខ សំណាង", "native", given_name="សំណាង", family_name="សុខ"),
        NameInput("SOK SAMNANG", "passport", given_name="SAMNANG", family_name="SOK"),
    ]
    pid = people.create_person(store, PersonInput(names=names, nationality="KHM")).person_id
    data = printing.case_data(store, cases.open_case(store, pid), today=dt.date(2026, 3, 15))
    assert data.person.name_native == "សុខ សំណាង"
    assert data.person.name_latin == "SOK SAMNANG"
    # The SSO file still has the family name as the last name.
    assert sso_export.sso_name(data.person)[:2] == ("SAMNANG", "SOK")


def test_queue_yields_every_case(store: Store) -> None:
    number = _setup(store)
    assert [c.case_number for c in printing.iter_case_data(store)] == [number]


def test_registration_and_contribution_exports_from_the_store(store: Store) -> None:
    _setup(store)
    records = printing.registration_records(store, "2026-02")
    assert [r.kind for r in records] == ["103"]
    result = sso_export.export_registrations(records)
    assert len(result.lines) == 1
    [statement] = printing.contribution_statements(store, "2026-02")
    assert statement.payment_date == dt.date(2026, 3, 15)
    exported = sso_export.export_contributions(statement)
    assert len(exported.lines) == 2
    assert "form.sso.wage_capped" in [w.issue.code for w in exported.warnings]


def test_bad_month_is_a_user_error(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        printing.registration_records(store, "February")
    assert caught.value.code == "form.error.bad_month"


# --- recording what was printed -----------------------------------------------------------


def _new_case(store: Store) -> str:
    return ui_wizards.create_case(store, PersonInput(names=[NameInput("နန်းနန်း")]))


def test_the_sso_number_on_the_card_step_is_the_one_printed(store: Store) -> None:
    """The SSO card comes weeks after the wizard, and its number is typed at the
    enrollment's last step on the Tracks tab, which keeps it there: the 2-01's SSO number
    box was left empty."""
    case_id = _new_case(store)
    steps = [
        ("employer", {"employer_name": "Tak Farm"}, "ready"),
        ("registration", {"submitted_on": "2026-03-10"}, "ready"),
        ("sso_card", {"sso_number": "1 2345 67890 12 1", "hospital": "Mae Sot"}, "in_progress"),
    ]
    commit = ui_wizards.TrackCommit("enrollment", "enrollment_pink_card", steps, path="pink_card")
    ui_wizards.commit_track(store, case_id, commit)
    number = cases.get_case_file(store, case_id).number

    assert printing.case_data(store, number).person.sso_number == "1234567890121"


def test_without_an_sso_number_anywhere_the_box_stays_empty(store: Store) -> None:
    number = cases.get_case_file(store, _new_case(store)).number
    assert printing.case_data(store, number).person.sso_number == ""


def _claim(
    store: Store, case_id: str, steps: list[tuple[str, dict[str, str], str]], since: str | None
) -> None:
    """A maternity claim committed as the wizard commits it."""
    commit = ui_wizards.TrackCommit(
        kind="claim", workflow="claim_maternity", benefit="maternity", steps=steps
    )
    ui_wizards.commit_track(store, case_id, dataclasses.replace(commit, printed_since=since))


def _maternity(store: Store, *, bank_name: str = "Krungthai") -> str:
    """A case with a maternity claim as the wizard leaves it: every shown step proposed ready."""
    case_id = _new_case(store)
    prepared = {"bank_name": bank_name, "bank_account": "1234567890", "claimant_signs": "signature"}
    _claim(
        store,
        case_id,
        [
            ("check_eligibility", {"event_date": "2026-02-20", "claimant_is": "mother"}, "ready"),
            ("gather_documents", {}, "ready"),
            ("prepare_claim", prepared, "ready"),
            ("submit_claim", {}, "not_started"),
            ("appeal", {}, "not_started"),
        ],
        None,
    )
    return case_id


def _steps(store: Store, case_id: str) -> dict[str, cases.StepView]:
    (track,) = cases.get_case_file(store, case_id).tracks
    return {s.key: s for s in track.steps}


def _printed_events(store: Store) -> list[AuditEvent]:
    with store.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "forms.printed")))


def test_a_step_that_needs_its_forms_printed_commits_in_progress(store: Store) -> None:
    case_id = _maternity(store)
    steps = _steps(store, case_id)
    assert steps["check_eligibility"].state == "ready"  # no forms_printed condition
    assert steps["prepare_claim"].state == "in_progress"
    assert "forms_printed" not in steps["prepare_claim"].data
    (track,) = cases.get_case_file(store, case_id).tracks
    assert printing.forms_to_print(track) == ("sso_2_01",)


def test_printing_the_packet_records_it_and_moves_the_step_to_ready(store: Store) -> None:
    case_id = _maternity(store)
    record = printing.record_printed(store, case_id, None, "print")
    steps = _steps(store, case_id)
    assert record.forms == ("sso_2_01",)  # the packet's sps2_01, by its workflow code
    assert record.steps_updated == record.steps_ready == (steps["prepare_claim"].id,)
    assert steps["prepare_claim"].state == "ready"
    assert steps["prepare_claim"].data["forms_printed"] == ["sso_2_01"]
    assert steps["prepare_claim"].data["bank_name"] == "Krungthai"  # other data kept
    (event,) = _printed_events(store)
    assert (event.entity, event.row_id, event.details) == (
        "case",
        case_id,
        {"forms": ["sso_2_01"], "how": "print"},
    )
    with store.read() as session:  # the audit event travels to the server like any row
        outbox = session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == event.id)).all()
    assert [o.entity for o in outbox] == ["audit_event"]
    step_actions = [a for _w, a, _u in cases.audit_trail(store, [steps["prepare_claim"].id])]
    assert "step.advanced" in step_actions
    (track,) = cases.get_case_file(store, case_id).tracks
    assert printing.forms_to_print(track) == ()


def test_printing_does_not_make_a_step_ready_while_other_conditions_fail(store: Store) -> None:
    case_id = _maternity(store, bank_name="")
    record = printing.record_printed(store, case_id, ["sps2_01"], "pdf")
    step = _steps(store, case_id)["prepare_claim"]
    assert record.steps_ready == ()
    assert (step.state, step.data["forms_printed"]) == ("in_progress", ["sso_2_01"])


def test_printing_again_adds_an_audit_event_but_changes_no_step(store: Store) -> None:
    case_id = _maternity(store)
    printing.record_printed(store, case_id, ["sso_2_01"], "print")
    again = printing.record_printed(store, case_id, ["sso_2_01", "sps2_01"], "cli")
    assert (again.forms, again.steps_updated, again.steps_ready) == (("sso_2_01",), (), ())
    assert [e.details["how"] for e in _printed_events(store)] == ["print", "cli"]


def test_a_form_no_step_lists_is_recorded_but_touches_no_step(store: Store) -> None:
    case_id = _maternity(store)
    record = printing.record_printed(store, case_id, ["kt16"], "pdf")
    assert (record.forms, record.steps_updated) == (("wcf_kt16",), ())
    assert _steps(store, case_id)["prepare_claim"].state == "in_progress"
    assert len(_printed_events(store)) == 1


def test_forms_printed_while_the_wizard_was_open_count_at_commit(store: Store) -> None:
    case_id = _new_case(store)
    opened = utcnow()
    printing.record_printed(store, case_id, ["sso_2_01"], "print")  # no track yet
    prepared = {"bank_name": "K", "bank_account": "1", "claimant_signs": "signature"}
    _claim(store, case_id, [("prepare_claim", prepared, "ready")], opened)
    step = _steps(store, case_id)["prepare_claim"]
    assert (step.state, step.data["forms_printed"]) == ("ready", ["sso_2_01"])


def test_forms_printed_before_the_wizard_opened_do_not_count(store: Store) -> None:
    case_id = _new_case(store)
    printing.record_printed(store, case_id, ["sso_2_01"], "print")  # for an earlier claim
    opened = "9999-01-01T00:00:00+00:00"  # the wizard opened after that print
    _claim(store, case_id, [("prepare_claim", {}, "ready")], opened)
    step = _steps(store, case_id)["prepare_claim"]
    assert (step.state, "forms_printed" in step.data) == ("in_progress", False)


def test_recording_for_an_unknown_case_is_a_clear_error_and_writes_nothing(store: Store) -> None:
    with pytest.raises(UserError) as raised:
        printing.record_printed(store, "no-such-case", ["sso_2_01"], "print")
    assert raised.value.code == "error.case_not_found"
    assert "no-such-case" in raised.value.translated("en")
    assert _printed_events(store) == []


@pytest.mark.parametrize(
    ("forms", "how", "code"),
    [
        (["sso_9_99"], "print", "printing.error.unknown_form"),
        ([""], "print", "printing.error.unknown_form"),
        (["sso_2_01"], "fax", "printing.error.unknown_how"),
    ],
)
def test_bad_forms_or_ways_of_printing_are_clear_errors(
    store: Store, forms: list[str], how: str, code: str
) -> None:
    case_id = _maternity(store)
    with pytest.raises(UserError) as raised:
        printing.record_printed(store, case_id, forms, how)  # type: ignore[arg-type]
    assert raised.value.code == code
    assert raised.value.translated("th") != code
    assert _printed_events(store) == []
    assert _steps(store, case_id)["prepare_claim"].state == "in_progress"


def test_form_codes_of_either_kind_map_to_workflow_codes() -> None:
    assert printing.workflow_form_codes(["sps1_03", "SSO_2_01", "kt16", "sso_1_03"]) == (
        "sso_1_03",
        "sso_2_01",
        "wcf_kt16",
    )
    assert printing.packet_form_ids(["sso_1_03", "sso_2_01", "sso_1_03"]) == ("sps1_03", "sps2_01")
    assert printing.packet_form_ids(["wcf_kt16", "complaint_letter"]) == ("kt16", "complaint")
    assert printing.packet_form_ids(["not_a_form"]) == ()


def test_stored_text_values_are_typed_for_the_engine() -> None:
    step = workflow.track("claim_maternity").step("check_eligibility")
    progress = steps.step_progress(
        step, "in_progress", {"event_date": "2026-02-20", "claimant_is": "mother"}, frozenset()
    )
    assert progress.values["event_date"] == dt.date(2026, 2, 20)
    assert workflow.check(step, progress) == ()
    bad = steps.step_progress(step, "in_progress", {"event_date": "20/02/2026"}, frozenset())
    assert {i.code for i in workflow.check(step, bad)} == {
        "workflow.field_invalid",
        "workflow.field_required",
    }
    money = workflow.track("enrollment_pink_card").step("employer")
    typed = steps.step_progress(money, "in_progress", {"monthly_wage": "12,000"}, frozenset())
    assert typed.values["monthly_wage"] == decimal.Decimal(12000)


def test_a_track_without_a_known_workflow_has_nothing_to_print(store: Store) -> None:
    number = _setup(store)
    (track,) = cases.get_case_file(store, number).tracks
    assert printing.forms_to_print(track) == ()
    record = printing.record_printed(store, number, None, "queue")
    assert (record.forms, record.steps_updated) == (("sso_2_01",), ())


# --- what a real claim packet prints ------------------------------------------------------


def _passport_claim(
    store: Store,
    bank: dict[str, str] | None = None,
    document: DocumentInput | None = None,
) -> str:
    """A passport-only worker with a sickness claim and no job recorded, as the tester had
    (or a worker with ``document`` alone)."""
    pid = people.create_person(
        store,
        PersonInput(
            names=[NameInput("Aung Ko Ko", kind="passport")],
            sex="m",
            birth_date="1990-05-01",
            nationality="MMR",
            documents=[document or DocumentInput("passport", "MA123456", issuing_country="MMR")],
        ),
    ).person_id
    number = cases.open_case(store, pid)
    steps = ["check_eligibility", "gather_documents", "prepare_claim", "submit_claim"]
    cases.start_track(
        store,
        number,
        TrackInput(
            "claim",
            steps,
            [("medical_certificate", True), ("bank_passbook", True)],
            benefit="sickness",
            workflow="claim_sickness",
            event_date=dt.date(2026, 1, 10),
        ),
    )
    if bank is not None:
        step = _steps(store, number)["prepare_claim"]
        cases.save_step(store, step.id, data=bank)
    return number


def _packet_text(tmp_path: Path, case: CaseData) -> str:
    path = tmp_path / f"{case.case_number}.pdf"
    packet.render_packet(case, path)
    return pdftotext(path)


def _missing(case: CaseData) -> set[str]:
    return {m.label for m in packet.packet_flowables(case)[1].missing_fields}


def test_bank_details_of_the_claim_are_printed_and_not_missing(
    store: Store, tmp_path: Path
) -> None:
    number = _passport_claim(store, {"bank_name": "KBank", "bank_account": "3333333333"})
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert (case.bank.bank, case.bank.account_number) == ("KBank", "3333333333")
    found = _packet_text(tmp_path, case)
    assert "KBank" in found
    assert "3333333333" in found
    missing = _missing(case)
    assert not {"form.label.bank", "form.label.account_number"} & missing
    # Nobody entered the branch or the account name: blank and listed, not guessed.
    assert {"form.label.bank_branch", "form.label.account_name"} <= missing


def test_a_later_step_bank_account_wins_over_an_earlier_one(store: Store) -> None:
    number = _passport_claim(store, {"bank_name": "KBank", "bank_account": "1111111111"})
    later = _steps(store, number)["submit_claim"]
    cases.save_step(store, later.id, data={"bank_name": "Krungthai", "bank_account": "2222222222"})
    bank = printing.case_data(store, number).bank
    assert (bank.bank, bank.account_number) == ("Krungthai", "2222222222")


def test_a_claim_without_bank_details_leaves_the_boxes_empty(store: Store) -> None:
    number = _passport_claim(store)
    case = printing.case_data(store, number)
    assert case.bank == BankAccount()
    assert {"form.label.bank", "form.label.account_number"} <= _missing(case)


def test_no_section_or_branch_is_printed_when_nobody_entered_them(
    store: Store, tmp_path: Path
) -> None:
    number = _passport_claim(store)
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert (case.benefit.section, case.employer.branch) == (None, "")
    found = _packet_text(tmp_path, case)
    assert "000000" not in found
    assert " 33 " not in f" {found} "
    assert {"form.label.section", "form.label.employer_branch"} <= _missing(case)


def test_section_and_branch_come_from_the_recorded_job(store: Store, tmp_path: Path) -> None:
    number = _setup(store)  # a job at an employer saved with its head-office branch
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert (case.benefit.section, case.employer.branch) == (33, "000000")
    assert not {"form.label.section", "form.label.employer_branch"} & _missing(case)
    assert "000000" in _packet_text(tmp_path, case)


def test_the_passport_number_is_on_the_cover_and_the_claim_form(
    store: Store, tmp_path: Path
) -> None:
    number = _passport_claim(store)
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    assert "MA123456" in pdftotext(path, 1, 1)  # the cover
    form_pages = pdftotext(path, 3, 3)
    assert "SSO 2-01" in form_pages
    assert "MA123456" in form_pages
    assert "Passport / CI / border pass no." in form_pages


def test_a_border_pass_worker_is_known_on_the_forms_by_the_border_pass_number(
    store: Store, tmp_path: Path
) -> None:
    """A border-pass (s.64) worker holds no passport, CI or 13-digit ID (domain.md §1.3):
    the forms printed no identity number for them at all."""
    border = DocumentInput("border_pass", "TK0123456", issuing_country="THA")
    number = _passport_claim(store, document=border)
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert case.person.passport == "TK0123456"
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    assert "TK0123456" in pdftotext(path, 1, 1)  # the cover
    assert "TK0123456" in pdftotext(path, 3, 3)  # the claim form


def test_the_instructions_print_no_office_code_and_no_dashes(store: Store, tmp_path: Path) -> None:
    number = _passport_claim(store)
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert case.office == Office()
    found = _packet_text(tmp_path, case)
    assert store.office not in found  # the caseworkers' office code is not an SSO office
    assert "Open -" not in found
    assert "to -" not in found
    assert i18n.text("form.packet.instr.where.unknown", "en") in found


def test_the_sso_office_recorded_on_the_claim_is_where_to_go(store: Store, tmp_path: Path) -> None:
    number = _passport_claim(store)
    submit = _steps(store, number)["submit_claim"]
    cases.save_step(store, submit.id, data={"sso_office": "Mae Sot SSO branch"})
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    found = _packet_text(tmp_path, case)
    assert "Mae Sot SSO branch" in found
    assert i18n.text("form.packet.instr.where.unknown", "en") not in found
    assert "Open" not in found  # no hours recorded, so no "Open ..." sentence


def test_the_claim_not_the_enrollment_still_under_way_is_the_packet_s_benefit(
    store: Store, tmp_path: Path
) -> None:
    """Most workers are still being enrolled when they claim: the claim is what is filed."""
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Aung Ko Ko", kind="passport")], nationality="MMR")
    ).person_id
    number = cases.open_case(store, pid)
    cases.start_track(
        store,
        number,
        TrackInput("enrollment", ["identity", "employer"], [("passport", True)]),
    )
    cases.start_track(
        store,
        number,
        TrackInput(
            "claim",
            ["check_eligibility", "prepare_claim"],
            [("medical_certificate", True)],
            benefit="sickness",
            workflow="claim_sickness",
            event_date=dt.date(2026, 1, 10),
        ),
    )
    case = printing.case_data(store, number, today=dt.date(2026, 1, 15))
    assert case.forms == ("sps1_03", "sps2_01")
    assert case.benefit.kind == "sickness"
    assert case.benefit.event_date == dt.date(2026, 1, 10)
    assert case.benefit.filing_deadline is not None
    assert [item.label for item in case.checklist] == ["workflow.document.medical_certificate"]
    assert "Sickness" in _packet_text(tmp_path, case)


def test_the_employer_s_province_is_printed_by_its_thai_name(store: Store, tmp_path: Path) -> None:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Aung Ko Ko", kind="passport")], nationality="MMR")
    ).person_id
    employer = employers.create_employer(
        store, employers.EmployerInput("Mae Sot Garment Co.", province_code="63")
    )
    employers.add_employment(
        store, pid, employers.EmploymentInput(employer, dt.date(2026, 2, 2), None, None)
    )
    number = cases.open_case(store, pid)
    cases.start_track(store, number, TrackInput("enrollment", ["identity"]))
    case = printing.case_data(store, number)
    assert (case.employer.province, case.employer.sso_province_code) == ("ตาก", "63")
    assert "ตาก" in _packet_text(tmp_path, case)


def test_the_work_injury_report_fills_the_accident_on_kt16(store: Store, tmp_path: Path) -> None:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Aung Ko Ko", kind="passport")], nationality="MMR")
    ).person_id
    number = cases.open_case(store, pid)
    cases.start_track(store, number, TrackInput("enrollment", ["identity", "employer"]))
    cases.start_track(
        store,
        number,
        TrackInput(
            "work_injury",
            ["report_injury", "gather_documents"],
            benefit="work_injury",
            workflow="work_injury",
            event_date=dt.date(2026, 1, 10),
        ),
    )
    report = next(
        s
        for t in cases.get_case_file(store, number).tracks
        for s in t.steps
        if s.key == "report_injury"
    )
    facts = {
        "injury_place": "Loading bay 3",
        "injury_description": "Fell from a ladder while stacking boxes",
        "treatment_facility": "Mae Sot Hospital",
    }
    cases.save_step(store, report.id, data=facts)
    case = printing.case_data(store, number)
    assert case.injury is not None
    assert case.injury.occurred_at == dt.date(2026, 1, 10)
    assert (case.injury.place, case.injury.treatment_facility) == (
        "Loading bay 3",
        "Mae Sot Hospital",
    )
    assert not {"form.label.occurred_at", "form.label.place", "form.label.description"} & (
        _missing(case)
    )
    found = _packet_text(tmp_path, case)
    for value in (*facts.values(), "10/01/2569 (2026)"):
        assert value in found


def test_a_vietnamese_worker_s_own_name_is_the_vietnamese_one_not_the_thai(
    store: Store,
) -> None:
    """Vietnamese workers read Thai (no Vietnamese catalogue), but their name is Latin."""
    pid = people.create_person(
        store,
        PersonInput(
            names=[NameInput("Tuấn Hoàng"), NameInput("หว่าง ดึ๊ก ต่วน", "thai")],
            nationality="VNM",
            preferred_language="th",
        ),
    ).person_id
    number = cases.open_case(store, pid)
    person = printing.case_data(store, number).person
    assert (person.language, person.name_thai) == ("th", "หว่าง ดึ๊ก ต่วน")
    assert person.name_native == "Tuấn Hoàng"


@pytest.mark.parametrize(
    ("kind", "key", "forms"),
    [
        ("enrollment", "section_39", ("sps1_20",)),
        ("claim", "claim_unemployment", ("sps6_09", "sps2_01")),
        ("enrollment", "enrollment_pink_card", ("sps1_03",)),
    ],
)
def test_a_packet_holds_the_forms_its_track_s_workflow_names(
    store: Store, kind: str, key: str, forms: tuple[str, ...]
) -> None:
    case_id = _new_case(store)
    cases.start_track(store, case_id, TrackInput(kind, ["first"], workflow=key))
    assert printing.case_data(store, case_id).forms == forms
    record = printing.record_printed(store, case_id, None, "cli")
    assert record.forms == printing.workflow_form_codes(forms)


def _dated_track(store: Store, case_id: str, workflow_key: str, day: dt.date) -> None:
    """A track of the bundled workflow ``workflow_key`` whose event was on ``day``."""
    definition = workflow.track(workflow_key)
    first = definition.steps[0].key
    cases.start_track(
        store,
        case_id,
        TrackInput(
            definition.kind,
            [first],
            benefit=definition.benefit,
            workflow=workflow_key,
            event_date=day,
        ),
    )


def test_beside_a_work_injury_the_claim_s_benefit_is_on_its_claim_form(store: Store) -> None:
    case_id = _new_case(store)
    _dated_track(store, case_id, "work_injury", dt.date(2026, 1, 10))
    _dated_track(store, case_id, "claim_sickness", dt.date(2026, 2, 3))
    case = printing.case_data(store, case_id)
    assert (case.benefit.kind, case.benefit.event_date) == ("sickness", dt.date(2026, 2, 3))
    assert case.injury is not None
    assert case.injury.occurred_at == dt.date(2026, 1, 10)


def test_a_case_with_two_claims_prints_a_packet_about_the_one_asked_for(store: Store) -> None:
    """A worker claiming sickness and maternity at once: each packet is about its claim,
    and the print queue filtered by benefit prints each case's packet about that one."""
    case_id = _new_case(store)
    _dated_track(store, case_id, "claim_sickness", dt.date(2026, 1, 10))
    _dated_track(store, case_id, "claim_maternity", dt.date(2026, 2, 3))
    for benefit, day in (("sickness", dt.date(2026, 1, 10)), ("maternity", dt.date(2026, 2, 3))):
        case = printing.case_data(store, case_id, benefit=benefit)
        assert (case.benefit.kind, case.benefit.event_date) == (benefit, day)
    (queued,) = printing.iter_case_data(store, CaseFilter(benefit="maternity"))
    assert queued.benefit.kind == "maternity"
    with pytest.raises(UserError) as none:
        printing.case_data(store, case_id, benefit="old_age")
    assert none.value.code == "error.no_claim_for_benefit"


def test_kt16_says_a_kt44_was_issued_only_when_its_copy_is_in_hand(store: Store) -> None:
    case_id = _new_case(store)
    cases.start_track(
        store,
        case_id,
        TrackInput(
            "work_injury", ["report_injury"], [("kt44_copy", False)], workflow="work_injury"
        ),
    )
    case = printing.case_data(store, case_id)
    assert case.injury is not None
    assert case.injury.referral_kt44 is None  # not known: neither box ticked, left to fill in
    assert "form.label.referral_kt44" in _missing(case)
    with store.session() as session:
        item = session.scalars(select(ChecklistItem)).one()
        item.status = "received"
    case = printing.case_data(store, case_id)
    assert case.injury is not None
    assert case.injury.referral_kt44 is True


def _left_a_job(store: Store, stored: str | None) -> str:
    """The case number of a worker whose job ended for the ``stored`` reason."""
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Aung Ko Ko", kind="passport")], nationality="MMR")
    ).person_id
    employer = employers.create_employer(store, employers.EmployerInput("Mae Sot Garment Co."))
    job = employers.EmploymentInput(
        employer, dt.date(2025, 2, 2), dt.date(2026, 2, 27), end_reason=stored
    )
    employers.add_employment(store, pid, job)
    return cases.open_case(store, pid)


@pytest.mark.parametrize(
    ("stored", "printed"),
    [("laid_off", "dismissed"), ("contract_ended", "contract_end"), ("resigned", "resigned")],
)
def test_the_stored_reason_for_leaving_is_a_box_on_6_09_and_a_code_in_the_file(
    store: Store, stored: str, printed: str
) -> None:
    number = _left_a_job(store, stored)
    assert printing.case_data(store, number).employment.leave_reason == printed
    [record] = [r for r in printing.registration_records(store, "2026-02") if r.kind == "609"]
    result = sso_export.export_registrations([record])
    assert "leave_reason" not in [w.issue.field for w in result.warnings]


@pytest.mark.parametrize(
    ("stored", "answered", "printed"),
    [
        ("laid_off", "resigned", "resigned"),  # the claim's answer says otherwise: it wins
        (None, "laid_off", "dismissed"),
        # an answer that agrees (same rule) keeps the job's word: claims answered before
        # the wizard offered "contract ended" said "resigned" for both
        ("contract_ended", "resigned", "contract_end"),
        # SSO 6-09 has no box for misconduct of its own: it is a dismissal
        ("laid_off", "dismissed_misconduct", "dismissed"),
    ],
)
def test_the_unemployment_claim_s_reason_for_leaving_is_the_one_printed(
    store: Store, stored: str | None, answered: str, printed: str
) -> None:
    # The job says "laid off" but the worker told the claim wizard they resigned:
    # the packet about that claim prints the claim's answer on SSO 6-09.
    number = _left_a_job(store, stored)
    unemployment_claim(store, number, {"unemployment_reason": answered}, dt.date(2026, 3, 2))
    assert printing.case_data(store, number).employment.leave_reason == printed


def test_the_complaint_letter_is_about_the_problem_recorded(store: Store, tmp_path: Path) -> None:
    case_id = _new_case(store)
    cases.start_track(
        store,
        case_id,
        TrackInput(
            "enforcement",
            ["record_problem", "gather_evidence"],
            [("payslips_showing_deductions", True), ("time_records", True)],
            workflow="enforcement",
        ),
    )
    step = _steps(store, case_id)["record_problem"]
    cases.save_step(store, step.id, data={"problem": "deducted_not_remitted"})
    with store.session() as session:
        payslips = session.scalars(
            select(ChecklistItem).where(ChecklistItem.doc_key == "payslips_showing_deductions")
        ).one()
        payslips.status = "received"
    case = printing.case_data(store, case_id)
    assert case.forms == ("complaint",)
    assert case.complaint is not None
    assert case.complaint.kind == "not_remitted"
    # The evidence in hand, named for the Thai office with the worker's reading beside it.
    assert [e.description for e in case.complaint.evidence] == [
        " / ".join(
            dict.fromkeys(
                i18n.text("workflow.document.payslips_showing_deductions", lang)
                for lang in ("th", case.lang, "en")
            )
        )
    ]
    found = _packet_text(tmp_path, case)
    assert i18n.text("form.letter.subject.not_remitted", "en") in found
    assert i18n.text("form.letter.subject.not_registered", "en") not in found


@pytest.mark.parametrize(
    ("stored", "printed"),
    [
        ("1994", "–/–/2537 (1994)"),
        ("1994-07", "–/07/2537 (1994)"),
        ("1994-07-02", "02/07/2537 (1994)"),
    ],
)
def test_a_birth_date_known_in_part_prints_what_is_known(
    store: Store, tmp_path: Path, stored: str, printed: str
) -> None:
    """Many workers' documents give a birth year alone (domain: PartialDate): the forms
    print it rather than leave the box empty and list it as missing."""
    case_id = ui_wizards.create_case(
        store, PersonInput(names=[NameInput("နန်းနန်း")], birth_date=stored)
    )
    case = printing.case_data(store, case_id, forms=("sps1_03",))
    assert "form.label.birth_date" not in _missing(case)
    assert printed in " ".join(_packet_text(tmp_path, case).split())


@pytest.mark.parametrize(
    ("sex", "recorded", "printed"),
    [
        ("M", None, "mr"),  # a man's title is Mr (นาย) from 15, the working age
        ("M", "mr", "mr"),
        ("F", None, ""),  # a woman's is hers to choose: missing until recorded
        ("F", "miss", "miss"),
        ("F", "mrs", "mrs"),
        (None, None, ""),
    ],
)
def test_the_title_recorded_is_printed_and_a_man_without_one_is_mr(
    store: Store, sex: str | None, recorded: str | None, printed: str
) -> None:
    """SSO 1-03 asks for a title; one not known stays listed as missing."""
    case_id = ui_wizards.create_case(
        store, PersonInput(names=[NameInput("Aung")], sex=sex, title=recorded)
    )
    case = printing.case_data(store, case_id, forms=("sps1_03",))
    assert case.person.title == printed
    assert ("form.label.title" in _missing(case)) is not bool(printed)


def test_a_married_woman_titled_miss_prints_miss_and_married(store: Store, tmp_path: Path) -> None:
    """The title is not derived from the marital status (Act on Title of Women, B.E.
    2551): both print as recorded, on the form and in the SSO registration file."""
    case_id = ui_wizards.create_case(
        store,
        PersonInput(
            names=[NameInput("นางสาวสมศรี ใจดี", "thai")],
            sex="F",
            title="miss",
            marital_status="married",
        ),
    )
    case = printing.case_data(store, case_id, forms=("sps1_03",))
    assert (case.person.title, case.person.marital_status) == ("miss", "married")
    assert not {"form.label.title", "form.label.marital_status"} & _missing(case)
    found = " ".join(_packet_text(tmp_path, case).split())
    for lang in ("th", "en"):
        assert i18n.text("form.option.miss", lang) in found
        assert i18n.text("form.option.married", lang) in found


def test_a_code_this_app_does_not_know_prints_as_not_recorded(store: Store) -> None:
    """A newer colleague's code, pulled as the server sent it: left for the office."""
    case_id = ui_wizards.create_case(store, PersonInput(names=[NameInput("Aye")], sex="F"))
    person_id = cases.get_case_file(store, case_id).person.id
    with store.remote_session() as session:
        row = session.get(Person, person_id)
        row.title, row.marital_status = "ms", "separated"
    case = printing.case_data(store, case_id, forms=("sps1_03",))
    assert (case.person.title, case.person.marital_status) == ("", "")
    assert "form.label.title" in _missing(case)


@pytest.mark.parametrize(
    ("sex", "title", "marital", "codes"),
    [
        ("F", "miss", "married", ("004", "2")),
        ("F", "mrs", "widowed", ("005", "3")),
        ("M", None, "single", ("003", "1")),
    ],
)
def test_the_registration_file_carries_the_recorded_title_and_marital_status(
    store: Store, sex: str, title: str | None, marital: str, codes: tuple[str, str]
) -> None:
    pid = people.create_person(
        store,
        PersonInput(
            names=[NameInput("สมศรี ใจดี", "thai", given_name="สมศรี", family_name="ใจดี")],
            sex=sex,
            title=title,
            marital_status=marital,
            birth_date="1994-07-02",
            documents=[DocumentInput("pink_card", PINK)],
        ),
    ).person_id
    employer = employers.create_employer(
        store,
        employers.EmployerInput(
            "Mae Sot Garment Co.", sso_account="6300012345", sso_branch="000000"
        ),
    )
    employers.add_employment(
        store, pid, employers.EmploymentInput(employer, dt.date(2026, 2, 2), None)
    )
    result = sso_export.export_registrations(printing.registration_records(store, "2026-02"))
    [line] = result.lines
    fields = _registration_fields(line)
    assert (fields["title"], fields["marital_status"]) == codes
    assert not {"title", "marital_status"} & {w.issue.field for w in result.warnings}


def _registration_fields(line: str) -> dict[str, str]:
    out, at = {}, 0
    for field in sso_export.layout("registration").fields:
        out[field.name] = line[at : at + field.width].strip()
        at += field.width
    return out


def test_a_death_claim_prints_who_claims_from_its_first_step(store: Store, tmp_path: Path) -> None:
    """The wizard's first page of a death claim asks who claims; the packet's 2-01 names
    them in its claimant section. A claim the insured makes for themselves has none."""
    case_id = _new_case(store)
    claimant = {
        "event_date": "2026-02-02",
        "claimant_is": "heir",
        "claimant_name": "Daw Hla Hla",
        "claimant_relationship": "spouse",
        "claimant_id_number": "MB765432",
    }
    commit = ui_wizards.TrackCommit(
        kind="claim",
        workflow="claim_death",
        benefit="death",
        steps=[("check_eligibility", claimant, "ready")],
    )
    ui_wizards.commit_track(store, case_id, commit)
    number = cases.get_case_file(store, case_id).number
    case = printing.case_data(store, number, today=dt.date(2026, 3, 15))
    assert case.claimant is not None
    assert (case.claimant.name, case.claimant.claims_as, case.claimant.relationship) == (
        "Daw Hla Hla",
        "heir",
        "spouse",
    )
    assert (case.claimant.id_number, case.claimant.phone) == ("MB765432", "")
    found = _packet_text(tmp_path, case)
    assert "Daw Hla Hla" in found
    assert "MB765432" in found
    mother = cases.get_case_file(store, _maternity(store)).number
    assert printing.case_data(store, mother).claimant is None


def test_the_kt16_names_who_claims_only_when_the_worker_died_or_disappeared(
    store: Store, tmp_path: Path
) -> None:
    """A work injury that killed the worker: its KT-16 names the claimant. One the worker
    survived prints none, even with a name held from when the report said otherwise."""
    from desktop.forms import render

    reported = {
        "injury_date": "2026-03-01",
        "injury_place": "Pier 3",
        "injury_description": "Fell between the boat and the pier",
        "treatment_facility": "Ranong Hospital",
        "employer_reported": True,
        "claimant_is": "heir",
        "claimant_name": "Ma Hla Hla",
        "claimant_relationship": "spouse",
    }
    numbers = {}
    for outcome in ("died", "injured"):
        case_id = _new_case(store)
        commit = ui_wizards.TrackCommit(
            kind="work_injury",
            workflow="work_injury",
            benefit="work_injury",
            steps=[("report_injury", {**reported, "injury_outcome": outcome}, "in_progress")],
        )
        ui_wizards.commit_track(store, case_id, commit)
        numbers[outcome] = cases.get_case_file(store, case_id).number
    died = printing.case_data(store, numbers["died"], today=dt.date(2026, 3, 15))
    assert died.claimant is not None
    assert (died.claimant.name, died.claimant.relationship) == ("Ma Hla Hla", "spouse")
    path = tmp_path / "kt16.pdf"
    render.render_form("kt16", died, path)
    found = pdftotext(path)
    assert "Ma Hla Hla" in found
    assert render.text("form.section.claimant", "en") in found
    survived = printing.case_data(store, numbers["injured"], today=dt.date(2026, 3, 15))
    assert survived.claimant is None
