"""desktop.cli.printing: print and export commands end to end on a real store."""

from __future__ import annotations

import datetime as dt
import decimal
import errno
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.cli import main
from desktop.domain import files
from desktop.forms.samples import with_check_digit
from desktop.models.entities import AuditEvent
from desktop.models.store import Store
from desktop.services import cases, employers, people, steps, ui_wizards
from desktop.services.cases import TrackInput
from desktop.services.people import DocumentInput, NameInput, PersonInput
from tests.conftest import PASSPHRASE
from tests.forms.conftest import page_count


def _case(store: Store, account: str | None = "6300012345") -> str:
    pid = people.create_person(
        store,
        PersonInput(
            names=[NameInput("ສົມພອນ ແກ້ວມະນີ", "native"), NameInput("Somphone Keomany", "passport")],
            preferred_language="lo",
            nationality="LAO",
            documents=[DocumentInput("pink_card", with_check_digit("000381234561"))],
        ),
    ).person_id
    employer = employers.create_employer(
        store, employers.EmployerInput("Nong Khai Logistics", sso_account=account)
    )
    employers.add_employment(
        store,
        pid,
        employers.EmploymentInput(employer, dt.date(2026, 2, 2), None, decimal.Decimal(9000)),
    )
    employers.record_contributions(
        store, pid, [employers.ContributionInput("2026-02", decimal.Decimal(9000), employer)]
    )
    number = cases.open_case(store, pid)
    cases.start_track(
        store, number, TrackInput("work_injury", ["file"], event_date=dt.date(2026, 2, 20))
    )
    return number


@pytest.fixture
def cli_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("SAPAN_PASSPHRASE", PASSPHRASE)
    return ["--data-dir", str(tmp_path / "store")]


def test_print_packet_and_form(store: Store, cli_args: list[str], tmp_path: Path) -> None:
    number = _case(store)
    packet = tmp_path / "packet.pdf"
    assert main([*cli_args, "print", "packet", number, "-o", str(packet)]) == 0
    assert packet.read_bytes().startswith(b"%PDF")
    form = tmp_path / "kt16.pdf"
    assert main([*cli_args, "print", "form", "KT-16", number, "-o", str(form)]) == 0
    assert form.read_bytes().startswith(b"%PDF")


def test_unknown_form_code_exits_2(store: Store, cli_args: list[str], tmp_path: Path) -> None:
    number = _case(store)
    assert main([*cli_args, "print", "form", "9-99", number, "-o", str(tmp_path / "x.pdf")]) == 2


def test_a_packet_about_a_claim_the_case_does_not_have_exits_2(
    store: Store, cli_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _case(store)
    target = tmp_path / "packet.pdf"
    assert (
        main([*cli_args, "print", "packet", number, "--benefit", "maternity", "-o", str(target)])
        == 2
    )
    assert f'Case {number} has no claim for the benefit "maternity".' in capsys.readouterr().err
    assert not target.exists()


def test_print_queue_to_hand_in_takes_only_the_claims_ready_to_file(
    store: Store, cli_args: list[str], tmp_path: Path
) -> None:
    """As the app's "Only claims to hand in": a claim whose filing step is under way or
    ready, not one handed in already, nor a case without a claim."""
    rows = [("submit_claim", {"submitted_on": "2026-03-01", "sso_office": "Mae Sot"}, "ready")]
    numbers = [_case(store) for _ in range(3)]
    for number in numbers[:2]:
        commit = ui_wizards.TrackCommit("claim", "claim_maternity", rows, benefit="maternity")
        ui_wizards.commit_track(store, cases.case_id_for(store, number), commit)
    filed = next(t for t in cases.get_case_file(store, numbers[1]).tracks if t.kind == "claim")
    steps.move_step(store, filed.steps[0].id, "submitted")
    folder = tmp_path / "queue"
    assert main([*cli_args, "print", "queue", "--to-hand-in", "-o", str(folder)]) == 0
    assert [p.stem for p in folder.glob("*.pdf")] == [numbers[0]]


def test_print_queue_per_case_and_combined(
    store: Store, cli_args: list[str], tmp_path: Path
) -> None:
    _case(store)
    _case(store)
    folder = tmp_path / "queue"
    assert main([*cli_args, "print", "queue", "-o", str(folder)]) == 0
    assert len(list(folder.glob("*.pdf"))) == 2
    combined = tmp_path / "all.pdf"
    assert main([*cli_args, "print", "queue", "--combined", "-o", str(combined)]) == 0
    assert combined.exists()
    both = tmp_path / "both.pdf"
    assert main([*cli_args, "print", "queue", "--combined", "--double-sided", "-o", str(both)]) == 0
    each = page_count(combined) // 2  # two packets of the same pages
    assert page_count(both) == 2 * each + each % 2  # a blank between them when odd


def test_double_sided_without_combined_is_refused(
    store: Store, cli_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _case(store)
    folder = tmp_path / "queue"
    assert main([*cli_args, "print", "queue", "--double-sided", "-o", str(folder)]) == 2
    assert "add --combined" in capsys.readouterr().err
    assert not folder.exists()


def test_sso_exports(store: Store, cli_args: list[str], tmp_path: Path) -> None:
    _case(store)
    regs = tmp_path / "regs.txt"
    assert (
        main([*cli_args, "export", "sso-registrations", "--month", "2026-02", "-o", str(regs)]) == 0
    )
    assert [len(line) for line in regs.read_bytes().split(b"\r\n")[:-1]] == [240]
    contrib = tmp_path / "contrib.txt"
    assert (
        main([*cli_args, "export", "sso-contributions", "--month", "2026-02", "-o", str(contrib)])
        == 0
    )
    assert [len(line) for line in contrib.read_bytes().split(b"\r\n")[:-1]] == [135, 135]


def test_export_rows_with_errors_exit_3(store: Store, cli_args: list[str], tmp_path: Path) -> None:
    _case(store, account=None)
    regs = tmp_path / "regs.txt"
    assert (
        main([*cli_args, "export", "sso-registrations", "--month", "2026-02", "-o", str(regs)]) == 3
    )
    assert regs.read_bytes() == b""
    contrib = tmp_path / "contrib.txt"
    assert (
        main([*cli_args, "export", "sso-contributions", "--month", "2026-02", "-o", str(contrib)])
        == 3
    )
    assert not contrib.exists()


def _printed(store: Store, case_id: str) -> list[tuple[list[str], str]]:
    """(forms, how) of each forms.printed event of the case, oldest first."""
    with store.read() as session:
        return [
            (sorted((e.details or {})["forms"]), str((e.details or {})["how"]))
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "forms.printed", AuditEvent.row_id == case_id)
                .order_by(AuditEvent.at)
            )
        ]


