"""Committing a finished wizard: track, steps, checklist, attachments, documents and the job
in one transaction with the draft removed; on any failure nothing is written."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.domain.errors import UserError
from desktop.models.entities import Attachment, ChecklistItem, Employer, Employment, Step, Track
from desktop.models.store import Store
from desktop.services import cases, drafts, employers, people, printing, steps, ui_wizards
from desktop.services.attachments import read_attachment

PINK_CARD = "0-0000-00001-12-1"  # a valid 13-digit number (check digit 1)


def _case(store: Store) -> str:
    return ui_wizards.create_case(
        store, people.PersonInput(names=[people.NameInput("မောင်မောင်")], nationality="MMR")
    )


def _counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {
            cls.__name__: int(session.scalar(select(func.count()).select_from(cls)) or 0)
            for cls in (Track, Step, ChecklistItem, Attachment, Employer)
        }


def _enrollment(scan: Path, **facts: object) -> ui_wizards.TrackCommit:
    return ui_wizards.TrackCommit(
        kind="enrollment",
        workflow="enrollment_pink_card",
        path="pink_card",
        steps=[
            ("identity", {"pink_card_number": PINK_CARD}, "ready"),
            ("job", {"employer_name": "Tak Farm"}, "ready"),
            ("register", {}, "in_progress"),
        ],
        documents=[
            ui_wizards.DocumentCommit("pink_card", True, (str(scan),)),
            ui_wizards.DocumentCommit("work_permit", False),
        ],
        facts={
            "document.pink_card.number": PINK_CARD,
            "document.pink_card.issued_on": "2024-02-01",
            "employer.name": " Tak   Farm ",
            "employer.sso_account": "10-0000-0001",
            "employment.start_date": dt.date(2024, 3, 1),
            "employment.monthly_wage": "9000",
            "employment.occupation": "",  # empty: ignored
            **facts,
        },
        draft_key="enrollment_pink_card:c",
    )


def test_the_employer_s_province_an_enrollment_asks_is_the_employer_s(
    store: Store, tmp_path: Path
) -> None:
    case_id = _case(store)
    scan = tmp_path / "pink.jpg"
    scan.write_bytes(b"\xff\xd8 a pink card scan")
    commit = _enrollment(scan, **{"employer.province_code": "63"})
    ui_wizards.commit_track(store, case_id, commit)
    (job,) = cases.get_case_file(store, case_id).employments
    assert (job.employer_name, job.employer_province) == ("Tak Farm", "63")


def test_create_case_makes_the_person_and_opens_the_case(store: Store) -> None:
    case_id = _case(store)
    case = cases.get_case_file(store, case_id)
    assert case.id == case_id
    assert case.status == "open"
    assert [n.full_name for n in case.person.names] == ["မောင်မောင်"]
    assert case.person.nationality == "MMR"


def test_commit_track_writes_everything_and_removes_the_draft(store: Store, tmp_path: Path) -> None:
    case_id = _case(store)
    scan = tmp_path / "pink.jpg"
    scan.write_bytes(b"\xff\xd8 a pink card scan")
    drafts.save_draft(store, "enrollment_pink_card:c", {"step": 2}, case_id)
    progress: list[tuple[int, int]] = []
    track_id = ui_wizards.commit_track(
        store, case_id, _enrollment(scan), progress=lambda d, t: progress.append((d, t))
    )
    assert progress == [(1, 1)]
    case = cases.get_case_file(store, case_id)
    (track,) = case.tracks
    assert (track.id, track.kind, track.workflow, track.path, track.state) == (
        track_id,
        "enrollment",
        "enrollment_pink_card",
        "pink_card",
        "in_progress",
    )
    assert [(s.key, s.position, s.state) for s in track.steps] == [
        ("identity", 0, "in_progress"),  # its copies (pink_card_copy...) are not on file
        ("job", 1, "ready"),
        ("register", 2, "in_progress"),
    ]
    assert track.steps[0].data == {"pink_card_number": PINK_CARD}
    checklist = {c.doc_key: c for c in track.checklist}
    assert checklist["pink_card"].status == "present"
    assert checklist["work_permit"].status == "missing"
    assert checklist["work_permit"].required is False
    (attachment,) = case.attachments
    assert attachment.id in checklist["pink_card"].attachment_ids
    assert (attachment.filename, attachment.mime, attachment.description) == (
        "pink.jpg",
        "image/jpeg",
        "pink_card",
    )
    assert read_attachment(store, attachment.sha256) == scan.read_bytes()
    (document,) = case.person.documents
    assert (document.kind, document.number, document.issued_on) == (
        "pink_card",
        "0000000001121",
        dt.date(2024, 2, 1),
    )
    (job,) = case.employments
    assert (job.employer_name, job.employer_sso_account, job.employer_sso_branch) == (
        "Tak Farm",
        "1000000001",
        "000000",
    )
    assert (job.start_date, job.monthly_wage, job.occupation, job.section) == (
        dt.date(2024, 3, 1),
        decimal.Decimal("9000"),
        None,
        33,
    )
    assert drafts.load_draft(store, "enrollment_pink_card:c") is None
    from desktop.services import search

    assert [hit.case_numbers for hit in search.search(store, "00000000011")] == [(case.number,)]


def test_a_claim_without_facts_or_files(store: Store) -> None:
    case_id = _case(store)
    track_id = ui_wizards.commit_track(
        store,
        case_id,
        ui_wizards.TrackCommit(
            kind="claim",
            workflow="claim_maternity",
            benefit="maternity",
            event_date=dt.date(2026, 2, 1),
            steps=[("prepare_claim", {"event_date": "2026-02-01"}, "ready")],
            documents=[ui_wizards.DocumentCommit("birth_certificate", True)],
            draft_key="no such draft",
        ),
    )
    (track,) = cases.get_case_file(store, case_id).tracks
    assert (track.id, track.benefit, track.event_date) == (
        track_id,
        "maternity",
        dt.date(2026, 2, 1),
    )
    assert [c.status for c in track.checklist] == ["missing"]
    assert cases.get_case_file(store, case_id).employments == ()
    assert _counts(store)["Employer"] == 0


def test_a_job_without_an_employer_name(store: Store) -> None:
    case_id = _case(store)
    ui_wizards.commit_track(
        store,
        case_id,
        ui_wizards.TrackCommit(
            kind="enrollment",
            workflow="section_39",
            steps=[("job", {}, "ready")],
            facts={"employment.start_date": "2025-01-01", "employment.section": 39},
        ),
    )
    (job,) = cases.get_case_file(store, case_id).employments
    assert (job.employer_id, job.start_date, job.monthly_wage, job.section) == (
        None,
        dt.date(2025, 1, 1),
        None,
        39,
    )


def _refused(store: Store, tmp_path: Path, **facts: object) -> tuple[str, Path, UserError]:
    """A case whose enrollment wizard, its draft saved, is refused at Finish for ``facts``:
    nothing is written and the draft stays. The case, the scan chosen and the refusal."""
    case_id = _case(store)
    scan = tmp_path / "pink.jpg"
    scan.write_bytes(b"scan")
    drafts.save_draft(store, "enrollment_pink_card:c", {"step": 2}, case_id)
    before = _counts(store)
    with pytest.raises(UserError) as caught:
        ui_wizards.commit_track(store, case_id, _enrollment(scan, **facts))
    assert caught.value.code == "error.invalid_input"
    assert _counts(store) == before
    assert cases.get_case_file(store, case_id).tracks == ()
    assert drafts.load_draft(store, "enrollment_pink_card:c") is not None
    return case_id, scan, caught.value


def test_a_document_typed_when_the_case_was_opened_is_not_recorded_twice(
    store: Store, tmp_path: Path
) -> None:
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[people.NameInput("မောင်မောင်")],
            documents=[people.DocumentInput(kind="pink_card", number=PINK_CARD)],
        ),
    )
    scan = tmp_path / "card.png"
    scan.write_bytes(b"scan")
    ui_wizards.commit_track(store, case_id, _enrollment(scan))
    documents = cases.get_case_file(store, case_id).person.documents
    assert [(d.kind, d.issued_on) for d in documents] == [("pink_card", dt.date(2024, 2, 1))]


def test_an_invalid_document_number_writes_nothing(store: Store, tmp_path: Path) -> None:
    _case_id, _scan, refused = _refused(store, tmp_path, **{"document.pink_card.number": "12345"})
    assert [i.severity.value for i in refused.issues] == ["error"]


def test_a_fact_longer_than_the_server_accepts_is_refused_before_any_file_is_stored(
    store: Store, tmp_path: Path
) -> None:
    """The employer's name as it would be stored (cleaned): refused at Finish, with the
    issue naming it and its limit, before a scan is encrypted."""
    case_id, scan, refused = _refused(store, tmp_path, **{"employer.name": " " + "ไร่" * 67 + " "})
    (found,) = refused.issues
    assert (found.code, found.field) == ("value.too_long", "employer.name")
    assert (found.params["limit"], found.params["length"]) == (200, 201)
    assert not any(store.paths.attachments.rglob("*")), "no scan stored"
    # exactly the limit, once cleaned, goes in
    ui_wizards.commit_track(
        store, case_id, _enrollment(scan, **{"employer.name": "  " + "ไร่" * 66 + "ๆๆ  "})
    )
    (job,) = cases.get_case_file(store, case_id).employments
    assert job.employer_name is not None
    assert len(job.employer_name) == 200


def test_an_unknown_case_writes_nothing(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        ui_wizards.commit_track(
            store,
            "no-such-case",
            ui_wizards.TrackCommit(kind="claim", workflow="claim_sickness", steps=[]),
        )
    assert caught.value.code == "error.case_not_found"
    assert _counts(store)["Track"] == 0


def test_a_bad_date_in_the_facts_writes_nothing(store: Store) -> None:
    case_id = _case(store)
    with pytest.raises(ValueError, match="isoformat"):
        ui_wizards.commit_track(
            store,
            case_id,
            ui_wizards.TrackCommit(
                kind="enrollment",
                workflow="section_39",
                steps=[("job", {}, "ready")],
                facts={"employment.start_date": "31/01/2025"},
            ),
        )
    assert _counts(store)["Track"] == 0
    assert _counts(store)["Step"] == 0


def test_a_missing_file_fails_before_any_row(store: Store, tmp_path: Path) -> None:
    case_id = _case(store)
    with pytest.raises((UserError, OSError)):
        ui_wizards.commit_track(store, case_id, _enrollment(tmp_path / "gone.jpg"))
    assert _counts(store)["Track"] == 0


def test_a_step_whose_forms_are_unprinted_is_committed_in_progress(store: Store) -> None:
    case_id = _case(store)
    steps = [
        ("employer", {"employer_name": "Tak Farm"}, "ready"),
        ("registration", {"submitted_on": "2026-03-10"}, "ready"),
        ("sso_card", {}, "not_started"),
    ]
    commit = ui_wizards.TrackCommit("enrollment", "enrollment_pink_card", steps, path="pink_card")
    ui_wizards.commit_track(store, case_id, commit)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert [(s.key, s.state) for s in track.steps] == [
        ("employer", "ready"),  # no forms to print: as the wizard proposed
        ("registration", "in_progress"),  # SSO 1-03 not printed yet
        ("sso_card", "not_started"),
    ]


def test_a_step_whose_papers_are_missing_is_committed_in_progress(
    store: Store, tmp_path: Path
) -> None:
    case_id = _case(store)
    scan = tmp_path / "card.png"
    scan.write_bytes(b"scan")
    steps = [("identity", {"pink_card_number": PINK_CARD}, "ready")]
    documents = [
        ui_wizards.DocumentCommit("pink_card_copy", True, (str(scan),)),
        ui_wizards.DocumentCommit("work_permit_copy", True),  # not attached
    ]
    commit = ui_wizards.TrackCommit(
        "enrollment", "enrollment_pink_card", steps, documents, path="pink_card"
    )
    ui_wizards.commit_track(store, case_id, commit)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert [(s.key, s.state) for s in track.steps] == [("identity", "in_progress")]


@pytest.mark.parametrize(
    ("target", "detail"),
    [
        ("employer.name", ("employer", "name")),
        ("document.passport.number", ("identity_document", "number")),
        ("employment.occupation", ("employment", "occupation")),
        ("employer.nickname", None),  # not a field of the store
        ("event_date", None),
        ("document.number", None),
        ("person.name.passport", None),  # only starts the field: the step holds the value
    ],
)
def test_the_detail_a_wizard_fact_fills_in(target: str, detail: tuple[str, str] | None) -> None:
    assert ui_wizards.fact_field(target) == detail


# --- an employer named again is the one the store holds --------------------------------------


def _enrolled_case(store: Store, tmp_path: Path, **facts: object) -> str:
    """A new person's case, enrolled with ``facts`` over the usual ones (a job since March
    2024)."""
    case_id = _case(store)
    scan = tmp_path / "pink.jpg"
    scan.write_bytes(b"scan")
    ui_wizards.commit_track(store, case_id, _enrollment(scan, **facts))
    return case_id


def _enrol(store: Store, tmp_path: Path, **facts: object) -> str:
    """A new person's case, enrolled with ``facts`` over the usual ones; the job's employer."""
    case_id = _enrolled_case(store, tmp_path, **facts)
    (job,) = cases.get_case_file(store, case_id).employments
    assert job.employer_id is not None
    return job.employer_id


def _employers(store: Store) -> list[Employer]:
    with store.read() as session:
        return list(session.scalars(select(Employer).order_by(Employer.id)))


def test_two_enrollments_at_one_employers_account_make_one_employer_and_two_jobs(
    store: Store, tmp_path: Path
) -> None:
    first = _enrol(store, tmp_path)
    second = _enrol(store, tmp_path, **{"employer.name": "TAK FARM Co., Ltd."})
    assert first == second  # the account says it is one employer, however it is written
    assert [e.name for e in _employers(store)] == ["Tak Farm"]
    with store.read() as session:
        jobs = session.scalars(select(Employment.employer_id)).all()
    assert jobs == [first, first]


def test_one_name_without_an_account_is_one_employer(store: Store, tmp_path: Path) -> None:
    first = _enrol(store, tmp_path, **{"employer.sso_account": ""})
    second = _enrol(store, tmp_path, **{"employer.sso_account": "", "employer.name": "tak farm"})
    assert first == second
    assert [(e.name, e.sso_account) for e in _employers(store)] == [("Tak Farm", None)]


def test_one_name_with_two_accounts_is_two_employers(store: Store, tmp_path: Path) -> None:
    first = _enrol(store, tmp_path)
    second = _enrol(store, tmp_path, **{"employer.sso_account": "10-0000-0002"})
    assert first != second
    assert [e.sso_account for e in _employers(store)] == ["1000000001", "1000000002"]


def test_a_deleted_employer_is_not_named_again(store: Store, tmp_path: Path) -> None:
    first = _enrol(store, tmp_path)
    with store.session() as session:
        row = session.get(Employer, first)
        assert row is not None
        row.deleted = True
    second = _enrol(store, tmp_path)
    assert second != first
    assert [e.deleted for e in _employers(store)] == [True, False]


def test_the_employer_found_keeps_its_province_and_gets_one_it_lacked(
    store: Store, tmp_path: Path
) -> None:
    with_province = _enrol(store, tmp_path, **{"employer.province_code": "63"})
    assert _enrol(store, tmp_path, **{"employer.province_code": "10"}) == with_province
    without = _enrol(store, tmp_path, **{"employer.sso_account": "1000000002"})
    assert (
        _enrol(
            store,
            tmp_path,
            **{"employer.sso_account": "1000000002", "employer.province_code": "50"},
        )
        == without
    )
    assert [(e.sso_account, e.province_code) for e in _employers(store)] == [
        ("1000000001", "63"),
        ("1000000002", "50"),
    ]


def test_a_new_wizard_starts_with_the_document_numbers_on_file(store: Store) -> None:
    """Typed when the case was opened, a passport is not asked for again: the MOU
    enrollment's passport field starts with the current one (an expired one is history)."""
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[people.NameInput("မောင်မောင်")],
            documents=[
                people.DocumentInput("passport", "MA1111111", status="expired"),
                people.DocumentInput("passport", "MB2222222"),
            ],
        ),
    )
    assert ui_wizards.known_facts(store, case_id, "enrollment_mou_passport") == {
        "passport_number": "MB2222222"
    }
    assert ui_wizards.known_facts(store, case_id, "claim_maternity") == {}
    assert ui_wizards.known_facts(store, case_id, "no_such_workflow") == {}
    key = "wizard:enrollment_mou_passport:" + case_id
    assert ui_wizards.wizard_start(store, case_id, "enrollment_mou_passport", key) == {
        "raw": {"passport_number": "MB2222222"}
    }
    drafts.save_draft(store, key, {"raw": {"passport_number": "MC3333333"}, "page": 1}, case_id)
    assert ui_wizards.wizard_start(store, case_id, "enrollment_mou_passport", key) == {
        "raw": {"passport_number": "MC3333333"},
        "page": 1,
    }  # a draft left wins: it holds what was typed last


