"""Personal names: Burmese honorifics, Thai titles, search variants, SSO first/last fields.

Facts (domain.md §4.2, §7.2):

* Burmese (Bamar) names have no family name. Honorifics are often written as part of the
  name: U / Daw (adults, on official documents), Maung, Ko (men), Ma (women); "U" is
  sometimes romanised "Oo". In Burmese script: ဦး, ဒေါ်, မောင်, ကို, မ.
* Thai titles นาย / นาง / นางสาว (Mr / Mrs / Miss) go into SSO's 3-digit title code:
  003, 005, 004. Other titles need a code issued by SSO, so none is guessed here.
* SSO fixed-width files have a 30-character first name and a 35-character last name.

Names are kept as written; these helpers only split, fold and fit them.
"""

from __future__ import annotations

import enum
import re
import unicodedata

from desktop.domain.text import clean, search_fold
from desktop.domain.validation import Issue, Severity, issue

# The kinds of a person's name, in the order a person's names are listed and printed: the
# name in their own script, as in the passport (Latin), the Thai transliteration (a pink
# card's), another name they go by.
NAME_KINDS = ("native", "passport", "thai", "alias")

SSO_FIRST_NAME_WIDTH = 30
SSO_LAST_NAME_WIDTH = 35
#: What goes into SSO's last-name field for a person without a family name.
NO_FAMILY_NAME = "-"


class Honorific(enum.StrEnum):
    """Burmese honorifics, coded."""

    U = "u"
    DAW = "daw"
    MAUNG = "maung"
    KO = "ko"
    MA = "ma"


class Title(enum.StrEnum):
    """Thai / English personal titles, coded."""

    MR = "mr"
    MRS = "mrs"
    MISS = "miss"
    MS = "ms"
    BOY = "boy"  # เด็กชาย, under 15
    GIRL = "girl"  # เด็กหญิง, under 15


#: SSO title codes from the contribution file layout (domain.md §4.2).
SSO_TITLE_CODES: dict[Title, str] = {Title.MR: "003", Title.MISS: "004", Title.MRS: "005"}

# Romanised honorifics (compared case-insensitively, a trailing dot ignored: "Mg.").
_LATIN_HONORIFICS: dict[str, Honorific] = {
    "u": Honorific.U,
    "oo": Honorific.U,
    "daw": Honorific.DAW,
    "maung": Honorific.MAUNG,
    "mg": Honorific.MAUNG,
    "ko": Honorific.KO,
    "ma": Honorific.MA,
}
# Burmese-script honorifics, longest first so that မောင် wins over မ.
_MYANMAR_HONORIFICS: tuple[tuple[str, Honorific], ...] = (
    ("မောင်", Honorific.MAUNG),
    ("ဒေါ်", Honorific.DAW),
    ("ကို", Honorific.KO),
    ("ဦး", Honorific.U),
    ("မ", Honorific.MA),
)
_LATIN_TITLES: dict[str, Title] = {
    "mr": Title.MR,
    "mrs": Title.MRS,
    "miss": Title.MISS,
    "ms": Title.MS,
}
# Thai titles are written straight before the name, with or without a space; longest
# first so that นางสาว is not read as นาง + "สาว...".
_THAI_TITLES: tuple[tuple[str, Title], ...] = (
    ("เด็กหญิง", Title.GIRL),
    ("เด็กชาย", Title.BOY),
    ("นางสาว", Title.MISS),
    ("น.ส.", Title.MISS),
    ("ด.ญ.", Title.GIRL),
    ("ด.ช.", Title.BOY),
    ("นาย", Title.MR),
    ("นาง", Title.MRS),
)
_PUNCTUATION = re.compile(r"[.,;:'\"()\[\]/-]")
_MY_ASAT = "\u103a"
_MY_VIRAMA = "\u1039"


def _is_myanmar_syllable_start(rest: str) -> bool:
    """True when ``rest`` begins a new Myanmar syllable (so the prefix before it was whole).

    A consonant followed by asat or virama closes or stacks onto the previous syllable
    (ကိုယ်, မင်း, မန္တလေး), and a dependent sign belongs to the previous letter.
    """
    if not rest:
        return False
    first = rest[0]
    if not 0x1000 <= ord(first) <= 0x102A:  # consonants and independent vowels
        return False
    return len(rest) == 1 or rest[1] not in (_MY_ASAT, _MY_VIRAMA)


def split_honorific(name: str) -> tuple[Honorific | None, str]:
    """Split a leading Burmese honorific: ``"U Ba Thein"`` → ``("u", "Ba Thein")``.

    The honorific is split only when more name follows, so a name that *is* "Ma" or "Ko"
    stays whole. A reduplicated name that repeats the honorific word with nothing else
    (``"Ko Ko"``, ``"Maung Maung"``, ``"မမ"``) is also left whole: such names are very
    common and the first part is more often the name than a title. In Burmese script the
    honorific must end on a syllable boundary (``မင်း`` is not ``မ`` + ``င်း``).
    """
    value = clean(name)
    words = value.split(" ")
    if len(words) >= 2:
        code = _LATIN_HONORIFICS.get(words[0].rstrip(".").casefold())
        if code is not None:
            rest = " ".join(words[1:])
            if rest.casefold() != words[0].casefold():
                return code, rest
            return None, value
    for prefix, code in _MYANMAR_HONORIFICS:
        if not value.startswith(prefix):
            continue
        rest = value[len(prefix) :]
        if rest.startswith(" "):
            rest = rest.lstrip()
        elif not _is_myanmar_syllable_start(rest):
            continue
        if rest and rest != prefix:
            return code, rest
        return None, value
    return None, value