def test_printing_records_the_forms_and_moves_the_waiting_step_to_ready(
    store: Store, cli_args: list[str], tmp_path: Path
) -> None:
    case_id = cases.case_id_for(store, _case(store))
    prepared = {"bank_name": "BCEL", "bank_account": "1234567890", "claimant_signs": "signature"}
    steps = [("prepare_claim", prepared, "ready"), ("submit_claim", {}, "not_started")]
    ui_wizards.commit_track(
        store, case_id, ui_wizards.TrackCommit("claim", "claim_maternity", steps)
    )
    assert _state(store, case_id) == "in_progress"  # SSO 2-01 not printed yet

    assert main([*cli_args, "print", "form", "kt16", case_id, "-o", str(tmp_path / "k.pdf")]) == 0
    assert _state(store, case_id) == "in_progress"  # another form: still waiting
    assert main([*cli_args, "print", "packet", case_id, "-o", str(tmp_path / "p.pdf")]) == 0
    assert _state(store, case_id) == "ready"
    assert _printed(store, case_id) == [(["wcf_kt16"], "cli"), (["sso_2_01", "wcf_kt16"], "cli")]


def test_print_queue_records_every_packet(
    store: Store, cli_args: list[str], tmp_path: Path
) -> None:
    ids = [cases.case_id_for(store, _case(store)) for _ in range(2)]
    assert main([*cli_args, "print", "queue", "-o", str(tmp_path / "queue")]) == 0
    assert [_printed(store, case_id) for case_id in ids] == [[(["wcf_kt16"], "cli")]] * 2


def _state(store: Store, case_id: str) -> str:
    track = next(t for t in cases.get_case_file(store, case_id).tracks if t.workflow)
    return next(s.state for s in track.steps if s.key == "prepare_claim")


def test_an_output_that_cannot_be_written_is_a_clear_error(
    store: Store, cli_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A USB stick pulled out, a full disk, a folder that is a file: exit 2 and what to
    check, not a traceback; nothing is recorded as printed."""
    number = _case(store)
    (tmp_path / "stick").write_text("not a folder")
    blocked = tmp_path / "stick" / "out"
    for args in (
        ["print", "packet", number, "-o", str(blocked / "packet.pdf")],
        ["print", "form", "2-01", number, "-o", str(blocked / "form.pdf")],
        ["print", "queue", "-o", str(blocked)],
        ["print", "queue", "--combined", "-o", str(blocked / "all.pdf")],
    ):
        capsys.readouterr()
        assert main([*cli_args, "--lang", "en", *args]) == 2, args
        said = capsys.readouterr().err
        assert f"{blocked}" in said
        assert "could not be written" in said
    with store.read() as session:
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action == "forms.printed")).all()
            == []
        )


def test_a_disk_that_fills_keeps_the_packet_printed_before(
    store: Store,
    cli_args: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Printing a packet again onto a full USB stick: the disk is said to be full, the
    packet printed before is still whole under its name, no half file is left beside it,
    and the second printing is not recorded."""
    number = _case(store)
    packet = tmp_path / "stick" / "packet.pdf"
    packet.parent.mkdir()
    assert main([*cli_args, "print", "packet", number, "-o", str(packet)]) == 0
    before = packet.read_bytes()

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    capsys.readouterr()
    assert main([*cli_args, "--lang", "en", "print", "packet", number, "-o", str(packet)]) == 2
    assert "is full" in capsys.readouterr().err
    assert packet.read_bytes() == before
    assert [p.name for p in packet.parent.iterdir()] == ["packet.pdf"]
    with store.read() as session:
        printed = session.scalars(select(AuditEvent).where(AuditEvent.action == "forms.printed"))
        assert len(printed.all()) == 1


def test_a_combined_pdf_goes_into_a_new_folder_as_packets_do(
    store: Store, cli_args: list[str], tmp_path: Path
) -> None:
    _case(store)
    target = tmp_path / "new" / "all.pdf"
    assert main([*cli_args, "print", "queue", "--combined", "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
