"""Zawgyi-encoded Burmese: detect it and convert it to Unicode.

Zawgyi is a legacy font encoding that reuses the Unicode Myanmar code points with other
meanings (vowel E and medial RA typed before the consonant, stacked consonants as single
code points, different medial code points). Much Burmese text typed on phones is still
Zawgyi (domain.md §7.1). Sapan stores only Unicode: on input, text is checked here, the
UI asks the person to confirm the conversion, and the raw input is kept for the audit
trail.

Two libraries do the work:

* detection: Google's ``myanmartools`` Markov-model detector, which gives a probability
  and, unlike rule-based detectors, does not mistake Shan or Mon text for Zawgyi;
* conversion: ``python-myanmar`` (MIT), a table-driven syllable converter. Its output is
  normalised here (dot below before asat, NFC), and its one failure path (an unknown mark
  combination, which it reports by printing and then drops the mark) is caught and
  raised as :class:`ZawgyiConversionError` so that no character is lost silently.

Threshold: :data:`DEFAULT_THRESHOLD` is 0.95. Measured with this detector, fully
Zawgyi-specific names score above 0.99 (``ေမာင္ေမာင္`` 1.0, ``ေဒၚေအးေအး`` 1.0,
``ကုိကုိ`` 0.99996), while short Unicode strings that are valid in both encodings score
up to about 0.86 (``ဦးဘ`` 0.855, ``ကိုကို`` 0.69, ``မ`` 0.51). A lower threshold would
flag such Unicode names; a missed short Zawgyi string (``မဂၤလာပါ`` scores 0.54) costs
less than corrupting correct Unicode, and such strings are caught once more text is typed.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import threading
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

DEFAULT_THRESHOLD = 0.95

_MYANMAR_BLOCK = re.compile("[\u1000-\u109f]")
# Myanmar Extended-A/B hold Shan, Khamti, Aiton, Pa'O and other minority letters that
# Zawgyi never encoded: text containing them is Unicode.
_UNICODE_ONLY_BLOCKS = re.compile("[\uaa60-\uaa7f\ua9e0-\ua9ff]")

_ASAT = "\u103a"
_DOT_BELOW = "\u1037"

_convert_lock = threading.Lock()


class ZawgyiConversionError(ValueError):
    """The converter met a combination it cannot convert without dropping a character."""


class ZawgyiResult(NamedTuple):
    """Outcome of :func:`detect_and_convert`.

    ``text`` is what to store (Unicode), ``was_zawgyi`` says whether a conversion happened
    (the UI then asks for confirmation), ``raw`` is the input exactly as received.
    """

    text: str
    was_zawgyi: bool
    raw: str


@functools.cache
def _detector() -> Any:
    import myanmartools

    # myanmartools 1.2 loads its model with importlib.resources.open_binary, deprecated
    # in Python 3.11 (and un-deprecated in 3.13); the warning is harmless here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return myanmartools.ZawgyiDetector()


def has_myanmar(text: str) -> bool:
    """True when ``text`` contains any character of the Myanmar block."""
    return _MYANMAR_BLOCK.search(text) is not None


def _has_unicode_only_letters(text: str) -> bool:
    return _UNICODE_ONLY_BLOCKS.search(text) is not None


def zawgyi_probability(text: str) -> float:
    """Probability (0-1) that ``text`` is Zawgyi rather than Unicode Burmese.

    Text without Myanmar characters gives 0.0 (the detector itself returns -inf there).
    """
    if not has_myanmar(text) or _has_unicode_only_letters(text):
        return 0.0
    probability = _probability(text)
    if math.isnan(probability) or probability < 0.0:
        return 0.0
    return probability


@functools.cache
def _chain() -> tuple[dict[str, int], Sequence[float], int] | None:
    """The detector's Markov chain: character -> state, the log-likelihood ratio of each
    pair of states, the number of states; None if the library keeps it otherwise."""
    detector = _detector()
    chars, params = getattr(detector, "_chars", None), getattr(detector, "_params", None)
    if not isinstance(chars, Sequence) or not isinstance(params, Sequence):
        return None
    return {char: i + 1 for i, char in enumerate(chars)}, params, len(chars) + 1


def _probability(text: str) -> float:
    """The detector's own probability, walked once with a table instead of its two
    binary searches per character, twice (a search index tests every Burmese name)."""
    chain = _chain()
    if chain is None:
        return float(_detector().get_zawgyi_probability(text))
    states, params, size = chain
    total, seen, previous = 0.0, False, 0  # state 0: the start, the end, a foreign char
    for state in [*(states.get(char, 0) for char in text), 0]:
        ratio = params[previous * size + state]
        if not math.isnan(ratio):
            total, seen = total + ratio, True
        previous = state
    if not seen:
        return -math.inf
    if total >= 0:  # as the detector computes Pz / (Pu + Pz) without overflow
        odds = math.exp(-total)
        return odds / (odds + 1)
    return 1 / (1 + math.exp(total))


def looks_like_zawgyi(text: str, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """True when ``text`` is Myanmar-script text that is probably Zawgyi.

    See the module docstring for why the default threshold is 0.95.
    """
    return zawgyi_probability(text) >= threshold


def _normalise_unicode(text: str) -> str:
    # Unicode's storage order puts dot below (U+1037) before asat (U+103A); the converter
    # emits them the other way round. NFC also composes U+1025 U+102E into U+1026 (ဦ).
    return unicodedata.normalize("NFC", text.replace(_ASAT + _DOT_BELOW, _DOT_BELOW + _ASAT))


def zawgyi_to_unicode(text: str) -> str:
    """Convert Zawgyi ``text`` to Unicode; non-Myanmar characters pass through.

    Only call this on text known to be Zawgyi (:func:`looks_like_zawgyi`): applied to
    Unicode Burmese it garbles the text. Raises :class:`ZawgyiConversionError` when the
    converter would drop a mark it cannot place.
    """
    if not has_myanmar(text):
        return text
    from myanmar import converter

    complaints = io.StringIO()
    # The converter prints (and skips) syllable parts it has no mapping for. Capturing
    # stdout swaps a process-wide object, hence the lock; a conversion takes microseconds.
    with _convert_lock, contextlib.redirect_stdout(complaints):
        converted = str(converter.convert(text, "zawgyi", "unicode"))
    if complaints.getvalue():
        raise ZawgyiConversionError(f"cannot convert {text!r} without losing characters")
    return _normalise_unicode(converted)


def detect_and_convert(text: str, threshold: float = DEFAULT_THRESHOLD) -> ZawgyiResult:
    """Convert ``text`` when it looks like Zawgyi; otherwise return it unchanged.

    ``was_zawgyi`` is True only when the text looked like Zawgyi **and** the conversion
    changed it (text valid in both encodings, such as ``ကိုကို``, is left alone). When the
    converter cannot convert without loss, the raw text comes back with ``was_zawgyi``
    True so the UI can ask the person to retype it.
    """
    if not looks_like_zawgyi(text, threshold):
        return ZawgyiResult(text, False, text)
    try:
        converted = zawgyi_to_unicode(text)
    except ZawgyiConversionError:
        return ZawgyiResult(text, True, text)
    return ZawgyiResult(converted, converted != text, text)


__all__ = [
    "DEFAULT_THRESHOLD",
    "ZawgyiConversionError",
    "ZawgyiResult",
    "detect_and_convert",
    "has_myanmar",
    "looks_like_zawgyi",
    "zawgyi_probability",
    "zawgyi_to_unicode",
]
