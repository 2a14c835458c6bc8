"""The merged "Sapan Sans" font files and their ReportLab registration.

The files live in ``resources/fonts`` (built by ``tools/build_fonts.py``). Qt loads the
same paths with ``QFontDatabase.addApplicationFont``; the PDFs register them here.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

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
        patch_text_rise()
        # Streams are Flate-compressed anyway; ASCII85 on top only costs time (about a
        # tenth of a packet's render) and makes the file larger. Process-wide, but only
        # the forms use ReportLab.
        from reportlab import rl_config

        rl_config.useA85 = 0
        _registered = True


def _set_rise(self: Any, rise: float) -> None:
    """``PDFTextObject.setRise`` with its bookkeeping fixed (ReportLab 4.x/5.1).

    When two rises follow each other, ReportLab replaces the previous ``Ts`` operator
    but forgets to record the new rise, so the text after a shaped mark with a vertical
    offset (Khmer coeng subscripts with a vowel below, e.g. ស្តុ) stays lowered: "តា"
    in "ស្តុតា" is drawn below the line. Same operator output, correct state.
    """
    from reportlab.lib.rl_accel import fp_str

    code = f"{fp_str(rise)} Ts"
    if self._code and self._code[-1].endswith(" Ts"):
        self._y += self._rise  # undo the rise being replaced
        self._code[-1] = code
    else:
        self._code.append(code)
    self._rise = rise
    self._y -= rise


def patch_text_rise() -> None:
    """Install :func:`_set_rise` on ReportLab's text object (idempotent)."""
    from reportlab.pdfgen.textobject import PDFTextObject

    PDFTextObject.setRise = _set_rise
