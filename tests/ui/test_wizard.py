"""Guided steps driven through the real wizard: enrollment, maternity, work injury, cancel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.domain.ids import thai_id_check_digit
from desktop.models.entities import Employer, Employment
from desktop.models.store import Store
from desktop.services import cases, drafts, employers, people, printing, ui_queries
from desktop.ui.context import AppContext
from desktop.ui.wizard import StepPage, WorkflowWizard, draft_key
from desktop.ui.workflow_specs import load_specs
from tests.fakes import FakeDialogs
from tests.forms.conftest import pdftotext
from tests.ui.conftest import MakePrinter, drain

PINK = "001234567890" + str(thai_id_check_digit("001234567890"))
# the identity step of an enrollment by pink card, filled in
IDENTITY = {
    "full_name": "NANG NANG",
    "date_of_birth": "1995-04-02",
    "nationality": "myanmar",
    "pink_card_number": PINK,
    "work_permit_number": "WP123456",
}


def _case(store: Store, *, female: bool = True, born: str | None = None) -> str:
    person = people.create_person(
        store,
        people.PersonInput(
            names=[people.NameInput("နန်းနန်း"), people.NameInput("NANG NANG", "passport")],
            sex="F" if female else "M",
            birth_date=born,
        ),
    )
    number = cases.open_case(store, person.person_id)
    employer = employers.create_employer(store, employers.EmployerInput(name="Mae Sot Garments"))
    employers.record_contributions(
        store,
        person.person_id,
        [
            employers.ContributionInput(f"2025-{m:02d}", employers.decimal.Decimal(12000), employer)
            for m in range(1, 13)
        ],
    )
    return cases.case_id_for(store, number)


def _wizard(qtbot: QtBot, ctx: AppContext, key: str, case_id: str) -> WorkflowWizard:
    wizard = WorkflowWizard(ctx, load_specs()[key], case_id)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _fill(wizard: WorkflowWizard, **values: str) -> None:
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    for name, value in values.items():
        page.fields.set_raw(name, value)


def _next(qtbot: QtBot, wizard: WorkflowWizard) -> None:
    before = wizard.currentId()
    wizard.next()
    assert wizard.currentId() != before, wizard.currentPage().findChild(object, "issues")


def _scan(tmp_path: Path, name: str) -> Path:
    from PySide6.QtGui import QColor, QImage

    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    path = tmp_path / name
    assert image.save(str(path))
    return path


def _finish(qtbot: QtBot, wizard: WorkflowWizard) -> str:
    with qtbot.waitSignal(wizard.committed, timeout=10_000) as signal:
        wizard.accept()
    return str(signal.args[0])


def test_enrollment_through_the_pink_card_path(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    case_id = _case(store)
    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", case_id)
    _fill(wizard, **IDENTITY)
    _next(qtbot, wizard)
    _fill(
        wizard,
        employer_name="Mae Sot Garments",
        employer_account="1234567890",
        employment_start="2024-02-01",
        monthly_wage="12,000",
    )
    _next(qtbot, wizard)
    _fill(wizard, submitted_on="2026-03-10")
    _next(qtbot, wizard)
    docs = [d.key for d in wizard.documents_page.documents()]
    assert docs == ["pink_card_copy", "work_permit_copy"]
    wizard.documents_page.attach("pink_card_copy", _scan(tmp_path, "card.png"))
    drain(qtbot, ctx)
    _next(qtbot, wizard)
    assert "sso_1_03" not in wizard.finish_page.summary.text()  # forms shown by name
    track_id = _finish(qtbot, wizard)

    case = cases.get_case_file(store, case_id)
    (track,) = case.tracks
    assert (track.id, track.kind, track.path) == (track_id, "enrollment", "pink_card")
    assert [(s.key, s.state) for s in track.steps] == [
        ("identity", "in_progress"),  # the work permit's copy is still missing
        ("employer", "ready"),
        ("registration", "in_progress"),  # SSO 1-03 not printed yet: not ready
        ("sso_card", "not_started"),
    ]
    assert track.steps[0].data["pink_card_number"] == PINK
    assert {(c.doc_key, c.status) for c in track.checklist} == {
        ("pink_card_copy", "present"),
        ("work_permit_copy", "missing"),
    }
    assert ("pink_card", PINK) in {(d.kind, d.number) for d in case.person.documents}
    (job,) = case.employments
    assert (job.employer_name, job.start_date) == ("Mae Sot Garments", dt.date(2024, 2, 1))
    assert str(job.monthly_wage) == "12000"
    actions = [a for _w, a, _u in cases.audit_trail(store, [track_id])]
    assert actions == ["track.created"]
    assert drafts.load_draft(store, wizard.key) is None  # finished: the draft is gone


def _maternity_steps(qtbot: QtBot, wizard: WorkflowWizard, claimant: str = "mother") -> None:
    """Fill the maternity claim's three step pages and move on to the documents."""
    _fill(wizard, event_date="2026-02-20", claimant_is=claimant)
    _next(qtbot, wizard)
    _fill(wizard, bank_name="Krungthai", bank_account="1234567890", claimant_signs="signature")
    _next(qtbot, wizard)
    _fill(wizard, submitted_on="2026-03-01", sso_office="Mae Sot")
    _next(qtbot, wizard)


