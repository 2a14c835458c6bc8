"""sync.protocol: derived insert change ids and the value checks both ends share.

The value checks take a prepared short way for common valid values; these tests pin that
the short way never accepts what the full check refuses, and that refusals keep their errno.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain import catalogue
from desktop.domain.catalogue import ENTITIES, FieldType
from desktop.domain.hlc import MAX_WALL
from sync.protocol import (
    DELETED_FIELD,
    INSERT_NAMESPACE,
    SHA256_RE,
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
        ("person", "title", "miss", None),
        ("person", "title", None, None),
        ("person", "title", "ms", Errno.WRONG_TYPE),  # no SSO code: not a title of the store
        ("person", "title", "Miss", Errno.WRONG_TYPE),
        ("person", "title", "นางสาว", Errno.WRONG_TYPE),
        ("person", "title", 4, Errno.WRONG_TYPE),
        ("person", "marital_status", "widowed", None),
        ("person", "marital_status", "engaged", Errno.WRONG_TYPE),
        ("person", "arrived_on", "2024-02-29", None),
        ("person", "arrived_on", "2024-02-30", Errno.WRONG_TYPE),
        ("person_name", "person_id", "5c1e0f7a-0000-4000-8000-000000000001", None),
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


def test_an_attachment_name_is_64_hex_digits_and_nothing_after() -> None:
    assert SHA256_RE.match("a" * 64)
    assert not SHA256_RE.match("a" * 64 + "\n")  # "$" alone would let this through


def _nested(depth: int) -> dict[str, Any]:
    """An object nested ``depth`` levels deep (the object itself is level 1)."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