@pytest.mark.parametrize(
    ("on_file", "typed", "kept"),
    [
        (None, dt.date(1994, 7, 2), "1994-07-02"),
        ("1994", dt.date(1994, 7, 2), "1994-07-02"),  # the year alone, now known whole
        ("1994-07", dt.date(1994, 7, 2), "1994-07-02"),
        ("1995", dt.date(1994, 7, 2), "1995"),  # another year: the Person tab corrects it
        ("1994-07-09", dt.date(1994, 7, 2), "1994-07-09"),  # whole on file: left alone
    ],
)
def test_the_birth_date_typed_in_an_enrollment_fills_in_what_the_person_lacks(
    store: Store, tmp_path: Path, on_file: str | None, typed: dt.date, kept: str
) -> None:
    person = _enrolled(store, tmp_path, {"birth_date": on_file}, {"person.birth_date": typed})
    assert person.birth_date == kept


def _enrolled(
    store: Store, tmp_path: Path, on_file: dict[str, str | None], facts: dict[str, object]
) -> people.PersonView:
    """A person recorded with the details ``on_file``, after an enrollment committed with
    ``facts``: as stored."""
    case_id = ui_wizards.create_case(
        store, people.PersonInput(names=[people.NameInput("မောင်မောင်")], **on_file)
    )
    scan = tmp_path / "card.jpg"
    scan.write_bytes(b"\xff\xd8\xff card")
    ui_wizards.commit_track(store, case_id, _enrollment(scan, **facts))
    return cases.get_case_file(store, case_id).person


