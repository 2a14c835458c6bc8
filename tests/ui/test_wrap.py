"""Wrapping labels and list items: Burmese lines break between syllables, never inside one.

Measured in the bundled font, as the app runs (a fallback font's Burmese is narrower).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetricsF, QTextDocument, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.domain import i18n, words
from desktop.domain.linebreak import cluster_breaks
from desktop.domain.text import Script
from desktop.ui import wrap
from desktop.ui.app import install_fonts
from desktop.ui.dialogs import Dialogs, _boxed
from desktop.ui.wrap import LINE_SEPARATOR, WrapDelegate, WrapLabel, broken

# "The sync server {server} could not be reached, so this device is not registered yet..."
BURMESE = i18n.text("sync.register_unreachable", "my", server="sync.example.org")
# the crash dialog's, with a path short enough for one line (a longer one Qt breaks)
LONG_BURMESE = i18n.text("error.bug", "my", path=r"D:\sapan\crash.log")
THAI = i18n.text("sync.register_unreachable", "th", server="sync.example.org")


@pytest.fixture(autouse=True)
def app_font(qapp: QApplication) -> Iterator[QFont]:
    before = qapp.font()
    install_fonts(qapp)
    yield qapp.font()
    qapp.setFont(before)


@pytest.fixture
def qt_breaks_thai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Qt with libthai (Linux): it finds Thai words itself, and no Lao ones."""
    monkeypatch.setattr(wrap, "_qt_breaks_inside", lambda run: run == wrap._PROBES[Script.THAI])
    wrap.self_broken.cache_clear()
    yield
    wrap.self_broken.cache_clear()


@pytest.fixture
def qt_without_libthai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Qt on Windows: no libthai, so no Thai word found inside a run."""
    monkeypatch.setattr(wrap, "_qt_breaks_inside", lambda run: False)
    wrap.self_broken.cache_clear()
    yield
    wrap.self_broken.cache_clear()


def _line_may_begin(source: str) -> set[int]:
    """Where in ``source`` a line may begin: after a space, or between two syllables."""
    return set(cluster_breaks(source)) | {i + 1 for i, c in enumerate(source) if c == " "}


def _lines(source: str, shown: str) -> list[str]:
    """The lines of ``shown`` (``source`` with newlines), each checked to begin where a line
    may (:func:`_line_may_begin`)."""
    allowed = _line_may_begin(source)
    lines = shown.split("\n")
    at = 0
    for line in lines:
        at = source.index(line, at)
        assert at == 0 or at in allowed, f"line begins inside a syllable: {line!r}"
        at += len(line)
    assert "".join(lines).replace(" ", "") == source.replace(" ", "")
    return lines


def _qt_line_starts(text: str, width: float, font: QFont) -> list[int]:
    """Where Qt begins each line of ``text`` (newlines as line separators), word-wrapped
    at ``width`` as a label or a list item is."""
    layout = QTextLayout(text.replace("\n", LINE_SEPARATOR), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    starts = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        starts.append(line.textStart())
    layout.endLayout()
    return starts


def _kept_by_qt(shown: str, width: float, font: QFont) -> bool:
    """Whether Qt, wrapping ``shown`` at ``width``, keeps its lines and breaks none."""
    return len(_qt_line_starts(shown, width, font)) == shown.count("\n") + 1


def test_qt_alone_breaks_burmese_inside_a_syllable(app_font: QFont) -> None:
    """Why the module exists: at these widths Qt begins a line with half a syllable."""
    allowed = _line_may_begin(BURMESE)
    cut = []
    for width in range(120, 400, 20):
        cut += [s for s in _qt_line_starts(BURMESE, width, app_font) if s and s not in allowed]
    assert cut


@pytest.mark.parametrize("width", [120, 200, 333, 480])
def test_broken_burmese_lines_fit_and_begin_between_syllables(app_font: QFont, width: int) -> None:
    shown = broken(BURMESE, width, app_font)
    assert len(_lines(BURMESE, shown)) > 1
    assert _kept_by_qt(shown, width, app_font)


def test_a_line_fits_as_qt_measures_it_with_a_last_glyphs_overhang(app_font: QFont) -> None:
    """ပြီး ends wider than its advance: measured by advances, this item "fit" in a
    track list 158 px wide and Qt broke it again, inside a word."""
    item = "စာရင်းသွင်းခြင်း — ပိတ်ပြီး"
    for width in range(100, 200, 2):
        assert _kept_by_qt(broken(item, width, app_font), width, app_font), width


@pytest.mark.usefixtures("qt_breaks_thai")
def test_thai_is_left_to_a_qt_that_finds_its_words_and_latin_always(app_font: QFont) -> None:
    assert wrap.self_broken() == {Script.MYANMAR, Script.KHMER, Script.LAO}
    assert broken(THAI, 100, app_font) == THAI
    assert broken("A long English sentence", 30, app_font) == "A long English sentence"


@pytest.mark.usefixtures("qt_without_libthai")
@pytest.mark.parametrize("width", [100, 160, 250])
def test_thai_is_broken_here_where_qt_finds_no_thai_words(app_font: QFont, width: int) -> None:
    """Without libthai Qt breaks Thai only at spaces and lets a longer phrase run past
    the edge; here it breaks at spaces too, and inside a phrase only if it must."""
    assert Script.THAI in wrap.self_broken()
    shown = broken(THAI, width, app_font)
    assert _kept_by_qt(shown, width, app_font)
    assert shown.replace("\n", "").replace(" ", "") == THAI.replace(" ", "")


@pytest.mark.usefixtures("qt_without_libthai")
@pytest.mark.parametrize("width", [90, 140, 200])
def test_thai_typed_without_spaces_is_broken_between_words_here(
    app_font: QFont, width: int
) -> None:
    """An injury described without a space (as Thai is written): every line ends where a
    word does, by the word list, measured in the app's font."""
    text = "ลูกจ้างตกจากนั่งร้านระหว่างทำงานขาซ้ายหักต้องเข้าโรงพยาบาล"
    shown = broken(text, width, app_font)
    lines = shown.split("\n")
    assert len(lines) > 1
    assert "".join(lines) == text
    starts = words.word_starts(text, cluster_breaks(text))
    ends = [sum(len(line) for line in lines[: i + 1]) for i in range(len(lines) - 1)]
    assert set(ends) <= starts
    assert _kept_by_qt(shown, width, app_font)