_REF = "5c1e0f7a-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    ("entity", "field", "value", "errno"),
    [
        # the spellings devices write
        ("employment", "monthly_wage", "15000.00", None),
        ("employment", "monthly_wage", "-3", None),
        ("employment", "monthly_wage", "1E+5", None),  # str(Decimal("1e5"))
        ("person", "arrived_on", "2025-01-06", None),
        ("person", "birth_date", "1990", None),
        ("person", "birth_date", "1990-04", None),
        ("contribution_month", "month", "2025-01", None),
        ("note", "written_at", "2025-01-06T10:00:00+07:00", None),
        ("note", "written_at", "2025-01-06T10:00:00.123456+00:00", None),
        ("person_name", "person_id", _REF, None),
        ("step", "data", _nested(32), None),
        ("step", "data", {"a": [1, 2.5, True, None, "x", {"b": []}]}, None),
        # other spellings Python would read: refused, not stored as sent
        ("employment", "monthly_wage", "1e5", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", " 12 ", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "1_000", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "+5", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "012", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "\u0e51\u0e52", Errno.WRONG_TYPE),  # Thai digits
        ("employment", "monthly_wage", "Infinity", Errno.WRONG_TYPE),
        # written out, a gigabyte of digits on every device that shows it (a security test)
        ("employment", "monthly_wage", "1E+999999999", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "1E-999999999", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "1E+15", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "999999999999999", None),  # below 10**15
        ("employment", "monthly_wage", "1E+14", None),
        ("employment", "monthly_wage", "1E-12", None),  # 12 places
        ("employment", "monthly_wage", "1E-13", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "0E-13", Errno.WRONG_TYPE),
        ("employment", "monthly_wage", "-999999999999999.99", None),
        ("person", "arrived_on", "2025-W01-1", Errno.WRONG_TYPE),
        ("person", "arrived_on", "20250101  ", Errno.WRONG_TYPE),
        ("person", "arrived_on", "\u0e52\u0e50\u0e52\u0e55-01-01", Errno.WRONG_TYPE),
        ("person", "birth_date", "\u0e52\u0e50\u0e52\u0e55", Errno.WRONG_TYPE),
        ("person", "birth_date", "1990\n", Errno.WRONG_TYPE),
        ("contribution_month", "month", "\u0e52\u0e50\u0e52\u0e55-01", Errno.WRONG_TYPE),
        ("contribution_month", "month", "2025-01\n", Errno.WRONG_TYPE),
        ("note", "written_at", "2025-01-06T10:00:00", Errno.WRONG_TYPE),  # no offset
        # read as written, but in the year 10000 in UTC: every device's conversion fails
        ("note", "written_at", "9999-12-31T23:59:59-23:59", Errno.WRONG_TYPE),
        ("note", "written_at", "0001-01-01T00:00:00+23:59", Errno.WRONG_TYPE),
        ("note", "written_at", "9999-12-31T23:59:59+07:00", None),
        ("note", "written_at", "2025-01-06 10:00:00+00:00", Errno.WRONG_TYPE),
        ("note", "written_at", "20250106T100000+0000", Errno.WRONG_TYPE),
        ("note", "written_at", "2025-01-06T10:00:00Z", Errno.WRONG_TYPE),
        ("person_name", "person_id", _REF.upper(), Errno.WRONG_TYPE),
        ("person_name", "person_id", "{" + _REF + "}", Errno.WRONG_TYPE),
        ("person_name", "person_id", _REF.replace("-", ""), Errno.WRONG_TYPE),
        ("person_name", "person_id", "urn:uuid:" + _REF, Errno.WRONG_TYPE),
        # NUL: PostgreSQL cannot store it, so neither backend does
        ("person", "phone", "08\x001", Errno.WRONG_TYPE),
        ("person", "office", "M\x00S", Errno.WRONG_TYPE),
        ("person", "languages", ["my", "t\x00h"], Errno.WRONG_TYPE),
        ("step", "data", {"k\x00": 1}, Errno.WRONG_TYPE),
        ("step", "data", {"k": ["\x00"]}, Errno.WRONG_TYPE),
        # json fields: nested 32 levels at most, finite numbers only
        ("step", "data", _nested(33), Errno.WRONG_TYPE),
        ("step", "data", {"k": _nested(32)}, Errno.WRONG_TYPE),
        ("audit_event", "details", _nested(200), Errno.WRONG_TYPE),
        ("step", "data", {"k": float("nan")}, Errno.WRONG_TYPE),
        ("step", "data", {"k": [float("inf")]}, Errno.WRONG_TYPE),
        ("audit_event", "details", {"k": -float("inf")}, Errno.WRONG_TYPE),
    ],
)
def test_only_the_spellings_devices_write_are_accepted(
    entity: str, field: str, value: Any, errno: Errno | None
) -> None:
    assert _problem(entity, field, value) == errno
    # the same inside a row created whole, where each field takes the same checks
    row = {"office": "MS", field: value} if field != "office" else {"office": value}
    required = {n: _REF for n, f in ENTITIES[entity].fields.items() if f.required and n != "office"}
    row = {**required, **row}
    assert _problem(entity, WHOLE_ROW, row) == errno


@pytest.mark.parametrize(
    ("value", "errno"),
    [
        ({"office": "MS", "sex": "f", "arrived_on": "2019-04-12"}, None),
        ({"office": "MS", "phone": None}, None),
        ({"sex": "f"}, Errno.REQUIRED_VALUE),
        ({"office": "MS", "phone": "9" * 41}, Errno.VALUE_TOO_LONG),
        ({"office": "MS", "sex": 5}, Errno.WRONG_TYPE),
        ({"office": "MS", "sex": "F", "title": "mrs", "marital_status": "married"}, None),
        ({"office": "MS", "sex": "F", "title": "lady"}, Errno.WRONG_TYPE),
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
            "1e5",
            " 12 ",
            "NaN",
            "2025-01-06T10:00:00+07:00",
            "2025-01-06T10:00:00",
            "20250106",
            "\u0e52\u0e50\u0e52\u0e55",
            "a\x00b",
            str(uuid.uuid4()),
            str(uuid.uuid4()).upper(),
            "a" * 64,
            "scan.pdf",
        ]
    ),
    st.lists(st.text(max_size=80), max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.recursive(
        st.none() | st.floats() | st.text(max_size=3),
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner),
        max_leaves=40,
    ).map(lambda v: {"v": v}),
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


