"""Where Thai and Lao words begin, found with word lists, for breaking lines between words.

Thai and Lao are written without spaces between words. A line broken between two
syllables of one word (โรงพ|ยาบาล) is hard to read; :mod:`desktop.domain.linebreak`
prefers the word boundaries found here and breaks between syllables only inside a word
wider than the line. The word lists (``resources/text/``: 60,795 Thai words from
PyThaiNLP, CC0 1.0; 21,380 Lao words from Google's language-resources, Apache 2.0; see
its README) are read the first time a Thai or Lao run has to be broken. The two scripts
share no letter, so one set holds both.

Segmentation is maximal matching: of the ways to cut a run at syllable-cluster
boundaries into known words and unknown clusters, the one with the fewest unknown
clusters, then the fewest words. Unknown clusters next to each other (a name, a
misspelling) stay one piece: no boundary is claimed inside what the lists do not know.
"""

from __future__ import annotations

import functools
import gzip
import re

from desktop.domain.resources import resource_path

# The word lists, one per script.
LISTS = ("thai_words.txt.gz", "lao_words.txt.gz")
# The longest word in the lists, in characters: no longer piece is looked up.
MAX_WORD = 24
_LISTED = re.compile("[\u0e01-\u0e4e\u0e81-\u0edf]")  # a Thai or Lao letter or mark


@functools.cache
def words() -> frozenset[str]:
    """Every word of the lists (read once, on first use)."""
    found: set[str] = set()
    for name in LISTS:
        data = gzip.decompress(resource_path("text", name).read_bytes())
        found.update(data.decode("utf-8").split())
    return frozenset(found)


def word_starts(text: str, cuts: list[int]) -> set[int]:
    """The indexes of ``cuts`` (where ``text`` may break between syllable clusters, in
    order, without 0 and ``len(text)``) at which a new word begins; empty for text with no
    Thai or Lao letter."""
    if not _LISTED.search(text):
        return set()
    known = words()
    points = [0, *cuts, len(text)]
    # best[k]: (unknown clusters, pieces) of the best segmentation of text[:points[k]]
    best: list[tuple[int, int]] = [(0, 0)] + [(len(text) + 1, 0)] * (len(points) - 1)
    came: list[tuple[int, bool]] = [(0, False)] * len(points)  # (from k, an unknown piece)
    for k, start in enumerate(points[:-1]):
        unknown, pieces = best[k]
        step = (unknown + 1, pieces + 1)  # one cluster the lists may not know
        if step < best[k + 1]:
            best[k + 1], came[k + 1] = step, (k, True)
        for m in range(k + 1, len(points)):
            end = points[m]
            if end - start > MAX_WORD:
                break
            if text[start:end] in known and (unknown, pieces + 1) < best[m]:
                best[m], came[m] = (unknown, pieces + 1), (k, False)
    starts: set[int] = set()
    k, after_unknown = len(points) - 1, False
    while k > 0:
        previous, unknown_piece = came[k]
        if k < len(points) - 1 and not (unknown_piece and after_unknown):
            starts.add(points[k])
        k, after_unknown = previous, unknown_piece
    return starts
