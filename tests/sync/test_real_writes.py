"""A caseworker's day, written only through the services the app's screens call, synced to
a colleague's laptop on both server backends.

The other sync tests mostly make rows with the ORM directly, and demo data goes in through
a bulk writer: neither writes what the screens really write (Zawgyi names kept with what
was typed, numbers as the forms clean them, step data as the wizard types it, scans,
reopen reasons, printed forms, an agency list). Here Ann does a day's work the way the app
does it and syncs; nothing may be refused, and Bob, a colleague in the same office, must
then hold every synced row byte for byte as she does, with the scans. Then both edit the
same case file offline, sync twice, and agree with the server, with a conflict record
exactly where a ``review`` field was edited on both or a step sent back lost; their
coordinator settles one and merges a woman recorded twice, and they agree again. The same
day done before Ann's laptop was registered (the first-run path) must arrive alike.

Writing it found three bugs (each with its own regression test by its code): a day's work
done before registration lost its creation events on the laptop that did it; no
certificate of identity could be entered from the screens; and text longer than the
server takes (a phone box holding two numbers) was stored and then refused for ever.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.domain import dates, ids, text
from desktop.models.entities import Attachment, Person, Step
from desktop.models.store import Store, create_store
from desktop.models.sync_records import SyncConflict
from desktop.services import (
    attachments,
    cases,
    consent,
    drafts,
    employers,
    importer,
    people,
    printing,
    steps,
    sync_view,
    ui_queries,
    ui_wizards,
)
from desktop.ui.workflow_specs import load_specs, validate_field
from tests.sync.conftest import (
    PASSPHRASE,
    PASSWORD,
    Device,
    Server,
    agree_with_server,
    colleagues,
    stored,
)

TODAY = dt.date.today()
ZAWGYI = "ေမာင္ေမာင္"  # "Maung Maung" typed with a Zawgyi font
ZAWGYI_ALIAS = "ကိုေအာင္"  # "Ko Aung", Zawgyi, kept as typed (the caseworker said no)


def _pink_card(seed: int) -> str:
    """A valid pink-card number (first digit 0), as printed on the card."""
    first12 = f"00{seed:010d}"
    return ids.format_thai_id(first12 + str(ids.thai_id_check_digit(first12)))


def _thai_id(seed: int) -> str:
    first12 = f"3{seed:011d}"
    return ids.format_thai_id(first12 + str(ids.thai_id_check_digit(first12)))


def _typed(day: str) -> dt.date:
    """A date as a caseworker types it into a form (CE, day first)."""
    parsed, found = dates.parse_date_input(day, "ce", today=TODAY)
    assert not found, found
    assert parsed is not None
    return parsed


def _new_case(store: Store, names: dict[str, str], **person: Any) -> str:
    """The New case form: a name per box, Zawgyi converted once the caseworker agrees."""
    data = people.PersonInput(
        names=[
            people.NameInput(value, kind, convert_zawgyi=text.looks_like_zawgyi(value))
            for kind, value in names.items()
        ],
        **person,
    )
    return ui_wizards.create_case(store, data)


def _wizard(
    workflow: str, typed: dict[str, str], files: dict[str, tuple[str, ...]]
) -> ui_wizards.TrackCommit:
    """What the guided-steps wizard of ``workflow`` hands over when finished with ``typed``
    values and ``files`` per checklist document (desktop.ui.wizard.build_commit)."""
    spec = load_specs()[workflow]
    steps: list[tuple[str, dict[str, Any], str]] = []
    facts: dict[str, Any] = {}
    event_date = None
    for step in spec.steps:
        if step.later:
            steps.append((step.key, {}, "not_started"))
            continue
        if not step.fields:
            complete = all(files.get(d) for d in step.documents)
            steps.append((step.key, {}, "ready" if complete else "in_progress"))
            continue
        values: dict[str, Any] = {}
        for field in step.fields:
            value, found = validate_field(field, typed.get(field.name, ""), TODAY)
            assert not [i for i in found if i.is_error], (field.name, found)
            values[field.name] = value
            if field.maps and value is not None:
                facts[field.maps] = value
            if field.role and value:
                event_date = dt.date.fromisoformat(str(value))
        steps.append((step.key, values, "ready"))
    return ui_wizards.TrackCommit(
        kind=spec.kind,
        workflow=spec.key,
        steps=steps,
        documents=[
            ui_wizards.DocumentCommit(d.key, d.required, files.get(d.key, ()))
            for d in spec.documents
        ],
        benefit=spec.benefit,
        path=spec.path,
        event_date=event_date,
        facts=facts,
        draft_key=f"wizard:{workflow}:test",
        printed_since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def _scan(folder: Path, name: str) -> Path:
    """A scan as a file on the laptop: a few bytes unique to it."""
    path = folder / name
    path.write_bytes(b"\xff\xd8\xff\xe0 scan of " + name.encode() + bytes(range(256)) * 8)
    return path


@dataclass(frozen=True)
class Day:
    """What a day's work made that the rest of a test works on again."""

    person: str  # the mother from Myanmar, with the maternity claim
    case: str
    claim_step: str  # her claim's check_eligibility step
    injury_step: str  # a work-injury step filled in with save_step
    twice: tuple[str, str]  # one woman recorded twice: in a new case, then by the import
    scans: list[Path]  # every scan attached so far


