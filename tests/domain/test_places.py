"""Province names by code: the 77 units, in the language shown, and the demo data agrees."""

from __future__ import annotations

import pytest

from desktop.domain.places import province_name, provinces
from desktop.domain.resources import load_yaml, resource_path


def test_the_table_has_bangkok_and_the_76_provinces_with_two_digit_codes() -> None:
    table = provinces()
    assert len(table) == 77
    assert all(len(code) == 2 and code.isdigit() for code in table)
    assert len({en for en, _th in table.values()}) == 77


@pytest.mark.parametrize(
    ("code", "lang", "name"),
    [
        ("63", "th", "ตาก"),
        ("63", "en", "Tak"),
        ("71", "my", "Kanchanaburi"),
        ("27", "km", "Sa Kaeo"),
        ("43", "lo", "Nong Khai"),
        ("10", "th", "กรุงเทพมหานคร"),
        ("99", "th", "99"),  # unknown: shown, not hidden
        (None, "en", ""),
        ("", "th", ""),
    ],
)
def test_province_names_follow_the_language(code: str | None, lang: str, name: str) -> None:
    assert province_name(code, lang) == name


def test_demo_provinces_use_the_same_codes_and_names() -> None:
    demo = load_yaml(resource_path("demo", "places.yaml"))["provinces"]
    for place in demo:
        assert provinces()[place["code"]] == tuple(place["name"]), place["code"]
