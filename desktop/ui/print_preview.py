"""Printing one case from the app: render the packet off the GUI thread, preview its
pages, print them through the system printer dialog, or save the PDF.

PySide6 Essentials has no QtPdf, so pages are rasterised with pypdfium2 into
``QImage`` (safe outside the GUI thread; ``QPixmap`` is made on the GUI thread only).
Printing paints the pages one at a time at the printer's resolution (capped), so a
long packet never sits in memory at full resolution.

The printer and file choosers sit behind :class:`PrintDialogs` so tests hand in a fake
that returns a ``QPrinter`` writing a PDF and a temp path: no test blocks on a modal.

A packet printed or saved from the preview is recorded in the store
(:func:`desktop.services.printing.record_printed`): the audit trail says so and the
steps waiting on those forms move on. A preview closed without either records nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.services import consent, printing, ui_queries
from desktop.ui.context import AppContext
from desktop.ui.i18n import tr
from desktop.ui.screen import resize_to_fit

PREVIEW_DPI = 80
MAX_PRINT_DPI = 300


@dataclass(frozen=True)
class RenderedPacket:
    """A packet written to ``path`` with its preview pages and what it lacks."""

    case_number: str
    path: Path
    pages: tuple[QImage, ...]
    missing: int
    case_id: str = ""
    forms: tuple[str, ...] = ()  # the forms layer's ids of the forms in the packet
    sso_consent: bool = True  # the person agreed to their data going to the SSO (PDPA)


def page_images(pdf: Path, dpi: int = PREVIEW_DPI) -> list[QImage]:
    """Every page of ``pdf`` as an image at ``dpi`` (runs in a worker thread)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        return [_image(document[i], dpi) for i in range(len(document))]
    finally:
        document.close()


def _image(page: Any, dpi: int) -> QImage:
    bitmap = page.render(scale=dpi / 72)
    try:
        image = QImage(
            bytes(bitmap.buffer),
            bitmap.width,
            bitmap.height,
            bitmap.stride,
            QImage.Format.Format_BGR888,
        )
        return image.copy()  # own the pixels: the bitmap's buffer goes away
    finally:
        bitmap.close()
        page.close()


def render_case_packet(
    store: Any,
    case_id: str,
    folder: Path,
    forms: Sequence[str] | None = None,
    today: dt.date | None = None,
    benefit: str | None = None,
) -> RenderedPacket:
    """Render one case's packet into ``folder`` and its preview pages (worker thread);
    ``benefit``: the claim it is about, when the case holds more than one."""
    # ReportLab loads only when something is printed (faster start).
    from desktop.forms.batch import safe_filename
    from desktop.forms.packet import render_packet

    data = printing.case_data(store, case_id, forms=forms, today=today, benefit=benefit)
    path = folder / f"{safe_filename(data.case_number)}.pdf"
    result = render_packet(data, path)
    missing = len(result.missing_fields) + len(result.missing_documents)
    return RenderedPacket(
        data.case_number,
        path,
        tuple(page_images(path)),
        missing,
        str(data.case_id),
        data.forms,
        consent.shares_with_sso(store, case_id),
    )


def print_pdf(printer: QPrinter, pdf: Path) -> int:
    """Paint every page of ``pdf`` on ``printer``, one page in memory at a time."""
    import pypdfium2 as pdfium

    dpi = max(72, min(printer.resolution(), MAX_PRINT_DPI))
    document = pdfium.PdfDocument(str(pdf))
    painter = QPainter()
    if not painter.begin(printer):
        document.close()
        return 0
    try:
        count = len(document)
        for index in range(count):
            if index:
                printer.newPage()
            image = _image(document[index], dpi)
            target = QRectF(painter.viewport())
            size = image.size().scaled(target.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRectF(0, 0, size.width(), size.height()), image)
        return count
    finally:
        painter.end()
        document.close()


class PrintDialogs(Protocol):
    """What printing asks of the person: a printer, a file to save, a folder."""

    def printer(self, parent: QWidget | None) -> QPrinter | None: ...

    def save_pdf(self, parent: QWidget | None, suggested: str) -> Path | None: ...

    def folder(self, parent: QWidget | None) -> Path | None: ...


class QtPrintDialogs:
    """The real dialogs: the system printer dialog and file choosers."""

    def __init__(self) -> None:
        self._printer: QPrinter | None = None

    def printer(self, parent: QWidget | None) -> QPrinter | None:
        self._printer = self._printer or QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(self._printer, parent)
        return self._printer if dialog.exec() == QDialog.DialogCode.Accepted else None

    def save_pdf(self, parent: QWidget | None, suggested: str) -> Path | None:
        name, _filter = QFileDialog.getSaveFileName(
            parent, tr("ui.printing.save_pdf"), suggested, "PDF (*.pdf)"
        )
        if not name:
            return None
        return Path(name if name.lower().endswith(".pdf") else name + ".pdf")

    def folder(self, parent: QWidget | None) -> Path | None:
        name = QFileDialog.getExistingDirectory(parent, tr("ui.print_queue.choose_folder"))
        return Path(name) if name else None


