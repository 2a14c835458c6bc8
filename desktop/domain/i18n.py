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
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

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