def test_a_new_wizard_starts_with_a_whole_birth_date_on_file(store: Store) -> None:
    whole = ui_wizards.create_case(
        store, people.PersonInput(names=[people.NameInput("A")], birth_date="1994-07-02")
    )
    year = ui_wizards.create_case(
        store, people.PersonInput(names=[people.NameInput("B")], birth_date="1994")
    )
    assert ui_wizards.known_facts(store, whole, "enrollment_mou_passport") == {
        "date_of_birth": "02/07/1994"
    }
    assert ui_wizards.known_facts(store, year, "enrollment_mou_passport") == {}


@pytest.mark.parametrize(
    ("on_file", "chosen", "kept"),
    [
        (None, "myanmar", "MMR"),  # the workflow's choice, stored as the person's code
        (None, "laos", "LAO"),
        ("KHM", "myanmar", "KHM"),  # one on file is kept: the Person tab corrects it
        (None, "", None),
    ],
)
def test_the_nationality_chosen_in_an_enrollment_fills_in_a_person_without_one(
    store: Store, tmp_path: Path, on_file: str | None, chosen: str, kept: str | None
) -> None:
    person = _enrolled(store, tmp_path, {"nationality": on_file}, {"person.nationality": chosen})
    assert person.nationality == kept


def test_a_new_wizard_starts_with_the_nationality_on_file_as_its_choice(store: Store) -> None:
    def started(nationality: str | None, workflow_key: str) -> dict[str, str]:
        case_id = ui_wizards.create_case(
            store, people.PersonInput(names=[people.NameInput("A")], nationality=nationality)
        )
        return ui_wizards.known_facts(store, case_id, workflow_key)

    assert started("MMR", "enrollment_mou_passport") == {"nationality": "myanmar"}
    assert started("KHM", "enrollment_pink_card") == {"nationality": "cambodia"}
    assert started("VNM", "enrollment_border_pass") == {}, "not a choice of that path"
    assert started("THA", "enrollment_mou_passport") == {}
    assert started(None, "enrollment_mou_passport") == {}