def test_qt_finds_no_lao_or_khmer_word_inside_a_run() -> None:
    """Why Lao and Khmer are broken here: Qt would break them at spaces alone."""
    assert not wrap._qt_breaks_inside(wrap._PROBES[Script.LAO])
    assert not wrap._qt_breaks_inside("ប្រាក់ឈ្នួលរបស់កម្មករ")


def test_rich_text_is_measured_in_its_bold_font_and_keeps_it(app_font: QFont) -> None:
    source = f"<b>{BURMESE}</b>"
    assert broken(source, 5000, app_font, rich=True) == source  # one line: as it was
    shown = broken(source, 250, app_font, rich=True)
    document = QTextDocument()
    document.setDefaultFont(app_font)
    document.setHtml(shown)
    assert document.idealWidth() <= 250 + 2 * document.documentMargin()
    assert document.toPlainText().count("\n") >= 3
    assert document.begin().begin().fragment().charFormat().font().bold()
    # the same text in the regular font needs no more lines than in bold
    plain = broken(BURMESE, 250, app_font).count("\n")
    assert plain <= document.toPlainText().count("\n")


def test_label_shows_lines_for_its_width_and_keeps_the_text_as_set(qtbot: QtBot) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    label = WrapLabel(BURMESE)
    layout = QVBoxLayout(page)
    layout.addWidget(label)
    layout.addStretch()  # the label is as tall as its lines, no taller
    page.resize(300, 400)
    page.show()
    qtbot.waitExposed(page)
    assert label.text() == BURMESE
    narrow = _lines(BURMESE, super(WrapLabel, label).text())
    assert _kept_by_qt(super(WrapLabel, label).text(), label.contentsRect().width(), label.font())
    metrics = QFontMetricsF(label.font())
    # tall enough for every line: nothing is cut off at the bottom
    assert label.height() >= len(narrow) * metrics.lineSpacing()

    page.resize(600, 400)
    qtbot.waitUntil(lambda: super(WrapLabel, label).text().count("\n") < len(narrow) - 1)
    wide = _lines(BURMESE, super(WrapLabel, label).text())
    assert label.height() >= len(wide) * metrics.lineSpacing()
    assert label.height() < len(narrow) * metrics.lineSpacing()


@pytest.mark.usefixtures("qt_breaks_thai")
def test_label_of_other_scripts_is_a_plain_word_wrapping_label(qtbot: QtBot) -> None:
    label = WrapLabel(THAI)
    qtbot.addWidget(label)
    label.resize(120, 200)
    assert super(WrapLabel, label).text() == THAI
    assert label.wordWrap()
    assert label.heightForWidth(120) > label.heightForWidth(1000)


def test_clearing_a_label_clears_what_it_shows(qtbot: QtBot) -> None:
    label = WrapLabel(BURMESE)
    qtbot.addWidget(label)
    label.resize(150, 300)
    label.clear()
    assert label.text() == super(WrapLabel, label).text() == ""


def test_a_label_is_laid_out_again_in_a_new_font(qtbot: QtBot) -> None:
    label = WrapLabel(BURMESE)
    qtbot.addWidget(label)
    label.resize(300, 300)
    before = super(WrapLabel, label).text().count("\n")
    font = label.font()
    font.setPointSize(font.pointSize() * 2)
    label.setFont(font)
    assert super(WrapLabel, label).text().count("\n") > before


