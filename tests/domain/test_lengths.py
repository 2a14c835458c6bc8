"""The catalogue's length limits as coded issues: counted as the server counts."""

from __future__ import annotations

import pytest

from desktop.domain import i18n, lengths
from desktop.domain.catalogue import ENTITIES, FieldType
from desktop.domain.i18n import Detail
from sync.protocol import Errno, ValueProblem, check_value


def test_exactly_the_limit_fits_and_one_more_is_an_issue_naming_detail_limit_and_length() -> None:
    assert lengths.limit("person_name", "family_name") == 200
    assert lengths.too_long("person_name", "family_name", "x" * 200) is None
    found = lengths.too_long("person_name", "family_name", "x" * 201)
    assert found is not None
    assert found.is_error
    assert (found.code, found.field) == ("value.too_long", "family_name")
    assert dict(found.params) == {
        "detail": Detail("person_name", "family_name"),
        "limit": 200,
        "length": 201,
    }
    assert i18n.text(found.code, "en", **found.params) == (
        "Name: family name is too long: it holds at most 200 characters, and this has 201."
        " Shorten it."
    )
    thai = i18n.text(found.code, "th", **found.params)
    assert thai.startswith("ชื่อ: นามสกุล ยาวเกินไป")
    assert "200" in thai
    assert "201" in thai


def test_the_issue_carries_the_callers_name_for_the_input() -> None:
    found = lengths.too_long("person", "phone", "9" * 41, where="phone_number")
    assert found is not None
    assert found.field == "phone_number"


def test_a_row_lists_each_over_long_value_and_nothing_for_fields_without_a_limit() -> None:
    values = {
        "office": "TAK-01",
        "phone": "9" * 41,
        "address_th": "ก" * 501,
        "languages": ["my", "x" * 17],
        "birth_date": "1990-01-01",
        "line_id": None,
    }
    found = lengths.length_issues("person", values, prefix="person.")
    assert [(i.field, i.params["limit"], i.params["length"]) for i in found] == [
        ("person.languages", 16, 17),
        ("person.phone", 40, 41),
        ("person.address_th", 500, 501),
    ]
    assert lengths.length_issues("step", {"data": {"note": "x" * 100_000}}) == []
    # not text where text belongs: the type check's business, not a length
    assert lengths.length_issues("person", {"phone": 12345, "languages": "my"}) == []
    assert lengths.length_issues("person", {"languages": ["my", 7]}) == []


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        (entity, name)
        for entity, spec in ENTITIES.items()
        for name, field in spec.fields.items()
        if field.type in (FieldType.TEXT, FieldType.LIST) and field.max_length is not None
    ],
)
def test_the_device_refuses_exactly_what_the_server_refuses(entity: str, field: str) -> None:
    """At the limit both take it as to length; one character more (a Burmese vowel sign:
    code points, not letters) and both refuse it for its length."""
    most = lengths.limit(entity, field)
    assert most is not None
    is_list = ENTITIES[entity].fields[field].type is FieldType.LIST
    for length in (most, most + 1):
        text = "က" + "ာ" * (length - 1)
        value: object = [text] if is_list else text
        device = lengths.too_long(entity, field, value)
        try:
            check_value(entity, field, value)
            server = None
        except ValueProblem as problem:
            server = problem.errno
        # (an attachment's sha256 of Burmese letters is refused too, for not being hex)
        assert (device is not None) == (server is Errno.VALUE_TOO_LONG), (entity, field, length)