AGENCY_LIST = (
    "ชื่อ-นามสกุล,ชื่อภาษาอังกฤษ,เพศ,วันเกิด,สัญชาติ,เลขประจำตัว,หนังสือเดินทาง,"
    "โทรศัพท์,ที่อยู่,นายจ้าง,เลขที่บัญชีนายจ้าง,สาขา,วันเข้าทำงาน,ค่าจ้าง,ตำแหน่ง\n"
    "ေအာင္ေက်ာ္,AUNG KYAW,ชาย,17/05/2533,พม่า,,MD 123 4567,081-111-2222,"
    "12 หมู่ 3 ต.แม่ปะ อ.แม่สอด จ.ตาก,บริษัท แม่สอดการ์เมนท์ จำกัด,6300000010,0,"
    '01/02/2567,"9,500 บาท",ช่างเย็บผ้า\n'
    "សុខ ចាន់ធី,SOK CHANTHY,หญิง,1995,กัมพูชา,{pink},,089 222 3333,,"
    "สวนยางนายสมชาย,,,2023-06-01,๘๕๐๐,กรีดยาง\n"
    "ສົມພອນ ແກ້ວມະນີ,SOMPHONE KEOMANY,ญ,๑๕/๐๓/๒๕๓๘,ลาว,,P1234567,,,,,,,,\n"
)


