"""The office print queue page: choose many cases, write their packets to a folder.

Cases are chosen by ticking them in a searchable list, or by taking every case that
matches the search. The packets are written by :mod:`desktop.forms.batch` in a worker
thread, one case read and rendered at a time and written to disk before the next, so
memory stays flat over hundreds of packets; a progress bar follows it and Cancel stops
it between packets (a combined PDF is then not written at all: no half file).

The packets written are recorded in the store afterwards
(:func:`desktop.services.printing.record_packets_printed`); a cancelled combined PDF
wrote nothing and records nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.services import cases, printing

if TYPE_CHECKING:  # ReportLab loads only when something is printed (faster start)
    from desktop.forms import batch
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.i18n import tr
from desktop.ui.operations import Cancelled, Handle, Progress
from desktop.ui.print_preview import PrintDialogs, QtPrintDialogs
from desktop.ui.wrap import WrapLabel

LIST_LIMIT = 300
DEBOUNCE_MS = 200


class CaseStream:
    """Case data for ``ids``, read one case at a time as the batch asks for it."""

    def __init__(self, ids: Sequence[str], load: Callable[[str], Any]) -> None:
        self.ids = list(ids)
        self.load = load

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[Any]:
        for case_id in self.ids:
            yield self.load(case_id)


def run_batch(
    store: Any,
    ids: Sequence[str] | None,
    matching: cases.CaseFilter,
    folder: Path,
    combined: bool,
    progress: Progress,
    load: Callable[..., Any] = printing.case_data,
    today: dt.date | None = None,
    double_sided: bool = False,
) -> batch.BatchResult:
    """Write the packets (worker thread). ``ids`` None means every case ``matching``;
    ``double_sided``: a combined PDF to print on both sides of the paper."""
    chosen = list(ids) if ids is not None else cases.list_case_ids(store, matching)
    if not chosen:
        raise UserError("ui.print_queue.nothing_chosen")
    stream = CaseStream(chosen, lambda case_id: load(store, case_id, today=today))

    def report(done: int, _total: int | None) -> None:
        with contextlib.suppress(Cancelled):  # cancel is seen by the batch between packets
            progress.report(done, len(chosen))

    def cancelled() -> bool:
        return progress.cancelled

    progress.report(0, len(chosen))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if combined:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            target = folder / f"packets-{stamp}.pdf"
            return _batch().print_combined(  # type: ignore[no-any-return]
                stream, target, report, cancelled, double_sided=double_sided
            )
        return _batch().print_per_case(stream, folder, report, cancelled)  # type: ignore[no-any-return]
    except OSError as exc:  # a USB stick pulled out, a full disk, a folder that is a file
        detail = exc.strerror or str(exc)
        raise UserError("ui.print_queue.write_failed", folder=str(folder), detail=detail) from exc


class PrintQueuePage(Retranslating):
    """Search, tick cases, choose the output, print with progress and cancel."""

    finished = Signal(object)  # BatchResult
    recorded = Signal(object)  # list[printing.PrintRecord]: the written packets are stored

    def __init__(
        self,
        ctx: AppContext,
        dialogs: PrintDialogs | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.print_dialogs: PrintDialogs = dialogs or QtPrintDialogs()
        self.load_case: Callable[..., Any] = printing.case_data
        self.folder: Path | None = None
        self.matching = 0
        self.handle: Handle | None = None
        self.result: batch.BatchResult | None = None
        self.combined_run = False

        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 14pt; font-weight: bold")
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        # the office's usual batch: the claims whose filing step is under way or ready
        self.ready_only = QCheckBox()
        self.ready_only.setObjectName("ready_only")
        self.ready_only.toggled.connect(lambda _on: self.refresh())
        self.list = QListWidget()
        self.list.setObjectName("print_cases")
        self.list.itemChanged.connect(self._tick_changed)  # a box clicked
        # the ticked cases by id, in the order ticked: a search hides some, never unticks
        self.ticked: dict[str, None] = {}
        self.count_label = QLabel()
        self.all_button = QPushButton()
        self.all_button.clicked.connect(lambda: self._check_all(True))
        self.none_button = QPushButton()
        self.none_button.clicked.connect(lambda: self._check_all(False))

        self.source_label = QLabel()
        self.checked_only = QRadioButton()
        self.checked_only.setChecked(True)
        self.every_match = QRadioButton()
        sources = QButtonGroup(self)
        sources.addButton(self.checked_only)
        sources.addButton(self.every_match)
        self.output_label = QLabel()
        self.per_case = QRadioButton()
        self.per_case.setChecked(True)
        self.combined = QRadioButton()
        outputs = QButtonGroup(self)
        outputs.addButton(self.per_case)
        outputs.addButton(self.combined)
        # for a combined PDF only (files of their own start on a sheet of their own);
        # remembered in the store, as an office prints the same way every time
        self.double_sided = QCheckBox()
        self.double_sided.setObjectName("double_sided")
        self.double_sided.setEnabled(False)
        self.combined.toggled.connect(self.double_sided.setEnabled)
        store = ctx.store
        ctx.ops.run(
            lambda: printing.double_sided(store), on_success=self._double_sided_read, owner=self
        )

        self.folder_label = WrapLabel()
        self.folder_button = QPushButton()
        self.folder_button.clicked.connect(self.choose_folder)
        self.print_button = QPushButton()
        self.print_button.setObjectName("print_queue")
        self.print_button.clicked.connect(self.start)
        self.cancel_button = QPushButton()
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.result_label = WrapLabel()

        checks = QHBoxLayout()
        checks.addWidget(self.count_label, 1)
        checks.addWidget(self.all_button)
        checks.addWidget(self.none_button)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_label)
        source_row.addWidget(self.checked_only)
        source_row.addWidget(self.every_match)
        source_row.addStretch(1)
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_label)
        output_row.addWidget(self.per_case)
        output_row.addWidget(self.combined)
        output_row.addStretch(1)
        both_row = QHBoxLayout()
        both_row.addSpacing(24)
        both_row.addWidget(self.double_sided, 1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        run_row = QHBoxLayout()
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.print_button)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.ready_only)
        layout.addWidget(self.heading)
        layout.addLayout(search_row)
        layout.addWidget(self.list, 1)
        layout.addLayout(checks)
        layout.addLayout(source_row)
        layout.addLayout(output_row)
        layout.addLayout(both_row)
        layout.addLayout(folder_row)
        layout.addLayout(run_row)
        layout.addWidget(self.result_label)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self.debounce.start())
        self.retranslate()

    # -- the case list ---------------------------------------------------------------------

    def matching_filter(self) -> cases.CaseFilter:
        """The cases the search and the ready-to-hand-in box choose."""
        step = printing.FILING_STEP if self.ready_only.isChecked() else None
        return cases.CaseFilter(self.search.text(), step_key=step)

    def refresh(self) -> None:
        """List the cases matching the search (the first few hundred) off the GUI thread."""
        self.debounce.stop()  # an explicit refresh supersedes one still waiting to fire
        store, matching = self.ctx.store, self.matching_filter()

        def read() -> tuple[int, list[cases.CaseRow]]:
            ids = cases.list_case_ids(store, matching)
            return len(ids), cases.case_rows(store, ids[:LIST_LIMIT])

        self.ctx.ops.run(read, on_success=self._listed, key="print_queue_list")

    def _listed(self, result: tuple[int, list[cases.CaseRow]]) -> None:
        self.matching, rows = result
        self.list.clear()
        for row in rows:
            item = QListWidgetItem(f"{row.number}  {row.name}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = row.id in self.ticked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.retranslate()

    def _tick_changed(self, item: QListWidgetItem) -> None:
        case_id = str(item.data(Qt.ItemDataRole.UserRole))
        if item.checkState() == Qt.CheckState.Checked:
            self.ticked.setdefault(case_id)
        else:
            self.ticked.pop(case_id, None)
        self._count_text()

    def select_cases(self, case_ids: Sequence[str]) -> None:
        """Tick these cases (e.g. chosen in the case list)."""
        wanted = set(case_ids)
        for index in range(self.list.count()):
            item = self.list.item(index)
            if item.data(Qt.ItemDataRole.UserRole) in wanted:
                item.setCheckState(Qt.CheckState.Checked)
        self.retranslate()

    def checked_ids(self) -> list[str]:
        """Every ticked case, shown by the current search or not, in the order ticked."""
        return list(self.ticked)

    def _check_all(self, on: bool) -> None:
        """Tick every case shown; or untick every case, shown or not."""
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for index in range(self.list.count()):
            self.list.item(index).setCheckState(state)
        if not on:
            self.ticked.clear()
        self.retranslate()

    def _double_sided_read(self, on: bool) -> None:
        self.double_sided.setChecked(on)
        self.double_sided.toggled.connect(self._double_sided_chosen)  # from now on, kept

    def _double_sided_chosen(self, on: bool) -> None:
        store = self.ctx.store
        self.ctx.ops.run(lambda: printing.set_double_sided(store, on), write=True, owner=self)

    # -- running ---------------------------------------------------------------------------

    def choose_folder(self) -> None:
        chosen = self.print_dialogs.folder(self)
        if chosen is not None:
            self.folder = chosen
            self.retranslate()

    def start(self) -> None:
        """Write the chosen packets with progress; Cancel stops between packets."""
        if self.handle is not None and not self.handle.done:
            return
        if self.folder is None:
            self.choose_folder()
            if self.folder is None:
                return
        ids = None if self.every_match.isChecked() else self.checked_ids()
        if ids == []:
            self.ctx.dialogs.error(tr("ui.print_queue.nothing_chosen"))
            return
        store, matching, folder = self.ctx.store, self.matching_filter(), self.folder
        combined, load, today = self.combined.isChecked(), self.load_case, self.ctx.today()
        both_sides = combined and self.double_sided.isChecked()
        self.result = None
        self.combined_run = combined
        self.progress.setRange(0, max(1, len(ids or ())))
        self.progress.setValue(0)
        self._running(True)
        self.handle = self.ctx.ops.run(
            lambda progress: run_batch(
                store, ids, matching, folder, combined, progress, load, today, both_sides
            ),
            progress=True,
            on_progress=self._progressed,
            on_success=self._done,
            on_failure=self._failed,
        )

    def cancel(self) -> None:
        if self.handle is not None and not self.handle.done:
            self.handle.cancel()
            self.cancel_button.setEnabled(False)
            self.result_label.setText(tr("ui.print_queue.cancelling"))

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _done(self, result: batch.BatchResult) -> None:
        self.result = result
        self._running(False)
        if not result.cancelled:
            self.progress.setValue(self.progress.maximum())
        self.retranslate()
        self.finished.emit(result)
        written = not (self.combined_run and result.combined is None)
        if written and result.items:
            store, numbers = self.ctx.store, [item.case_number for item in result.items]
            self.ctx.ops.run(
                lambda: printing.record_packets_printed(store, numbers, "queue"),
                on_success=self.recorded.emit,
                on_failure=self._failed,
                write=True,
                owner=self,  # the page may be closed before the record is written
            )

    def _failed(self, exc: BaseException) -> None:
        self._running(False)
        if self.result is None:  # the batch failed (not the record of one written)
            self.result_label.setText("")  # the error dialog says what happened
        from desktop.ui.i18n import current

        if isinstance(exc, UserError):  # a bug has been reported as one
            self.ctx.dialogs.error(exc.translated(current()))

    def _running(self, running: bool) -> None:
        self.print_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.folder_button.setEnabled(not running)
        if running:
            self.result_label.setText(tr("ui.print_queue.working"))

    # -- texts -----------------------------------------------------------------------------

    def _count_text(self) -> None:
        self.count_label.setText(
            tr("ui.print_queue.count", shown=self.list.count(), count=self.matching)
            + " · "
            + tr("ui.print_queue.ticked", count=len(self.checked_ids()))
        )

    def retranslate(self) -> None:
        self.heading.setText(tr("ui.print_queue.heading"))
        self.search.setPlaceholderText(tr("ui.print_queue.search"))
        self.ready_only.setText(tr("ui.print_queue.ready_only"))
        self._count_text()
        self.all_button.setText(tr("ui.print_queue.check_all"))
        self.none_button.setText(tr("ui.print_queue.check_none"))
        self.source_label.setText(tr("ui.print_queue.which"))
        self.checked_only.setText(tr("ui.print_queue.ticked_cases"))
        self.every_match.setText(tr("ui.print_queue.every_match", count=self.matching))
        self.output_label.setText(tr("ui.print_queue.output"))
        self.per_case.setText(tr("ui.print_queue.per_case"))
        self.combined.setText(tr("ui.print_queue.combined"))
        self.double_sided.setText(tr("ui.print_queue.double_sided"))
        self.folder_label.setText(
            tr("ui.print_queue.folder", folder=str(self.folder))
            if self.folder
            else tr("ui.print_queue.no_folder")
        )
        self.folder_button.setText(tr("ui.print_queue.choose_folder"))
        self.print_button.setText(tr("ui.print_queue.print"))
        self.cancel_button.setText(tr("ui.cancel"))
        result = self.result
        if result is not None:
            folder = str(self.folder or "")
            if self.combined_run and result.combined is None:  # cancelled: no file at all
                text = tr("ui.print_queue.cancelled_combined", folder=folder)
            else:
                key = "ui.print_queue.cancelled" if result.cancelled else "ui.print_queue.done"
                text = tr(key, count=len(result.items), folder=folder)
                missing = sum(1 for i in result.items if i.missing_fields or i.missing_documents)
                if missing:
                    text += " " + tr("ui.print_queue.with_missing", count=missing)
            self.result_label.setText(text)
        elif self.handle is None or self.handle.done:
            self.result_label.setText("")


def _batch() -> Any:
    from desktop.forms import batch

    return batch
