"""The one message catalogue for every user-visible string: UI, CLI, rules and forms.

Catalogue files are ``resources/translations/*.yaml``; each maps a key to its text in
the five languages::

    error.wrong_passphrase:
      en: "The passphrase is wrong."
      th: "..."
      my: "..."
      km: "..."
      lo: "..."

Keys are namespaced by area (``error.``, ``id.``, ``rule.``, ``form.``, ``ui.``, ``qt.``).
Placeholders use ``str.format`` names: ``{months}``. A missing translation falls back
to English, and the test suite fails on any key that lacks a language.

A message with a count may give, in a language whose nouns change with it, one text per
CLDR plural category, chosen by the parameter named ``count`` (:func:`plural_category`)::

    ui.cases.count:
      en:
        one: "{count} case"
        other: "{count} cases"
      th: "{count} กรณี"

English has ``one`` (exactly 1) and ``other``; Thai, Burmese, Khmer and Lao have no plural
inflection, so they keep one text. Elsewhere, and in :func:`catalogue`, the ``other``
form is the message's text. A message with several counts says each as a label and its
number ("refused: {failed}") rather than a noun after a number. A parameter that
is itself catalogue text (a :class:`Phrase`, such as the :class:`Detail` of a synced row)
is put in the message's own language, so code that makes a coded issue need not know
who will read it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.domain.catalogue import TOMBSTONE_FIELD, WHOLE_ROW
from desktop.domain.resources import load_yaml, resource_path

LANGUAGES: tuple[str, ...] = ("en", "th", "my", "km", "lo")
LANGUAGE_NAMES: Mapping[str, str] = {
    "en": "English",
    "th": "ไทย",
    "my": "မြန်မာ",
    "km": "ខ្មែរ",
    "lo": "ລາວ",
}
DEFAULT_LANGUAGE = "en"


# The parameter whose value chooses a message's plural form.
COUNT = "count"
# The CLDR plural categories of each language's cardinal numbers ("other" always last).
PLURAL_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "en": ("one", "other"),
    "th": ("other",),
    "my": ("other",),
    "km": ("other",),
    "lo": ("other",),
}


class CatalogueError(ValueError):
    """A catalogue file is malformed or two files define the same key."""


Texts = Mapping[str, Mapping[str, str]]  # key -> language -> text
PluralForms = Mapping[str, Mapping[str, Mapping[str, str]]]  # key -> language -> category


@functools.cache
def _load() -> tuple[Texts, PluralForms]:
    """Every catalogue file, loaded once: each key's text per language (a plural message's
    ``other`` form), and the forms per plural category of the messages that have them."""
    merged: dict[str, dict[str, str]] = {}
    plurals: dict[str, dict[str, dict[str, str]]] = {}
    folder = resource_path("translations")
    for path in sorted(folder.glob("*.yaml")):
        data = load_yaml(path) or {}
        if not isinstance(data, dict):
            raise CatalogueError(f"{path.name}: top level must be a mapping")
        for key, texts in data.items():
            if key in merged:
                raise CatalogueError(f"{path.name}: key {key!r} is defined twice")
            if not isinstance(texts, dict) or "en" not in texts:
                raise CatalogueError(f"{path.name}: key {key!r} needs at least an 'en' text")
            merged[str(key)] = {}
            for lang, value in texts.items():
                if isinstance(value, dict):
                    forms = _plural_forms(f"{path.name}: key {key!r} [{lang}]", str(lang), value)
                    plurals.setdefault(str(key), {})[str(lang)] = forms
                    value = forms["other"]
                merged[str(key)][str(lang)] = str(value)
    return merged, plurals


def _plural_forms(where: str, lang: str, forms: Mapping[Any, Any]) -> dict[str, str]:
    """A language's texts per plural category, checked: ``other`` and only the categories
    the language has."""
    known = PLURAL_CATEGORIES.get(lang, ("other",))
    wrong = [str(category) for category in forms if category not in known]
    if wrong or "other" not in forms:
        raise CatalogueError(
            f"{where}: plural forms must be {', '.join(known)} (with other), not {list(forms)}"
        )
    return {str(category): str(value) for category, value in forms.items()}


def catalogue() -> Texts:
    """All keys from every catalogue file (a plural message as its ``other`` form)."""
    return _load()[0]


def plural_forms() -> PluralForms:
    """The messages that have a text per plural category in some language, by key."""
    return _load()[1]


def plural_category(lang: str, count: object) -> str:
    """The CLDR plural category of ``count`` in ``lang``: English ``one`` for exactly 1
    (written so: ``1.0`` is ``other``, as CLDR has it), else ``other``; Thai, Burmese,
    Khmer and Lao have ``other`` alone."""
    if "one" in PLURAL_CATEGORIES.get(lang, ()) and str(count) == "1":
        return "one"
    return "other"


def has(key: str) -> bool:
    return key in catalogue()


def coded_name(prefix: str, code: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A stored code's name in ``lang``: the text of ``<prefix>.<code>`` (``ui.title.miss``
    is Miss), a code the catalogue does not name (a newer colleague's) as it is, and ""
    for none. The case file and ``sapan case show`` name a title, marital status or
    nationality through it."""
    key = f"{prefix}.{code}"
    return text(key, lang) if code and has(key) else code or ""


