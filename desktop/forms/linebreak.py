"""Line breaking for Thai, Lao, Burmese and Khmer text before ReportLab sees it.

These scripts write words without spaces. ReportLab, left alone, breaks such a line at
an arbitrary character (even between a consonant and its vowel mark), so long text is
broken here and joined with ``<br/>``.

Break opportunities, best first:

1. spaces, and U+200B ZERO WIDTH SPACE, which the catalogue texts place at word
   boundaries (the way Khmer is traditionally typed); ZWSP is removed from the output;
2. if a single run is still wider than the line, syllable-cluster boundaries: never
   inside a cluster of base + marks, never after a Thai/Lao leading vowel, never before
   a Burmese asat/virama-marked consonant or after a Burmese virama or Khmer coeng.

The second rule can break inside a word; it is a last resort for text typed without
spaces (e.g. an injury description), never for the catalogue texts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from xml.sax.saxutils import escape

ZWSP = "\u200b"
# Thai and Lao vowels written before the consonant they follow in speech.
_LEADING_VOWELS = frozenset("เแโใไ" + "ເແໂໃໄ")
# Burmese virama (stacker) and Khmer coeng join the next consonant to this one.
_JOINERS = frozenset("\u1039\u17d2")
# Burmese asat and virama after a consonant make it part of the previous syllable.
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
            continue
        if text[i - 1] in _LEADING_VOWELS or text[i - 1] in _JOINERS:
            continue
        if i + 1 < len(text) and text[i + 1] in _ATTACH_BACK:
            continue
        # Thai/Lao vowels that follow the consonant (า, ะ, ຳ...) are category Lo too:
        # they belong to the cluster before them.
        if char in _FOLLOWING_VOWELS:
            continue
        breaks.append(i)
    return breaks


def _split_run(run: str, width: float, measure: Measure) -> list[str]:
    """Split one space-free run, greedily, at cluster boundaries (rule 2)."""
    pieces: list[str] = []
    start = previous = 0
    for bound in [*cluster_breaks(run), len(run)]:
        if measure(run[start:bound]) > width:
            if previous > start:
                pieces.append(run[start:previous])
                start = previous
            if measure(run[start:bound]) > width:
                # One cluster wider than the line: keep it whole rather than cut marks off.
                pieces.append(run[start:bound])
                start = bound
        previous = bound
    if start < len(run):
        pieces.append(run[start:])
    return pieces


def break_lines(text: str, width: float, measure: Measure) -> list[str]:
    """Lines of ``text`` each at most ``width`` wide (by ``measure``), breaking at words.

    Paragraph breaks (newlines) in ``text`` are kept. ZWSP marks a break opportunity and
    never appears in the result.
    """
    if width <= 0:
        raise ValueError("width must be positive")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_break_paragraph(paragraph, width, measure))
    return lines


def _break_paragraph(paragraph: str, width: float, measure: Measure) -> list[str]:
    # Tokens: words separated by a space (kept as " ") or by ZWSP (joined with nothing).
    tokens: list[tuple[str, str]] = []  # (word, separator before it)
    for s_index, spaced in enumerate(paragraph.split(" ")):
        for z_index, word in enumerate(spaced.split(ZWSP)):
            sep = " " if (z_index == 0 and s_index > 0) else ""
            if word:
                tokens.append((word, sep))
    lines: list[str] = []
    current = ""
    for word, sep in tokens:
        candidate = current + (sep if current else "") + word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if measure(word) <= width:
            current = word
            continue
        pieces = _split_run(word, width, measure)
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current or not lines:
        lines.append(current)
    return lines


def paragraph_markup(text: str, width: float, measure: Measure) -> str:
    """``text`` pre-broken and escaped for a ReportLab Paragraph (lines joined by <br/>)."""
    return "<br/>".join(escape(line) for line in break_lines(text, width, measure))
