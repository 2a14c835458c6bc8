"""Word wrapping that keeps Burmese syllables whole.

Qt 6 finds a line-break opportunity between almost any two characters of Myanmar text
(``QTextBoundaryFinder`` puts one between a consonant and its medial, or before a killed
final: ဆ|က်), so a wrapped Burmese label could begin a line with half a syllable; a word
joiner does not stop it. Khmer it breaks only at spaces, so a long Khmer phrase runs
past the edge of a narrow label; Lao too, and Thai where Qt has no libthai to find its
words (Windows has none): those two are probed once (:func:`self_broken`). Text in such
a script is broken here, by :mod:`desktop.domain.linebreak` (spaces first, then, in a
phrase wider than the line, between Thai or Lao words, then syllable-cluster
boundaries), measured as Qt lays it out;
every line then fits and Qt's own wrapping, left on, finds nothing to break. Thai where
Qt breaks it between words (libthai, on Linux) and Latin text wrap as Qt wraps them.

:class:`WrapLabel` is the word-wrapping label of every page; :class:`WrapDelegate` does
the same for the items of a word-wrapping list; :func:`broken` is the function both use
(and what a widget that paints its own text calls).
"""

from __future__ import annotations

import functools
import itertools

from PySide6 import QtGui
from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTextBoundaryFinder,
)
from PySide6.QtGui import (
    QFont,
    QResizeEvent,
    QTextBlock,
    QTextCursor,
    QTextDocument,
    QTextLayout,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop.domain.linebreak import ZWSP, break_lines, line_spans
from desktop.domain.text import Script, scripts_in

# Qt's U+2028 LINE SEPARATOR: a line break inside a paragraph (what <br> becomes).
LINE_SEPARATOR = "\u2028"
# Broken here wherever Qt runs: Qt breaks Myanmar inside syllables, Khmer only at spaces.
_ALWAYS_BROKEN = frozenset({Script.MYANMAR, Script.KHMER})
# Broken here unless Qt finds a word inside a run of them ("wage of the employee").
_PROBES = {Script.THAI: "ค่าจ้างของลูกจ้าง", Script.LAO: "ຄ່າຈ້າງຂອງລູກຈ້າງ"}
# Qt's line may come out a fraction wider than measured (rounding; a rich text's runs
# are measured apart).
_SLACK = 2.0
_UNBOUNDED = 1e9
# How many widths a label keeps its lines for (layouts ask for a few widths in turn).
_WIDTHS_KEPT = 16
# How many item texts a list keeps the lines of, at each width and font.
_ITEMS_KEPT = 512


@functools.cache
def self_broken() -> frozenset[Script]:
    """The scripts whose lines are broken here rather than by Qt, on this machine."""
    return _ALWAYS_BROKEN | {s for s, run in _PROBES.items() if not _qt_breaks_inside(run)}


def _qt_breaks_inside(run: str) -> bool:
    """Whether Qt finds a line-break opportunity inside ``run`` (a run without spaces)."""
    finder = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Line, run)
    return 0 < finder.toNextBoundary() < len(run)


def breaks_itself(text: str) -> bool:
    """Whether ``text`` has a script whose lines are broken here rather than by Qt."""
    return not self_broken().isdisjoint(scripts_in(text))


def text_width(font: QFont, text: str) -> float:
    """How wide Qt lays ``text`` out on one line in ``font``: what its line breaking
    compares with the line's width. Not ``QFontMetricsF.horizontalAdvance``, which leaves
    out a last glyph's overhang (ပြီး: 8 px in the bundled font at 10 pt), so a line it
    found to fit was broken again by Qt."""
    if not text:
        return 0.0
    layout = QTextLayout(text, font)
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(_UNBOUNDED)
    layout.endLayout()
    return float(line.naturalTextWidth())


def broken(text: str, width: float, font: QFont, rich: bool = False) -> str:
    """``text`` with a line break wherever :mod:`desktop.domain.linebreak` ends a line
    ``width`` pixels wide in ``font`` (bold and other runs of rich text measured in their
    own fonts). Plain text comes back plain with newlines; rich text as Qt's HTML. Text
    without a script of :func:`breaks_itself` comes back as it is."""
    if not breaks_itself(text) or width <= _SLACK:
        return text
    if not rich:
        return "\n".join(break_lines(text, width - _SLACK, functools.partial(text_width, font)))
    document = QTextDocument()
    document.setDefaultFont(font)
    document.setHtml(text)
    breaks: list[tuple[int, int]] = []  # document ranges each replaced by a line break
    block = document.begin()
    while block.isValid():
        breaks.extend(_block_breaks(block, width - _SLACK, document.defaultFont()))
        block = block.next()
    if not breaks:
        return text
    cursor = QTextCursor(document)
    for start, end in reversed(breaks):
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(LINE_SEPARATOR)
    return document.toHtml()


def _block_breaks(block: QTextBlock, width: float, default: QFont) -> list[tuple[int, int]]:
    """The ranges (spaces, or nothing between two syllables) where one block's lines end."""
    text = block.text()
    origin = block.position()
    runs: list[tuple[int, int, QFont]] = []  # (start, end, font) in the block
    fragments = block.begin()
    while not fragments.atEnd():
        fragment = fragments.fragment()
        start = fragment.position() - origin
        font = fragment.charFormat().font().resolve(default)
        runs.append((start, start + fragment.length(), font))
        fragments += 1
    ranges: list[tuple[int, int]] = []
    offset = 0
    for line in text.split(LINE_SEPARATOR):

        def measure(start: int, end: int, offset: int = offset) -> float:
            start, end = start + offset, end + offset
            return sum(
                text_width(font, text[max(start, a) : min(end, b)].replace(ZWSP, ""))
                for a, b, font in runs
                if a < end and b > start
            )

        spans = line_spans(line, width, measure)
        for (_, end), (start, _) in itertools.pairwise(spans):
            ranges.append((origin + offset + end, origin + offset + start))
        offset += len(line) + 1
    return ranges


