"""People export as CSV and JSON: every person once, with names, documents and cases."""

from __future__ import annotations

import datetime as dt
import decimal
import errno
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.domain import files, i18n
from desktop.domain.errors import UserError
from desktop.models.entities import Consent, Person, PersonName
from desktop.models.store import Store
from desktop.services import attachments, cases, demo, employers, exporter, importer, people
from desktop.services.cases import TrackInput
from desktop.services.people import DocumentInput, NameInput, PersonInput

os.environ.setdefault("SAPAN_KDF_N", "1024")


def test_csv_and_json_hold_every_person(store: Store, tmp_path: Path) -> None:
    summary = demo.generate(store, 30, seed=9, today=dt.date(2026, 3, 15), contributions=False)
    assert exporter.export_people(store, tmp_path / "p.csv", "csv") == 30
    assert exporter.export_people(store, tmp_path / "p.json", "json") == 30
    rows = exporter.read_csv_export(tmp_path / "p.csv")
    people = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert {r["person_id"] for r in rows} == {p["id"] for p in people} == set(summary.person_ids)
    first = next(p for p in people if p["id"] == rows[0]["person_id"])
    assert rows[0]["names"] == " | ".join(f"{n['kind']}:{n['full_name']}" for n in first["names"])
    assert all(p["cases"] and p["documents"] for p in people)


def test_a_value_a_spreadsheet_would_run_is_exported_as_text(store: Store, tmp_path: Path) -> None:
    """A phone written "+66..." or a value from an agency list beginning "=" would be read
    as a formula by the spreadsheet program a CSV export is opened in."""
    for phone in ("+66812345678", '=HYPERLINK("http://x","y")'):
        people.create_person(store, PersonInput(names=[NameInput("Ma Aye")], phone=phone))
    exporter.export_people(store, tmp_path / "p.csv", "csv")

    written = (tmp_path / "p.csv").read_text(encoding="utf-8-sig")
    assert ",'+66812345678," in written
    assert "'=HYPERLINK" in written
    phones = {row["phone"] for row in exporter.read_csv_export(tmp_path / "p.csv")}
    assert phones == {"+66812345678", '=HYPERLINK("http://x","y")'}


def test_small_pages_give_the_same_people(store: Store) -> None:
    demo.generate(store, 7, seed=1, contributions=False)
    assert len(list(exporter.iter_people(store, page=2))) == 7


