"""Thin Qt item models: immutable rows, a column list, translated headers.

:class:`CaseTableModel` holds only case ids (cheap for 100,000 cases) and asks for the
display rows of a page when the view first needs one; pages arrive asynchronously
through a loader (an operation off the GUI thread) and are kept in a small LRU cache.
:class:`RowTableModel` is the plain version for short lists (tasks, documents,
contribution months, checklist items): a list of row objects and column getters.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.ui.i18n import tr
from desktop.ui.wrap import WrapDelegate

Index = QModelIndex | QPersistentModelIndex
# The least height of a short list (list_view): its header and a row or two.
SHORT_LIST_HEIGHT = 90
_ROOT = QModelIndex()
# Roles as plain ints: data() is called for about seven roles of every visible cell at
# each paint, and comparing ints is much cheaper than looking up the enum members.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_USER = Qt.ItemDataRole.UserRole.value


@dataclass(frozen=True)
class Column:
    """One column: its header key in the catalogue and how to show a row in it."""

    header_key: str
    value: Callable[[Any], Any]
    align_right: bool = False


class RowTableModel(QAbstractTableModel):
    """A read-only table over a list of immutable rows."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Any] = ()) -> None:
        super().__init__()
        self.columns = tuple(columns)
        self._rows: list[Any] = list(rows)

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    @property
    def rows(self) -> list[Any]:
        return list(self._rows)

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = column.value(self._rows[index.row()])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return tr(self.columns[section].header_key)
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def retranslate(self) -> None:
        """Headers and translated cells follow the language."""
        if self.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )


PageLoader = Callable[[int, list[str]], None]


class _Page:
    """The rows of one page and, filled as rows are painted, their cell texts."""

    __slots__ = ("rows", "texts")

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows = list(rows)
        self.texts: dict[int, tuple[str, ...]] = {}  # by offset in the page