def _is_rich(label: QLabel, text: str) -> bool:
    if label.textFormat() == Qt.TextFormat.RichText:
        return True
    return label.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)


class WrapLabel(QLabel):
    """A word-wrapping ``QLabel`` that breaks the lines of :func:`self_broken`'s scripts
    itself (see the module).

    ``text()`` is the text as set; what is shown carries line breaks for the label's
    width, laid out again when the width or the font changes. Size hints are those a
    ``QLabel`` gives the text as set, so a layout sizes the label as it would any other.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._source = ""
        self._in_our_scripts = False  # breaks_itself(self._source), read at every layout
        self._shown: dict[int, str] = {}  # inner width -> the text broken for it
        self._twin: QLabel | None = None  # measures the text as set; never shown
        self.setText(text)

    def text(self) -> str:
        return self._source

    def setText(self, text: str, /) -> None:
        self._source = text
        self._in_our_scripts = breaks_itself(text)
        self._shown.clear()
        self._show()

    def clear(self) -> None:
        self.setText("")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._shown.clear()
            self._show()

    def sizeHint(self) -> QSize:
        return self._as_set().sizeHint() if self._own_breaks() else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        return self._as_set().minimumSizeHint() if self._own_breaks() else super().minimumSizeHint()

    def heightForWidth(self, width: int) -> int:
        if not self._own_breaks():
            return super().heightForWidth(width)
        return self._as_set(self._text_for(width)).heightForWidth(width)

    def setTextInteractionFlags(self, flags: Qt.TextInteractionFlag, /) -> None:
        super().setTextInteractionFlags(flags)
        self._shown.clear()
        self._show()

    def _own_breaks(self) -> bool:
        """Whether this label's text is broken here: not when it can be selected, since a
        copy would carry the line breaks (a name pasted elsewhere with a newline in it)."""
        selectable = Qt.TextInteractionFlag.TextSelectableByMouse
        selectable |= Qt.TextInteractionFlag.TextSelectableByKeyboard
        if self.textInteractionFlags() & selectable:
            return False
        return self._in_our_scripts

    def _text_for(self, width: int) -> str:
        if not self._own_breaks():
            return self._source
        inner = width - (self.width() - self.contentsRect().width()) - 2 * self.margin()
        inner -= max(self.indent(), 0)
        if inner not in self._shown:
            if len(self._shown) >= _WIDTHS_KEPT:  # a window dragged wider pixel by pixel
                self._shown.clear()
            self._shown[inner] = broken(
                self._source, inner, self.font(), rich=_is_rich(self, self._source)
            )
        return self._shown[inner]

    def _show(self) -> None:
        shown = self._text_for(self.width()) if self.width() > 0 else self._source
        if shown != super().text():
            super().setText(shown)

    def _as_set(self, text: str | None = None) -> QLabel:
        """A hidden plain ``QLabel`` like this one, holding ``text`` (the text as set).

        Not a child, so that it is no label of the page (``findChildren``, screen readers).
        """
        if self._twin is None:
            self._twin = QLabel()
            self._twin.setWordWrap(True)
        twin = self._twin
        twin.setFont(self.font())
        twin.setTextFormat(self.textFormat())
        twin.setAlignment(self.alignment())
        twin.setMargin(self.margin())
        twin.setIndent(self.indent())
        twin.setContentsMargins(self.contentsMargins())
        twin.setFrameStyle(self.frameStyle())
        twin.setText(self._source if text is None else text)
        return twin


class WrapDelegate(QStyledItemDelegate):
    """Item painting for a word-wrapping list: items in :func:`self_broken`'s scripts
    broken as in :class:`WrapLabel`, to the width the style gives the item's text.

    A view asks for every item's size at each layout and for the text at each paint: the
    lines are kept per text, width and font (a long note takes milliseconds to break).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: dict[tuple[str, int, str], str] = {}

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        features = QStyleOptionViewItem.ViewItemFeature
        if not option.features & features.WrapText or not breaks_itself(option.text):
            return
        width = _item_text_width(option)
        key = (option.text, width, option.font.key())
        if key not in self._lines:
            if len(self._lines) >= _ITEMS_KEPT:
                self._lines.clear()
            # an item view's text takes a line separator for a break, never a newline
            lines = broken(option.text, key[1], option.font)
            self._lines[key] = lines.replace("\n", LINE_SEPARATOR)
        option.text = self._lines[key]


def _item_text_width(option: QStyleOptionViewItem) -> int:
    """The width the style wraps an item's text at, as ``QCommonStyle`` reckons it.

    A list's item is as wide as the list when its size is asked and only as wide as its
    text when it is painted: the list's width is taken for both, or the text would be
    broken narrower at paint than its height was measured for (a line cut off)."""
    widget = option.widget
    style = widget.style() if widget is not None else QApplication.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
    width = option.rect.width()
    if isinstance(widget, QListView):
        width = widget.viewport().width()
    width -= 2 * margin
    features = QStyleOptionViewItem.ViewItemFeature
    if option.features & features.HasDecoration:
        width -= option.decorationSize.width() + 2 * margin
    if option.features & features.HasCheckIndicator:
        width -= style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, widget)
        width -= 2 * margin
    return width