def test_every_nationality_choice_of_the_workflows_names_a_stored_code() -> None:
    """The choices are the workflows' words; the person stores ISO codes. Each word must be
    one the import's value table reads, or a choice would never reach the person."""
    from desktop.domain import workflow
    from desktop.services import importer

    choices = {
        choice
        for definition in workflow.load().values()
        for step in definition.steps
        for spec in step.fields
        if spec.fact == "person.nationality"
        for choice in spec.choices
    }
    assert choices == {"myanmar", "cambodia", "laos", "vietnam"}
    assert {importer.coded("nationality", c) for c in choices} == {"MMR", "KHM", "LAO", "VNM"}


# --- what Finish keeps on file, and what the wizard says it keeps -----------------------------


@pytest.mark.parametrize(
    ("fact", "held", "typed", "kept"),
    [
        ("person.birth_date", "1994-07-09", "1994-07-02", True),  # whole, another day
        ("person.birth_date", "1995", "1994-07-02", True),  # another year
        ("person.birth_date", "1994-08", "1994-07-02", True),  # another month
        ("person.birth_date", "1994", "1994-07-02", False),  # says less, agrees: filled in
        ("person.birth_date", "1994-07", "1994-07-02", False),
        ("person.birth_date", "1994-07-02", "1994-07-02", False),  # the same
        ("person.birth_date", None, "1994-07-02", False),  # none on file
        ("person.birth_date", "1994", None, False),  # none typed
        ("person.nationality", "KHM", "MMR", True),
        ("person.nationality", "MMR", "MMR", False),
        ("person.nationality", None, "MMR", False),
        ("person.nationality", "MMR", None, False),
    ],
)
def test_what_finish_keeps_on_file_in_place_of_what_was_typed(
    fact: str, held: str | None, typed: str | None, kept: bool
) -> None:
    assert ui_wizards.kept_on_file(fact, held, typed) is kept