def test_existing_file_is_not_overwritten(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        exporter.export_people(store, target, "json")
    assert caught.value.code == "export.file_exists"
    assert target.read_text(encoding="utf-8") == "keep"


# --- one person's data (PDPA) ----------------------------------------------------------------

NAMES = {"native": "အောင်ကျော်", "passport": "AUNG KYAW", "thai": "อ่อง จ่อ"}
SCAN = b"%PDF-1.4 a scanned passport page"


@dataclass(frozen=True)
class Built:
    person_id: str
    case_number: str
    ids: frozenset[str]  # every row id built for the person
    deleted_name_id: str
    scan_path: Path


def _build_person(store: Store, tmp_path: Path, names: dict[str, str] = NAMES) -> Built:
    """A person with one row of every kind, each through its service (a consent through the
    ORM: no service records one yet), plus a name tombstoned afterwards."""
    created = people.create_person(
        store,
        PersonInput(
            names=[NameInput(full, kind) for kind, full in names.items()],
            sex="M",
            birth_date="1994-05",
            nationality="MMR",
            phone="0812345678",
            documents=[DocumentInput("passport", "MC1234567", "MMR")],
        ),
    )
    pid = created.person_id
    employer = employers.create_employer(
        store, employers.EmployerInput("Mae Sot Garment Co.", sso_account="6300012345")
    )
    employment = employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(employer, dt.date(2025, 1, 6), None, decimal.Decimal(9000)),
    )
    employers.record_contributions(
        store,
        pid,
        [
            employers.ContributionInput(f"2025-{m:02d}", decimal.Decimal(9000), employer)
            for m in (1, 2)
        ],
    )
    number = cases.open_case(store, pid)
    track = cases.start_track(
        store, number, TrackInput("enrollment", ["collect", "file"], [("passport", True)])
    )
    case = cases.get_case_file(store, number)
    step, item = case.tracks[0].steps[0], case.tracks[0].checklist[0]
    cases.save_step(store, step.id, data={"wage": "9000"})
    note = cases.add_note(store, number, "ขอสำเนาหนังสือเดินทาง")
    scan = tmp_path / f"passport-{pid[:8]}.pdf"
    scan.write_bytes(SCAN)
    attachment = attachments.add_attachment(store, scan, case_id=case.id, checklist_item_id=item.id)
    with store.session() as session:
        consent = Consent(
            office=store.office, person_id=pid, scope="sso_enrollment", given=True,
            given_on=dt.date(2026, 3, 1), method="signed", recorded_by=store.user,
        )  # fmt: skip
        session.add(consent)
        session.flush()
        consent_id = consent.id
    deleted_name = people.add_name(store, pid, NameInput("Maung Kyaw", "alias"))
    with store.session() as session:
        row = session.get(PersonName, deleted_name)
        assert row is not None
        row.deleted = True
    case = cases.get_case_file(store, number)
    ids = {
        pid, employer, employment, case.id, track, step.id, item.id, note, attachment, consent_id,
        *(n.id for n in case.person.names), *(d.id for d in case.person.documents),
        *(c.id for c in case.contributions), *(s.id for s in case.tracks[0].steps),
    }  # fmt: skip
    return Built(pid, number, frozenset(ids), deleted_name, scan)


def _ids(value: object) -> set[str]:
    """Every ``id`` anywhere in an exported document."""
    if isinstance(value, dict):
        found = {value["id"]} if isinstance(value.get("id"), str) else set()
        return found.union(*(_ids(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_ids(v) for v in value))
    return set()


def test_one_persons_export_holds_every_kind_of_row(store: Store, tmp_path: Path) -> None:
    built = _build_person(store, tmp_path)
    other = _build_person(store, tmp_path, {"native": "ខេង សុខា", "passport": "KHENG SOKHA"})
    target = tmp_path / "export" / "aung.json"
    target.parent.mkdir()
    now = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)
    done = exporter.export_person(store, built.case_number, target, now=now)
    raw = target.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert NAMES["native"] in raw  # scripts kept as they are
    assert "\n  " in raw  # indented
    header = data["export"]
    assert header["exported_at"] == "2026-03-15T09:30:00+00:00"
    assert header["exported_by"] == store.user
    assert header["app_version"]
    assert header["files"] is None
    assert "PDPA" in header["about"]["en"]
    assert set(header["about"]) == {"en", "th", "my", "km", "lo"}
    assert data["person"]["id"] == built.person_id == done.person_id
    assert (data["person"]["birth_date"], data["person"]["phone"]) == ("1994-05", "0812345678")
    assert {n["kind"]: n["full_name"] for n in data["names"]} == NAMES
    assert data["identity_documents"][0]["number"] == "MC1234567"
    assert data["employments"][0]["employer"]["sso_account"] == "6300012345"
    assert data["employments"][0]["monthly_wage"] == "9000"
    assert [m["month"] for m in data["contribution_months"]] == ["2025-01", "2025-02"]
    assert data["consents"][0]["method"] == "signed"
    [case] = data["cases"]
    assert case["number"] == built.case_number
    [track] = case["tracks"]
    assert [s["key"] for s in track["steps"]] == ["collect", "file"]
    assert track["steps"][0]["data"] == {"wage": "9000"}
    assert track["steps"][0]["state"] == "in_progress"
    [item] = track["checklist_items"]
    assert case["notes"][0]["body"] == "ขอสำเนาหนังสือเดินทาง"
    [scan] = data["attachments"]
    assert scan["filename"] == built.scan_path.name
    assert scan["size"] == len(SCAN)
    assert scan["sha256"] == hashlib.sha256(SCAN).hexdigest()
    assert scan["checklist_item_ids"] == [item["id"]]
    events = data["audit_events"]
    assert {e["row_id"] for e in events} >= {built.person_id, case["id"], track["steps"][0]["id"]}
    assert all(e["user"] == store.user and e["at"] for e in events)
    assert _ids(data) - {e["id"] for e in events} == built.ids
    assert not _ids(data) & other.ids  # nothing of the other person
    assert built.deleted_name_id not in raw  # nor the tombstoned name, nor its events
    assert done.rows["person_name"] == 3
    assert done.rows["audit_event"] == len(events)
    assert list(target.parent.iterdir()) == [target]  # no partial file left beside it


