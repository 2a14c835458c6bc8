"""The data commands end to end, including a writer killed with SIGKILL mid-import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from desktop.cli import main
from desktop.models.entities import Attachment, IdentityDocument, Person, PersonName
from desktop.models.store import open_store
from desktop.services import attachments, cases, people

PASSPHRASE = "correct horse battery"
ROWS = 1500
RUN_CLI = "import sys; from desktop.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SAPAN_KDF_N", "1024")
    monkeypatch.setenv("SAPAN_PASSPHRASE", PASSPHRASE)
    return tmp_path / "store"


def _sapan(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), *args])


def _json(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> object:
    capsys.readouterr()
    assert _sapan(data, *args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_demo_then_search_by_burmese_thai_and_passport(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sapan(env, "demo", "--people", "40", "--seed", "5") == 0
    exported = env.parent / "people.json"
    assert _sapan(env, "export", "people", "--format", "json", "-o", str(exported)) == 0
    people = json.loads(exported.read_text(encoding="utf-8"))
    burmese = next(p for p in people if p["nationality"] == "MMR")
    names = {n["kind"]: n["full_name"] for n in burmese["names"]}
    passport = next(d["number"] for p in people for d in p["documents"] if d["kind"] == "passport")
    for query in (names["native"][-4:], names["thai"][:3], passport[1:6]):
        hits = _json(capsys, env, "search", query)
        assert isinstance(hits, list)
        assert hits, query
        assert any(query in " ".join(h["names"] + h["documents"]) for h in hits)
    assert burmese["id"] in {
        h["person_id"]
        for h in _json(capsys, env, "search", names["native"])  # type: ignore[union-attr]
    }


def test_case_list_and_show(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sapan(env, "demo", "--people", "15") == 0
    rows = _json(capsys, env, "case", "list", "--status", "open", "--limit", "5")
    assert isinstance(rows, list)
    assert 0 < len(rows) <= 5
    assert {r["status"] for r in rows} == {"open"}
    shown = _json(capsys, env, "case", "show", rows[0]["number"])
    assert isinstance(shown, dict)
    assert shown["number"] == rows[0]["number"]
    assert shown["tracks"][0]["kind"] == "enrollment"


def test_case_show_names_title_marital_status_and_nationality_in_the_chosen_language(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sapan(env, "demo", "--people", "3") == 0
    number = _json(capsys, env, "case", "list", "--limit", "1")[0]["number"]  # type: ignore[index]
    with open_store(env, PASSPHRASE) as store:
        person_id = cases.get_case_file(store, number).person.id
        people.update_person(
            store, person_id, sex="F", title="miss", marital_status="married", nationality="MMR"
        )
    capsys.readouterr()
    assert _sapan(env, "--lang", "th", "case", "show", number) == 0
    shown = capsys.readouterr().out.splitlines()[2]
    assert shown.endswith("เมียนมา  หญิง  นางสาว  สมรส")
    assert "miss" not in shown
    assert "married" not in shown
    # a code this app does not know (a newer colleague's) is printed as it is
    with open_store(env, PASSPHRASE) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE person SET marital_status = 'partnered'"))
    capsys.readouterr()
    assert _sapan(env, "case", "show", number) == 0
    shown = capsys.readouterr().out.splitlines()[2]
    assert shown.endswith("Myanmar  Female  Miss (นางสาว)  partnered")
    # a detail not recorded is a dash, not a gap that shifts the others
    with open_store(env, PASSPHRASE) as store:
        people.update_person(store, person_id, title=None)
    capsys.readouterr()
    assert _sapan(env, "case", "show", number) == 0
    assert capsys.readouterr().out.splitlines()[2].endswith("Myanmar  Female  —  partnered")
    # --json keeps the stored codes, for scripts
    shown_json = _json(capsys, env, "case", "show", number)
    assert shown_json["person"]["marital_status"] == "partnered"  # type: ignore[index]


def test_case_show_unknown_number_is_a_clear_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sapan(env, "demo", "--people", "1") == 0
    assert _sapan(env, "case", "show", "XXX-0000-000000") == 2
    assert "XXX-0000-000000" in capsys.readouterr().err


def test_db_check_and_backup_opens_with_the_passphrase(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sapan(env, "demo", "--people", "5") == 0
    check = _json(capsys, env, "db", "check")
    assert isinstance(check, dict)
    assert (check["ok"], check["encrypted"], check["people"]) == (True, True, 5)
    backup = env.parent / "usb" / "sapan-backup"
    made = _json(capsys, env, "db", "backup", str(backup))
    assert isinstance(made, dict)
    assert made["path"] == str(backup)
    assert made["database_bytes"] == (backup / "sapan.db").stat().st_size
    assert (backup / "sapan.db").read_bytes()[:16] != b"SQLite format 3\x00"
    # the folder opens as a store on its own, with the passphrase
    with open_store(backup, PASSPHRASE) as copy, copy.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 5
    assert _sapan(env, "db", "backup", str(backup)) == 2  # never overwrites
    assert "not an empty folder" in capsys.readouterr().err
    # a new laptop: the backup becomes the store of its empty data folder
    laptop = env.parent / "laptop"
    restored = _json(capsys, laptop, "db", "restore", str(backup))
    assert restored == {"path": str(laptop), "files": 0}
    check = _json(capsys, laptop, "db", "check")
    assert isinstance(check, dict)
    assert (check["ok"], check["people"]) == (True, 5)
    assert _sapan(laptop, "db", "restore", str(backup)) == 2  # never over a store
    assert "already holds a store" in capsys.readouterr().err


def test_db_check_files_reads_every_scan_back(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sapan(env, "demo", "--people", "2") == 0
    with open_store(env, PASSPHRASE) as store:
        scan = tmp_path / "payslip.jpg"
        scan.write_bytes(b"\xff\xd8\xff a payslip " * 500)
        made = attachments.add_attachment(store, scan)
        with store.read() as session:
            row = session.get(Attachment, made)
            assert row is not None
            sha256 = row.sha256 or ""
        blob = attachments.blob_store(store).path_for(sha256)
    checked = _json(capsys, env, "db", "check", "--files")
    assert isinstance(checked, dict)
    assert checked["scans"] == {"ok": 1, "damaged": [], "not_on_this_device": 0, "lost": []}
    blob.write_bytes(blob.read_bytes()[:-16])  # a disk that lost the end of it
    assert _sapan(env, "db", "check", "--files") == 2
    assert f"the scan {sha256} is damaged" in capsys.readouterr().err
    assert _sapan(env, "db", "check") == 0  # without --files the scans are not read
    blob.unlink()  # deleted behind the store's back, never synced: no sync brings it back
    assert _sapan(env, "db", "check", "--files") == 2
    said = capsys.readouterr().err
    assert f"the scan {sha256} is missing" in said
    assert "payslip.jpg" not in said  # a hash, as for a damaged one: no personal data


def test_import_with_report_and_exit_code(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = env.parent / "list.csv"
    source.write_text("Name,Passport No\nAung,MA123456\n,MB123456\n", encoding="utf-8")
    report = env.parent / "report.csv"
    assert _sapan(env, "import", str(source), "--report", str(report)) == 3
    assert "error.name_required" in report.read_text(encoding="utf-8-sig")
    assert _sapan(env, "import", str(source), "--dry-run") == 3
    out = capsys.readouterr().out
    assert "0 imported, 1 already present, 1 rejected" in out


def test_import_names_the_columns_it_left_out(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = env.parent / "list.csv"
    source.write_text("Name,Passport No. & เลขหนังสือเดินทาง\nAung,MA123456\n", encoding="utf-8")
    capsys.readouterr()
    assert _sapan(env, "import", str(source), "--dry-run") == 0
    said = capsys.readouterr().out
    assert "Columns left out: Passport No. & เลขหนังสือเดินทาง" in said
    assert "--map" in said


def test_import_names_the_sheets_it_did_not_read(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.append(["Name", "Passport No"])
    first.append(["Aung", "MA123456"])
    book.create_sheet("Mae Sot")
    source = env.parent / "list.xlsx"
    book.save(source)
    capsys.readouterr()
    assert _sapan(env, "import", str(source), "--dry-run") == 0
    assert "Not read: Mae Sot." in capsys.readouterr().out


def test_a_report_that_cannot_be_written_is_said_before_the_import(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report asked for in a folder that is not there: a clear error before anything
    is imported, not a traceback once the rows are in."""
    source = env.parent / "list.csv"
    source.write_text("Name,Passport No\nAung,MA123456\n", encoding="utf-8")
    report = env.parent / "no-such-folder" / "report.csv"
    capsys.readouterr()
    assert _sapan(env, "import", str(source), "--report", str(report)) == 2
    assert str(report) in capsys.readouterr().err
    assert _sapan(env, "import", str(source), "--dry-run") == 0
    assert "1 imported, 0 already present" in capsys.readouterr().out