# -- push form 3: derivable parts left out ----------------------------------------------


def _outbox(count: int) -> list[tuple[str, str, str, str, str, int, str]]:
    """Changes as a device's outbox holds them: rows, their audit events, an edit."""
    from desktop.domain.catalogue import audit_event_id

    found: list[tuple[str, str, str, str, str, int, str]] = []
    for number in range(count):
        wall = 1763812345678 + number // 3
        row, stamp = str(uuid.uuid4()), f"{wall:016d}-{number % 3:04d}-dev12"
        found.append((str(uuid.uuid4()), "person", row, WHOLE_ROW, '{"office":"MS"}', 0, stamp))
        audit_stamp = f"{wall + 1:016d}-0000-dev12"
        audit = audit_event_id(audit_stamp)
        found.append((str(uuid.uuid4()), "audit_event", audit, WHOLE_ROW, "{}", 0, audit_stamp))
        edit_stamp = f"{wall - 2:016d}-0007-other"  # another node, older: a full stamp again
        found.append((str(uuid.uuid4()), "person", row, "phone", '"08"', 3, edit_stamp))
    return found


def _edits(body: bytes) -> list[Any]:
    from sync.protocol import PushBatch, edits_of

    return edits_of(PushBatch.model_validate_json(body), "device-1")


def test_form_3_means_exactly_what_form_2_means_in_fewer_bytes() -> None:
    from sync.client.http import encode_batch

    changes = _outbox(40)
    form2, form3 = encode_batch(changes, 2), encode_batch(changes, 3)
    assert _edits(form3) == _edits(form2)
    assert [edit.hlc for edit in _edits(form3)] == [change[6] for change in changes]
    assert len(form3) < len(form2)
    assert b'"audit_event",null,' in form3
    assert b",[1,0]]" in form3  # an audit event stamped a millisecond after its row


def test_an_audit_event_with_its_own_id_keeps_it_in_form_3() -> None:
    from sync.client.http import encode_batch

    changes = _outbox(1)
    cid, entity, _row, field, value, base, hlc = changes[1]
    chosen = str(uuid.uuid4())  # e.g. an explicit event (record_action): not derived
    changes[1] = (cid, entity, chosen, field, value, base, hlc)
    assert [edit.row_id for edit in _edits(encode_batch(changes, 3))][1] == chosen


FIRST = "0000000000000001-0000-d"


def _new(hlc: Any, row: str | None = "fresh", entity: str = "person") -> list[Any]:
    """A row insert in array form (``row`` "fresh": a new random id)."""
    row_id = str(uuid.uuid4()) if row == "fresh" else row
    return [None, entity, row_id, "*", {"office": "MS"}, 0, hlc]


@pytest.mark.parametrize(
    ("v", "changes", "index"),
    [
        (3, [_new([0, 1])], 0),  # a delta needs a stamp before it
        (2, [_new(FIRST), _new([0, 1])], 1),  # form 2 allows no delta...
        (2, [_new(FIRST, None, "audit_event")], 0),  # ...and no null row id
        (3, [_new(FIRST, None)], 0),  # a null row id only for an audit event insert...
        (3, [[str(uuid.uuid4()), "audit_event", None, "office", "MS", 0, FIRST]], 0),  # ...insert
        (3, [_new(FIRST), _new([-2, 0])], 1),  # a delta that leaves the stamp's range
        (3, [_new(FIRST), _new([0, 10000])], 1),
    ],
)
def test_what_a_form_does_not_allow_is_refused_with_its_index(
    v: int, changes: list[Any], index: int
) -> None:
    import json

    from sync.protocol import BadChange

    with pytest.raises(BadChange) as refused:
        _edits(json.dumps({"v": v, "changes": changes}).encode())
    assert refused.value.index == index


