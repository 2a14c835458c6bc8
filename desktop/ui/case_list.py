"""The case list: 100,000 cases, search as you type, filters, sort, per-row sync state.

The view holds case ids only (:class:`CaseTableModel`); rows are fetched a page at a
time through the operation helper. At start-up the first page of ids is read on its own
and painted while the whole list (100,000 ids) is still being read; the rest is then
appended without resetting the view. Typing restarts a short debounce timer; the query
then runs off the GUI thread, and an older query still running is superseded. Typing
or scanning a packet's QR content opens that case directly.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.places import province_name
from desktop.domain.qr import looks_like_qr_payload, parse_qr_payload
from desktop.services import cases, ui_queries
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.i18n import current, format_date, tr
from desktop.ui.models import CaseTableModel, Column
from desktop.ui.workflow_specs import label

DEBOUNCE_MS = 150
SORT_KEYS: dict[int, cases.SortKey] = {0: "number", 1: "name", 2: "status", 4: "opened_on"}


def _sync_state(row: cases.CaseRow) -> str:
    if row.pending_changes:
        return tr("ui.cases.pending", count=row.pending_changes)
    return tr("ui.cases.synced")


def case_columns() -> list[Column]:
    return [
        Column("ui.cases.col.number", lambda r: r.number),
        Column("ui.cases.col.name", lambda r: r.name),
        Column("ui.cases.col.status", lambda r: tr(f"ui.case_status.{r.status}")),
        Column("ui.cases.col.province", lambda r: province_name(r.province_code, current())),
        Column("ui.cases.col.opened", lambda r: format_date(r.opened_on)),
        Column("ui.cases.col.tracks", lambda r: tracks_text(r.tracks)),
        Column("ui.cases.col.sync", _sync_state),
    ]


def tracks_text(tracks: str) -> str:
    return cases.tracks_text(tracks, tr)


class CaseListPage(Retranslating):
    """Search box, filters, the table and a count; ``case_opened`` carries a case id."""

    case_opened = Signal(str)
    new_case_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sort: cases.SortKey = "number"
        self.descending = False
        self.model = CaseTableModel(case_columns(), self._load_page)
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.track_filter = QComboBox()
        self.step_filter = QComboBox()
        self.province_filter = QComboBox()
        self.employer_filter = QComboBox()
        self.overdue = QCheckBox()
        self.new_button = QPushButton()
        self.count_label = QLabel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sortIndicatorChanged.connect(self._sort_changed)
        for column, width in enumerate((130, 220, 110, 90, 110, 200)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)

        filters = QHBoxLayout()
        self.filter_labels: list[tuple[QLabel, str]] = []
        for key, box in (
            ("ui.cases.filter.track", self.track_filter),
            ("ui.cases.filter.step", self.step_filter),
            ("ui.cases.filter.province", self.province_filter),
            ("ui.cases.filter.employer", self.employer_filter),
        ):
            label = QLabel()
            self.filter_labels.append((label, key))
            filters.addWidget(label)
            filters.addWidget(box, 1)
            box.currentIndexChanged.connect(self.refresh)
        filters.addWidget(self.overdue)
        self.overdue.toggled.connect(self.refresh)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._typed)
        self.search.returnPressed.connect(self._enter)
        self.new_button.clicked.connect(self.new_case_requested)
        self._choices: ui_queries.FilterChoices | None = None
        self.loaded_generation = 0
        self._query = 0  # each refresh; a first page or result for an older one is dropped
        self._first_page_of = 0  # the refresh whose first page the model shows
        self.retranslate()

    # -- data ---------------------------------------------------------------------------

    def start(self) -> None:
        """Load the first page, the whole result, then the filter choices."""
        store = self.ctx.store
        self.refresh(first_page=True)
        self.ctx.ops.run(
            lambda: ui_queries.filter_choices(store), on_success=self._set_choices, key="choices"
        )

    def current_filter(self) -> cases.CaseFilter:
        return cases.CaseFilter(
            text=self.search.text(),
            track_kind=self.track_filter.currentData(),
            step_key=self.step_filter.currentData(),
            province_code=self.province_filter.currentData(),
            employer_id=self.employer_filter.currentData(),
        )

    def refresh(self, first_page: bool = False, keep_view: bool = False) -> None:
        """Run the current search, filters and sort off the GUI thread.

        With ``first_page``, the first page of ids is read and shown on its own first.
        With ``keep_view`` (a sync ended: the cases shown may have changed underneath), a
        result of the same cases re-reads their rows in place, keeping the scroll position
        and the selection; a result that differs replaces the list, the case selected
        still selected when it is in it.
        """
        self.debounce.stop()
        filters = self.current_filter()
        sort, descending = self.sort, self.descending
        overdue_on = self.ctx.today() if self.overdue.isChecked() else None
        store = self.ctx.store
        self._query += 1
        query = self._query

        def read(limit: int | None, rows: bool = True) -> tuple[list[str], list[cases.CaseRow]]:
            # The first page's rows come with the ids: one trip through the reader queue.
            ids = ui_queries.case_ids(
                store, filters, sort, descending, overdue_on=overdue_on, limit=limit
            )
            return ids, cases.case_rows(store, ids[: CaseTableModel.PAGE_SIZE]) if rows else []

        if first_page:
            self.ctx.ops.run(
                lambda: read(CaseTableModel.PAGE_SIZE),
                on_success=lambda found: self._first_page_loaded(query, found),
                key="case_ids_first_page",
                urgent=True,
            )
        self.ctx.ops.run(
            lambda: read(None, rows=not first_page),
            on_success=lambda found: self._ids_loaded(query, found, keep_view),
            key="case_ids",
            urgent=True,
        )

    def _first_page_loaded(self, query: int, found: tuple[list[str], list[cases.CaseRow]]) -> None:
        if query == self._query and self.loaded_generation < query:
            self._first_page_of = query
            self.model.set_ids(*found)

    def _ids_loaded(
        self, query: int, found: tuple[list[str], list[cases.CaseRow]], keep_view: bool = False
    ) -> None:
        if query != self._query:
            return
        if keep_view and found[0] == self.model.ids:
            self.model.reload()
        elif keep_view:  # other cases: the one selected stays selected if still listed
            current = self.table.currentIndex()
            selected = self.model.case_id(current.row()) if current.isValid() else None
            self.model.set_ids(*found)
            if selected in found[0]:
                self.table.selectRow(found[0].index(selected))
        elif self._first_page_of == query:
            self.model.extend_ids(found[0])
        else:
            self.model.set_ids(*found)
        self.loaded_generation = query
        self._update_count()

    def _load_page(self, page: int, ids: list[str]) -> None:
        store = self.ctx.store
        generation = self.model.generation
        self.ctx.ops.run(
            lambda: cases.case_rows(store, ids),
            on_success=lambda rows: self.model.page_loaded(page, rows, generation),
            urgent=True,
        )

    def _set_choices(self, choices: ui_queries.FilterChoices) -> None:
        self._choices = choices
        self._fill_choices()

    def _fill_choices(self) -> None:
        choices = self._choices
        boxes: list[tuple[QComboBox, list[tuple[str, str]]]] = [
            (
                self.track_filter,
                [(k, tr(f"ui.track_kind.{k}")) for k in (choices.track_kinds if choices else ())],
            ),
            (
                self.step_filter,
                [(k, _step_label(k)) for k in (choices.step_keys if choices else ())],
            ),
            (
                self.province_filter,
                [(p, province_name(p, current())) for p in (choices.provinces if choices else ())],
            ),
            (self.employer_filter, list(choices.employers) if choices else []),
        ]
        for box, items in boxes:
            selected = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(tr("ui.cases.filter.all"), None)
            for value, shown in items:
                box.addItem(shown, value)
            index = box.findData(selected)
            box.setCurrentIndex(max(0, index))
            box.blockSignals(False)

    # -- input --------------------------------------------------------------------------

    def _typed(self, value: str) -> None:
        if looks_like_qr_payload(value.strip()):
            try:
                ref = parse_qr_payload(value.strip())
            except UserError:
                return  # still being typed or scanned; Enter reports a damaged code
            if ref is not None:
                self.case_opened.emit(str(ref.case_id))
            return
        self.debounce.start()

    def _enter(self) -> None:
        value = self.search.text().strip()
        if looks_like_qr_payload(value):
            try:
                parse_qr_payload(value)
            except UserError as exc:
                self.ctx.dialogs.error(exc.translated(current()))
            return
        self.refresh()

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.case_opened.emit(self.model.case_id(index.row()))

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        key = SORT_KEYS.get(column)
        if key is None:
            return
        self.sort = key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()

    def _update_count(self) -> None:
        if self.loaded_generation == 0:  # only the first page so far: no count yet
            self.count_label.setText("")
            return
        self.count_label.setText(tr("ui.cases.count", count=self.model.rowCount()))

    def retranslate(self) -> None:
        self.search.setPlaceholderText(tr("ui.cases.search"))
        self.overdue.setText(tr("ui.cases.filter.overdue"))
        self.new_button.setText(tr("ui.cases.new"))
        for widget, key in self.filter_labels:
            widget.setText(tr(key))
        self._fill_choices()
        self.model.retranslate()
        self._update_count()


def _step_label(key: str) -> str:
    return label("step", key)


def first_row(model: CaseTableModel) -> Any:
    return model.row_for(0)