def test_the_value_a_field_says_is_kept_is_the_files_as_stored() -> None:
    on_file = {"person.birth_date": "1994", "person.nationality": "KHM"}
    assert ui_wizards.kept_value(on_file, "person.birth_date", "1995-07-02") == "1994"
    assert ui_wizards.kept_value(on_file, "person.birth_date", "1994-07-02") is None
    assert ui_wizards.kept_value(on_file, "person.birth_date", None) is None
    assert ui_wizards.kept_value(on_file, "person.nationality", "myanmar") == "KHM"
    assert ui_wizards.kept_value(on_file, "person.nationality", "cambodia") is None
    assert ui_wizards.kept_value(on_file, "person.nationality", "") is None
    assert ui_wizards.kept_value({}, "person.nationality", "myanmar") is None
    assert ui_wizards.kept_value(on_file, "document.passport.number", "MB1") is None


def test_the_persons_details_a_wizard_may_differ_from(store: Store) -> None:
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(names=[people.NameInput("A")], birth_date="1994", nationality="MMR"),
    )
    assert ui_wizards.facts_on_file(store, case_id) == {
        "person.birth_date": "1994",
        "person.nationality": "MMR",
    }
    assert ui_wizards.facts_on_file(store, _case(store)) == {"person.nationality": "MMR"}