def test_a_person_id_and_a_merged_away_duplicate_give_the_kept_person(
    store: Store, tmp_path: Path
) -> None:
    built = _build_person(store, tmp_path)
    twin = people.create_person(store, PersonInput(names=[NameInput("Aung Kyaw", "alias")]))
    with store.remote_session() as session:  # as a pulled merge leaves it, before its moves
        row = session.get(Person, twin.person_id)
        assert row is not None
        row.merged_into = built.person_id
    target = tmp_path / "aung.json"
    exporter.export_person(store, twin.person_id, target)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["person"]["id"] == built.person_id
    assert [p["id"] for p in data["merged_people"]] == [twin.person_id]
    assert "Aung Kyaw" in {n["full_name"] for n in data["names"]}


def test_the_attached_files_go_into_a_zip_beside_it(store: Store, tmp_path: Path) -> None:
    built = _build_person(store, tmp_path)
    target = tmp_path / "aung.json"
    done = exporter.export_person(store, built.person_id, target, files=True)
    assert done.files_path == tmp_path / "aung.attachments.zip"
    assert (done.files, done.files_missing) == (1, 0)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["export"]["files"] == "aung.attachments.zip"
    entry = data["attachments"][0]["file_in_zip"]
    with zipfile.ZipFile(done.files_path) as archive:
        assert archive.read(entry) == SCAN
    # handing out a person's data is in the audit trail (how much, never what)
    trail = cases.audit_trail(store, [built.person_id])
    assert [a for _, a, _ in trail].count("person.exported") == 1


def test_a_scan_lost_from_this_laptop_is_not_said_to_come_with_the_next_sync(
    store: Store, tmp_path: Path
) -> None:
    """A scan deleted from the disk before it ever reached the server will not come with a
    sync: the person is told it is lost (restore it from a backup), not "export again
    after the next sync"."""
    built = _build_person(store, tmp_path)
    blobs = attachments.blob_store(store)
    blobs.path_for(hashlib.sha256(SCAN).hexdigest()).unlink()
    done = exporter.export_person(store, built.person_id, tmp_path / "aung.json", files=True)
    assert (done.files, done.files_missing, done.files_lost) == (0, 0, 1)
    said = exporter.person_export_text(done, lambda key, **kw: i18n.text(key, "en", **kw))
    assert "next sync" not in said
    assert "1 attached file is missing from this laptop" in said