# -- pull form 3 ------------------------------------------------------------------------


def _page3(rows: list[list[Any]], form: int = 3) -> bytes:
    import json

    page = {"v": form, "since": 0, "cursor": 9, "more": False, "hlc": None, "rows": rows}
    return json.dumps(page | {"merges": [], "conflicts": []}).encode()


def test_a_compact_page_expands_to_full_rows() -> None:
    from desktop.domain.catalogue import audit_event_id
    from sync.protocol import parse_pull_page

    person, stamp = str(uuid.uuid4()), "0001763812345678-0001-dev12"
    audit = {"office": "MS", "row_id": person}
    page = parse_pull_page(
        _page3(
            [
                ["person", person, 5, {"office": "MS"}, None],
                ["audit_event", None, 1, audit, stamp],
                ["person", person, -1, {"phone": "08"}, None],
            ]
        )
    )
    assert [(r.entity, r.id, r.version) for r in page.rows] == [
        ("person", person, 5),
        ("audit_event", audit_event_id(stamp), 6),
        ("person", person, 5),
    ]
    assert page.rows[1].values == audit
    assert (page.cursor, page.more) == (9, False)


def test_a_form_4_page_names_the_creators_of_the_rows_it_creates() -> None:
    from desktop.domain.catalogue import audit_event_id
    from sync.protocol import Creation, parse_pull_page

    person, stamp = str(uuid.uuid4()), "0001763812345678-0001-dev12"
    page = parse_pull_page(
        _page3(
            [
                ["person", person, 5, {"office": "MS"}, stamp, "ann"],
                ["audit_event", None, 1, {"office": "MS"}, stamp[:-1] + "3", None],
                ["person", str(uuid.uuid4()), 1, {"phone": "08"}, None, None],
            ],
            form=4,
        )
    )
    assert [(r.id, r.created) for r in page.rows] == [
        (person, Creation(hlc=stamp, user_id="ann")),
        (audit_event_id(stamp[:-1] + "3"), None),
        (page.rows[2].id, None),
    ]


@pytest.mark.parametrize(
    "row",
    [
        ["audit_event", "x", 1, {}, "0001763812345678-0001-dev12", "ann"],  # an audit event
        ["person", "x", 1, {}, None, "ann"],  # a creator without the insert's stamp
        ["person", None, 1, {}, "0001763812345678-0001-dev12", "ann"],  # ...without a row id
        ["person", "x", 1, {}, None, 7],  # a creator that is not an account name
        ["person", "x", 1, {}, None],  # a form 3 row in a form 4 page
    ],
)
def test_a_form_4_page_it_cannot_read_is_refused(row: list[Any]) -> None:
    from sync.protocol import parse_pull_page

    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's and ours alike
        parse_pull_page(_page3([row], form=4))


def test_a_form_5_page_means_what_form_4_means_with_stamps_as_differences() -> None:
    from sync.protocol import parse_pull_page

    ids = [str(uuid.uuid4()) for _ in range(5)]
    first = "0001763812345678-0001-dev12"
    whole = [
        ["person", ids[0], 5, {"office": "MS"}, first, "ann"],
        ["audit_event", None, 1, {"office": "MS"}, "0001763812345680-0000-dev12", None],
        ["person", ids[1], 1, {"office": "MS"}, "0001763812345679-0002-dev12", "ann"],
        ["person", ids[2], 1, {"office": "MS"}, "0001763812340000-0000-pc-7", "bob"],
        ["person", ids[3], 1, {"phone": "08"}, None, None],  # no stamp: the chain is kept
        ["person", ids[4], 1, {"office": "MS"}, "0001763812340001-0003-pc-7", "bob"],
    ]
    differences = [row.copy() for row in whole]
    differences[1][4] = [2, 0]
    differences[2][4] = [-1, 2]  # a stamp may be lower than the one before
    differences[5][4] = [1, 3]  # against the stamp before it: the other node's
    four, five = (
        parse_pull_page(_page3(whole, form=4)),
        parse_pull_page(_page3(differences, form=5)),
    )
    assert five.rows == four.rows
    assert five.rows[5].created is not None
    assert five.rows[5].created.hlc == "0001763812340001-0003-pc-7"