def caseworkers_day(store: Store, folder: Path) -> Day:
    """Ann does a day's work on ``store`` through the services the screens call."""
    store.set_setting("user", "ann")
    scans = [
        _scan(folder, name)
        for name in ("pink_card.jpg", "birth_certificate.pdf", "passbook.png", "medical.jpg")
    ]
    # New case: a mother from Myanmar, her name typed in Zawgyi, with her pink card.
    case_id = _new_case(
        store,
        {"native": ZAWGYI, "passport": "MAUNG MAUNG", "thai": "หม่อง หม่อง"},
        sex="F",
        birth_date=_typed("17/05/1990").isoformat(),
        nationality="MMR",
        phone="081 234 5678",
        arrived_on=_typed("2019-11-03"),
        documents=[people.DocumentInput("pink_card", _pink_card(1234567))],
    )
    person = cases.get_case_file(store, case_id).person.id
    # Two more people, in Khmer and Lao script.
    khmer = _new_case(
        store,
        {"native": "សុខ ចាន់ធី", "passport": "SOK CHANTHY"},
        sex="F",
        nationality="KHM",
        documents=[people.DocumentInput("passport", "n0123 4567")],
    )
    _new_case(
        store,
        {"native": "ສົມພອນ ແກ້ວມະນີ", "thai": "สมพร แก้วมณี"},
        sex="M",
        birth_date="1988",
        nationality="LAO",
        documents=[people.DocumentInput("ci", "CI 765432")],
    )
    # The case file: more names, a document of every kind, a scan of one.
    people.add_name(store, person, people.NameInput(ZAWGYI_ALIAS, "alias"))
    people.add_name(store, person, people.NameInput(ZAWGYI, "alias", convert_zawgyi=True))
    people.add_name(store, person, people.NameInput("แม่หม่อง", "alias"))
    documents = {
        "passport": "MC 123 4567",
        "thai_id": _thai_id(98765),
        "ci": "CI 1234567",
        "work_permit": "WP-2567-001234",
        "pink_card": _pink_card(7654321),
    }
    made = {
        kind: people.add_document(store, person, people.DocumentInput(kind, number))[0]
        for kind, number in documents.items()
    }
    attachments.add_attachment(store, scans[0], person_id=person, document_id=made["pink_card"])
    # Work: her employer, the job, months pasted from a payslip (BE years, Thai baht).
    employer = employers.create_employer(
        store,
        employers.EmployerInput(
            name="Mae Sot Garment Co., Ltd.",
            name_th="บริษัท แม่สอดการ์เมนท์ จำกัด",
            sso_account="63-0000001-0",
            sso_branch="000000",
            province_code="63",
            district="แม่สอด",
            address="99 ถ.อินทรคีรี ต.แม่สอด อ.แม่สอด จ.ตาก 63110",
            contact_name="ဦးထွန်းထွန်း",
            phone="055 123 456",
        ),
    )
    employers.add_employment(
        store,
        person,
        employers.EmploymentInput(
            employer_id=employer,
            start_date=_typed("01/06/2021"),
            monthly_wage=decimal.Decimal("9,500.50".replace(",", "")),
            occupation="ช่างเย็บผ้า",
        ),
    )
    months, found = ui_queries.parse_payslip_table(
        "เดือน\tค่าจ้าง\n01/2567\t9,500\n02/2567\t9,500.50 ฿\n2024-03\t๙,๕๐๐\n", employer
    )
    assert not found, found
    assert employers.record_contributions(store, person, months) == 3
    # A maternity claim through the guided steps, with a draft saved on the way.
    typed = {
        "event_date": (TODAY - dt.timedelta(days=20)).strftime("%d/%m/%Y"),
        "claimant_is": "mother",
        "bank_name": "ธนาคารกรุงไทย",
        "bank_account": "123-4-56789-0",
        "claimant_signs": "thumbprint_with_witnesses",
        "submitted_on": TODAY.isoformat(),
        "sso_office": "สำนักงานประกันสังคมจังหวัดตาก สาขาแม่สอด",
    }
    files = {
        "child_birth_certificate": (str(scans[1]),),
        "bank_passbook": (str(scans[2]),),
    }
    drafts.save_draft(store, "wizard:claim_maternity:test", {"raw": typed}, case_id)
    claim = ui_wizards.commit_track(store, case_id, _wizard("claim_maternity", typed, files))
    printing.record_printed(store, case_id, None, "print")
    # An enrollment through the guided steps: it adds her employer and job as facts.
    enrollment = {
        "full_name": "หม่อง หม่อง",
        "date_of_birth": "17/05/1990",
        "nationality": "myanmar",
        "pink_card_number": _pink_card(1234567),
        "work_permit_number": "WP 2567 001234",
        "employer_name": "  Mae Sot   Garment ",
        "employer_account": "6300000010",
        "employment_start": "01/06/2021",
        "monthly_wage": "9,500",
        "submitted_on": TODAY.strftime("%d/%m/%Y"),
    }
    ui_wizards.commit_track(store, case_id, _wizard("enrollment_pink_card", enrollment, {}))
    # A work injury, step by step: filled in, moved on, sent back by the office, decided.
    injury = cases.start_track(
        store,
        case_id,
        cases.TrackInput(
            kind="work_injury",
            steps=["report_injury", "gather_documents", "submit_claim"],
            documents=[("medical_certificate", True), ("receipts", False)],
            benefit="work_injury",
            workflow="work_injury",
            event_date=TODAY - dt.timedelta(days=3),
        ),
    )
    track = next(t for t in cases.get_case_file(store, case_id).tracks if t.id == injury)
    report, _gather, submit = (s.id for s in track.steps)
    cases.save_step(
        store,
        report,
        data={
            "injury_date": (TODAY - dt.timedelta(days=3)).isoformat(),
            "injury_place": "โรงงาน แม่สอดการ์เมนท์ ชั้น 2",
            "injury_description": "လက်ချောင်း ဒဏ်ရာ (finger caught in a sewing machine)",
            "employer_reported": True,
            "days_off": 3,
            "wage": "9500.50",
        },
        state="ready",
    )
    cases.save_step(store, submit, data={"submitted_on": TODAY.isoformat()}, state="submitted")
    steps.reopen_step(store, submit, "สำนักงานส่งเรื่องกลับ ขอใบรับรองแพทย์ฉบับจริง")
    item = next(c for c in track.checklist if c.doc_key == "medical_certificate")
    attachments.add_attachment(store, scans[3], case_id=case_id, checklist_item_id=item.id)
    cases.set_track_state(
        store, injury, "decided", outcome="approved", decided_on=TODAY - dt.timedelta(days=1)
    )
    for body in (
        "โทรหานายจ้างแล้ว นัดส่งเอกสารวันจันทร์",
        "မနက်ဖြန် ဆေးရုံ သွားရမယ်။\nကလေး ကျန်းမာပါတယ်။",
        "គាត់ត្រូវការអ្នកបកប្រែ",
    ):
        cases.add_note(store, case_id, body)
    # Her details change: a new phone, the languages she speaks, where she lives now.
    people.update_person(
        store,
        person,
        phone="089-765-4321",
        languages=["my", "th"],
        preferred_language="my",
        line_id="maung.maung_90",
        address_th="45/2 หมู่ 9 ต.ท่าสายลวด อ.แม่สอด จ.ตาก",
        address_home="ဘားအံ၊ ကရင်ပြည်နယ်",
    )
    # Her consents (PDPA): to her data and to sharing it with the SSO given, photos
    # refused; the sharing withdrawn, then given again in writing.
    consent.record_consent(store, person, consent.ConsentInput("data_processing", True, "verbal"))
    consent.record_consent(store, person, consent.ConsentInput("photos", False, "thumbprint"))
    shared = consent.record_consent(
        store,
        person,
        consent.ConsentInput("share_with_sso", True, "verbal", TODAY - dt.timedelta(days=2)),
    )
    consent.withdraw_consent(store, shared)
    consent.record_consent(store, person, consent.ConsentInput("share_with_sso", True, "signed"))
    # The agency's list of new workers.
    agency = folder / "agency.csv"
    agency.write_text("\ufeff" + AGENCY_LIST.format(pink=_pink_card(555)), encoding="utf-8")
    imported = importer.import_file(store, agency)
    assert (imported.imported, imported.rejected) == (3, 0), imported.problems
    # no birth date nor document in common: the import cannot tell it is her again
    twice = (cases.get_case_file(store, khmer).person.id, imported.person_ids[1])
    claim_step = next(
        s.id
        for t in cases.get_case_file(store, case_id).tracks
        if t.id == claim
        for s in t.steps
        if s.key == "check_eligibility"
    )
    return Day(person, case_id, claim_step, report, twice, scans)