def _listing(
    qtbot: QtBot, text: str, delegate: type[QStyledItemDelegate], width: int = 166
) -> QListWidget:
    """A word-wrapping list of one item, shown (166 px: the track list in a narrow window)."""
    listing = QListWidget()
    qtbot.addWidget(listing)
    listing.setWordWrap(True)
    listing.setItemDelegate(delegate(listing))
    listing.addItem(text)
    listing.resize(width, 160)
    listing.show()
    qtbot.waitExposed(listing)
    return listing


def _item_option(listing: QListWidget) -> QStyleOptionViewItem:
    """The style option the list's delegate makes for painting its first item."""
    option = QStyleOptionViewItem()
    listing.initViewItemOption(option)
    option.rect = listing.visualItemRect(listing.item(0))
    delegate = listing.itemDelegate()
    assert isinstance(delegate, WrapDelegate)
    delegate.initStyleOption(option, listing.indexFromItem(listing.item(0)))
    return option


def test_list_items_break_between_syllables_where_the_style_draws_them(qtbot: QtBot) -> None:
    listing = _listing(qtbot, BURMESE, WrapDelegate, width=260)
    option = _item_option(listing)
    assert "\n" not in option.text  # an item view draws a newline as nothing at all
    shown = option.text.replace(LINE_SEPARATOR, "\n")
    lines = _lines(BURMESE, shown)
    assert len(lines) > 2
    metrics = QFontMetricsF(option.font)
    assert option.rect.height() >= len(lines) * metrics.lineSpacing()
    # Laid out as the style draws it (its text rect less a margin each side, word wrap),
    # our text keeps its lines: Qt finds nothing more to break.
    style = listing.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, listing) + 1
    width = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, listing).width()
    assert _kept_by_qt(shown, width - 2 * margin, option.font)


@pytest.mark.usefixtures("qt_breaks_thai")
@pytest.mark.parametrize("message", [BURMESE, LONG_BURMESE])
def test_a_message_box_keeps_the_lines_burmese_was_broken_in(
    qtbot: QtBot, app_font: QFont, message: str
) -> None:
    """As Qt lays out the box (half the screen wide, at most 500 pixels, less the icon),
    the label keeps the lines it was given: none is wrapped again."""
    seen: list[tuple[str, int, QFont]] = []

    def look() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        label = next(x for x in box.findChildren(QLabel) if x.text() == box.text())
        seen.append((label.text(), label.contentsRect().width(), label.font()))
        box.done(0)

    QTimer.singleShot(100, look)
    Dialogs().error(message)

    ((shown, width, font),) = seen
    assert len(_lines(message, shown)) > 1
    assert _kept_by_qt(shown, width, font)
    assert _boxed(THAI) == THAI


@pytest.mark.parametrize("width", [260, 300, 420])
def test_a_list_item_is_painted_in_the_lines_its_height_was_measured_for_once(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """The item's size is asked with the list's width, its paint with the width of its
    text: both must give the same lines (else the last is cut off), broken once, not at
    every paint."""
    made: list[str] = []
    real = wrap.broken

    def counted(text: str, width: float, font: QFont, rich: bool = False) -> str:
        made.append(real(text, width, font, rich))
        return made[-1]

    monkeypatch.setattr(wrap, "broken", counted)
    listing = _listing(qtbot, BURMESE, WrapDelegate, width=width)
    for _ in range(3):
        listing.grab()  # paints the item
    (lines,) = {text for text in made if "\n" in text}  # as broken, before the separators
    assert made.count(lines) == 1
    spacing = QFontMetricsF(listing.font()).lineSpacing()
    assert listing.visualItemRect(listing.item(0)).height() >= (lines.count("\n") + 1) * spacing


def test_a_list_paints_the_lines_laid_out_here_not_qts(qtbot: QtBot) -> None:
    """What the caseworker sees: the track list's item painted in our lines, the same
    pixels as the lines given to Qt ready-made, not Qt's own break inside လုပ်."""
    item = "အလုပ်ခွင်ထိခိုက်ဒဏ်ရာ (လုပ်သားလျော်ကြေး) — ဆောင်ရွက်နေဆဲ"
    listing = _listing(qtbot, item, WrapDelegate)
    option = _item_option(listing)
    _lines(item, option.text.replace(LINE_SEPARATOR, "\n"))
    ours = listing.grab().toImage()
    assert ours == _listing(qtbot, option.text, QStyledItemDelegate).grab().toImage()
    assert ours != _listing(qtbot, item, QStyledItemDelegate).grab().toImage()  # Qt: လု|ပ်


def test_a_selectable_label_copies_the_text_as_set(qtbot: QtBot) -> None:
    """A worker's name selected and copied from the case file must paste as it is stored,
    without a line break laid out for the label's width."""
    label = WrapLabel(BURMESE)
    qtbot.addWidget(label)
    label.resize(200, 300)
    assert "\n" in super(WrapLabel, label).text()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSelection(0, len(BURMESE))
    assert label.selectedText() == BURMESE
    label.resize(150, 300)
    assert super(WrapLabel, label).text() == BURMESE