@pytest.mark.parametrize(
    "rows",
    [
        [["person", "x", 1, {}, [1, 0], "ann"]],  # a difference with no stamp before it
        [
            ["person", "x", 1, {}, "0001763812345678-0001-dev12", "ann"],
            ["person", "y", 1, {}, [-(10**16), 0], "ann"],  # before year 1970
        ],
        [
            ["person", "x", 1, {}, "0001763812345678-0001-dev12", "ann"],
            ["person", "y", 1, {}, [0, 10_000], "ann"],  # a counter of five digits
        ],
        [["person", "x", 1, {}, [1], "ann"]],  # not a difference
        [["person", "x", 1, {}, "0001763812345678-1-dev12", "ann"]],  # not a stamp
    ],
)
def test_a_form_5_page_it_cannot_read_is_refused(rows: list[list[Any]]) -> None:
    from sync.protocol import parse_pull_page

    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's and ours alike
        parse_pull_page(_page3(rows, form=5))


@given(
    st.lists(
        st.tuples(
            st.integers(0, MAX_WALL), st.integers(0, 9999), st.sampled_from(["a", "b-1", '"q'])
        ),
        max_size=30,
    )
)
def test_stamps_written_as_differences_read_back_as_they_were(
    stamps: list[tuple[int, int, str]],
) -> None:
    import json

    from desktop.domain.hlc import Stamp
    from sync.protocol import StampChain, StampWriter

    texts = [str(Stamp(*stamp)) for stamp in stamps]
    writer, chain = StampWriter(), StampChain()
    read = []
    for text in texts:
        given = json.loads(writer.json(text))
        read.append(chain.whole(given) if isinstance(given, str) else chain.resolve(given))
    assert read == texts


def test_a_form_7_page_names_the_logs_head_and_earlier_forms_cannot() -> None:
    import json

    from sync.protocol import parse_pull_page

    rows = [["person", "x", 3, {"office": "MS"}, "0001763812345678-0001-dev12", "ann"]]
    body = json.loads(_page3(rows, form=7)) | {"more": True, "head": 40}
    seven = parse_pull_page(json.dumps(body).encode())
    assert (seven.cursor, seven.more, seven.head) == (9, True, 40)
    assert seven.rows == parse_pull_page(_page3(rows, form=6)).rows
    assert parse_pull_page(_page3(rows, form=6)).head is None
    with pytest.raises(ValueError):  # noqa: PT011 - a form 7 page names its head
        parse_pull_page(_page3(rows, form=7))
    with pytest.raises(ValueError):  # noqa: PT011 - a member form 6 does not have
        parse_pull_page(json.dumps(body | {"v": 6}).encode())


def test_a_form_2_page_is_read_as_it_is() -> None:
    from sync.protocol import parse_pull_page

    row = {"entity": "person", "id": "x", "version": 3, "values": {"office": "MS"}}
    body = b'{"since":0,"cursor":3,"more":false,"hlc":null,"rows":[%s],"merges":[],"conflicts":[]}'
    page = parse_pull_page(body % json_bytes(row))
    assert [(r.entity, r.id, r.version, r.values) for r in page.rows] == [
        ("person", "x", 3, {"office": "MS"})
    ]


