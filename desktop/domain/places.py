"""Thai provinces by their two-digit DOPA / ISO 3166-2:TH code, named in the UI's language.

The table is data (``resources/places/provinces.yaml``, with its source); cases and
offices store the code, screens show the name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from desktop.domain.resources import load_yaml, resource_path


@functools.cache
def provinces() -> Mapping[str, tuple[str, str]]:
    """Code -> (English name, Thai name) for the 77 province-level units."""
    raw = load_yaml(resource_path("places", "provinces.yaml"))["provinces"]
    return MappingProxyType({str(code): (str(en), str(th)) for code, (en, th) in raw.items()})


def province_name(code: str | None, lang: str) -> str:
    """The province's name: Thai script in Thai, the English name in the other languages.

    An unknown code is shown as it is (never hidden); no code gives an empty string.
    """
    if not code:
        return ""
    names = provinces().get(code)
    if names is None:
        return code
    return names[1] if lang == "th" else names[0]