@pytest.mark.parametrize(
    ("on_file", "facts"),
    [
        ({"birth_date": "1994"}, {"person.birth_date": dt.date(1994, 7, 2)}),
        ({"birth_date": "1994-07"}, {"person.birth_date": dt.date(1994, 8, 2)}),
        ({"birth_date": "1994-07-02"}, {"person.birth_date": dt.date(1994, 7, 2)}),
        ({"birth_date": "1994-07-09"}, {"person.birth_date": "1994-07-02"}),
        ({"birth_date": None}, {"person.birth_date": "1994-07-02"}),
        ({"nationality": "KHM"}, {"person.nationality": "myanmar"}),
        ({"nationality": "KHM"}, {"person.nationality": "cambodia"}),
        ({"nationality": None}, {"person.nationality": "laos"}),
    ],
)
def test_what_the_wizard_says_is_kept_is_what_finish_keeps(
    store: Store, tmp_path: Path, on_file: dict[str, str | None], facts: dict[str, object]
) -> None:
    """The note under a field (:func:`ui_wizards.kept_value`) can never disagree with
    what Finish writes: the file's value when it says one is kept, else the typed one."""
    ((fact, value),) = facts.items()
    name = fact.removeprefix("person.")
    case_id = ui_wizards.create_case(
        store, people.PersonInput(names=[people.NameInput("A")], **on_file)
    )
    said = ui_wizards.kept_value(ui_wizards.facts_on_file(store, case_id), fact, value)
    written = ui_wizards._fact_rows(facts)
    scan = tmp_path / "card.jpg"
    scan.write_bytes(b"\xff\xd8\xff card")
    ui_wizards.commit_track(store, case_id, _enrollment(scan, **facts))
    stored = getattr(cases.get_case_file(store, case_id).person, name)
    assert stored == (said if said is not None else getattr(written, name))


# --- the identity page's name starts with the name on file ------------------------------------


def test_a_new_wizard_starts_with_the_current_name_of_the_kind_its_path_asks_for(
    store: Store,
) -> None:
    """The MOU path asks for the name as in the passport, the pink card path for its Thai
    transliteration; the one recorded last is the current one. A path that does not say
    which name (a certificate of identity) and a person without one start empty."""
    case_id = ui_wizards.create_case(
        store,
        people.PersonInput(
            names=[
                people.NameInput("မောင်မောင်"),
                people.NameInput("MAUNG MAUNG", "passport"),
                people.NameInput("หม่อง หม่อง", "thai"),
            ]
        ),
    )
    person_id = cases.get_case_file(store, case_id).person.id
    people.add_name(store, person_id, people.NameInput("MAUNG MAUNG OO", "passport"))
    assert ui_wizards.known_facts(store, case_id, "enrollment_mou_passport") == {
        "full_name": "MAUNG MAUNG OO"
    }
    assert ui_wizards.known_facts(store, case_id, "enrollment_pink_card") == {
        "full_name": "หม่อง หม่อง"
    }
    # a certificate of identity carries the romanised name, as a passport does
    assert ui_wizards.known_facts(store, case_id, "enrollment_certificate_of_identity") == {
        "full_name": "MAUNG MAUNG OO"
    }
    # a border pass: which of the person's names it carries is not known (domain.md)
    assert ui_wizards.known_facts(store, case_id, "enrollment_border_pass") == {}
    assert "full_name" not in ui_wizards.known_facts(store, _case(store), "enrollment_mou_passport")