def test_a_person_without_scans_gets_no_empty_zip(store: Store, tmp_path: Path) -> None:
    person = people.create_person(store, PersonInput(names=[NameInput("နန်း")])).person_id
    done = exporter.export_person(store, person, tmp_path / "nan.json", files=True)
    assert (done.files_path, done.files) == (None, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.json", "store"]
    data = json.loads((tmp_path / "nan.json").read_text(encoding="utf-8"))
    assert data["export"]["files"] is None


def test_existing_export_and_unknown_person_are_refused(store: Store, tmp_path: Path) -> None:
    built = _build_person(store, tmp_path)
    target = tmp_path / "aung.json"
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        exporter.export_person(store, built.case_number, target)
    assert caught.value.code == "export.file_exists"
    assert target.read_text(encoding="utf-8") == "keep"
    exporter.export_person(store, built.case_number, target, overwrite=True)
    assert json.loads(target.read_text(encoding="utf-8"))["person"]["id"] == built.person_id
    for unknown in ("TAK-0000-999999", "no-such-person"):
        with pytest.raises(UserError) as caught:
            exporter.export_person(store, unknown, tmp_path / "x.json")
        assert caught.value.code == "export.person_unknown"
        assert unknown in caught.value.translated("en")
    assert not (tmp_path / "x.json").exists()


def test_a_failed_export_leaves_no_file_behind(store: Store, tmp_path: Path) -> None:
    """A damaged scan stops the export part-way through the ZIP: neither file is left, nor
    a partial one."""
    built = _build_person(store, tmp_path)
    blobs = attachments.blob_store(store)
    blob = blobs.path_for(hashlib.sha256(SCAN).hexdigest())
    blob.write_bytes(blob.read_bytes()[:-5] + b"XXXXX")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UserError) as caught:
        exporter.export_person(store, built.person_id, out / "aung.json", files=True)
    assert caught.value.code == "error.attachment_damaged"
    assert list(out.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    """A folder that is not there (a USB stick pulled out) is said, not a traceback; no
    partial file is left."""
    built = _build_person(store, tmp_path)
    gone = tmp_path / "stick-pulled-out"
    for export in (
        lambda: exporter.export_person(store, built.person_id, gone / "aung.json", files=True),
        lambda: exporter.export_people(store, gone / "people.csv", "csv"),
    ):
        with pytest.raises(UserError) as caught:
            export()
        assert caught.value.code == "error.write_failed"
        assert str(gone) in caught.value.translated("en")
    assert not gone.exists()


def test_a_full_disk_is_said_as_such(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build_person(store, tmp_path)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(UserError) as caught:
        exporter.export_people(store, tmp_path / "people.csv", "csv")
    assert caught.value.code == "error.disk_full"
    assert not list(tmp_path.glob("people.csv*"))


def test_the_scans_are_not_left_decrypted_when_the_json_cannot_be_written(
    store: Store, tmp_path: Path
) -> None:
    """The ZIP is written first: when the JSON beside it then fails, the person's decrypted
    scans do not stay on the stick without the export they belong to."""
    built = _build_person(store, tmp_path)
    out = tmp_path / "out"
    (out / "aung.json.partial").mkdir(parents=True)  # in the way of the JSON, not the ZIP
    with pytest.raises(UserError) as caught:
        exporter.export_person(store, built.person_id, out / "aung.json", files=True)
    assert caught.value.code == "error.write_failed"
    assert [p.name for p in out.iterdir()] == ["aung.json.partial"]
    trail = cases.audit_trail(store, [built.person_id])
    assert "person.exported" not in [a for _, a, _ in trail]


def test_a_title_and_marital_status_are_exported_as_the_codes_an_import_takes(
    store: Store, tmp_path: Path
) -> None:
    people.create_person(
        store,
        PersonInput(
            names=[NameInput("Ma Aye", "passport")],
            sex="F",
            title="miss",
            marital_status="married",
        ),
    )
    exporter.export_people(store, tmp_path / "p.csv", "csv")
    exporter.export_people(store, tmp_path / "p.json", "json")
    [row] = exporter.read_csv_export(tmp_path / "p.csv")
    assert (row["sex"], row["title"], row["marital_status"]) == ("F", "miss", "married")
    [person] = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert (person["title"], person["marital_status"]) == ("miss", "married")
    # an agency list with the same columns and codes is read as the same details
    synonyms = importer.header_synonyms()
    assert [synonyms[importer.normalise_header(c)] for c in ("title", "marital_status")] == [
        "title",
        "marital_status",
    ]
