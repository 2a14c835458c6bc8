"""sync.protocol: derived insert change ids and the value checks both ends share.

The value checks take a prepared short way for common valid values; these tests pin that
the short way never accepts what the full check refuses, and that refusals keep their errno.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain.catalogue import ENTITIES
from sync.protocol import (
    DELETED_FIELD,
    INSERT_NAMESPACE,
    WHOLE_ROW,
    Errno,
    ValueProblem,
    _check_field,
    check_value,
    field_spec,
    insert_change_id,
)


@given(st.text(max_size=40), st.sampled_from(sorted(ENTITIES)), st.uuids())
def test_insert_change_id_is_uuid5_of_device_entity_and_row(
    device: str, entity: str, row: uuid.UUID
) -> None:
    expected = uuid.uuid5(INSERT_NAMESPACE, f"{device}/{entity}/{row}")
    assert insert_change_id(device, entity, str(row)) == str(expected)


def test_insert_change_id_differs_per_device_and_row() -> None:
    row = str(uuid.uuid4())
    first = insert_change_id("dev-a", "person", row)
    assert first == insert_change_id("dev-a", "person", row)
    assert first != insert_change_id("dev-b", "person", row)
    assert first != insert_change_id("dev-a", "person", str(uuid.uuid4()))
    assert uuid.UUID(first).version == 5


def _problem(entity: str, field: str, value: Any) -> Errno | None:
    try:
        check_value(entity, field, value)
    except ValueProblem as problem:
        return problem.errno
    return None


@pytest.mark.parametrize(
    ("entity", "field", "value", "errno"),
    [
        ("person", "phone", "0812345678", None),
        ("person", "phone", "9" * 41, Errno.VALUE_TOO_LONG),
        ("person", "phone", 812345678, Errno.WRONG_TYPE),
        ("person", "phone", None, None),
        ("person", "office", None, Errno.REQUIRED_VALUE),
        ("person", "office", "x" * 33, Errno.VALUE_TOO_LONG),
        ("person", DELETED_FIELD, True, None),
        ("person", DELETED_FIELD, None, Errno.REQUIRED_VALUE),
        ("person", DELETED_FIELD, 1, Errno.WRONG_TYPE),
        ("person", "languages", ["my", "th"], None),
        ("person", "languages", ["my", 3], Errno.WRONG_TYPE),
        ("person", "arrived_on", "2024-02-29", None),
        ("person", "arrived_on", "2024-02-30", Errno.WRONG_TYPE),
        ("person_name", "person_id", "5C1E0F7A-0000-4000-8000-000000000001", None),
        ("person_name", "person_id", "{5c1e0f7a-0000-4000-8000-000000000001}", None),
        ("person_name", "person_id", "5c1e0f7a", Errno.WRONG_TYPE),
        ("person", "no_such_field", "x", Errno.UNKNOWN_FIELD),
        ("spaceship", "office", "MS", Errno.UNKNOWN_ENTITY),
        ("attachment", "filename", "../etc/passwd", Errno.BAD_ATTACHMENT_NAME),
        ("attachment", "sha256", "A" * 64, Errno.BAD_ATTACHMENT_NAME),
        ("attachment", "sha256", "a" * 64, None),
    ],
)
def test_single_field_checks(entity: str, field: str, value: Any, errno: Errno | None) -> None:
    assert _problem(entity, field, value) == errno


@pytest.mark.parametrize(
    ("value", "errno"),
    [
        ({"office": "MS", "sex": "f", "arrived_on": "2019-04-12"}, None),
        ({"office": "MS", "phone": None}, None),
        ({"sex": "f"}, Errno.REQUIRED_VALUE),
        ({"office": "MS", "phone": "9" * 41}, Errno.VALUE_TOO_LONG),
        ({"office": "MS", "sex": 5}, Errno.WRONG_TYPE),
        ({"office": "MS", DELETED_FIELD: False}, Errno.UNKNOWN_FIELD),
        ({"office": "MS", WHOLE_ROW: {}}, Errno.UNKNOWN_FIELD),
        # the first problem in the row's order is the one reported
        ({"office": "MS", "sex": 5, "phone": "9" * 41}, Errno.WRONG_TYPE),
        ({"office": "MS", "phone": "9" * 41, "sex": 5}, Errno.VALUE_TOO_LONG),
        (["office", "MS"], Errno.WRONG_TYPE),
    ],
)
def test_whole_row_checks(value: Any, errno: Errno | None) -> None:
    assert _problem("person", WHOLE_ROW, value) == errno


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False),
    st.text(max_size=300),
    st.sampled_from(
        [
            "2024-02-29",
            "2024-13-01",
            "2024-12",
            "2024",
            "15000.00",
            "NaN",
            "2025-01-06T10:00:00+07:00",
            str(uuid.uuid4()),
            str(uuid.uuid4()).upper(),
            "a" * 64,
            "scan.pdf",
        ]
    ),
    st.lists(st.text(max_size=80), max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_FIELDS = [
    (entity, name)
    for entity, spec in sorted(ENTITIES.items())
    for name in (*spec.fields, DELETED_FIELD)
]


@settings(max_examples=400)
@given(st.sampled_from(_FIELDS), _VALUES)
def test_short_way_agrees_with_the_full_check(where: tuple[str, str], value: Any) -> None:
    entity, field = where
    try:
        _check_field(entity, field, field_spec(entity, field), value)
        expected = None
    except ValueProblem as problem:
        expected = problem.errno
    assert _problem(entity, field, value) == expected
