"""The Sync page: server and device registration, what the next sync will send, Sync
now, failed items with Retry, and conflicts awaiting a coordinator.

Every read and write goes through :mod:`desktop.services.sync_view` via the operation
helper; the page only gathers input and shows results.
"""

from __future__ import annotations

import socket

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.services import coordination, sync_view
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.i18n import tr
from desktop.ui.models import Column, RowTableModel
from desktop.ui.sync_worker import Phase, SyncWorker, WorkerState, _human_size, when_text


def failed_columns() -> list[Column]:
    return [
        Column("ui.sync_page.col.what", lambda f: f"{f.entity}.{f.field}"),
        Column("ui.sync_page.col.error", lambda f: sync_view.reason_text(f.error, tr)),
        Column("ui.sync_page.col.attempts", lambda f: f.attempts, align_right=True),
    ]


def conflict_columns() -> list[Column]:
    return [
        Column("ui.sync_page.col.what", lambda c: c.what),
        Column("ui.sync_page.col.kept", lambda c: f"{c.applied.value} ({c.applied.by})"),
        Column("ui.sync_page.col.other", lambda c: f"{c.other.value} ({c.other.by})"),
    ]


def _table(model: RowTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    view.setMinimumHeight(90)
    return view


class SyncPage(Retranslating):
    """Sync state in full; the worker does the syncing, this page asks it to."""

    def __init__(
        self, ctx: AppContext, worker: SyncWorker | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.worker = worker or SyncWorker(ctx, parent=self)
        self.view: sync_view.SyncOverview | None = None

        self.server_box = QGroupBox()
        self.server = QLineEdit()
        self.server.setObjectName("sync_server")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.device = QLineEdit(socket.gethostname())
        self.register_button = QPushButton()
        self.register_button.clicked.connect(self.register)
        self.registered_label = QLabel()
        self.registered_label.setWordWrap(True)
        # the office new rows belong to: only the account's offices are offered
        self.office = QComboBox()
        self.office.setObjectName("sync_office")
        self.office.activated.connect(self._office_chosen)
        self.form_labels = [QLabel() for _ in range(5)]
        form = QFormLayout()
        for label, field in zip(
            self.form_labels,
            (self.server, self.user, self.password, self.device, self.office),
            strict=True,
        ):
            form.addRow(label, field)
        server_layout = QVBoxLayout(self.server_box)
        server_layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.registered_label, 1)
        row.addWidget(self.register_button)
        server_layout.addLayout(row)

        self.next_box = QGroupBox()
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.metered = QCheckBox()
        self.limit = QSpinBox()
        self.limit.setRange(0, 1_000_000)
        self.limit.setValue(sync_view.DEFAULT_METERED_LIMIT_KB)
        self.limit.setSuffix(" KB")
        self.limit_label = QLabel()
        self.metered.toggled.connect(self._metered_changed)
        self.limit.editingFinished.connect(self._metered_changed)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setTextVisible(False)
        self.sync_button = QPushButton()
        self.sync_button.setObjectName("sync_now")
        self.sync_button.clicked.connect(self.sync_now)
        next_layout = QVBoxLayout(self.next_box)
        next_layout.addWidget(self.next_label)
        metered_row = QHBoxLayout()
        metered_row.addWidget(self.metered)
        metered_row.addStretch(1)
        metered_row.addWidget(self.limit_label)
        metered_row.addWidget(self.limit)
        next_layout.addLayout(metered_row)
        sync_row = QHBoxLayout()
        sync_row.addWidget(self.state_label, 1)
        sync_row.addWidget(self.progress)
        sync_row.addWidget(self.sync_button)
        next_layout.addLayout(sync_row)

        self.failed_box = QGroupBox()
        self.failed_model = RowTableModel(failed_columns())
        self.failed_view = _table(self.failed_model)
        self.retry_button = QPushButton()
        self.retry_button.clicked.connect(self.retry)
        failed_layout = QVBoxLayout(self.failed_box)
        failed_layout.addWidget(self.failed_view)
        failed_layout.addWidget(self.retry_button)

        self.conflict_box = QGroupBox()
        self.conflict_model = RowTableModel(conflict_columns())
        self.conflict_view = _table(self.conflict_model)
        self.conflict_hint = QLabel()
        self.conflict_hint.setWordWrap(True)
        conflict_layout = QVBoxLayout(self.conflict_box)
        conflict_layout.addWidget(self.conflict_hint)
        conflict_layout.addWidget(self.conflict_view)

        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 14pt; font-weight: bold")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.server_box)
        layout.addWidget(self.next_box)
        layout.addWidget(self.failed_box, 1)
        layout.addWidget(self.conflict_box, 1)

        self.worker.changed.connect(self._worker_changed)
        self.worker.synced.connect(lambda _summary: self.refresh())
        self.retranslate()

    # -- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the overview, failed items and conflicts off the GUI thread."""
        store = self.ctx.store

        def read() -> tuple[sync_view.SyncOverview, list[object], list[object]]:
            return (
                sync_view.overview(store),
                list(sync_view.failed_items(store)),
                list(coordination.conflicts(store)),
            )

        self.ctx.ops.run(read, on_success=self._loaded, key="sync_page")

    def _loaded(self, result: tuple[sync_view.SyncOverview, list[object], list[object]]) -> None:
        self.view, failed, found = result
        self.failed_model.set_rows(failed)
        self.conflict_model.set_rows(found)
        if not self.server.hasFocus():
            self.server.setText(self.view.server_url or "")
        self.office.blockSignals(True)
        self.office.clear()
        self.office.addItems(list(self.view.offices))
        self.office.setCurrentIndex(self.office.findText(self.view.office))
        self.office.setEnabled(len(self.view.offices) > 1)
        self.office.blockSignals(False)
        self.metered.blockSignals(True)
        self.metered.setChecked(self.view.metered)
        self.metered.blockSignals(False)
        self.limit.setValue(self.view.metered_limit_kb)
        self.retranslate()

    # -- actions ---------------------------------------------------------------------------

    def register(self) -> None:
        """Register this device with the server typed above (user and password)."""
        store, factory = self.ctx.store, self.worker.http_factory
        url, user = self.server.text(), self.user.text()
        password, device = self.password.text(), self.device.text().strip() or "laptop"

        def done(_device_id: object) -> None:
            self.password.clear()
            self.ctx.dialogs.info(tr("ui.sync_page.registered_ok"))
            self.refresh()
            self.worker.sync_now()

        self.ctx.ops.run(
            lambda: sync_view.register(
                store, url, user, password, device, factory or sync_view.default_http
            ),
            write=True,
            on_success=done,
        )

    def sync_now(self) -> None:
        self.worker.sync_now()

    def _office_chosen(self, _index: int) -> None:
        store, office = self.ctx.store, self.office.currentText()
        self.ctx.ops.run(
            lambda: sync_view.set_office(store, office),
            write=True,
            on_success=lambda _r: self.refresh(),
        )

    def retry(self) -> None:
        """Put refused changes back in line, then sync."""
        store = self.ctx.store

        def done(_count: object) -> None:
            self.refresh()
            self.worker.sync_now()

        self.ctx.ops.run(lambda: sync_view.retry_failed(store), write=True, on_success=done)

    def _metered_changed(self) -> None:
        store, metered, limit = self.ctx.store, self.metered.isChecked(), self.limit.value()
        self.ctx.ops.run(
            lambda: sync_view.set_metered(store, metered, limit),
            write=True,
            on_success=lambda _r: self.refresh(),
        )

    def _worker_changed(self, state: WorkerState) -> None:
        busy = state.phase in (Phase.CHECKING, Phase.SYNCING)
        self.progress.setRange(0, 0 if busy else 1)  # a busy indicator while syncing
        self.sync_button.setEnabled(not busy)
        self._state_text()

    # -- texts -----------------------------------------------------------------------------

    def _state_text(self) -> None:
        from desktop.ui.sync_worker import status_text

        self.state_label.setText(status_text(self.worker.state, self.view))

    def retranslate(self) -> None:
        self.heading.setText(tr("ui.sync_page.heading"))
        self.server_box.setTitle(tr("ui.sync_page.server_box"))
        for label, key in zip(
            self.form_labels,
            (
                "ui.sync_page.server",
                "ui.sync_page.user",
                "ui.sync_page.password",
                "ui.sync_page.device",
                "ui.sync_page.office",
            ),
            strict=True,
        ):
            label.setText(tr(key))
        self.server.setPlaceholderText("https://sync.example.org")
        self.register_button.setText(tr("ui.sync_page.register"))
        self.next_box.setTitle(tr("ui.sync_page.next_box"))
        self.metered.setText(tr("ui.sync_page.metered"))
        self.limit_label.setText(tr("ui.sync_page.limit"))
        self.sync_button.setText(tr("ui.sync_page.sync_now"))
        self.failed_box.setTitle(tr("ui.sync_page.failed_box"))
        self.retry_button.setText(tr("ui.sync_page.retry"))
        self.conflict_box.setTitle(tr("ui.sync_page.conflict_box"))
        self.conflict_hint.setText(tr("ui.sync_page.conflict_hint"))
        self.failed_model.retranslate()
        self.conflict_model.retranslate()
        view = self.view
        if view is None:
            self.registered_label.setText(tr("ui.loading"))
            self.next_label.setText(tr("ui.loading"))
        else:
            self.registered_label.setText(
                tr("ui.sync_page.registered", url=view.server_url or "")
                if view.registered
                else tr("ui.sync_page.not_registered")
            )
            self.next_label.setText(
                tr(
                    "ui.sync_page.next",
                    changes=view.waiting,
                    size=_human_size(view.bytes_waiting),
                    files=view.attachments_waiting,
                    file_size=_human_size(view.attachment_bytes),
                )
                + "<br>"
                + tr(
                    "ui.sync_page.next_fetch",
                    files=view.attachments_to_fetch,
                    file_size=_human_size(view.fetch_bytes),
                )
                + "<br>"
                + tr("ui.sync_page.last", when=when_text(view.last_sync))
            )
        self._state_text()
