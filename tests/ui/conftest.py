"""Fixtures for the UI tests: a temp store, fake dialogs, a fixed clock, the context."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.domain import i18n
from desktop.models.store import Store
from desktop.ui.collector import collect_on_gui_thread
from desktop.ui.context import AppContext
from desktop.ui.i18n import LanguageSwitch
from desktop.ui.operations import Operations
from desktop.ui.print_preview import PacketPrinter
from desktop.ui.sync_worker import SyncWorker
from tests.fakes import FakeDialogs

TODAY = dt.date(2026, 3, 15)


@pytest.fixture(scope="package", autouse=True)
def gui_thread_collection(qapp: QApplication) -> Iterator[None]:
    """As in the app: reference cycles are collected on the GUI thread, never a worker's.

    For the whole package (a full collection after each test would add a third to its
    time); it ends with a collection here, so the widgets the tests left in cycles are gone
    before later tests' threads (a server's) could collect them."""
    with collect_on_gui_thread():
        yield


@pytest.fixture(autouse=True)
def sync_workers_stopped(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every sync worker a test made (its own, or a main window's) and still alive is
    stopped when the test ends: one left on its timer would check the server, reading its
    store, while a later test runs."""
    made: weakref.WeakSet[SyncWorker] = weakref.WeakSet()
    real = SyncWorker.__init__

    def init(self: SyncWorker, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        made.add(self)

    monkeypatch.setattr(SyncWorker, "__init__", init)
    yield
    for worker in list(made):
        if shiboken6.isValid(worker):  # else deleted with its window, its timer too
            worker.stop()


@pytest.fixture
def dialogs() -> FakeDialogs:
    return FakeDialogs()


@pytest.fixture
def ctx(qtbot: QtBot, store: Store, dialogs: FakeDialogs) -> Iterator[AppContext]:
    """Everything a screen needs; operations are drained before the store closes."""
    language = LanguageSwitch()
    language.set_language("en")
    ops = Operations(on_user_error=lambda exc: dialogs.error(exc.translated("en")))
    bugs: list[BaseException] = []
    ops.on_bug = bugs.append
    context = AppContext(store, ops, dialogs, language, today=lambda: TODAY)
    yield context
    for _ in range(50):  # a delivered callback may start more work: settle it all
        ops.wait()
        qtbot.wait(10)  # deliver the last queued callbacks
        if not ops.busy:
            break
    language.set_language("en")
    assert bugs == [], f"operations failed with bugs: {bugs!r}"


def drain(qtbot: QtBot, ctx: AppContext, timeout: int = 10_000) -> None:
    """Wait until every background operation has delivered its result."""
    qtbot.waitUntil(lambda: not ctx.ops.busy, timeout=timeout)


def open_case_file(qtbot: QtBot, ctx: AppContext, case_id: str, tab: int = 0) -> Any:
    """A shown case file, read, on tab ``tab`` (0: Person)."""
    from desktop.ui.case_file import CaseFileView

    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.load(case_id)
    view.tabs.setCurrentIndex(tab)
    return view


def untranslated(shown: Iterable[str], lang: str) -> list[str]:
    """The texts of ``shown`` that are a message key, or in a language other than English
    still the English of a ``ui.``/``date.`` message (one that is not the same in every
    language)."""
    english = {
        texts["en"]
        for key, texts in i18n.catalogue().items()
        if key.startswith(("ui.", "date.")) and len(set(texts.values())) > 1
    }
    return [t for t in shown if t.startswith(("ui.", "date.")) or (lang != "en" and t in english)]


def open_sync_page(qtbot: QtBot, ctx: AppContext, worker: Any) -> Any:
    """A Sync page driven by ``worker``, its first read delivered."""
    from desktop.ui.sync_page import SyncPage

    page = SyncPage(ctx, worker)
    qtbot.addWidget(page)
    page.refresh()
    drain(qtbot, ctx)
    return page


MakePrinter = Callable[..., PacketPrinter]


@pytest.fixture
def packet_printer(ctx: AppContext, tmp_path: Path) -> Iterator[MakePrinter]:
    """Makes packet printers (with :class:`FakePrintDialogs` unless given others); their
    rendered packets, personal data in plain PDF, are discarded when the test ends, as the
    main window discards its printer's when it closes."""
    made: list[PacketPrinter] = []

    def make(fake: FakePrintDialogs | None = None) -> PacketPrinter:
        printer = PacketPrinter(ctx, fake or FakePrintDialogs(tmp_path))
        made.append(printer)
        return printer

    yield make
    for printer in made:
        printer.discard()


class FakePrintDialogs:
    """Printer and file choosers with scripted answers: a QPrinter writing a PDF file."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.printer_file = tmp / "printed.pdf"
        self.save_to: Path | None = tmp / "saved.pdf"
        self.chosen_folder: Path | None = tmp / "out"
        self.printers: list[QPrinter] = []

    def printer(self, parent: QWidget | None) -> QPrinter | None:
        printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.printer_file))
        self.printers.append(printer)
        return printer

    def save_pdf(self, parent: QWidget | None, suggested: str) -> Path | None:
        return self.save_to

    def folder(self, parent: QWidget | None) -> Path | None:
        return self.chosen_folder