def both_edit(ann: Device, bob: Device, day: Day, folder: Path) -> set[tuple[str, str, str]]:
    """Ann and Bob work on the same case file offline; returns the (entity, row id, field)
    of the ``review`` and step-back edits that must leave a conflict record."""
    bob.store.set_setting("user", "bob")
    case = cases.get_case_file(ann.store, day.case)
    claim = next(t for t in case.tracks if t.benefit == "maternity")
    submit = next(s.id for s in claim.steps if s.key == "submit_claim")
    item = next(c.id for c in claim.checklist if c.doc_key == "id_original")
    month = next(c for c in case.contributions if c.month == "2024-02")
    enrollment = next(t for t in case.tracks if t.kind == "enrollment")
    registration = next(s for s in enrollment.steps if s.key == "registration")
    assert registration.state == "in_progress"  # its form was not printed yet
    # the same step's data, one entry each way; another step's data on one side only
    cases.save_step(bob.store, day.injury_step, data={"injury_place": "โรงงาน ชั้น 3"})
    cases.save_step(ann.store, day.injury_step, data={"injury_place": "ชั้น 2 ห้องตัด"})
    cases.save_step(bob.store, day.claim_step, data={"hospital": "โรงพยาบาลแม่สอด"})
    # the claim handed in on one laptop, sent back by the office on the other
    cases.save_step(bob.store, submit, state="submitted", data={"claim_reference": "สปส 123/2567"})
    steps.reopen_step(ann.store, submit, "เอกสารไม่ครบ ขอสำเนาบัตรชมพูใหม่")
    # the enrollment's form printed from the print queue, its step noted on the other side
    printing.record_packets_printed(bob.store, [case.number], "queue")
    cases.save_step(ann.store, registration.id, data={"receipt": "ตก 0123/2567"})
    # names added on both, the phone and the birth date changed on both
    people.add_name(bob.store, day.person, people.NameInput("Daw Maung", "passport"))
    alias = people.NameInput("ေဒၚေမာင္", "alias", convert_zawgyi=True)
    people.add_name(ann.store, day.person, alias)
    people.update_person(bob.store, day.person, phone="0822222222", birth_date="1990-05")
    people.update_person(ann.store, day.person, phone="0833333333", birth_date="1990-07-15")
    people.update_person(ann.store, day.person, nationality="MMR")  # unchanged: nothing sent
    # a payslip month corrected differently, a scan each for the same checklist item
    for device, wage in ((ann, "9600"), (bob, "9700")):
        employers.record_contributions(
            device.store,
            day.person,
            [employers.ContributionInput(month.month, decimal.Decimal(wage), month.employer_id)],
        )
    for device in (ann, bob):
        scan = _scan(folder, f"id_card_{device.store.user}.jpg")
        day.scans.append(scan)
        attachments.add_attachment(device.store, scan, case_id=day.case, checklist_item_id=item)
        cases.add_note(device.store, day.case, f"{device.store.user}: ได้รับสำเนาบัตรแล้ว")
    return {
        ("step", day.injury_step, "data"),
        ("step", submit, "state"),
        ("person", day.person, "birth_date"),
        ("contribution_month", month.id, "wage"),
    }