def json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "row",
    [
        ["person", None, 1, {"office": "MS"}, "0001763812345678-0001-dev12"],  # not an audit event
        ["audit_event", None, 1, {}, None],  # no stamp to derive from
        ["audit_event", None, 1, {}, "not a stamp"],
        ["person", "x", "one", {}, None],  # version not a number
        ["person", "x", 1, {}],  # too short
    ],
)
def test_a_compact_page_it_cannot_read_is_refused(row: list[Any]) -> None:
    from sync.protocol import parse_pull_page

    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's and ours alike
        parse_pull_page(_page3([row]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("languages", ["my"] * 201),
        ("languages", ["x" * 17]),
    ],
)
def test_a_list_too_long_or_with_too_long_an_item_is_refused(field: str, value: Any) -> None:
    """One row is pulled by every device of its office: a list cannot carry megabytes."""
    assert _problem("person", field, value) == Errno.VALUE_TOO_LONG
    assert _problem("person", WHOLE_ROW, {"office": "MS", field: value}) == Errno.VALUE_TOO_LONG
    assert _problem("person", field, ["my"] * 200) is None
    scans = {"office": "MS", "track_id": _REF, "attachment_ids": [_REF] * 201}
    assert _problem("checklist_item", WHOLE_ROW, scans) == Errno.VALUE_TOO_LONG
    assert _problem("checklist_item", "attachment_ids", [_REF + "x"]) == Errno.VALUE_TOO_LONG


# values a device's columns hold, by how they travel: text without NUL (the device's
# text cleaning removes it), finite decimals, aware times as the device writes them
_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
_HELD: dict[FieldType, st.SearchStrategy[Any]] = {
    FieldType.TEXT: _TEXT,
    FieldType.INT: st.integers(-(2**53) + 1, 2**53 - 1),
    # amounts: the app takes at most 10**12 (desktop.domain.amounts); the server below 10**15
    FieldType.DECIMAL: st.decimals(
        min_value=-(10**15) + Decimal("0.01"),
        max_value=10**15 - Decimal("0.01"),
        allow_nan=False,
        allow_infinity=False,
        places=2,
    ),
    FieldType.BOOL: st.booleans(),
    FieldType.DATE: st.dates(),
    FieldType.DATETIME: st.datetimes(
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=7))])
    ).map(lambda t: t.isoformat(timespec="seconds")),
    FieldType.MONTH: st.dates().map(lambda d: d.isoformat()[:7]),
    FieldType.PARTIAL_DATE: st.dates().flatmap(
        lambda d: st.sampled_from([d.isoformat()[:4], d.isoformat()[:7], d.isoformat()])
    ),
    FieldType.REF: st.uuids().map(str),
    FieldType.JSON: st.dictionaries(
        _TEXT,
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    ),
    FieldType.LIST: st.lists(_TEXT, max_size=5),
}
# an attachment's hash and file name follow rules of their own (tested above)
_NAMED_RULES = {("attachment", "sha256"), ("attachment", "filename")}
_FIELDS = sorted({(e, name) for e, spec in ENTITIES.items() for name in spec.fields} - _NAMED_RULES)


@settings(max_examples=300)
@given(st.sampled_from(_FIELDS), st.data())
def test_every_value_a_device_holds_within_limits_is_one_the_server_accepts_and_reads_back(
    entity_field: tuple[str, str], data: st.DataObject
) -> None:
    """What a device writes with ``to_wire`` passes the server's check (unless over the
    field's length limit), and reads back as the same value with ``from_wire``: one side
    describing a field unlike the other would refuse or mangle real data."""
    entity, name = entity_field
    spec = ENTITIES[entity].fields[name]
    # a coded field holds one of its codes (a device refuses any other when it is saved)
    value = data.draw(st.sampled_from(spec.choices) if spec.choices else _HELD[spec.type])
    if spec.max_length is not None:
        if isinstance(value, str):
            value = value[: spec.max_length]
        elif isinstance(value, list):
            value = [item[: spec.max_length] for item in value]
    wire = catalogue.to_wire(spec, value)
    check_value(entity, name, wire)
    assert catalogue.from_wire(spec, wire) == value
