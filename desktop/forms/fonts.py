"""The merged "Sapan Sans" font files and their ReportLab registration.

The files live in ``resources/fonts`` (built by ``tools/build_fonts.py``). Qt loads the
same paths with ``QFontDatabase.addApplicationFont``; the PDFs register them here.
"""

from __future__ import annotations

import threading
from pathlib import Path

from desktop.domain.resources import resource_path

FAMILY = "Sapan Sans"
FONT_REGULAR: Path = resource_path("fonts", "SapanSans-Regular.ttf")
FONT_BOLD: Path = resource_path("fonts", "SapanSans-Bold.ttf")

# ReportLab's internal names for the two weights and the family that maps <b> to bold.
PDF_REGULAR = "SapanSans"
PDF_BOLD = "SapanSans-Bold"

_lock = threading.Lock()
_registered = False


def register_pdf_fonts() -> None:
    """Register both weights with ReportLab once; later calls do nothing."""
    global _registered
    with _lock:
        if _registered:
            return
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(PDF_REGULAR, str(FONT_REGULAR)))
        pdfmetrics.registerFont(TTFont(PDF_BOLD, str(FONT_BOLD)))
        pdfmetrics.registerFontFamily(
            PDF_REGULAR, normal=PDF_REGULAR, bold=PDF_BOLD, italic=PDF_REGULAR, boldItalic=PDF_BOLD
        )
        _registered = True
