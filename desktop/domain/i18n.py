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
to English, and the test suite fails on any key that lacks a language. A parameter that
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


class CatalogueError(ValueError):
    """A catalogue file is malformed or two files define the same key."""


@functools.cache
def catalogue() -> Mapping[str, Mapping[str, str]]:
    """All keys from every catalogue file, loaded once."""
    merged: dict[str, dict[str, str]] = {}
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
            merged[str(key)] = {str(lang): str(value) for lang, value in texts.items()}
    return merged


def has(key: str) -> bool:
    return key in catalogue()


def text(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``params`` filled in.

    An unknown key returns the key itself (visible, greppable, and caught by tests).
    """
    texts = catalogue().get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts["en"]
    if not params:
        return template
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
    """The catalogue text of ``key`` (a workflow step's or a state's label), so a message
    names a step as the screens do ("Gather documents", not ``gather_documents``); a key
    the catalogue lacks reads as its last part, in words."""

    key: str

    def in_language(self, lang: str) -> str:
        if has(self.key):
            return text(self.key, lang)
        return self.key.rsplit(".", 1)[-1].replace("_", " ")