class CaseTableModel(RowTableModel):
    """Case ids in display order; the rows of a page are loaded when first shown.

    ``loader(page, ids)`` must eventually call :meth:`page_loaded` with the rows for those
    ids (an operation does it off the GUI thread). Until then the row shows a placeholder.
    """

    PAGE_SIZE = 100
    CACHE_PAGES = 40

    def __init__(self, columns: Sequence[Column], loader: PageLoader) -> None:
        super().__init__(columns)
        self._ids: list[str] = []
        self._loader = loader
        self._pages: collections.OrderedDict[int, _Page] = collections.OrderedDict()
        self._requested: set[int] = set()
        self._generation = 0

    def set_ids(self, ids: Sequence[str], first_page: Sequence[Any] | None = None) -> None:
        """A new result (search, filter, sort): forget every cached page.

        ``first_page``, the rows of the first page read with the ids, saves the view a
        second round trip to the database before it can paint.
        """
        self.beginResetModel()
        self._ids = list(ids)
        self._pages.clear()
        self._requested.clear()
        if first_page is not None and len(first_page) == min(len(self._ids), self.PAGE_SIZE) > 0:
            self._pages[0] = _Page(first_page)
            self._requested.add(0)
        self._generation += 1
        self.endResetModel()

    def extend_ids(self, ids: Sequence[str]) -> None:
        """The whole result after its first page: rows are appended, loaded pages kept.

        Falls back to :meth:`set_ids` when the ids shown are not the start of ``ids``
        (the data changed between the two reads).
        """
        shown = len(self._ids)
        if len(ids) < shown or list(ids[:shown]) != self._ids:
            self.set_ids(ids)
            return
        if shown % self.PAGE_SIZE:  # a short last page would miss the rows appended to it
            last = shown // self.PAGE_SIZE
            self._pages.pop(last, None)
            self._requested.discard(last)
        if len(ids) > shown:
            self.beginInsertRows(_ROOT, shown, len(ids) - 1)
            self._ids.extend(ids[shown:])
            self.endInsertRows()

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def generation(self) -> int:
        """Changes with every :meth:`set_ids`, so a late page for an old result is dropped."""
        return self._generation

    def case_id(self, row: int) -> str:
        return self._ids[row]

    def row_for(self, row: int) -> Any | None:
        """The loaded row object, or None while its page is still loading."""
        page = self._pages.get(row // self.PAGE_SIZE)
        if page is None:
            return None
        offset = row % self.PAGE_SIZE
        return page.rows[offset] if offset < len(page.rows) else None

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role != _DISPLAY and role != _TOOLTIP:  # the cheap answers first (see _DISPLAY)
            if role == _USER and index.isValid() and 0 <= index.row() < len(self._ids):
                return self._ids[index.row()]
            return None
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._ids):
            return None
        page_no, offset = divmod(row, self.PAGE_SIZE)
        page = self._pages.get(page_no)
        if page is None:
            self._request(page_no)
            page = self._pages.get(page_no)  # a synchronous loader has answered already
        if page is None:
            return "…" if index.column() == 0 else ""
        self._pages.move_to_end(page_no)
        if offset >= len(page.rows):
            return ""
        texts = page.texts.get(offset)
        if texts is None:
            texts = page.texts[offset] = tuple(
                "" if (value := column.value(page.rows[offset])) is None else str(value)
                for column in self.columns
            )
        return texts[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._ids):
                return str(section + 1)
            return None
        return super().headerData(section, orientation, role)

    def _request(self, page_no: int) -> None:
        if page_no in self._requested:
            return
        self._requested.add(page_no)
        start = page_no * self.PAGE_SIZE
        self._loader(page_no, self._ids[start : start + self.PAGE_SIZE])

    def page_loaded(self, page_no: int, rows: Sequence[Any], generation: int | None = None) -> None:
        """Rows for a requested page arrived (ignored if the result changed meanwhile)."""
        if generation is not None and generation != self._generation:
            return
        if page_no not in self._requested:
            return
        self._pages[page_no] = _Page(rows)
        self._pages.move_to_end(page_no)
        while len(self._pages) > self.CACHE_PAGES:
            old, _rows = self._pages.popitem(last=False)
            self._requested.discard(old)
        first = page_no * self.PAGE_SIZE
        last = min(first + self.PAGE_SIZE, len(self._ids)) - 1
        if last >= first and self.columns:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))

    def reload(self) -> None:
        """Forget cached rows (after an edit) and let the view ask again."""
        self._pages.clear()
        self._requested.clear()
        self._generation += 1
        if self._ids and self.columns:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, len(self.columns) - 1)
            )

    def retranslate(self) -> None:
        """Cell texts (states, benefits, dates) follow the language: drop the cached ones."""
        for page in self._pages.values():
            page.texts.clear()
        if self.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self._ids and self.columns:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, len(self.columns) - 1)
            )


def list_view(model: RowTableModel) -> QTableView:
    """A table of a short list: whole rows selected one at a time, columns sharing the width."""
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setMinimumHeight(SHORT_LIST_HEIGHT)
    view.setItemDelegate(WrapDelegate(view))  # a row that grows to its text (Sync page)
    # a row taller than the view (a long reason, wrapped) can be scrolled through
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    return view


def fit_rows(view: QTableView, most: int = 3) -> None:
    """Make a short list at least tall enough for its first ``most`` rows whole, at the
    height their text needs at the columns' widths now (rows that grow to their text)."""
    model = view.model()
    count = min(model.rowCount() if model is not None else 0, most)
    rows = sum(view.sizeHintForRow(row) for row in range(count))
    header = view.horizontalHeader().sizeHint().height()
    view.setMinimumHeight(max(SHORT_LIST_HEIGHT, header + rows + 2 * view.frameWidth()))


def fit_columns(view: QTableView, stretch: int = -1) -> None:
    """Each column as wide as its widest text, so a case number or a document's name is
    not cut to "Copy of …"; column ``stretch`` (the last by default) takes the room left."""
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    model = view.model()
    last = model.columnCount() - 1 if model is not None else -1
    header.setSectionResizeMode(last if stretch < 0 else stretch, QHeaderView.ResizeMode.Stretch)


def selected_row(view: QTableView, model: RowTableModel) -> Any:
    """The row object selected in ``view`` (None when nothing is)."""
    rows = view.selectionModel().selectedRows()
    return model.row_at(rows[0].row()) if rows else None