def _synced(device: Device) -> None:
    summary = device.sync()
    assert summary.ok, summary.error
    assert (summary.rejected, summary.failed) == (0, 0), summary.refused


def _scans_arrived(day: Day, *devices: Device) -> None:
    for scan in day.scans:
        sha = hashlib.sha256(scan.read_bytes()).hexdigest()
        for device in devices:
            assert attachments.read_attachment(device.store, sha) == scan.read_bytes()
    for device in devices:
        with device.store.read() as session:
            assert set(session.scalars(select(Attachment.sha256))) == {
                hashlib.sha256(scan.read_bytes()).hexdigest() for scan in day.scans
            }


def _conflicts(device: Device) -> set[tuple[str, str, str]]:
    with device.store.read() as session:
        return {(c.entity, c.row_id, c.field) for c in session.scalars(select(SyncConflict))}


def test_a_caseworkers_day_reaches_a_colleague_exactly_and_both_settle_their_edits(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    ann, bob = colleagues(server, make_device)
    day = caseworkers_day(ann.store, tmp_path)

    _synced(ann)
    _synced(bob)

    assert stored(bob.store) == stored(ann.store)
    _scans_arrived(day, bob)

    disputed = both_edit(ann, bob, day, tmp_path)
    for device in (ann, bob, ann, bob):
        _synced(device)

    agree_with_server(server, [ann.store, bob.store])
    assert stored(bob.store) == stored(ann.store)
    assert _conflicts(ann) == _conflicts(bob) == disputed
    case = cases.get_case_file(bob.store, day.case)
    item = next(c for t in case.tracks for c in t.checklist if c.doc_key == "id_original")
    assert len(item.attachment_ids) == 2  # both scans, whoever synced first
    assert len(case.notes) == 5
    assert [(c.scope, c.status) for c in case.consents] == [
        ("share_with_sso", "given"),  # of today, latest first
        ("photos", "refused"),
        ("data_processing", "given"),
        ("share_with_sso", "withdrawn"),  # given two days before
    ]
    registration = next(s for t in case.tracks for s in t.steps if s.key == "registration")
    assert registration.state == "ready"
    assert {"receipt", "forms_printed", "submitted_on"} <= set(registration.data)
    _scans_arrived(day, ann, bob)

    # Their coordinator puts the step data that lost in force and makes one woman of two.
    cora = server.device("cora")
    # one record: Bob's print rewrote the step's data after his edit, but the place it
    # carried was the one he had set, not a new dispute (the step's data settles three ways)
    [step_data] = [c for c in cora.conflicts("open") if c.field == "data"]
    with ann.store.read() as session:
        before = dict(session.get(Step, day.injury_step).data)
    cora.resolve(step_data.id, flip=True)
    cora.merge("person", day.twice[1], day.twice[0])
    people.update_person(bob.store, day.twice[1], line_id="sok.chanthy")  # merge not seen yet
    for device in (ann, bob, ann):
        _synced(device)

    agree_with_server(server, [ann.store, bob.store])
    assert stored(bob.store) == stored(ann.store)
    with ann.store.read() as session:
        step = session.get(Step, day.injury_step)
        kept = session.get(Person, day.twice[0])
    assert step is not None
    # the place that had lost is in force; what was added since the conflict stays
    assert step.data == {**before, "injury_place": step_data.other.value["injury_place"]}
    assert kept is not None
    assert kept.line_id == "sok.chanthy"


def test_a_day_done_before_the_laptop_was_registered_reaches_a_colleague_exactly(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    """Set up and used offline first (the store's default office, case numbers of its
    own), registered at the end of the day as the first-run screen does, then synced."""
    server.user("ann")
    server.user("bob")
    store = create_store(tmp_path / "ann", PASSPHRASE)
    try:
        day = caseworkers_day(store, tmp_path)
        http = lambda _url: server.http()  # noqa: E731
        sync_view.register(store, "http://testserver", "ann", PASSWORD, "laptop", http)
        summary = sync_view.run_sync(store, http)
        assert summary.ok, summary.error
        assert (summary.rejected, summary.failed, summary.removed_rows) == (0, 0, 0), summary

        bob = make_device(server, "bob")
        _synced(bob)

        agree_with_server(server, [store, bob.store])
        assert stored(bob.store) == stored(store)
        _scans_arrived(day, bob)
    finally:
        store.close()