def test_maternity_claim_with_documents(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    case_id = _case(store)
    wizard = _wizard(qtbot, ctx, "claim_maternity", case_id)
    _maternity_steps(qtbot, wizard)
    # a mother claiming for herself is not asked for a marriage certificate (domain.md §3)
    shown = [d.key for d in wizard.documents_page.documents()]
    assert shown == ["id_original", "child_birth_certificate", "bank_passbook"]
    for key in shown:
        wizard.documents_page.attach(key, _scan(tmp_path, f"{key}.png"))
        drain(qtbot, ctx)
    _next(qtbot, wizard)
    assert wizard.eligibility_page is not None
    page = wizard.eligibility_page
    qtbot.waitUntil(lambda: page.line is not None, timeout=10_000)
    assert "Maternity" in page.text.text()
    _next(qtbot, wizard)
    assert "Still missing" not in wizard.finish_page.summary.text()
    track_id = _finish(qtbot, wizard)

    case = cases.get_case_file(store, case_id)
    (track,) = case.tracks
    assert (track.benefit, track.event_date) == ("maternity", dt.date(2026, 2, 20))
    assert [(s.key, s.state) for s in track.steps][:3] == [
        ("check_eligibility", "ready"),
        ("gather_documents", "ready"),
        ("prepare_claim", "in_progress"),  # SSO 2-01 not printed yet: not ready
    ]
    assert all(c.status == "present" and len(c.attachment_ids) == 1 for c in track.checklist)
    assert "marriage_certificate" not in {c.doc_key for c in track.checklist}
    assert len([a for a in case.attachments if a.filename.endswith(".png")]) == 3
    actions = cases.audit_trail(store, [track_id, *(a.id for a in case.attachments)])
    assert sorted({a for _w, a, _u in actions}) == ["attachment.created", "track.created"]


def test_a_father_claiming_for_his_wife_is_asked_for_the_marriage_certificate(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """The insured father claiming for his uninsured wife needs the marriage certificate:
    without it the documents step waits for it and the checklist lists it as missing."""
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "claim_maternity", case_id)
    _maternity_steps(qtbot, wizard, claimant="father_wife_uninsured")
    docs = {d.key: d.required for d in wizard.documents_page.documents()}
    assert docs.get("marriage_certificate") is True
    for key in ("id_original", "child_birth_certificate", "bank_passbook"):
        wizard.documents_page.attach(key, _scan(tmp_path, f"{key}.png"))
        drain(qtbot, ctx)
    _next(qtbot, wizard)  # documents
    _next(qtbot, wizard)  # eligibility
    _finish(qtbot, wizard)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert dict((s.key, s.state) for s in track.steps)["gather_documents"] == "in_progress"
    (marriage,) = [c for c in track.checklist if c.doc_key == "marriage_certificate"]
    assert (marriage.required, marriage.status) == (True, "missing")


def _report_injury(wizard: WorkflowWizard) -> None:
    _fill(
        wizard,
        injury_date="2026-03-01",
        injury_place="Factory floor",
        injury_description="Hand caught",
        treatment_facility="Mae Sot Hospital",
        employer_reported="true",
    )


def test_a_second_injury_is_judged_on_the_date_typed(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """The eligibility page judges the injury typed, not the case's earlier one."""
    case_id = _case(store, female=False)
    cases.start_track(
        store,
        case_id,
        cases.TrackInput(
            kind="work_injury",
            steps=["report_injury"],
            benefit="work_injury",
            event_date=dt.date(2024, 12, 28),
        ),
    )
    wizard = _wizard(qtbot, ctx, "work_injury", case_id)
    _report_injury(wizard)
    _next(qtbot, wizard)
    _next(qtbot, wizard)  # the filing may wait
    _next(qtbot, wizard)  # documents
    assert wizard.eligibility_page is not None
    page = wizard.eligibility_page
    qtbot.waitUntil(lambda: page.line is not None, timeout=10_000)
    assert page.line is not None
    assert page.line.result is not None
    assert page.line.result.event_date == dt.date(2026, 3, 1)


def test_an_illness_found_after_the_job_ended_is_judged_with_its_two_years(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Ticked on the report page, before anything is saved: the eligibility page gives the
    two years from the day the illness was found (D13)."""
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "work_injury", case_id)
    _report_injury(wizard)
    _fill(wizard, injury_date="2025-11-20", found_after_job_ended="true")
    _next(qtbot, wizard)
    _next(qtbot, wizard)  # the filing may wait
    _next(qtbot, wizard)  # documents
    page = wizard.eligibility_page
    assert page is not None
    qtbot.waitUntil(lambda: page.line is not None, timeout=10_000)
    assert page.line is not None
    assert page.line.result is not None
    assert page.line.result.filing_deadline == dt.date(2027, 11, 20)  # not 19 May 2026
    assert "20/11/2027" in page.text.text()


def _judged(qtbot: QtBot, wizard: WorkflowWizard) -> ui_queries.EligibilityLine:
    """From a claim's payment step: paid by bank, submitted, on to the eligibility page;
    what the page judged."""
    _fill(wizard, bank_name="Krungthai", bank_account="1234567890", claimant_signs="signature")
    _next(qtbot, wizard)
    _fill(wizard, submitted_on="2026-03-05", sso_office="Mae Sot")
    while wizard.currentPage() is not wizard.eligibility_page:
        _next(qtbot, wizard)
    page = wizard.eligibility_page
    assert page is not None
    qtbot.waitUntil(lambda: page.line is not None, timeout=10_000)
    assert page.line is not None
    return page.line


def test_unemployment_is_judged_on_the_reason_for_leaving_typed(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """The eligibility page judges the answer to "why did the job end?" given in the
    wizard (resigned: 30% for 90 days), not a rate for a reason nobody recorded."""
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "claim_unemployment", case_id)
    _fill(wizard, event_date="2026-03-01", unemployment_reason="resigned")
    _next(qtbot, wizard)
    _fill(wizard, employment_end="2026-02-27")
    _next(qtbot, wizard)
    _fill(wizard, doe_registered_on="2026-03-02")
    _next(qtbot, wizard)
    line = _judged(qtbot, wizard)
    assert line.result is not None
    [amount] = line.result.amounts
    assert (amount.params["percent"], amount.params["max_days"]) == (30, 90)


def test_old_age_is_judged_on_the_worker_s_birth_date(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """The eligibility page of an old-age claim judges the worker's age, rather than
    telling the caseworker the birth date on file is missing."""
    case_id = _case(store, female=False, born="1975-06-10")
    wizard = _wizard(qtbot, ctx, "claim_old_age", case_id)
    _fill(wizard, event_date="2026-03-01")
    _next(qtbot, wizard)
    line = _judged(qtbot, wizard)
    assert line.error_code is None
    assert line.result is not None
    assert "rule.age_below" in [r.code for r in line.result.reasons]
    assert wizard.eligibility_page is not None
    assert "2030" in wizard.eligibility_page.text.text()  # the 55th birthday, 10 June 2030


def test_an_old_age_claim_ends_the_job_it_is_told_ended(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A worker of 55 whose job is open on file: the day it ended, typed in the claim, is
    judged before it is saved (insured status has ended) and recorded on the job."""
    case_id = _case(store, female=False, born="1970-06-10")
    person_id = cases.get_case_file(store, case_id).person.id
    job = employers.EmploymentInput(None, dt.date(2020, 1, 1))
    employers.add_employment(store, person_id, job)
    wizard = _wizard(qtbot, ctx, "claim_old_age", case_id)
    _fill(wizard, event_date="2026-03-01", employment_end="2026-01-31")
    _next(qtbot, wizard)
    line = _judged(qtbot, wizard)
    assert line.result is not None
    codes = [r.code for r in line.result.reasons]
    assert "rule.insured_status_continues" not in codes
    assert "rule.age_below" not in codes
    _next(qtbot, wizard)
    _finish(qtbot, wizard)
    (held,) = cases.get_case_file(store, case_id).employments
    assert held.end_date == dt.date(2026, 1, 31)


def _injury_to_finish(
    qtbot: QtBot, ctx: AppContext, wizard: WorkflowWizard, tmp_path: Path
) -> None:
    """From a filled injury report to the Finish page: handed in, a certificate scanned,
    the eligibility page read."""
    _next(qtbot, wizard)
    _fill(wizard, submitted_on="2026-03-05", sso_office="Mae Sot")
    _next(qtbot, wizard)
    wizard.documents_page.attach("medical_certificate", _scan(tmp_path, "cert.png"))
    drain(qtbot, ctx)
    _next(qtbot, wizard)
    page = wizard.eligibility_page
    assert page is not None
    qtbot.waitUntil(lambda: page.line is not None, timeout=10_000)
    _next(qtbot, wizard)


def test_work_injury_claim(qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path) -> None:
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "work_injury", case_id)
    _report_injury(wizard)
    _injury_to_finish(qtbot, ctx, wizard, tmp_path)
    assert "Still missing" in wizard.finish_page.summary.text()
    track_id = _finish(qtbot, wizard)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert (track.id, track.kind, track.benefit) == (track_id, "work_injury", "work_injury")
    assert track.event_date == dt.date(2026, 3, 1)
    assert track.steps[0].data == {
        "injury_date": "2026-03-01",
        "injury_place": "Factory floor",
        "injury_description": "Hand caught",
        "treatment_facility": "Mae Sot Hospital",
        "employer_reported": True,
        "found_after_job_ended": None,  # not answered
        "injury_outcome": None,  # nor this: who claims after a death is not asked
    }
    assert "gather_documents" in {s.key for s in track.steps if s.state == "in_progress"}
    assert "track.created" in {a for _w, a, _u in cases.audit_trail(store, [track_id])}


def test_a_work_injury_that_killed_the_worker_asks_who_claims(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """Who claims is asked only once the report says the worker died (or disappeared):
    shown then and required, hidden again for an injury the worker survived; the KT-16
    printed from the claim names them."""
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "work_injury", case_id)
    _report_injury(wizard)
    page = wizard.currentPage()
    assert isinstance(page, StepPage)

    def shown(name: str) -> bool:
        return page.fields.form.isRowVisible(page.fields.editors[name])

    assert not shown("claimant_name")
    _fill(wizard, injury_outcome="died")
    assert shown("claimant_name")
    assert shown("claimant_relationship")
    wizard.next()
    assert wizard.currentPage() is page  # who claims is required now
    _fill(wizard, injury_outcome="injured")
    assert not shown("claimant_name")
    _fill(
        wizard,
        injury_outcome="died",
        claimant_is="heir",
        claimant_name="Ma Hla Hla",
        claimant_relationship="spouse",
    )
    _injury_to_finish(qtbot, ctx, wizard, tmp_path)
    _finish(qtbot, wizard)
    (track,) = cases.get_case_file(store, case_id).tracks
    first = track.steps[0].data
    assert (first["injury_outcome"], first["claimant_name"]) == ("died", "Ma Hla Hla")
    number = cases.get_case_file(store, case_id).number
    claimant = printing.case_data(store, number).claimant
    assert claimant is not None
    assert (claimant.name, claimant.claims_as, claimant.relationship) == (
        "Ma Hla Hla",
        "heir",
        "spouse",
    )


def test_cancel_in_the_middle_keeps_the_draft_and_commits_nothing(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _case(store)
    wizard = _wizard(qtbot, ctx, "claim_maternity", case_id)
    _fill(wizard, event_date="2026-02-20", claimant_is="mother")
    _next(qtbot, wizard)
    _fill(wizard, bank_name="Krungthai")  # typed, not yet validated
    wizard.reject()
    drain(qtbot, ctx)
    assert cases.get_case_file(store, case_id).tracks == ()
    saved = drafts.load_draft(store, draft_key(load_specs()["claim_maternity"], case_id))
    assert saved is not None
    assert saved.data["raw"]["event_date"] == "2026-02-20"
    assert saved.data["raw"]["bank_name"] == "Krungthai"
    # Reopening restores what was typed.
    again = WorkflowWizard(ctx, load_specs()["claim_maternity"], case_id, dict(saved.data))
    qtbot.addWidget(again)
    again.show()
    assert again.step_pages[0].raw("event_date") == "2026-02-20"
    again.resume()  # as the main window does: back on the page it was left on
    assert again.currentPage() is again.step_pages[1]
    assert again.step_pages[1].raw("bank_name") == "Krungthai"


def test_a_draft_left_on_a_page_now_refused_stops_before_it(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """A page before the one left on that refuses what it holds (a date in the future)
    stops the resume there, its issue shown, rather than be skipped."""
    case_id = _case(store)
    spec = load_specs()["claim_maternity"]
    draft = {"raw": {"event_date": "2099-01-01", "claimant_is": "mother"}, "page": 2}
    wizard = WorkflowWizard(ctx, spec, case_id, draft)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.resume()
    assert wizard.currentPage() is wizard.step_pages[0]
    assert wizard.step_pages[0].issues


def test_field_validation_blocks_the_step(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    case_id = _case(store)
    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", case_id)
    _fill(wizard, pink_card_number="123")
    wizard.next()
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    assert page.step.key == "identity"
    assert "id.length" in [i.code for i in page.issues]
    assert "13" in page.issues_label.text()


def test_a_future_event_date_is_refused(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    wizard = _wizard(qtbot, ctx, "claim_maternity", _case(store))
    _fill(wizard, event_date="2027-01-01")
    wizard.next()
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    assert "date.in_future" in [i.code for i in page.issues]


def test_a_be_year_typed_as_ce_is_refused(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    wizard = _wizard(qtbot, ctx, "claim_maternity", _case(store))
    _fill(wizard, event_date="20/02/2569")
    wizard.next()
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    assert "date.be_year_as_ce" in [i.code for i in page.issues]
    assert "2026" in page.issues_label.text()


def test_a_200_mb_attachment_is_refused_with_a_message(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs, tmp_path: Path
) -> None:
    big = tmp_path / "huge.jpg"
    with big.open("wb") as handle:
        handle.truncate(200 * 1_048_576)  # sparse: no 200 MB written
    wizard = _wizard(qtbot, ctx, "claim_maternity", _case(store))
    wizard.documents_page.attach("id_original", big)
    drain(qtbot, ctx)
    assert wizard.files == {}
    assert dialogs.errors
    assert "50" in dialogs.errors[0]


def _finished_maternity(qtbot: QtBot, ctx: AppContext, store: Store, case_id: str) -> None:
    wizard = _wizard(qtbot, ctx, "claim_maternity", case_id)
    _maternity_steps(qtbot, wizard)
    _next(qtbot, wizard)  # documents: none attached
    _next(qtbot, wizard)  # eligibility
    _finish(qtbot, wizard)
    drain(qtbot, ctx)


def _step_state(store: Store, case_id: str, key: str, benefit: str = "maternity") -> str:
    (track,) = (t for t in cases.get_case_file(store, case_id).tracks if t.benefit == benefit)
    return next(s.state for s in track.steps if s.key == key)


def test_printing_the_packet_after_the_wizard_makes_the_claim_ready(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    packet_printer: MakePrinter,
) -> None:
    case_id = _case(store)
    _finished_maternity(qtbot, ctx, store, case_id)
    assert _step_state(store, case_id, "prepare_claim") == "in_progress"

    printer = packet_printer()
    with qtbot.waitSignal(printer.opened, timeout=20_000) as opened:
        printer.open(case_id)
    qtbot.addWidget(opened.args[0])
    with qtbot.waitSignal(printer.recorded, timeout=20_000) as recorded:
        opened.args[0].print_button.click()
    assert recorded.args[0].forms == ("sso_2_01",)
    assert _step_state(store, case_id, "prepare_claim") == "ready"
    assert [a for _w, a, _u in cases.audit_trail(store, [case_id])].count("forms.printed") == 1


def test_the_finish_page_saves_the_claim_then_prints_its_own_forms(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    packet_printer: MakePrinter,
) -> None:
    """The forms are filled from the store: printed before the claim was saved, they
    lacked its dates and bank account. Beside an open sickness claim, the packet is
    about this maternity claim."""
    case_id = _case(store)
    cases.start_track(
        store,
        case_id,
        cases.TrackInput(
            "claim",
            ["check_eligibility"],
            benefit="sickness",
            workflow="claim_sickness",
            event_date=dt.date(2026, 1, 5),
        ),
    )
    wizard = _wizard(qtbot, ctx, "claim_maternity", case_id)
    printer = packet_printer()
    # as the window connects it
    wizard.print_requested.connect(lambda forms: printer.open(case_id, forms, "maternity"))
    _maternity_steps(qtbot, wizard)
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    assert wizard.finish_page.print_button.text() == "Save and print the forms"
    with (
        qtbot.waitSignal(wizard.committed, timeout=20_000),
        qtbot.waitSignal(printer.opened, timeout=20_000) as opened,
    ):
        wizard.finish_page.print_button.click()
    preview = opened.args[0]
    qtbot.addWidget(preview)
    assert not wizard.isVisible()  # saved and closed
    printed = pdftotext(preview.packet.path)
    assert "1234567890" in printed  # the bank account typed in the wizard
    assert "20/02/2569" in printed  # the birth, not the sickness claim's 05/01/2569
    assert "05/01/2569" not in printed
    assert _step_state(store, case_id, "prepare_claim") == "in_progress"
    with qtbot.waitSignal(printer.recorded, timeout=20_000):
        preview.save_button.click()
    assert _step_state(store, case_id, "prepare_claim") == "ready"


def test_a_preview_closed_without_printing_leaves_the_step_in_progress(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    packet_printer: MakePrinter,
) -> None:
    case_id = _case(store)
    _finished_maternity(qtbot, ctx, store, case_id)
    printer = packet_printer()
    with qtbot.waitSignal(printer.opened, timeout=20_000) as opened:
        printer.open(case_id)
    qtbot.addWidget(opened.args[0])
    with qtbot.assertNotEmitted(printer.recorded):
        opened.args[0].close_button.click()
        drain(qtbot, ctx)
    assert _step_state(store, case_id, "prepare_claim") == "in_progress"
    assert "forms.printed" not in {a for _w, a, _u in cases.audit_trail(store, [case_id])}


def test_the_employers_name_takes_no_more_than_the_server_accepts(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """The field fills in the employer's name (200 at most): a longer paste is cut there.
    A number typed with dashes is longer than the digits kept, so its validator judges
    it, and text kept only in the step's own data has no limit to keep."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QLineEdit

    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", _case(store))
    _fill(wizard, **IDENTITY)
    _next(qtbot, wizard)
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    name = page.editors["employer_name"]
    assert isinstance(name, QLineEdit)
    QGuiApplication.clipboard().setText("ห้างหุ้นส่วนจำกัด " * 20)  # 360 characters
    name.setFocus()
    qtbot.keyClick(name, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert name.text() == ("ห้างหุ้นส่วนจำกัด " * 20)[:200]
    unlimited = QLineEdit().maxLength()
    assert page.editors["employer_account"].maxLength() == unlimited  # type: ignore[attr-defined]
    wizard.back()
    first = wizard.currentPage()
    assert isinstance(first, StepPage)
    assert first.editors["full_name"].maxLength() == unlimited  # type: ignore[attr-defined]


def test_the_employers_name_offers_the_stores_employers_and_fills_in_the_account(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """Typed part of a name (any case), the store's employers of that name are offered
    with their accounts; the one chosen puts its account in the account field, so Finish
    finds that employer instead of adding one."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    case_id = _case(store)  # holds "Mae Sot Garments", without an account
    for account, branch in (("1000000001", "000000"), ("1000000001", "000002")):
        farm = employers.EmployerInput(
            "Tak Farm", sso_account=account, sso_branch=branch, province_code="63"
        )
        employers.create_employer(store, farm)
    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", case_id)
    _fill(wizard, **IDENTITY)
    _next(qtbot, wizard)
    drain(qtbot, ctx)
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    name, account = page.editors["employer_name"], page.editors["employer_account"]
    branch = page.editors["employer_branch"]
    assert isinstance(name, QLineEdit)
    assert isinstance(account, QLineEdit)
    assert isinstance(branch, QLineEdit)
    completer = name.completer()
    assert [(e.name, e.sso_account, e.sso_branch) for e in wizard.known_employers().rows] == [
        ("Mae Sot Garments", None, None),
        ("Tak Farm", "1000000001", "000000"),
        ("Tak Farm", "1000000001", "000002"),  # a branch of the same business
    ]

    name.setFocus()
    qtbot.keyClicks(name, "FARM")
    popup = completer.popup()
    qtbot.waitUntil(popup.isVisible)
    assert completer.completionCount() == 2
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert (name.text(), account.text(), branch.text()) == ("Tak Farm", "1000000001", "000002")
    assert page.raw("employer_province") == "63"  # the province box too

    _fill(wizard, employment_start="2024-02-01", monthly_wage="12,000")
    _next(qtbot, wizard)
    _fill(wizard, submitted_on="2026-03-10")
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _finish(qtbot, wizard)
    (job,) = cases.get_case_file(store, case_id).employments
    assert (job.employer_name, job.employer_sso_account) == ("Tak Farm", "1000000001")
    with store.read() as session:  # the branch's row, not a new one at the head office
        chosen = session.get(Employment, job.id)
        assert chosen is not None
        assert session.get(Employer, chosen.employer_id).sso_branch == "000002"  # type: ignore[union-attr]
    assert len(employers.known_employers(store)) == 3  # no employer added


def test_a_claim_not_yet_handed_in_finishes_without_its_filing_date(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """The filing step's day and office may be to come: the wizard does not require them
    (nor mark them so); the step is committed in progress, to be completed by the case
    file's Fill in… when the claim is handed in. A date typed is still checked."""
    case_id = _case(store)
    wizard = _wizard(qtbot, ctx, "claim_maternity", case_id)
    _fill(wizard, event_date="2026-02-20", claimant_is="mother")
    _next(qtbot, wizard)
    _fill(wizard, bank_name="Krungthai", bank_account="1234567890", claimant_signs="signature")
    _next(qtbot, wizard)
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    assert not page.fields.labels["submitted_on"].text().endswith("*")
    _fill(wizard, submitted_on="2027-01-01")  # a day to come is still refused
    before = wizard.currentId()
    wizard.next()
    assert wizard.currentId() == before
    assert "date.in_future" in [i.code for i in page.issues]
    _fill(wizard, submitted_on="")
    _next(qtbot, wizard)  # nothing typed: on to the documents
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _finish(qtbot, wizard)
    track = cases.get_case_file(store, case_id).tracks[0]
    submit = next(s for s in track.steps if s.key == "submit_claim")
    assert submit.state == "in_progress"
    assert submit.data["submitted_on"] is None


# "Myawaddy hospital" typed on a Zawgyi keyboard, and the same in Unicode
ZAWGYI_PLACE = "ျမဝတီေဆး႐ုံ"
UNICODE_PLACE = "မြဝတီဆေးရုံ"


def _type(wizard: WorkflowWizard, name: str, typed: str) -> None:
    """Type ``typed`` into field ``name`` of the current page as a keyboard's input method
    hands it over (QTest's key clicks take Latin-1 characters only)."""
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    editor = page.editors[name]
    page.fields.set_raw(name, "")
    editor.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(typed)
    QApplication.sendEvent(editor, event)
    assert page.raw(name) == typed


def _treated_in_zawgyi(qtbot: QtBot, ctx: AppContext, store: Store) -> tuple[str, WorkflowWizard]:
    """A work injury's first page filled in, where treated typed in Zawgyi."""
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "work_injury", case_id)
    _report_injury(wizard)
    _type(wizard, "treatment_facility", ZAWGYI_PLACE)
    return case_id, wizard


def test_free_text_typed_in_zawgyi_is_converted_once_the_caseworker_agrees(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Burmese typed on a Zawgyi keyboard was stored as typed; now Next asks, naming the
    field and showing the Unicode text, and the editor then shows what is stored."""
    case_id, wizard = _treated_in_zawgyi(qtbot, ctx, store)
    dialogs.confirm_answer = True
    _next(qtbot, wizard)
    assert dialogs.questions == [
        f"Where treated looks like Zawgyi. Convert it to Unicode as “{UNICODE_PLACE}”?"
    ]
    assert wizard.step_pages[0].raw("treatment_facility") == UNICODE_PLACE
    wizard.back()
    _next(qtbot, wizard)  # Unicode now: nothing more to ask
    assert len(dialogs.questions) == 1
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _finish(qtbot, wizard)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert track.steps[0].data["treatment_facility"] == UNICODE_PLACE
    assert track.steps[0].data["injury_place"] == "Factory floor"  # other text untouched


def test_free_text_typed_in_zawgyi_is_kept_as_typed_when_the_caseworker_declines(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """Declined, the text is stored exactly as typed, and not asked about again: neither
    on Back and Next nor when the wizard is reopened from its draft."""
    case_id, wizard = _treated_in_zawgyi(qtbot, ctx, store)
    dialogs.confirm_answer = False
    _next(qtbot, wizard)
    assert len(dialogs.questions) == 1
    assert wizard.step_pages[0].raw("treatment_facility") == ZAWGYI_PLACE
    wizard.back()
    _next(qtbot, wizard)
    assert len(dialogs.questions) == 1
    wizard.reject()  # cancelled: the draft keeps the answer too
    drain(qtbot, ctx)
    saved = drafts.load_draft(store, wizard.key)
    assert saved is not None
    again = WorkflowWizard(ctx, load_specs()["work_injury"], case_id, dict(saved.data))
    qtbot.addWidget(again)
    again.show()
    again.resume()
    assert again.currentPage() is again.step_pages[1]
    assert len(dialogs.questions) == 1
    _next(qtbot, again)
    _next(qtbot, again)
    _finish(qtbot, again)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert track.steps[0].data["treatment_facility"] == ZAWGYI_PLACE


def test_zawgyi_that_cannot_be_converted_is_refused_with_a_message(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """A value the converter would lose marks of is not offered: the page says to type it
    again with a Unicode keyboard and keeps what was typed."""
    case_id = _case(store, female=False)
    wizard = _wizard(qtbot, ctx, "work_injury", case_id)
    _report_injury(wizard)
    typed = "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္"
    _fill(wizard, injury_description=typed)
    wizard.next()
    page = wizard.step_pages[0]
    assert wizard.currentPage() is page
    assert dialogs.questions == []
    assert page.issues_label.text() == (
        "What happened: This text looks like Zawgyi but cannot be converted safely."
        " Please type it again with a Unicode keyboard."
    )
    assert page.raw("injury_description") == typed


def test_zawgyi_that_grows_past_its_detail_once_converted_is_refused_not_cut(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: FakeDialogs
) -> None:
    """An employer's name of 199 characters in Zawgyi is 249 in Unicode: agreed to, it is
    not cut to fit the editor but refused, naming the limit, and left as typed."""
    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", _case(store))
    _fill(wizard, **IDENTITY)
    _next(qtbot, wizard)
    typed = " ".join(["အဂၤလိပ္"] * 25)
    _fill(wizard, employer_name=typed, employment_start="2024-02-01", monthly_wage="12000")
    dialogs.confirm_answer = True
    wizard.next()
    page = wizard.step_pages[1]
    assert wizard.currentPage() is page
    assert len(dialogs.questions) == 1
    assert page.raw("employer_name") == typed
    assert "it holds at most 200 characters, and this has 249" in page.issues_label.text()


def test_a_wizard_gone_before_its_eligibility_is_judged_takes_no_late_answer(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """The eligibility page asks the rules off the GUI thread; a wizard finished or closed
    (and deleted) before the answer came took it into a deleted page: an error in the
    middle of whatever the caseworker did next."""
    from shiboken6 import Shiboken

    wizard = WorkflowWizard(ctx, load_specs()["claim_maternity"], _case(store))
    wizard.show()  # not qtbot's to close: deleted below
    _maternity_steps(qtbot, wizard)
    _next(qtbot, wizard)  # documents
    _next(qtbot, wizard)  # eligibility: judging
    Shiboken.delete(wizard)
    drain(qtbot, ctx)  # the ctx fixture fails the test on an error in a callback


# --- a person fact typed other than the file's: said where it is typed ------------------------


def _person_case(store: Store, birth_date: str | None, nationality: str | None) -> str:
    person = people.create_person(
        store,
        people.PersonInput(
            names=[people.NameInput("နန်းနန်း")], birth_date=birth_date, nationality=nationality
        ),
    )
    return cases.case_id_for(store, cases.open_case(store, person.person_id))


def _note(wizard: WorkflowWizard, name: str) -> str:
    """The note under field ``name`` of the current page, or "" when none is shown."""
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    note = page.fields.notes[name]
    return note.text() if note.isVisibleTo(page) else ""


def test_a_birth_date_typed_other_than_the_files_says_finish_keeps_the_files(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    """Said as it is typed, not only on Next: the file's date as the field takes dates,
    gone again once the date typed is the file's; the step is not held up by it."""
    from PySide6.QtCore import Qt

    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", _person_case(store, "1990-03-12", None))
    drain(qtbot, ctx)  # the person's details are read off the GUI thread
    assert _note(wizard, "date_of_birth") == ""  # nothing typed: nothing to say
    page = wizard.currentPage()
    assert isinstance(page, StepPage)
    editor = page.editors["date_of_birth"]
    editor.setFocus()
    qtbot.keyClicks(editor, "13/03/1990")
    assert _note(wizard, "date_of_birth") == (
        "The person's file says 12/03/1990; finishing this wizard will not change it. "
        "If the value here is right, correct it on the Person tab."
    )
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, "0")  # 13/03/1990 -> 13/03/1990 with the year retyped
    assert "12/03/1990" in _note(wizard, "date_of_birth")
    editor.selectAll()
    qtbot.keyClicks(editor, "12/03/1990")
    assert _note(wizard, "date_of_birth") == ""  # the same date: nothing kept
    qtbot.keyClicks(editor, "x")
    assert _note(wizard, "date_of_birth") == ""  # not a date: its issue is said on Next
    _fill(wizard, **{**IDENTITY, "date_of_birth": "1991-01-01"})
    assert "12/03/1990" in _note(wizard, "date_of_birth")
    _next(qtbot, wizard)  # a note, not an issue: the step goes on


def test_a_nationality_chosen_other_than_the_files_is_said_and_unsaid(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", _person_case(store, None, "KHM"))
    drain(qtbot, ctx)
    _fill(wizard, nationality="myanmar")
    assert _note(wizard, "nationality").startswith("The person's file says Cambodia;")
    assert _note(wizard, "date_of_birth") == ""  # none on file: the one typed is written
    _fill(wizard, nationality="cambodia")
    assert _note(wizard, "nationality") == ""
    _fill(wizard, nationality="")
    assert _note(wizard, "nationality") == ""  # none chosen: the file's stays, as nothing
    _fill(wizard, nationality="laos")
    ctx.language.set_language("my")
    qtbot.wait(10)  # the language change event reaches the wizard
    assert _note(wizard, "nationality").startswith("ဤပုဂ္ဂိုလ်၏ မှတ်တမ်းတွင် ကမ္ဘောဒီးယား")
    ctx.language.set_language("en")


@pytest.mark.parametrize(
    ("typed", "note", "kept"),
    [
        ("1994-07-02", "", "1994-07-02"),  # the year alone on file: filled in, nothing said
        ("1995-07-02", "The person's file says 1994;", "1994"),  # another year: kept
    ],
)
def test_a_birth_year_on_file_is_filled_in_by_a_whole_date_of_that_year(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path, typed: str, note: str, kept: str
) -> None:
    """What the wizard says Finish keeps is what Finish keeps."""
    case_id = _person_case(store, "1994", "MMR")
    wizard = _wizard(qtbot, ctx, "enrollment_pink_card", case_id)
    drain(qtbot, ctx)
    _fill(wizard, **{**IDENTITY, "date_of_birth": typed})
    assert _note(wizard, "date_of_birth").startswith(note)
    _next(qtbot, wizard)
    _fill(wizard, employer_name="Mae Sot Garments", employment_start="2024-02-01")
    _fill(wizard, monthly_wage="12000")
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _finish(qtbot, wizard)
    assert cases.get_case_file(store, case_id).person.birth_date == kept
