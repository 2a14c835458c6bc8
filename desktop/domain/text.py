"""Text hygiene for names and search across Thai, Burmese, Khmer, Lao and Latin scripts.

* :func:`clean` is what gets stored: NFC, trimmed, single spaces, no invisible junk.
* :func:`search_fold` is what gets indexed and compared: clean, case-folded, Latin
  diacritics removed (Vietnamese "Nguyễn" finds "nguyen"), all digit systems as ASCII.
  Thai, Myanmar, Khmer and Lao marks are letters of their words and are kept.
  :func:`name_forms` adds a stored Zawgyi name's Unicode form.
* :class:`Script` and :func:`scripts_in` tell which scripts a string uses, e.g. to pick
  a romanised or native-script name for a form.
* Zawgyi helpers are re-exported from :mod:`desktop.domain.zawgyi`;
  :func:`check_encoding` wraps them into coded issues for the input forms.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections import Counter

from desktop.domain.validation import Issue, Severity, issue
from desktop.domain.zawgyi import (
    DEFAULT_THRESHOLD,
    ZawgyiConversionError,
    ZawgyiResult,
    detect_and_convert,
    has_myanmar,
    looks_like_zawgyi,
    zawgyi_probability,
    zawgyi_to_unicode,
)

ZWNJ = "\u200c"
ZWJ = "\u200d"
# Invisible characters that only get in the way of matching: zero width space, word
# joiner, BOM / zero width no-break space, soft hyphen, directional marks. ZWNJ and ZWJ
# are kept inside words because they change how some scripts join (and are dropped at
# word edges, where they do nothing). Control characters pasted from spreadsheets go too
# (those that count as whitespace, like tab and NEL, are collapsed into spaces instead).
_INVISIBLE = re.compile(
    "[\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
)
_EDGE_JOINERS = re.compile(rf"(?:(?<=\s)|^)[{ZWNJ}{ZWJ}]+|[{ZWNJ}{ZWJ}]+(?=\s|$)")
_WHITESPACE = re.compile(r"\s+")

# Digits of the region's scripts, folded to ASCII for searching ID numbers and dates.
_DIGIT_FOLD = str.maketrans(
    {
        **{chr(0x0E50 + i): str(i) for i in range(10)},  # Thai
        **{chr(0x1040 + i): str(i) for i in range(10)},  # Myanmar
        **{chr(0x1090 + i): str(i) for i in range(10)},  # Myanmar Shan digits
        **{chr(0x17E0 + i): str(i) for i in range(10)},  # Khmer
        **{chr(0x0ED0 + i): str(i) for i in range(10)},  # Lao
    }
)
# Latin letters with no decomposition that people type without their stroke.
_LATIN_STROKES = str.maketrans({"đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"})


class Script(enum.StrEnum):
    """The writing systems Sapan cares about; everything else is ``OTHER``."""

    THAI = "thai"
    MYANMAR = "myanmar"
    KHMER = "khmer"
    LAO = "lao"
    LATIN = "latin"
    OTHER = "other"


_SCRIPT_RANGES: tuple[tuple[int, int, Script], ...] = (
    (0x0E00, 0x0E7F, Script.THAI),
    (0x0E80, 0x0EFF, Script.LAO),
    (0x1000, 0x109F, Script.MYANMAR),
    (0xA9E0, 0xA9FF, Script.MYANMAR),  # Myanmar Extended-B
    (0xAA60, 0xAA7F, Script.MYANMAR),  # Myanmar Extended-A
    (0x1780, 0x17FF, Script.KHMER),
    (0x19E0, 0x19FF, Script.KHMER),  # Khmer symbols
    (0x0041, 0x024F, Script.LATIN),  # Basic Latin letters to Latin Extended-B
    (0x1E00, 0x1EFF, Script.LATIN),  # Latin Extended Additional (Vietnamese)
)


def nfc(text: str) -> str:
    """``text`` in Unicode normalisation form C (composed), the stored form."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC, invisible characters removed, whitespace collapsed to single spaces, trimmed."""
    value = _WHITESPACE.sub(" ", _INVISIBLE.sub("", nfc(text)))
    return _EDGE_JOINERS.sub("", value).strip()


def clean_lines(text: str) -> str:
    """Free text as written (a note, a step's remark): NFC, invisible and control characters
    removed (a pasted NUL, which no server stores), its lines and spacing kept, trimmed."""
    return _INVISIBLE.sub("", nfc(text)).strip()


def script_of(char: str) -> Script | None:
    """The script of one character; None for digits, punctuation, spaces and marks-only blocks."""
    code = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= code <= high:
            if script is Script.LATIN and not char.isalpha():
                return None
            return script
    if char.isalpha():
        return Script.OTHER
    return None


def scripts_in(text: str) -> set[Script]:
    """Every script used by a letter (or script-specific digit/mark) in ``text``."""
    return {s for s in map(script_of, text) if s is not None}


def dominant_script(text: str) -> Script:
    """The script with the most characters in ``text``.

    Ties go to the script listed first in :class:`Script`; text without any letters gives
    ``OTHER``.
    """
    counts = Counter(s for s in map(script_of, text) if s is not None)
    if not counts:
        return Script.OTHER
    order = list(Script)
    return max(counts, key=lambda s: (counts[s], -order.index(s)))


def _strip_latin_marks(text: str) -> str:
    out: list[str] = []
    base_is_latin = False
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            if not base_is_latin:
                out.append(char)
            continue
        base_is_latin = script_of(char) is Script.LATIN
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def search_fold(text: str) -> str:
    """The form used to index and compare names: see the module docstring."""
    value = clean(text).casefold()
    if value.isascii():  # most romanised names: nothing left to fold
        return value
    return _strip_latin_marks(value.translate(_LATIN_STROKES).translate(_DIGIT_FOLD))


def name_forms(name: str) -> list[str]:
    """The folded forms a name is indexed and compared by: as stored, and for Burmese
    that looks like Zawgyi (kept as typed when the person said it was not, or imported
    so) its Unicode form too, so that the same name typed on either keyboard meets."""
    folded = search_fold(name)
    if not looks_like_zawgyi(name):
        return [folded]
    try:
        converted = search_fold(zawgyi_to_unicode(name))
    except ZawgyiConversionError:  # then only as stored
        return [folded]
    return list(dict.fromkeys((folded, converted)))


def check_encoding(text: str, field: str = "name") -> tuple[ZawgyiResult, list[Issue]]:
    """Detect Zawgyi in a typed value and report it for the person to confirm.

    Returns the :func:`detect_and_convert` result and: a WARNING
    ``text.zawgyi_converted`` (params ``original``, ``converted``) when the text was
    converted, an ERROR ``text.zawgyi_unconvertible`` when it looks like Zawgyi but could
    not be converted without loss, or nothing.
    """
    result = detect_and_convert(text)
    if not result.was_zawgyi:
        return result, []
    if result.text == result.raw:
        return result, [issue("text.zawgyi_unconvertible", field)]
    return result, [
        issue(
            "text.zawgyi_converted",
            field,
            Severity.WARNING,
            original=result.raw,
            converted=result.text,
        )
    ]


__all__ = [
    "DEFAULT_THRESHOLD",
    "ZWJ",
    "ZWNJ",
    "Script",
    "ZawgyiConversionError",
    "ZawgyiResult",
    "check_encoding",
    "clean",
    "detect_and_convert",
    "dominant_script",
    "has_myanmar",
    "looks_like_zawgyi",
    "nfc",
    "script_of",
    "scripts_in",
    "search_fold",
    "zawgyi_probability",
    "zawgyi_to_unicode",
]