def test_a_name_typed_in_the_wizard_is_not_recorded_on_the_person(
    store: Store, tmp_path: Path
) -> None:
    person = _enrolled(store, tmp_path, {}, {"person.name.thai": "สมชาย"})
    assert [(n.kind, n.full_name) for n in person.names] == [("native", "မောင်မောင်")]


def test_every_name_fact_of_the_workflows_names_a_kind_of_name_the_person_holds() -> None:
    """A field says which of the person's names it starts with by its kind; a kind no
    name has would start every wizard empty."""
    from desktop.domain import workflow

    kinds = {
        workflow.name_kind(spec.fact)
        for definition in workflow.load().values()
        for step in definition.steps
        for spec in step.fields
        if spec.fact and spec.fact.startswith("person.name")
    }
    assert kinds == {"passport", "thai"}  # each a kind of name (the loader refuses others)


# --- the day a job ended, typed in an unemployment claim ------------------------------------


def _unemployment(day: str, reason: str = "laid_off") -> ui_wizards.TrackCommit:
    """An unemployment claim whose leaving-notice step says the job ended on ``day``."""
    return ui_wizards.TrackCommit(
        kind="claim",
        workflow="claim_unemployment",
        steps=[
            ("check_eligibility", {"unemployment_reason": reason}, "ready"),
            ("employer_leaving_notice", {"employment_end": day}, "ready"),
        ],
        benefit="unemployment",
        event_date=dt.date(2026, 3, 1),
        facts={"employment.end_date": day},
    )


def test_the_day_the_job_ended_is_recorded_on_the_job_still_open(
    store: Store, tmp_path: Path
) -> None:
    """Typed once, in the claim: the job enrolled in 2024 ends that day (the SSO 6-09's
    last day of work is printed from the job), no second job is made, and the claim's
    answer to why is left to the claim (the job's reason is corrected on the Work tab)."""
    _enrol(store, tmp_path)  # another person's job: untouched
    case_id = _enrolled_case(store, tmp_path)
    ui_wizards.commit_track(store, case_id, _unemployment("2026-02-27"))
    (job,) = cases.get_case_file(store, case_id).employments
    assert (job.start_date, job.end_date, job.end_reason) == (
        dt.date(2024, 3, 1),
        dt.date(2026, 2, 27),
        None,
    )
    printed = printing.case_data(store, case_id, forms=("sps6_09",), benefit="unemployment")
    assert printed.employment.end_date == dt.date(2026, 2, 27)  # SSO 6-09's last day
    with store.read() as session:
        ends = session.scalars(select(Employment.end_date)).all()
    assert sorted(ends, key=str) == [dt.date(2026, 2, 27), None]  # the other's still open
    # a job whose end is on file keeps it: a later claim's day is the claim's
    ui_wizards.commit_track(store, case_id, _unemployment("2026-02-20"))
    (job,) = cases.get_case_file(store, case_id).employments
    assert job.end_date == dt.date(2026, 2, 27)


def test_a_job_end_before_the_job_began_refuses_the_whole_claim(
    store: Store, tmp_path: Path
) -> None:
    case_id = _enrolled_case(store, tmp_path)
    before = _counts(store)
    with pytest.raises(UserError) as caught:
        ui_wizards.commit_track(store, case_id, _unemployment("2024-02-01"))
    assert caught.value.code == "error.invalid_input"
    assert [i.code for i in caught.value.issues] == ["employment.end_before_start"]
    assert _counts(store) == before
    (job,) = cases.get_case_file(store, case_id).employments
    assert job.end_date is None


def test_a_claim_for_a_person_without_a_job_on_file_writes_no_job(store: Store) -> None:
    case_id = _case(store)
    ui_wizards.commit_track(store, case_id, _unemployment("2026-02-27"))
    assert cases.get_case_file(store, case_id).employments == ()


def test_a_new_unemployment_claim_starts_with_the_day_the_last_job_ended(
    store: Store, tmp_path: Path
) -> None:
    case_id = _enrolled_case(store, tmp_path)
    assert "employment_end" not in ui_wizards.known_facts(store, case_id, "claim_unemployment")
    (job,) = cases.get_case_file(store, case_id).employments
    employers.end_employment(store, job.id, dt.date(2026, 2, 27), "laid_off")
    known = ui_wizards.known_facts(store, case_id, "claim_unemployment")
    assert (known["employment_end"], known["unemployment_reason"]) == ("27/02/2026", "laid_off")
    assert "unemployment_reason" not in ui_wizards.known_facts(store, case_id, "claim_old_age")


# --- a job no enrollment recorded ------------------------------------------------------------


