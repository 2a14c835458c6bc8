"""The main window: navigation between Cases, Tasks, Print queue, Sync and Settings,
the case file and wizards on top, and a status bar with the sync state.

Only the case list (and the small Settings page) is built at start-up; every other page,
the case file, the printer, wizards and the sync services are imported and built the
first time they are used, so that the first rows of the case list paint sooner.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from desktop.ui.case_list import CaseListPage
from desktop.ui.context import AppContext
from desktop.ui.i18n import tr
from desktop.ui.pages import SettingsPage
from desktop.ui.screen import resize_to_fit
from desktop.ui.sync_worker import (
    COUNTS_DURING_SYNC_MS,
    STATUS_SEPARATOR,
    UNDER_WAY,
    SyncWorker,
    WorkerState,
    status_parts,
)

if TYPE_CHECKING:
    from desktop.services.row_context import Place
    from desktop.services.sync import SyncSummary
    from desktop.services.sync_view import SyncOverview
    from desktop.ui.case_file import CaseFileView
    from desktop.ui.new_case import NewCaseDialog
    from desktop.ui.pages import TasksPage
    from desktop.ui.print_preview import PacketPrinter
    from desktop.ui.print_queue import PrintQueuePage
    from desktop.ui.sync_page import SyncPage
    from desktop.ui.wizard import WorkflowWizard

NAV_KEYS = ("cases", "tasks", "print", "sync", "duplicates", "settings")


STATUS_DELAY_MS = 1500
# how often the status bar reads its counts again (COUNTS_DURING_SYNC_MS while syncing)
STATUS_INTERVAL_MS = 30_000


class StatusLabel(QLabel):
    """The status bar's sync line: cut with "…" to the room it has, whole in its tooltip.

    A plain label asks for its whole text's width, so a long line (a sync that failed, and
    why) would make the window wider than an old laptop's screen. The first part (what
    sync is doing, or why it failed) is cut first: the counts after it stay in sight.
    """

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    @property
    def full_text(self) -> str:
        return STATUS_SEPARATOR.join(self.parts)

    def setText(self, text: str) -> None:
        self.set_parts([text] if text else [])

    def set_parts(self, parts: list[str]) -> None:
        self.parts = parts
        self.updateGeometry()  # the layout gives it room for the new text, then _fit cuts it
        self._fit()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().horizontalAdvance(self.full_text)
        return QSize(width + self._frame(), super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _frame(self) -> int:
        """The width around the text: the margins, and a little room so nothing is cut."""
        return 2 * self.margin() + 4

    def _fit(self) -> None:
        metrics, full = self.fontMetrics(), self.full_text
        room = max(0, self.width() - self._frame())
        shown = full
        if metrics.horizontalAdvance(full) > room:
            head, rest = (self.parts[0], self.parts[1:]) if self.parts else ("", [])
            tail = "".join(STATUS_SEPARATOR + part for part in rest)
            head_room = room - metrics.horizontalAdvance(tail)
            if rest and head_room >= metrics.horizontalAdvance(head[:8] + "…"):
                shown = metrics.elidedText(head, Qt.TextElideMode.ElideRight, head_room) + tail
            else:  # too narrow even for the counts: cut the line as a whole
                shown = metrics.elidedText(full, Qt.TextElideMode.ElideRight, room)
        super().setText(shown)
        self.setToolTip(full if shown != full else "")


class MainWindow(QMainWindow):
    """Holds the pages; knows nothing of the database (pages call services)."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        for _key in NAV_KEYS:
            self.nav.addItem("")
        self.stack = QStackedWidget()
        self.case_list = CaseListPage(ctx)
        self.settings = SettingsPage(ctx)
        self.sync_worker = SyncWorker(ctx, parent=self)
        # Pages built on first use, by navigation key (and "case_file", "printer").
        self._built: dict[str, Any] = {"cases": self.case_list, "settings": self.settings}
        self._shown_as: dict[str, QWidget] = {"cases": self.case_list, "settings": self.settings}
        self.stack.addWidget(self.case_list)
        self.stack.addWidget(self.settings)
        self.nav.currentRowChanged.connect(self.show_page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.sync_label = StatusLabel()
        self.sync_label.setObjectName("sync_state")
        self.statusBar().addPermanentWidget(self.sync_label)
        self.sync_status: SyncOverview | None = None
        self.sync_worker.changed.connect(lambda state: self._worker_changed(state))
        self.sync_worker.synced.connect(self._synced)
        self.closed = False  # shut_down: no more status readings
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_INTERVAL_MS)
        self.status_timer.timeout.connect(self.refresh_status)

        self.case_list.case_opened.connect(self.open_case)
        self.case_list.new_case_requested.connect(self.new_case)
        self.settings.language_chosen.connect(ctx.language.set_language)
        self.wizard: WorkflowWizard | None = None
        self.new_case_dialog: NewCaseDialog | None = None
        resize_to_fit(self, 1200, 760)
        self.retranslate()
        self.nav.setCurrentRow(0)

    def start(self) -> None:
        """Load the first data (off the GUI thread): the case list first, the rest after."""
        self.case_list.start()
        self.settings.load()
        # The status bar and the sync worker can wait a moment: two reader threads serve
        # the first page of cases before they count the outbox or probe the server.
        QTimer.singleShot(STATUS_DELAY_MS, self.refresh_status)
        self.status_timer.start()
        self.sync_worker.start(delay=STATUS_DELAY_MS / 1000)

    # -- pages built on first use ----------------------------------------------------------

    @property
    def tasks(self) -> TasksPage:
        return cast("TasksPage", self._page("tasks"))

    @property
    def print_queue(self) -> PrintQueuePage:
        return cast("PrintQueuePage", self._page("print"))

    @property
    def sync_page(self) -> SyncPage:
        return cast("SyncPage", self._page("sync"))

    @property
    def case_file(self) -> CaseFileView:
        return cast("CaseFileView", self._page("case_file"))

    @property
    def printer(self) -> PacketPrinter:
        built = self._built.get("printer")
        if built is None:
            from desktop.ui.print_preview import PacketPrinter

            built = self._built["printer"] = PacketPrinter(self.ctx, parent_widget=self)
            built.recorded.connect(self._printed)
        return cast("PacketPrinter", built)

    def _page(self, key: str) -> Any:
        page = self._built.get(key)
        if page is None:
            page = self._built[key] = self._build(key)
            shown = self._shown_as[key] = _scrollable(page) if key == "sync" else page
            self.stack.addWidget(shown)
        return page

    def _build(self, key: str) -> QWidget:
        if key == "tasks":
            from desktop.ui.pages import TasksPage

            tasks = TasksPage(self.ctx)
            tasks.case_opened.connect(self.open_case)
            return tasks
        if key == "print":
            from desktop.ui.print_queue import PrintQueuePage

            queue = PrintQueuePage(self.ctx)
            queue.recorded.connect(self._printed)
            return queue
        if key == "sync":
            from desktop.ui.sync_page import SyncPage

            sync = SyncPage(self.ctx, self.sync_worker)
            sync.case_opened.connect(self.open_case)
            return sync
        if key == "duplicates":
            from desktop.ui.duplicates_page import DuplicatesPage

            duplicates = DuplicatesPage(self.ctx, self.sync_worker)
            duplicates.case_opened.connect(self.open_case)
            return duplicates
        if key == "case_file":
            from desktop.ui.case_file import CaseFileView

            view = CaseFileView(self.ctx)
            view.back_requested.connect(lambda: self.show_page(0))
            view.wizard_requested.connect(self.start_wizard)
            view.print_requested.connect(
                lambda case_id, benefit: self.printer.open(case_id, None, benefit or None)
            )
            return view
        raise KeyError(key)

    def _printed(self, _record: object) -> None:
        """A print is in the store: steps may have moved on; show the case file afresh."""
        if "case_file" in self._built:
            self.case_file.reload()
        self.case_list.model.reload()

    def show_page(self, row: int) -> None:
        if 0 <= row < len(NAV_KEYS):
            key = NAV_KEYS[row]
            page = self._page(key)
            self.stack.setCurrentWidget(self._shown_as[key])
            if self.nav.currentRow() != row:
                self.nav.setCurrentRow(row)
            if key in ("tasks", "sync", "print", "duplicates"):
                page.refresh()

    def open_case(self, case_id: str, place: Place | None = None) -> None:
        """Show a case file; at ``place`` (the tab, claim and step that hold a row the Sync
        page listed) when given."""
        self.case_file.load(case_id, place)
        self.stack.setCurrentWidget(self.case_file)

    def new_case(self) -> None:
        from desktop.ui.new_case import NewCaseDialog

        self.new_case_dialog = NewCaseDialog(self.ctx, self)
        self.new_case_dialog.created.connect(self._case_created)
        self.new_case_dialog.show()

    def _case_created(self, case_id: str) -> None:
        self.case_list.refresh()
        self.open_case(case_id)

    def start_wizard(self, workflow: str, case_id: str) -> None:
        """Open the wizard, restoring its draft if one was left (cancel or crash), else
        with what is already on file (the person's document numbers)."""
        from desktop.services import ui_wizards
        from desktop.ui.wizard import WorkflowWizard, draft_key
        from desktop.ui.workflow_specs import load_specs

        spec = load_specs()[workflow]
        store, key = self.ctx.store, draft_key(spec, case_id)

        def opened(start: dict[str, Any]) -> None:
            self.wizard = WorkflowWizard(self.ctx, spec, case_id, start)
            self.wizard.committed.connect(lambda _t: self.case_file.reload())
            self.wizard.committed.connect(lambda _t: self.case_list.model.reload())
            self.wizard.print_requested.connect(
                lambda forms: self.printer.open(case_id, forms, spec.benefit)
            )
            self.wizard.show()
            self.wizard.resume()  # a draft reopens on the page it was left on

        self.ctx.ops.run(
            lambda: ui_wizards.wizard_start(store, case_id, spec.key, key), on_success=opened
        )

    def _synced(self, summary: SyncSummary) -> None:
        """After each sync attempt: the status line, and the case list when the sync moved
        something (its "to sync" column, cases others made or changed, cases of an office
        the account left), in place when the same cases are listed, and the Tasks page or
        the print queue when shown; an open case file says when what it shows changed (it
        is not reloaded under the person's hands)."""
        self.refresh_status()
        if self.closed:
            return
        if summary.progressed or summary.scope_changed:
            self.case_list.refresh(keep_view=True)
            shown = self.stack.currentWidget()
            for key in ("tasks", "print"):  # a list on screen (its selection or ticks kept)
                page = self._built.get(key)
                if page is not None and shown is self._shown_as[key]:
                    page.refresh()
        case_file = self._built.get("case_file")
        if case_file is not None and (
            summary.received_rows or summary.merges or summary.removed_rows
        ):
            case_file.check_after_sync()

    def refresh_status(self) -> None:
        if self.closed:  # a timer or a sync that ended after shut_down: nothing to show
            return
        store = self.ctx.store

        def read() -> SyncOverview:
            from desktop.services import sync_view  # first use: off the GUI thread

            return sync_view.overview(store, sizes=False)

        self.ctx.ops.run(read, on_success=self._status, key="status", owner=self)

    def _status(self, status: SyncOverview) -> None:
        self.sync_status = status
        self._status_text()

    def _worker_changed(self, state: WorkerState) -> None:
        interval = COUNTS_DURING_SYNC_MS if state.phase in UNDER_WAY else STATUS_INTERVAL_MS
        if self.status_timer.interval() != interval:  # a running timer starts over
            self.status_timer.setInterval(interval)
        self._status_text()

    def _status_text(self) -> None:
        state = self.sync_worker.state
        self.sync_label.set_parts(status_parts(state, self.sync_status, time.monotonic()))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shut_down()
        super().closeEvent(event)

    def shut_down(self) -> None:
        """Stop the timers and the sync worker; discard print previews (temporary files).
        The status is not read again: its first reading may still be due."""
        self.closed = True
        self.status_timer.stop()
        self.sync_worker.stop()
        if "printer" in self._built:
            self.printer.discard()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(tr("ui.app.title"))
        for row, key in enumerate(NAV_KEYS):
            item = self.nav.item(row)
            if item is not None:
                item.setText(tr(f"ui.nav.{key}"))
        self._status_text()


def _scrollable(page: QWidget) -> QScrollArea:
    """A tall page in a scroll area, so the window still fits a 1366x768 laptop screen."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area