class PreviewDialog(QDialog):
    """Rendered pages in a scroll area, with Print, Save as PDF and Close."""

    printed = Signal(int)
    saved = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        packet: RenderedPacket,
        dialogs: PrintDialogs,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.packet = packet
        self.dialogs = dialogs
        self.pages: list[QLabel] = []
        column = QWidget()
        pages_layout = QVBoxLayout(column)
        for image in packet.pages:
            page = QLabel()
            page.setPixmap(QPixmap.fromImage(image))
            page.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            page.setStyleSheet("background: white; border: 1px solid #999")
            pages_layout.addWidget(page, 0, Qt.AlignmentFlag.AlignHCenter)
            self.pages.append(page)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(column)
        self.scroll_area.setWidgetResizable(True)
        self.info = QLabel()
        self.print_button = QPushButton()
        self.print_button.setObjectName("print")
        self.print_button.clicked.connect(self.print_)
        self.save_button = QPushButton()
        self.save_button.setObjectName("save_pdf")
        self.save_button.clicked.connect(self.save)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.info, 1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll_area, 1)
        layout.addLayout(buttons)
        resize_to_fit(self, 760, 820)
        self.retranslate()

    def print_(self) -> None:
        """Ask for a printer, then paint the pages (quick: pages are already on disk)."""
        printer = self.dialogs.printer(self)
        if printer is None:
            return
        printer.setDocName(self.packet.case_number)
        self.printed.emit(print_pdf(printer, self.packet.path))

    def save(self) -> None:
        """Copy the rendered PDF where the person chooses (off the GUI thread)."""
        target = self.dialogs.save_pdf(self, f"{self.packet.case_number}.pdf")
        if target is None:
            return
        source = self.packet.path
        self.ctx.ops.run(
            lambda: _copy_pdf(source, target),
            on_success=lambda _r: self.saved.emit(str(target)),
            owner=self,  # the preview may be closed while the copy is written
        )

    def retranslate(self) -> None:
        self.setWindowTitle(tr("ui.printing.preview_title", case=self.packet.case_number))
        info = tr("ui.printing.pages", count=len(self.packet.pages))
        if self.packet.missing:
            info += " · " + tr("ui.printing.missing", count=self.packet.missing)
        if not self.packet.sso_consent:  # a reminder, not a refusal: consent may be on paper
            info += " · " + tr("ui.printing.no_sso_consent")
        self.info.setText(info)
        self.print_button.setText(tr("ui.printing.print"))
        self.save_button.setText(tr("ui.printing.save_pdf"))
        self.close_button.setText(tr("ui.printing.close"))


def _copy_pdf(source: Path, target: Path) -> None:
    """The rendered packet where the person chose (worker thread); a place that cannot be
    written (a USB stick pulled out, a full disk) is a :class:`UserError` saying so."""
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        detail = exc.strerror or str(exc)
        raise UserError("ui.printing.save_failed", path=str(target), detail=detail) from exc


class PacketPrinter(QObject):
    """Renders a case's packet in the background and opens its preview."""

    opened = Signal(object)  # the PreviewDialog
    busy_changed = Signal(bool)
    recorded = Signal(object)  # printing.PrintRecord: a print or save is in the store

    def __init__(
        self,
        ctx: AppContext,
        dialogs: PrintDialogs | None = None,
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.dialogs: PrintDialogs = dialogs or QtPrintDialogs()
        self.parent_widget = parent_widget
        # Rendered packets hold personal data in plain PDF: made on first use (beside the
        # store, see ui_queries.preview_folder), removed when the window closes (discard()).
        self.scratch: tempfile.TemporaryDirectory[str] | None = None
        self.preview: PreviewDialog | None = None

    def discard(self) -> None:
        """Delete the rendered packets (called when the main window closes)."""
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None

    def open(
        self,
        case_id: str,
        workflow_forms: Sequence[str] | None = None,
        benefit: str | None = None,
    ) -> None:
        """Render (off the GUI thread) and show the preview of ``case_id``'s packet, about
        its claim for ``benefit`` when given."""
        store, today = self.ctx.store, self.ctx.today()
        if self.scratch is not None and not Path(self.scratch.name).is_dir():
            self.discard()  # swept by another window's start after half a day unused
        if self.scratch is None:
            self.scratch = ui_queries.preview_folder(store)
        folder = Path(self.scratch.name)
        forms = printing.packet_form_ids(workflow_forms) if workflow_forms else None
        self.busy_changed.emit(True)

        def printed(packet: RenderedPacket, pages: int) -> None:
            if pages:  # no page painted (the printer refused): nothing was printed
                self.record(packet, "print")

        def shown(packet: RenderedPacket) -> None:
            self.busy_changed.emit(False)
            self.preview = PreviewDialog(self.ctx, packet, self.dialogs, self.parent_widget)
            self.preview.printed.connect(lambda pages: printed(packet, pages))
            self.preview.saved.connect(lambda _path: self.record(packet, "pdf"))
            self.preview.show()
            self.opened.emit(self.preview)

        def failed(exc: BaseException) -> None:
            self.busy_changed.emit(False)
            self._show_failure(exc)

        self.ctx.ops.run(
            lambda: render_case_packet(store, case_id, folder, forms, today, benefit),
            on_success=shown,
            on_failure=failed,
            key="print_preview",
        )

    def record(self, packet: RenderedPacket, how: printing.PrintedHow) -> None:
        """Write to the store that ``packet`` was printed or saved (the single writer)."""
        store, case_id, forms = self.ctx.store, packet.case_id, packet.forms
        self.ctx.ops.run(
            lambda: printing.record_printed(store, case_id, forms, how),
            on_success=self.recorded.emit,
            on_failure=self._show_failure,
            write=True,
            owner=self,
        )

    def _show_failure(self, exc: BaseException) -> None:
        from desktop.ui.i18n import current

        if isinstance(exc, UserError):  # a bug has been reported as one
            self.ctx.dialogs.error(exc.translated(current()))
