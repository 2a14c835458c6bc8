"""Line breaking for Thai, Lao, Burmese and Khmer text, where the renderer breaks it wrongly.

These scripts write words without spaces. ReportLab, left alone, breaks such a line at
an arbitrary character (even between a consonant and its vowel mark), and Qt breaks
Burmese inside syllables; the PDFs (:mod:`desktop.forms.render`) and the UI's wrapping
labels (:mod:`desktop.ui.wrap`) break lines here instead, each with its own measure.

Break opportunities, best first:

1. spaces, and U+200B ZERO WIDTH SPACE, the way Khmer is traditionally typed; ZWSP is
   removed from the output;
2. if a single run is still wider than the line, between Thai or Lao words
   (:mod:`desktop.domain.words`: word lists, as both are written without spaces);
3. inside a word wider than the line, or a run in a script with no word list,
   syllable-cluster boundaries: never inside a cluster of base + marks, never after a
   Thai/Lao leading vowel, never before a Burmese asat/virama-marked consonant or after
   a Burmese virama or Khmer coeng.

A run broken by rules 2 and 3 begins on the line before it, after its last word, where
there is room. The third rule breaks inside a word; it is a last resort for text typed
without spaces in Burmese or Khmer, a Thai or Lao word the lists do not know, or a
phrase wider than a narrow column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from xml.sax.saxutils import escape

from desktop.domain import words

ZWSP = "\u200b"
# Thai and Lao vowels written before the consonant they follow in speech.
_LEADING_VOWELS = frozenset("เแโใไ" + "ເແໂໃໄ")
# Burmese virama (stacker) and Khmer coeng join the next consonant to this one.
_JOINERS = frozenset("\u1039\u17d2")
# Burmese asat and virama on a consonant make it part of the previous syllable.
_ATTACH_BACK = frozenset("\u103a\u1039")

# Thai/Lao vowels written after the consonant are category Lo but belong to its cluster.
_FOLLOWING_VOWELS = frozenset("ะาำๅๆ" + "ະາຳ")

Measure = Callable[[str], float]


def cluster_breaks(text: str) -> list[int]:
    """Indexes where a line may break inside a run with no spaces (rule 2)."""
    breaks = []
    for i in range(1, len(text)):
        char = text[i]
        if unicodedata.category(char) != "Lo":
            # a number typed straight after a word of these scripts (เมื่อ12มีนาคม)
            if char.isdecimal() and unicodedata.category(text[i - 1]) in ("Lo", "Mn"):
                breaks.append(i)
            continue
        if text[i - 1] in _LEADING_VOWELS or text[i - 1] in _JOINERS:
            continue
        if _attaches_back(text, i):
            continue
        # Thai/Lao vowels that follow the consonant (า, ะ, ຳ...) are category Lo too:
        # they belong to the cluster before them.
        if char in _FOLLOWING_VOWELS:
            continue
        breaks.append(i)
    return breaks


def _attaches_back(text: str, index: int) -> bool:
    """Whether the letter at ``index`` is killed by an asat (or stacked by a virama) and so
    ends the syllable before it. A dot below may stand between (သင့်: NFC puts U+1037
    first); an asat after a vowel sign (တော်) is part of the vowel, not a final."""
    after = text[index + 1 : index + 3].lstrip("\u1037")
    return after[:1] in _ATTACH_BACK


Span = tuple[int, int]
# The width of ``paragraph[start:end]``: lets a caller measure text in several fonts.
SpanMeasure = Callable[[int, int], float]
_WORD = re.compile(f"[^ {ZWSP}]+")


def _split_run(
    run: str, start: int, width: float, measure: SpanMeasure, current: Span | None
) -> list[Span]:
    """Split one space-free run, beginning at ``start``: each piece the longest that fits
    and ends between words (rule 2), else between clusters (rule 3), a cluster wider than
    the line alone and whole. The first piece goes on the ``current`` line, after what it
    holds, when a word of it fits there: a run broken anyway does not leave a line with
    one word on it before it."""
    cuts = cluster_breaks(run)
    bounds = [start + i for i in cuts]
    bounds.append(start + len(run))
    # where a piece should end: between two words, or anywhere when no word is known
    starts = {start + i for i in words.word_starts(run, cuts)}
    ends = starts | {bounds[-1]} if starts else set(bounds)

    def between_words(index: int, last: int) -> int:
        """The last of ``bounds[index:last + 1]`` between two words (``index - 1``: none)."""
        while last >= index and bounds[last] not in ends:
            last -= 1
        return last

    pieces: list[Span] = []
    first, index = start, 0  # bounds[index:] lie after first
    if current is not None:
        filled = between_words(0, _furthest_fit(bounds, 0, current[0], width, measure))
        if filled < 0:  # not one word more fits there
            pieces.append(current)
        else:
            pieces.append((current[0], bounds[filled]))
            first, index = bounds[filled], filled + 1
    while index < len(bounds):
        fits = _furthest_fit(bounds, index, first, width, measure)
        last = between_words(index, fits)
        if last < index:  # a word wider than the line: between its clusters (rule 3)
            last = fits
        # One cluster wider than the line: keep it whole rather than cut marks off.
        last = max(last, index)
        pieces.append((first, bounds[last]))
        first, index = bounds[last], last + 1
    return pieces


def _furthest_fit(
    bounds: list[int], index: int, first: int, width: float, measure: SpanMeasure
) -> int:
    """The last ``i`` from ``index`` on with ``first .. bounds[i]`` at most ``width`` wide
    (``index - 1`` if none). Found by galloping, then halving: a few measures a line,
    each no longer than about two lines, where trying every cluster in turn took one per
    cluster (a long run typed without spaces: a note in Thai)."""
    fits, fails = index - 1, len(bounds)  # furthest known to fit, nearest known not to
    step = 1
    while fits + step < fails:
        probe = fits + step
        if measure(first, bounds[probe]) > width:
            fails = probe
            break
        fits, step = probe, step * 2
    while fails - fits > 1:
        middle = (fits + fails) // 2
        if measure(first, bounds[middle]) <= width:
            fits = middle
        else:
            fails = middle
    return fits


def line_spans(paragraph: str, width: float, measure: SpanMeasure) -> list[Span]:
    """Where each line of one ``paragraph`` (no newlines) begins and ends, at most ``width``
    wide by ``measure``. The spaces or ZWSP a line breaks at belong to no line."""
    if width <= 0:
        raise ValueError("width must be positive")
    lines: list[Span] = []
    current: Span | None = None
    for word in _WORD.finditer(paragraph):
        start, end = word.span()
        if current is not None and measure(current[0], end) <= width:
            current = (current[0], end)
            continue
        if measure(start, end) <= width:  # on a line of its own
            if current is not None:
                lines.append(current)
            current = (start, end)
            continue
        pieces = _split_run(word.group(), start, width, measure, current)
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current is not None:
        lines.append(current)
    return lines or [(0, 0)]


def break_lines(text: str, width: float, measure: Measure) -> list[str]:
    """Lines of ``text`` each at most ``width`` wide (by ``measure``), breaking at words.

    Paragraph breaks (newlines) in ``text`` are kept. ZWSP marks a break opportunity and
    never appears in the result.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):

        def span_width(start: int, end: int, paragraph: str = paragraph) -> float:
            return measure(paragraph[start:end].replace(ZWSP, ""))

        lines.extend(
            paragraph[start:end].replace(ZWSP, "")
            for start, end in line_spans(paragraph, width, span_width)
        )
    return lines


def paragraph_markup(text: str, width: float, measure: Measure) -> str:
    """``text`` pre-broken and escaped for a ReportLab Paragraph (lines joined by <br/>)."""
    return "<br/>".join(escape(line) for line in break_lines(text, width, measure))