def split_title(name: str) -> tuple[Title | None, str]:
    """Split a leading Thai or English title: ``"นางสาวสมศรี ใจดี"`` → ``("miss", "สมศรี ใจดี")``.

    Thai titles are recognised with or without a following space, as Thai writes them,
    children's too. Loose on purpose, for search (:func:`name_variants`: one more form
    of a name to find it by): a given name that itself begins with a title word (นางนวล,
    นายิกา) is split wrongly. What is written or stored reads titles with
    :func:`written_title`.
    """
    value = clean(name)
    words = value.split(" ")
    if len(words) >= 2:
        code = _LATIN_TITLES.get(words[0].rstrip(".").casefold())
        if code is not None:
            return code, " ".join(words[1:])
    for prefix, title in _THAI_TITLES:
        if value.startswith(prefix):
            rest = value[len(prefix) :].lstrip()
            if rest:
                return title, rest
    return None, value


# What an import lifts out of a name into the title (:func:`written_title`): the English
# words of _LATIN_TITLES (a dot or a space after them), and the adults' Thai ones of
# _THAI_TITLES in its order, longest first, so that นางสาว is tried before นาง.
_WRITTEN_LATIN_TITLE = re.compile(
    rf"({'|'.join(sorted(_LATIN_TITLES, key=len, reverse=True))})(?:\.\s*|\s+)(?=\S)",
    re.IGNORECASE,
)
_WRITTEN_THAI_TITLES = tuple(
    word for word, title in _THAI_TITLES if title in (Title.MR, Title.MRS, Title.MISS)
)
# A Thai given name starts with a consonant or a vowel written before one, never with a
# vowel or tone mark that belongs to the letter before it (นายิกา is not นาย + ิกา).
_THAI_NAME_START = re.compile("[\u0e01-\u0e2e\u0e40-\u0e44]")


def written_title(name: str) -> tuple[str, str] | None:
    """The title word written at the start of a full name and the name after it, read
    conservatively (an import lifts it into the person's title); None when there is none.

    * English ``Mr``, ``Mrs``, ``Miss`` or ``Ms`` in any case, followed by a dot or a space
      and more name: ``"Mrs. Aye Aye"`` → ``("Mrs", "Aye Aye")``.
    * Thai นางสาว, น.ส., นาย or นาง (tried in that order), only in a Thai full name (given
      and family name, two words at least): as a word of its own, or written straight
      before the given name (as Thai writes it) when at least two letters of it follow and
      they start as a Thai name starts: ``"นางสาวสมศรี ใจดี"`` → ``("นางสาว", "สมศรี ใจดี")``,
      ``"นางสาวิตรี ใจดี"`` → ``("นาง", "สาวิตรี ใจดี")``. A single word (``"นางรอง"``)
      is a name, not a title. Caveat: a given name that begins with a title word
      (นางนวล ใจดี) still reads as one; written with its own title (นางสาวนางนวล ใจดี),
      only that title is lifted.
    """
    value = clean(name)
    latin = _WRITTEN_LATIN_TITLE.match(value)
    if latin is not None:
        return latin.group(1), value[latin.end() :]
    words = value.split(" ")
    if len(words) < 2:
        return None
    for prefix in _WRITTEN_THAI_TITLES:
        if words[0] == prefix:
            return prefix, " ".join(words[1:])
        given = words[0].removeprefix(prefix)
        if given != words[0] and len(given) >= 2 and _THAI_NAME_START.match(given):
            return prefix, " ".join([given, *words[1:]])
    return None


def sso_title_code(title: Title | str | None) -> str | None:
    """SSO's 3-digit title code for a title, or None when SSO has not published one."""
    if title is None:
        return None
    try:
        return SSO_TITLE_CODES.get(Title(title))
    except ValueError:
        return None


def name_variants(name: str) -> set[str]:
    """Folded forms of ``name`` to index for search.

    Includes the whole name, the name without a Thai/English title or Burmese honorific,
    the honorific in its canonical romanisation ("Oo Ba" also gives "u ba"), and the same
    forms without spaces (romanised Burmese names are written "Aung Aung" or "AungAung").
    """
    _, untitled = split_title(name)
    honorific, bare = split_honorific(untitled)
    forms = {name, untitled, bare}
    if honorific is not None and bare != untitled and untitled.isascii():
        forms.add(f"{honorific.value} {bare}")
    folded = {search_fold(form) for form in forms}
    # "Mg. Thein", "Thein, Maung": punctuation is noise when searching names.
    folded |= {" ".join(_PUNCTUATION.sub(" ", form).split()) for form in folded}
    folded |= {form.replace(" ", "") for form in folded}
    folded.discard("")
    return folded


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