def test_a_report_asked_for_over_the_list_itself_is_refused_and_the_list_kept(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report naming the list being imported (a slip of the tab key) would write the
    report over the agency's list: refused, the list as it was, nothing imported."""
    source = env.parent / "list.csv"
    body = "Name,Passport No\nAung,MA123456\n"
    source.write_text(body, encoding="utf-8")
    capsys.readouterr()
    assert _sapan(env, "import", str(source), "--report", str(source)) == 2
    assert "the list being imported" in capsys.readouterr().err
    assert source.read_text(encoding="utf-8") == body
    report = env.parent / "report.csv"
    assert _sapan(env, "import", str(source), "--dry-run", "--report", str(report)) == 0
    assert report.exists()


def test_import_of_junk_writes_a_report_and_fails_cleanly(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = env.parent / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 4000)
    report = env.parent / "report.csv"
    assert _sapan(env, "import", str(junk), "--report", str(report)) == 2
    assert "error.import_unreadable" in report.read_text(encoding="utf-8-sig")
    assert "cannot be read" in capsys.readouterr().err


def test_export_refuses_to_overwrite(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sapan(env, "demo", "--people", "2") == 0
    target = env.parent / "people.csv"
    target.write_text("keep", encoding="utf-8")
    assert _sapan(env, "export", "people", "-o", str(target)) == 2
    assert target.read_text(encoding="utf-8") == "keep"


def test_export_person_by_case_number(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sapan(env, "demo", "--people", "3", "--seed", "4") == 0
    rows = _json(capsys, env, "case", "list", "--limit", "3")
    assert isinstance(rows, list)
    number = rows[0]["number"]
    target = env.parent / "person.json"
    summary = _json(capsys, env, "export", "person", number, "-o", str(target), "--files")
    assert isinstance(summary, dict)
    person_id = summary["person_id"]
    assert summary["path"] == str(target)
    assert summary["files_path"] is None  # demo people have no scans: no empty ZIP
    assert not (env.parent / "person.attachments.zip").exists()
    assert summary["rows"]["person"] == 1
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["person"]["id"] == person_id
    assert number in {c["number"] for c in data["cases"]}
    assert _sapan(env, "export", "person", person_id, "-o", str(target)) == 2  # no --force
    assert str(target) in capsys.readouterr().err
    assert _sapan(env, "export", "person", person_id, "-o", str(target), "--force") == 0
    assert "Everything held about this person was written to" in capsys.readouterr().out
    assert _sapan(env, "export", "person", "XXX-0000-000000", "-o", str(target) + "2") == 2
    assert "XXX-0000-000000" in capsys.readouterr().err


def test_killed_import_leaves_every_committed_person_whole(env: Path, tmp_path: Path) -> None:
    rows = "".join(f"Worker {i},MA{i:07d},1990,MMR,M,0{i:09d}\n" for i in range(ROWS))
    source = tmp_path / "big.csv"
    source.write_text("Name,Passport No,Date of birth,Nationality,Sex,Phone\n" + rows)
    assert _sapan(env, "demo", "--people", "1") == 0  # the store exists before the writer starts
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN_CLI,
            "--data-dir",
            str(env),
            "import",
            str(source),
            "--batch",
            "50",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
        text=True,
    )
    committed = 0
    deadline = time.monotonic() + 240
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if "saved" in line:
            committed = int(line.split(",")[1].split()[0])
            if committed >= 100:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert committed >= 100

    with open_store(env, PASSPHRASE) as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        with store.read() as session:
            imported = session.scalars(
                select(Person.id).where(Person.phone.is_not(None), Person.phone.like("0%"))
            ).all()
            docs = dict(
                session.execute(
                    select(IdentityDocument.person_id, func.count()).group_by(
                        IdentityDocument.person_id
                    )
                ).all()
            )
            names = dict(
                session.execute(
                    select(PersonName.person_id, func.count()).group_by(PersonName.person_id)
                ).all()
            )
    imported_ids = [pid for pid in imported if pid in names and docs.get(pid) == 1]
    # Every committed batch is there, whole; nothing half-written; batches are 50 rows.
    assert len(imported_ids) >= committed
    assert all(docs.get(pid) == 1 and names.get(pid) == 1 for pid in imported_ids)
    assert len(imported_ids) % 50 == 0
    # Re-running the import completes it without duplicating the committed people.
    assert _sapan(env, "import", str(source)) == 0
    with open_store(env, PASSPHRASE) as store, store.read() as session:
        count = select(func.count()).select_from(IdentityDocument)
        assert session.scalar(count.where(IdentityDocument.number.like("MA0%"))) == ROWS


def test_case_step_and_reopen_move_a_claim_as_the_case_file_does(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sapan case step`` / ``case reopen``: the workflow's rules and their refusals, the
    step named by its key (and its track's workflow when two tracks have it)."""
    from desktop.services import cases, people, ui_wizards

    assert _sapan(env, "demo", "--people", "1") == 0
    with open_store(env, PASSPHRASE) as store:
        case_id = ui_wizards.create_case(store, people.PersonInput([people.NameInput("နန်း")]))
        submit = {"submitted_on": "2026-01-05", "sso_office": "Mae Sot"}
        for flow in ("claim_maternity", "claim_sickness"):
            rows = [("submit_claim", submit, "ready"), ("appeal", {}, "not_started")]
            benefit = flow.removeprefix("claim_")
            commit = ui_wizards.TrackCommit("claim", flow, rows, benefit=benefit)
            ui_wizards.commit_track(store, case_id, commit)
        number = cases.get_case_file(store, case_id).number

    assert _sapan(env, "case", "step", number, "submit_claim", "submitted") == 2
    assert "--track" in capsys.readouterr().err  # two claims have that step
    moved = _json(
        capsys, env, "case", "step", number, "submit_claim", "submitted", "--track", "maternity"
    )
    assert moved == {
        "step": "submit_claim",
        "step_id": moved["step_id"],  # type: ignore[index]
        "from_state": "ready",
        "to_state": "submitted",
        "opened": None,
        "track_state": "in_progress",
    }
    maternity = ["--track", "claim_maternity"]
    assert _sapan(env, "case", "step", number, "submit_claim", "paid", *maternity) == 2
    assert "only move forward" in capsys.readouterr().err
    assert _sapan(env, "case", "step", number, "no_such_step", "ready") == 2
    assert "has no step no_such_step" in capsys.readouterr().err
    capsys.readouterr()
    assert _sapan(env, "case", "step", number, "submit_claim", "approved", *maternity) == 0
    assert "submit_claim: submitted → approved" in capsys.readouterr().out
    reason = ["--reason", "ธนาคารคืนเงิน"]
    assert _sapan(env, "case", "reopen", number, "submit_claim", "ready", *maternity, *reason) == 0
    with open_store(env, PASSPHRASE) as store:
        track = next(
            t for t in cases.get_case_file(store, number).tracks if t.benefit == "maternity"
        )
        assert track.steps[0].state == "ready"


def test_output_cut_short_by_its_reader_is_no_traceback(env: Path, tmp_path: Path) -> None:
    """``sapan case list --json | head``: the reader stops early; the CLI says nothing."""
    assert _sapan(env, "demo", "--people", "60") == 0
    command = [sys.executable, "-c", "import sys; from desktop.cli import main; sys.exit(main())"]
    listing = subprocess.Popen(
        [*command, "--data-dir", str(env), "case", "list", "--json", "--limit", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert listing.stdout is not None
    listing.stdout.read(100)
    listing.stdout.close()  # as head does after its lines
    _out, err = listing.communicate(timeout=120)
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err


def test_a_command_says_when_it_upgrades_the_store_first(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After an update the first command upgrades the store (a copy first): a large one
    takes minutes, so it says so, once; the command's own output is unchanged."""
    from alembic import command

    from desktop.models.migrations import runner
    from desktop.models.store import create_store

    older = create_store(env, PASSPHRASE)
    with older.engine.begin() as conn:
        command.downgrade(runner.config(conn), "0009_person_left_on")
    older.close()
    capsys.readouterr()
    assert _sapan(env, "db", "check") == 0
    said = capsys.readouterr()
    assert f"Upgrading the store in {env}" in said.err
    assert "Upgrading" not in said.out  # scripts reading the output are not disturbed
    assert any((env / "backups").iterdir())
    assert _sapan(env, "db", "check") == 0
    assert "Upgrading" not in capsys.readouterr().err
