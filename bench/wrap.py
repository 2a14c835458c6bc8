"""Benchmark: breaking Burmese lines for the UI (desktop/ui/wrap.py) against Qt's own wrap.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/wrap.py [--repeat 20]

For three texts in Burmese (a 135-character message, a 1,600-character note, an
18,000-character run typed without spaces), and a 1,650-character Thai run typed without
spaces (as Thai often is), at 300 and 600 pixels in the bundled font:

1. ``wrap.broken`` of the plain text (what a label or a list item pays once per width,
   since both keep the lines) and of the same text in bold inside rich text (what the
   eligibility page's label pays); for the Thai run, the same line breaking called
   directly, as ``broken`` does where Qt has no libthai (Windows), plain text only;
2. baseline, same run: Qt laying the same text out itself (``QTextLayout``, word wrap,
   every line), which a label pays anyway.

Target: a label's or an item's text broken in well under a frame (16 ms) for anything a
caseworker writes (messages and notes); the 18,000-character run is the hostile case.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtGui import QFont, QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication

from desktop.domain import i18n
from desktop.domain.linebreak import break_lines
from desktop.ui.app import install_fonts
from desktop.ui.wrap import broken, text_width


def timed(run: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def qt_layout(text: str, width: float, font: QFont) -> int:
    """Qt's own word wrap of ``text`` at ``width``: the number of lines."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = 0
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        lines += 1
    layout.endLayout()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each figure")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    install_fonts(app)
    font = app.font()
    message = i18n.text("sync.register_unreachable", "my", server="sync.example.org")
    texts = {
        "message": message,
        "note": " ".join([message] * 12),
        "run without spaces": "ကျွန်တော်" * 2000,
    }
    print(f"{'text':<20} {'chars':>6} {'width':>6} {'plain':>9} {'rich':>9} {'Qt alone':>9}")
    for name, text in texts.items():
        repeat = args.repeat if len(text) < 10_000 else max(3, args.repeat // 4)
        for width in (300, 600):
            plain = timed(lambda t=text, w=width: broken(t, w, font), repeat)
            rich = timed(lambda t=text, w=width: broken(f"<b>{t}</b>", w, font, rich=True), repeat)
            qt = timed(lambda t=text, w=width: qt_layout(t, w, font), repeat)
            print(
                f"{name:<20} {len(text):>6} {width:>6} {plain:>7.2f}ms {rich:>7.2f}ms {qt:>7.2f}ms"
            )
    thai = "ลูกจ้างได้รับบาดเจ็บที่มือขวาขณะยกกล่องสินค้าหนักในโกดังของนายจ้าง" * 25
    measure = functools.partial(text_width, font)
    for width in (300, 600):
        plain = timed(lambda w=width: break_lines(thai, w, measure), args.repeat)
        qt = timed(lambda w=width: qt_layout(thai, w, font), args.repeat)
        name = "Thai, no spaces"
        print(f"{name:<20} {len(thai):>6} {width:>6} {plain:>7.2f}ms {'':>9} {qt:>7.2f}ms")


if __name__ == "__main__":
    main()