def text(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``params`` filled in; a message with plural
    forms in that language takes the form of its ``count`` parameter's category.

    An unknown key returns the key itself (visible, greppable, and caught by tests).
    """
    texts = catalogue().get(key)
    if texts is None:
        return key
    written = lang if texts.get(lang) else DEFAULT_LANGUAGE  # a missing text: English
    template = texts[written]
    if not params:
        return template
    forms = plural_forms().get(key, {}).get(written)
    if forms is not None and COUNT in params:
        template = forms.get(plural_category(written, params[COUNT]), template)
    if any(isinstance(value, Phrase) for value in params.values()):
        params = {
            name: value.in_language(lang) if isinstance(value, Phrase) else value
            for name, value in params.items()
        }
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return texts["en"].format_map(_Lenient(params))


def missing_translations(lang: str) -> list[str]:
    """Keys that have no text in ``lang``: the completeness tests assert this is empty."""
    return sorted(key for key, texts in catalogue().items() if not texts.get(lang))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Phrase:
    """A message parameter that is catalogue text of its own: :func:`text` puts it in the
    language of the message that holds it."""

    def in_language(self, lang: str) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.in_language(DEFAULT_LANGUAGE)


# How a change that is not of one field reads: a new row sent whole, a deletion.
_PSEUDO_FIELDS = {WHOLE_ROW: "new_record", TOMBSTONE_FIELD: "deleted"}


def detail_text(entity: str, field: str, translate: Callable[..., str]) -> str:
    """A detail of a synced row in the reader's language ("Person: birth date", "Name:
    new record"); a detail without a label is named as the protocol names it.

    Labels are ``coordination.entity.*`` and ``coordination.field.*``, a field's label
    shared by every entity.
    """
    label = _PSEUDO_FIELDS.get(field, field)
    entity_key, field_key = f"coordination.entity.{entity}", f"coordination.field.{label}"
    if not (has(entity_key) and has(field_key)):
        return f"{entity}.{field}"
    return f"{translate(entity_key)}: {translate(field_key)}"


@dataclass(frozen=True)
class Detail(Phrase):
    """The detail ``entity.field`` of a synced row, as :func:`detail_text` names it."""

    entity: str
    field: str

    def in_language(self, lang: str) -> str:
        return detail_text(self.entity, self.field, lambda key, **kw: text(key, lang, **kw))


@dataclass(frozen=True)
class Label(Phrase):
    """The catalogue text of ``key`` (a workflow step's or a state's label, the reason in a
    refusal) with ``params`` filled in, so a message names a step as the screens do
    ("Gather documents", not ``gather_documents``) and gives its reason in its own
    language; a key the catalogue lacks reads as its last part, in words."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def in_language(self, lang: str) -> str:
        if has(self.key):
            return text(self.key, lang, **dict(self.params))
        return self.key.rsplit(".", 1)[-1].replace("_", " ")
