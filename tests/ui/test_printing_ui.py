"""Printing in the app: packet preview, print to a (PDF) printer, save as PDF, and the
office print queue with progress and cancel (desktop/ui/print_preview.py and
desktop/ui/print_queue.py, driven through the real widgets)."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.forms.batch import BatchResult
from desktop.forms.packet import render_packet
from desktop.models.entities import AuditEvent
from desktop.models.store import Store
from desktop.services import cases, people, printing
from desktop.ui.context import AppContext
from desktop.ui.print_preview import PacketPrinter, PreviewDialog
from desktop.ui.print_queue import PrintQueuePage
from desktop.ui.screen import FRAME_HEIGHT, screen_of
from tests.ui.conftest import TODAY, FakePrintDialogs, MakePrinter, drain


def _cases(store: Store, n: int) -> list[str]:
    found = []
    for i in range(n):
        person = people.create_person(
            store,
            people.PersonInput(
                names=[
                    people.NameInput(f"မောင်မောင် {i}", "native"),
                    people.NameInput(f"MAUNG MAUNG {i}", "passport"),
                ],
                nationality="MM",
                preferred_language="my",
            ),
        )
        found.append(cases.case_id_for(store, cases.open_case(store, person.person_id)))
    return found


def _pages(path: Path) -> int:
    document = pdfium.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def _expected_pages(store: Store, case_id: str, tmp: Path) -> int:
    reference = tmp / "reference.pdf"
    render_packet(printing.case_data(store, case_id, today=TODAY), reference)
    return _pages(reference)


def _printed_how(store: Store) -> list[str]:
    """How each recorded print happened, oldest first (the forms.printed audit events)."""
    with store.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "forms.printed").order_by(AuditEvent.at)
        ).all()
        return [str((e.details or {}).get("how")) for e in events]


def _open_preview(qtbot: QtBot, printer: PacketPrinter, case_id: str) -> Any:
    with qtbot.waitSignal(printer.opened, timeout=20_000) as opened:
        printer.open(case_id)
    dialog = opened.args[0]
    assert isinstance(dialog, PreviewDialog)
    qtbot.addWidget(dialog)
    return dialog


def test_a_case_packet_previews_prints_and_saves_as_pdf(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    tmp_path: Path,
    packet_printer: MakePrinter,
) -> None:
    (case_id,) = _cases(store, 1)
    fake = FakePrintDialogs(tmp_path)
    expected = _expected_pages(store, case_id, tmp_path)
    dialog = _open_preview(qtbot, packet_printer(fake), case_id)

    assert len(dialog.pages) == expected >= 4  # cover, checklist, instructions, signatures
    # its Print and Save buttons at the bottom stay on screen (a 768-pixel laptop)
    screen = screen_of(dialog)
    assert screen is not None
    assert dialog.height() <= screen.availableGeometry().height() - FRAME_HEIGHT
    assert all(not page.pixmap().isNull() for page in dialog.pages)
    assert dialog.pages[0].pixmap().height() > dialog.pages[0].pixmap().width()  # A4 upright

    with qtbot.waitSignal(dialog.printed, timeout=20_000) as printed:
        dialog.print_button.click()
    assert printed.args == [expected]
    drain(qtbot, ctx)
    assert _printed_how(store) == ["print"]  # recorded in the store
    assert fake.printer_file.read_bytes().startswith(b"%PDF")
    assert _pages(fake.printer_file) == expected

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.save_button.click()
    assert fake.save_to is not None
    assert fake.save_to.read_bytes().startswith(b"%PDF")
    assert _pages(fake.save_to) == expected
    drain(qtbot, ctx)
    assert _printed_how(store) == ["print", "pdf"]


def test_a_pdf_that_cannot_be_saved_is_a_clear_error(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    dialogs: Any,
    tmp_path: Path,
    packet_printer: MakePrinter,
) -> None:
    (case_id,) = _cases(store, 1)
    fake = FakePrintDialogs(tmp_path)
    dialog = _open_preview(qtbot, packet_printer(fake), case_id)
    (tmp_path / "stick").write_text("not a folder")  # as a USB stick pulled out
    fake.save_to = tmp_path / "stick" / "packet.pdf"
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save_button.click()
        drain(qtbot, ctx)
    [said] = dialogs.errors
    assert said.startswith(f"The PDF could not be saved to {fake.save_to}")
    assert _printed_how(store) == []


def test_cancelled_printer_and_save_dialogs_do_nothing(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    tmp_path: Path,
    packet_printer: MakePrinter,
) -> None:
    (case_id,) = _cases(store, 1)
    fake = FakePrintDialogs(tmp_path)
    dialog = _open_preview(qtbot, packet_printer(fake), case_id)
    fake.save_to = None
    fake.printer = lambda parent: None  # type: ignore[method-assign]
    with qtbot.assertNotEmitted(dialog.printed), qtbot.assertNotEmitted(dialog.saved):
        dialog.print_button.click()
        dialog.save_button.click()
        drain(qtbot, ctx)
    dialog.close_button.click()
    drain(qtbot, ctx)
    assert list(tmp_path.glob("*.pdf")) == []
    assert _printed_how(store) == []  # nothing printed, nothing recorded


def test_rendered_packets_stay_beside_the_store_and_go_when_the_printer_discards_them(
    qtbot: QtBot, store: Store, packet_printer: MakePrinter
) -> None:
    """Not in the shared temporary folder: a wipe deletes them with the store, and the next
    start sweeps what a crash left (desktop.models.store.sweep_previews)."""
    (case_id,) = _cases(store, 1)
    printer = packet_printer()
    first = _open_preview(qtbot, printer, case_id).packet.path
    assert first.parent.parent == store.paths.previews
    # swept meanwhile (unused for half a day, another window's start): made again
    shutil.rmtree(first.parent)
    again = _open_preview(qtbot, printer, case_id).packet.path
    assert again.exists()
    assert again.parent != first.parent
    printer.discard()
    assert list(store.paths.previews.iterdir()) == []


def test_an_unknown_case_shows_a_clear_error_and_no_preview(
    qtbot: QtBot,
    ctx: AppContext,
    dialogs: Any,
    packet_printer: MakePrinter,
) -> None:
    printer = packet_printer()
    with qtbot.assertNotEmitted(printer.opened):
        printer.open("no-such-case")
        drain(qtbot, ctx)
    assert len(dialogs.errors) == 1
    assert "no-such-case" in dialogs.errors[0]
    assert printer.preview is None


# --- the print queue ---------------------------------------------------------------------


def _queue(qtbot: QtBot, ctx: AppContext, fake: FakePrintDialogs) -> PrintQueuePage:
    page = PrintQueuePage(ctx, fake)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    drain(qtbot, ctx)
    return page


def test_queue_writes_one_pdf_per_ticked_case_with_progress_to_100(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    ids = _cases(store, 3)
    fake = FakePrintDialogs(tmp_path)
    page = _queue(qtbot, ctx, fake)
    assert page.list.count() == 3
    page.all_button.click()
    assert sorted(page.checked_ids()) == sorted(ids)
    seen: list[int] = []
    page.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(page.finished, timeout=60_000) as finished:
        page.print_button.click()
    result: BatchResult = finished.args[0]
    assert not result.cancelled
    assert len(result.items) == 3
    assert page.progress.value() == page.progress.maximum() == 3
    assert seen == [1, 2, 3]  # one step per packet, ending at 100 %
    written = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(written) == 3
    assert all(p.read_bytes().startswith(b"%PDF") and _pages(p) >= 4 for p in written)
    assert page.print_button.isEnabled()
    assert not page.cancel_button.isEnabled()
    drain(qtbot, ctx)
    assert _printed_how(store) == ["queue"] * 3  # every packet written is recorded


def test_queue_combines_every_matching_case_into_one_pdf(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    ids = _cases(store, 3)
    fake = FakePrintDialogs(tmp_path)
    page = _queue(qtbot, ctx, fake)
    page.every_match.setChecked(True)
    page.combined.setChecked(True)
    with qtbot.waitSignal(page.finished, timeout=60_000) as finished:
        page.print_button.click()
    result: BatchResult = finished.args[0]
    assert result.combined is not None
    assert result.combined.parent == tmp_path / "out"
    per_case = _expected_pages(store, ids[0], tmp_path)
    assert _pages(result.combined) == 3 * per_case
    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.combined.name]


def test_packets_to_print_on_both_sides_each_start_on_a_sheet_of_their_own(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """The box is for a combined PDF only; the office's choice is remembered for the next
    time the queue opens."""
    ids = _cases(store, 3)
    injury = cases.TrackInput("work_injury", ["file"], event_date=dt.date(2026, 2, 20))
    cases.start_track(store, cases.get_case_file(store, ids[1]).number, injury)  # more pages
    fake = FakePrintDialogs(tmp_path)
    page = _queue(qtbot, ctx, fake)
    assert not page.double_sided.isEnabled()  # one file per packet: nothing to add
    page.every_match.setChecked(True)
    page.combined.setChecked(True)
    assert page.double_sided.isEnabled()
    assert not page.double_sided.isChecked()
    page.double_sided.setChecked(True)
    drain(qtbot, ctx)
    assert printing.double_sided(store)
    with qtbot.waitSignal(page.finished, timeout=60_000) as finished:
        page.print_button.click()
    result: BatchResult = finished.args[0]
    assert result.combined is not None
    order = [cases.case_id_for(store, item.case_number) for item in result.items]
    counts = [_expected_pages(store, case_id, tmp_path) for case_id in order]
    assert {n % 2 for n in counts[:-1]} == {0, 1}  # packets ending on a front and a back
    blanks = sum(n % 2 for n in counts[:-1])  # after each odd one but the last
    assert _pages(result.combined) == sum(counts) + blanks
    again = _queue(qtbot, ctx, fake)
    assert again.double_sided.isChecked()


def test_closing_the_queue_before_the_print_is_recorded_is_harmless(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """The packets are written; the page goes away while the store still records them
    (the writer is busy): the record lands, and no callback reaches the deleted page."""
    from PySide6.QtCore import QCoreApplication, QEvent

    _cases(store, 1)
    page = PrintQueuePage(ctx, FakePrintDialogs(tmp_path))  # not qtbot's: deleted below
    page.show()
    page.refresh()
    drain(qtbot, ctx)
    page.all_button.click()
    release = threading.Event()
    ctx.ops.run(lambda: release.wait(20), write=True)  # the writer is busy elsewhere
    with qtbot.waitSignal(page.finished, timeout=60_000):
        page.print_button.click()
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    release.set()
    drain(qtbot, ctx)
    qtbot.wait(50)  # any callback queued for the page would run now
    with store.read() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action.like("%print%"))).all()


@pytest.mark.parametrize("combined", [False, True])
def test_cancel_mid_way_leaves_no_half_file(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path, combined: bool
) -> None:
    _cases(store, 3)
    fake = FakePrintDialogs(tmp_path)
    page = _queue(qtbot, ctx, fake)
    page.all_button.click()
    page.combined.setChecked(combined)
    # The second case's data waits until the test has pressed Cancel: deterministic.
    release, loads = threading.Event(), []
    real = page.load_case

    def slow(store_: Any, case_id: str, **kw: Any) -> Any:
        loads.append(case_id)
        if len(loads) == 2:
            assert release.wait(20)
        return real(store_, case_id, **kw)

    page.load_case = slow
    page.print_button.click()
    qtbot.waitUntil(lambda: page.progress.value() == 1, timeout=30_000)
    qtbot.waitUntil(lambda: len(loads) == 2, timeout=10_000)
    page.cancel_button.click()
    assert page.result_label.text() == "Stopping after the current packet…"
    with qtbot.waitSignal(page.finished, timeout=30_000) as finished:
        release.set()
    result: BatchResult = finished.args[0]
    assert result.cancelled
    assert len(result.items) == 1
    out = tmp_path / "out"
    files = sorted(out.iterdir()) if out.exists() else []
    drain(qtbot, ctx)
    if combined:
        assert files == []  # no combined PDF and no .part file
        assert _printed_how(store) == []  # so nothing was printed
    else:
        assert len(files) == 1
        assert _pages(files[0]) >= 4
        assert _printed_how(store) == ["queue"]
    assert page.progress.value() == 1
    said = page.result_label.text()
    if combined:  # the packet made before Cancel went nowhere: no count to look for
        assert said.startswith("Cancelled: no combined PDF was written")
    else:
        assert "Cancelled after 1 packet;" in said  # not "1 packets"


def test_queue_with_nothing_ticked_says_so_and_writes_nothing(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: Any, tmp_path: Path
) -> None:
    _cases(store, 2)
    page = _queue(qtbot, ctx, FakePrintDialogs(tmp_path))
    page.print_button.click()
    drain(qtbot, ctx)
    assert dialogs.errors == [
        "No case chosen: tick at least one case, or print every matching case."
    ]
    assert not (tmp_path / "out").exists()


def test_queue_with_no_folder_chosen_does_not_start(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    _cases(store, 1)
    fake = FakePrintDialogs(tmp_path)
    fake.chosen_folder = None
    page = _queue(qtbot, ctx, fake)
    page.all_button.click()
    page.print_button.click()
    assert page.handle is None
    assert page.folder is None


def test_ticks_stay_while_the_search_changes_and_are_all_printed(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """A clerk finds each worker of the batch by name and ticks them: a case ticked under
    an earlier search is still ticked (and printed) once the search has changed."""
    ids = _cases(store, 3)
    numbers = [cases.get_case_file(store, case_id).number for case_id in ids]
    page = _queue(qtbot, ctx, FakePrintDialogs(tmp_path))
    for i in (0, 2):
        page.search.setText(f"MAUNG MAUNG {i}")
        page.refresh()
        drain(qtbot, ctx)
        assert page.list.count() == 1
        page.all_button.click()
    assert "2 ticked" in page.count_label.text()
    page.search.setText("")
    page.refresh()
    drain(qtbot, ctx)
    shown = [page.list.item(i).checkState() == Qt.CheckState.Checked for i in range(3)]
    assert shown == [True, False, True]
    with qtbot.waitSignal(page.finished, timeout=60_000) as finished:
        page.print_button.click()
    result: BatchResult = finished.args[0]
    assert sorted(item.case_number for item in result.items) == [numbers[0], numbers[2]]
    page.none_button.click()
    assert page.checked_ids() == []


def test_the_count_of_ticked_cases_follows_each_tick(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    _cases(store, 2)
    page = _queue(qtbot, ctx, FakePrintDialogs(tmp_path))
    assert page.count_label.text().endswith("0 ticked")
    page.list.item(1).setCheckState(Qt.CheckState.Checked)  # as a click on its box does
    assert page.count_label.text().endswith("1 ticked")
    page.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert page.count_label.text().endswith("0 ticked")


@pytest.mark.parametrize("combined", [False, True], ids=["per-case", "combined"])
def test_a_folder_that_cannot_be_written_is_a_clear_error(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: Any, tmp_path: Path, combined: bool
) -> None:
    """A USB stick pulled out, a full disk, a folder that is a file: the clerk is told
    where the packets could not go and what to check, not to read a log file."""
    _cases(store, 1)
    fake = FakePrintDialogs(tmp_path)
    (tmp_path / "stick").write_text("not a folder")
    fake.chosen_folder = tmp_path / "stick" / "packets"
    page = _queue(qtbot, ctx, fake)
    page.every_match.setChecked(True)
    page.combined.setChecked(combined)
    page.print_button.click()
    drain(qtbot, ctx)
    [said] = dialogs.errors
    assert said.startswith(f"The packets could not be written to {fake.chosen_folder}")
    assert "free space" in said
    assert page.print_button.isEnabled()


def test_every_matching_case_over_an_empty_search_is_a_clear_error(
    qtbot: QtBot, ctx: AppContext, store: Store, dialogs: Any, tmp_path: Path
) -> None:
    _cases(store, 1)
    page = _queue(qtbot, ctx, FakePrintDialogs(tmp_path))
    page.search.setText("nobody by this name")
    page.refresh()
    drain(qtbot, ctx)
    assert page.list.count() == 0
    page.every_match.setChecked(True)
    page.print_button.click()
    drain(qtbot, ctx)
    assert dialogs.errors == [
        "No case chosen: tick at least one case, or print every matching case."
    ]
    assert page.print_button.isEnabled()
    assert page.result_label.text() == "", 'no longer "Writing the packets…"'


def test_the_preview_reminds_when_no_consent_to_share_with_the_sso_is_recorded(
    qtbot: QtBot,
    store: Store,
    tmp_path: Path,
    packet_printer: MakePrinter,
) -> None:
    """A packet goes to the SSO: without the person's recorded consent to that (PDPA) the
    preview says so, without refusing (the consent may be on paper); once given, it does
    not; withdrawn, it does again."""
    from desktop.services import consent

    (case_id,) = _cases(store, 1)
    reminder = "No consent to share this person's data with the SSO is recorded"
    fake = FakePrintDialogs(tmp_path)
    assert reminder in _open_preview(qtbot, packet_printer(fake), case_id).info.text()

    person_id = cases.get_case_file(store, case_id).person.id
    given = consent.ConsentInput("share_with_sso", True, "thumbprint")
    consent.record_consent(store, person_id, given)
    assert reminder not in _open_preview(qtbot, packet_printer(fake), case_id).info.text()

    [current] = [c for c in cases.get_case_file(store, case_id).consents]
    consent.withdraw_consent(store, current.id)
    assert reminder in _open_preview(qtbot, packet_printer(fake), case_id).info.text()


def test_the_queue_takes_only_the_claims_to_hand_in_when_asked(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    """An office's usual batch: the cases whose claim is ready to hand in (its filing step
    under way or ready), not the whole caseload; every one of them goes with one click."""
    from desktop.services import steps, ui_wizards

    ids = _cases(store, 3)
    rows = [("submit_claim", {"submitted_on": "2026-03-01", "sso_office": "Mae Sot"}, "ready")]
    for case_id in ids[:2]:
        commit = ui_wizards.TrackCommit("claim", "claim_maternity", rows, benefit="maternity")
        ui_wizards.commit_track(store, case_id, commit)
    handed_in = cases.get_case_file(store, ids[1]).tracks[0].steps[0]
    steps.move_step(store, handed_in.id, "submitted", TODAY)  # no longer to hand in
    fake = FakePrintDialogs(tmp_path)
    page = _queue(qtbot, ctx, fake)
    assert page.list.count() == 3
    assert page.ready_only.text() == "Only claims to hand in"
    page.ready_only.setChecked(True)
    drain(qtbot, ctx)
    assert page.matching == 1
    page.every_match.setChecked(True)
    with qtbot.waitSignal(page.finished, timeout=60_000) as finished:
        page.print_button.click()
    result: BatchResult = finished.args[0]
    number = cases.get_case_file(store, ids[0]).number
    assert [item.case_number for item in result.items] == [number]