def test_a_job_recorded_before_the_worker_came_is_added_with_the_employer_on_file(
    store: Store, tmp_path: Path
) -> None:
    employer = _enrol(store, tmp_path)  # Tak Farm, account 1000000001, on file
    case_id = _case(store)
    ui_wizards.add_job(
        store,
        case_id,
        {
            "employer.name": "Tak Farm",
            "employer.sso_account": "10-0000-0001",
            "employer.sso_branch": "",
            "employment.start_date": "2023-05-01",
            "employment.monthly_wage": "9500",
        },
    )
    (job,) = cases.get_case_file(store, case_id).employments
    assert (job.employer_id, job.start_date, job.monthly_wage) == (
        employer,
        dt.date(2023, 5, 1),
        decimal.Decimal(9500),
    )
    assert len(_employers(store)) == 1  # the one on file, not a second Tak Farm


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        ({"employer.name": " "}, "employer.name_required"),
        ({"employer.name": "Tak Farm", "employer.sso_account": "123"}, "id.length"),
    ],
)
def test_a_job_that_cannot_be_added_is_refused_and_nothing_written(
    store: Store, facts: dict[str, str], code: str
) -> None:
    case_id = _case(store)
    with pytest.raises(UserError) as caught:
        ui_wizards.add_job(store, case_id, facts)
    assert code in [i.code for i in caught.value.issues]
    assert cases.get_case_file(store, case_id).employments == ()
    assert _employers(store) == []


@pytest.mark.parametrize(
    ("claimant", "state"), [("mother", "ready"), ("father_wife_uninsured", "in_progress")]
)
def test_a_maternity_claim_waits_for_the_marriage_certificate_only_when_the_father_claims(
    store: Store, tmp_path: Path, claimant: str, state: str
) -> None:
    """The documents step is gated with the claimant chosen on the first step: a mother
    need not be married, a father claiming for his uninsured wife needs the certificate."""
    case_id = _case(store)
    documents = []
    for key in ("id_original", "child_birth_certificate", "bank_passbook"):
        scan = tmp_path / f"{key}.png"
        scan.write_bytes(key.encode())
        documents.append(ui_wizards.DocumentCommit(key, True, (str(scan),)))
    if claimant != "mother":  # as the wizard lists it: only when its condition holds
        documents.append(ui_wizards.DocumentCommit("marriage_certificate", True))
    steps = [
        ("check_eligibility", {"event_date": "2026-02-20", "claimant_is": claimant}, "ready"),
        ("gather_documents", {}, "ready"),
    ]
    commit = ui_wizards.TrackCommit(
        "claim", "claim_maternity", steps, documents, benefit="maternity"
    )
    ui_wizards.commit_track(store, case_id, commit)
    (track,) = cases.get_case_file(store, case_id).tracks
    assert dict((s.key, s.state) for s in track.steps)["gather_documents"] == state
    marriage = [c for c in track.checklist if c.doc_key == "marriage_certificate"]
    assert [(c.required, c.status) for c in marriage] == (
        [] if claimant == "mother" else [(True, "missing")]
    )


def test_a_claimant_corrected_later_brings_the_checklist_up_to_date(
    store: Store, tmp_path: Path
) -> None:
    """Saved as the mother's claim, then corrected (Fill in…) to the father claiming for his
    wife: the marriage certificate goes on the checklist and the documents step waits for
    it; corrected back, it stays listed but is no longer required."""
    case_id = _case(store)
    steps_ = [
        ("check_eligibility", {"event_date": "2026-02-20", "claimant_is": "mother"}, "ready"),
        ("gather_documents", {}, "in_progress"),
    ]
    commit = ui_wizards.TrackCommit("claim", "claim_maternity", steps_, benefit="maternity")
    ui_wizards.commit_track(store, case_id, commit)
    (track,) = cases.get_case_file(store, case_id).tracks
    first = next(s for s in track.steps if s.key == "check_eligibility")

    def marriage() -> list[tuple[bool | None, str | None]]:
        (held,) = cases.get_case_file(store, case_id).tracks
        return [
            (c.required, c.status) for c in held.checklist if c.doc_key == "marriage_certificate"
        ]

    def blockers() -> list[str]:
        (held,) = cases.get_case_file(store, case_id).tracks
        choice = next(c for c in steps.step_choices(held) if c.key == "gather_documents")
        return [i.field for i in choice.blockers]

    assert marriage() == []
    steps.save_fields(store, first.id, {"claimant_is": "father_wife_uninsured"})
    assert marriage() == [(True, "missing")]
    assert "marriage_certificate" in blockers()
    steps.save_fields(store, first.id, {"claimant_is": "mother"})
    assert marriage() == [(False, "missing")]
    assert "marriage_certificate" not in blockers()
