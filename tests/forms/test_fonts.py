"""desktop.forms.fonts: the merged font files exist, carry every script, register once."""

from __future__ import annotations

from fontTools.ttLib import TTFont
from reportlab.pdfbase import pdfmetrics

from desktop.forms import fonts

SAMPLES = {
    "latin": "Name",
    "thai": "ชื่อน้ำ",
    "myanmar": "မောင်ကြည့်",
    "khmer": "ខ្មែរស្ត្រី",
    "lao": "ພາສາລາວນ້ຳ",
}


def test_both_weights_cover_every_script() -> None:
    for path in (fonts.FONT_REGULAR, fonts.FONT_BOLD):
        cmap = TTFont(str(path))["cmap"].getBestCmap()
        for script, sample in SAMPLES.items():
            missing = [ch for ch in sample if ord(ch) not in cmap]
            assert missing == [], f"{path.name} lacks {script}: {missing}"


def test_family_is_renamed_so_it_never_clashes_with_noto() -> None:
    for path, style in ((fonts.FONT_REGULAR, "Regular"), (fonts.FONT_BOLD, "Bold")):
        name = TTFont(str(path))["name"]
        assert name.getDebugName(1) == fonts.FAMILY
        assert name.getDebugName(6) == f"SapanSans-{style}"
        assert all("Noto" not in (name.getDebugName(i) or "") for i in (1, 3, 4, 6, 16))


def test_register_is_idempotent() -> None:
    fonts.register_pdf_fonts()
    fonts.register_pdf_fonts()
    assert pdfmetrics.getFont(fonts.PDF_REGULAR).fontName == fonts.PDF_REGULAR
    assert pdfmetrics.getFont(fonts.PDF_BOLD).fontName == fonts.PDF_BOLD


def test_text_rise_is_recorded_when_consecutive_rises_are_merged() -> None:
    """Regression: after a lowered Khmer mark the next glyphs must return to the line."""
    from reportlab.pdfgen.canvas import Canvas

    fonts.register_pdf_fonts()
    text = Canvas("unused.pdf").beginText(0, 0)
    text.setRise(-3)
    text.setRise(-8)  # replaces the previous Ts operator
    assert text._rise == -8
    assert text._code[-1] == "-8 Ts"
    text.setRise(0)
    assert text._rise == 0


def test_reportlab_runs_with_its_c_helpers() -> None:
    # rl_accel is a dependency because number formatting and string widths in pure
    # Python cost a fifth of a packet's render time; a missing wheel would go unnoticed.
    from reportlab.lib import rl_accel

    assert rl_accel.fp_str.__module__ == "_rl_accel"
    assert rl_accel.fp_str(1.5, 0.25, 2) == "1.5 .25 2"