# Characters that belong with the character after them: Thai and Lao vowels written
# before their consonant, the Khmer coeng and Myanmar virama (stacking), and joiners.
_LEANS_RIGHT = frozenset("เแโใไເແໂໃໄ\u17d2\u1039\u200c\u200d")


def _can_break_before(value: str, index: int) -> bool:
    char = value[index]
    if _is_mark(char) or value[index - 1] in _LEANS_RIGHT:
        return False
    # A Myanmar consonant followed by asat or virama ends the previous syllable (သိန်း).
    following = value[index + 1 : index + 2]
    return not (0x1000 <= ord(char) <= 0x102A and following in (_MY_ASAT, _MY_VIRAMA))


def fit_width(value: str, width: int) -> tuple[str, bool]:
    """``value`` cut to at most ``width`` characters, and whether it was cut.

    Cuts at the last space when that keeps at least half the width; otherwise cuts hard,
    but never inside a cluster: not between a letter and its combining marks, nor after
    a Thai/Lao leading vowel, a Khmer coeng or a Myanmar virama, nor before a Myanmar
    consonant closed by asat (it belongs to the syllable before). Width counts code
    points, which is what SSO's TIS-620 files count for Thai.
    """
    if len(value) <= width:
        return value, False
    cut = width
    space = value.rfind(" ", 0, width + 1)
    if space >= width // 2:
        cut = space
    else:
        while cut > 0 and not _can_break_before(value, cut):
            cut -= 1
    return value[:cut].rstrip(), True


def _remove_family_name(full: str, family: str) -> str:
    # Khmer and Vietnamese names put the family name first, Lao and romanised names last.
    if full.casefold().endswith(" " + family.casefold()):
        return full[: -len(family)].rstrip()
    if full.casefold().startswith(family.casefold() + " "):
        return full[len(family) :].lstrip()
    return full


def split_for_sso(full_name: str, family_name: str | None = None) -> tuple[str, str, list[Issue]]:
    """Fit a name into SSO's first-name (30) and last-name (35) fields.

    Rules (domain.md §4.2, §7.2):

    * A Thai/English title written at the start of the name, as :func:`written_title`
      reads one, is dropped (the title code comes from the person's title), with a
      WARNING ``name.title_dropped`` naming it and what is left: a given name that
      begins like a title (นางนวล) must be checked against the worker's documents.
      Anything else stays: a name is never cut inside a word (นายิกา stays whole).
    * With a family name: the last name is the family name; the first name is
      ``full_name`` without the family name if ``full_name`` starts or ends with it.
    * Without a family name (most Burmese names): the whole name goes into the first
      name and the last name is ``"-"``. Honorifics written as part of the name (U, Daw,
      Maung...) stay, because the worker's documents show them. If such a name is longer
      than 30 characters, the words that do not fit move to the last-name field (WARNING
      ``name.split_for_length``) rather than being lost.
    * Anything still too long is cut at a word boundary where possible (WARNING
      ``name.truncated`` with ``field``, ``width`` and ``original``).
    * An empty name is an ERROR ``name.required``.
    """
    issues: list[Issue] = []
    full = clean(full_name)
    written = written_title(full)
    if written is not None:
        word, full = written
        issues.append(
            issue("name.title_dropped", "first_name", Severity.WARNING, title=word, name=full)
        )
    family = clean(family_name or "")
    if not full:
        return "", "", [issue("name.required", "first_name")]

    if family:
        first = _remove_family_name(full, family) or full
        last = family
    else:
        first, last = full, NO_FAMILY_NAME
        space = full.rfind(" ", 0, SSO_FIRST_NAME_WIDTH + 1)
        if len(full) > SSO_FIRST_NAME_WIDTH and space > 0:
            first, last = full[:space], full[space + 1 :]
            issues.append(
                issue(
                    "name.split_for_length", "first_name", Severity.WARNING, first=first, last=last
                )
            )

    fields = (("first_name", first, SSO_FIRST_NAME_WIDTH), ("last_name", last, SSO_LAST_NAME_WIDTH))
    fitted: list[str] = []
    for field, value, width in fields:
        short, cut = fit_width(value, width)
        if cut:
            issues.append(
                issue("name.truncated", field, Severity.WARNING, width=width, original=value)
            )
        fitted.append(short)
    return fitted[0], fitted[1], issues


__all__ = [
    "NAME_KINDS",
    "NO_FAMILY_NAME",
    "SSO_FIRST_NAME_WIDTH",
    "SSO_LAST_NAME_WIDTH",
    "SSO_TITLE_CODES",
    "Honorific",
    "Title",
    "fit_width",
    "name_variants",
    "split_for_sso",
    "split_honorific",
    "split_title",
    "sso_title_code",
    "written_title",
]
