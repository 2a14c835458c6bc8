"""The sync catalogue: reading wire values (references, lengths, codes, each field's reader),
derived ids and creation events."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from desktop.domain import catalogue

PERSON_ID = catalogue.entity("person_name").fields["person_id"]
CANONICAL = "0b7f3c2e-58a1-4c6e-9a0d-2f1e8b7c6d5a"


def test_a_canonical_row_id_is_taken_as_it_is() -> None:
    assert catalogue.from_wire(PERSON_ID, CANONICAL) == CANONICAL


@pytest.mark.parametrize(
    "spelling",
    [CANONICAL.upper(), "{" + CANONICAL + "}", CANONICAL.replace("-", ""), "urn:uuid:" + CANONICAL],
)
def test_other_spellings_of_a_row_id_are_normalised(spelling: str) -> None:
    assert catalogue.from_wire(PERSON_ID, spelling) == CANONICAL


@pytest.mark.parametrize(
    "value", ["not-a-uuid", CANONICAL[:-1], CANONICAL + "0", " " + CANONICAL, 42, ["x"]]
)
def test_a_malformed_row_reference_is_refused(value: object) -> None:
    with pytest.raises(catalogue.WireError):
        catalogue.from_wire(PERSON_ID, value)


def test_a_missing_required_reference_is_refused() -> None:
    with pytest.raises(catalogue.WireError, match="required"):
        catalogue.from_wire(PERSON_ID, None)


ROW = "019ab5f2-1c3e-7a01-8d2c-5e6f7a8b9c0d"  # a row id as devices make them (version 7)


def test_a_creation_event_is_derived_from_its_insert_alone() -> None:
    stamp = "0001763812345678-0003-dev-7"
    event = catalogue.creation_event("person", ROW, "TAK-01", stamp, "ann")
    assert event == {
        "id": "019ab5f2-1c3e-8a01-8d2c-5e6f7a8b9c0d",  # the row's id, as version 8
        "office": "TAK-01",
        "at": "2025-11-22T11:52:25+00:00",  # the stamp's wall clock, to the second
        "user": "ann",
        "device": "dev-7",  # the stamp's node
        "action": "person.created",
        "entity": "person",
        "row_id": ROW,
        "details": {},
    }
    assert catalogue.is_creation_event(event)
    assert not catalogue.is_creation_event(event | {"action": "person.updated"})
    assert not catalogue.is_creation_event(event | {"entity": "case"})
    # a row without an office (a bad insert the server refuses anyway) still gets text
    assert catalogue.creation_event("person", "r", None, stamp, "ann")["office"] == ""


def test_creation_event_ids_keep_the_order_of_their_rows_ids() -> None:
    """Rows made one after another get events whose ids sort as theirs do: a pull's
    derived events land at the end of the audit trail's key index, not at random pages."""
    import uuid

    from desktop.models.base import new_id

    rows = [new_id() for _ in range(500)]
    events = [catalogue.creation_event_id(row) for row in rows]
    assert events == sorted(events)
    assert len(set(events)) == len(rows)
    assert {uuid.UUID(e).version for e in events} == {8}
    assert {uuid.UUID(e).variant for e in events} == {uuid.RFC_4122}
    # never the id of an audit event derived from a stamp (version 5) or made anew (7)
    assert not set(events) & set(rows)
    stamp = "0001763812345678-0003-dev-7"
    assert uuid.UUID(catalogue.audit_event_id(stamp)).version == 5


@pytest.mark.parametrize("row", ["row-1", "", "019AB5F2-1C3E-7A01-8D2C-5E6F7A8B9C0D", "ไทย"])
def test_a_row_id_that_is_not_canonical_still_gets_a_creation_event_id(row: str) -> None:
    """Servers refuse such ids; a pull that met one anyway must not stop at it."""
    import uuid

    derived = catalogue.creation_event_id(row)
    assert uuid.UUID(derived).version == 5
    assert derived == catalogue.creation_event_id(row)
    assert derived != catalogue.creation_event_id(row + "x")


def test_a_creation_event_needs_a_stamp() -> None:
    with pytest.raises(ValueError, match="not an HLC stamp"):
        catalogue.creation_event("person", "row-1", "TAK-01", "yesterday", "ann")


@pytest.mark.parametrize("name", ["0001763812345678-0003-dev-7", "", "ไทย/ၿမန္မာ"])
def test_derived_ids_are_version_5_uuids_of_their_names(name: str) -> None:
    import uuid

    assert catalogue.audit_event_id(name) == str(uuid.uuid5(catalogue.AUDIT_ID_NAMESPACE, name))
    other = uuid.UUID("5a9a0002-1d5e-4c1e-9b6f-0d3c6a1e2f40")
    prefix = catalogue.namespace_hash(other)
    assert catalogue.name_uuid(prefix, name) == str(uuid.uuid5(other, name))
    assert catalogue.name_uuid(prefix, name) == catalogue.name_uuid(prefix, name)  # prefix kept


def test_derived_ids_set_the_variant_over_every_digit_the_hash_gives() -> None:
    """The variant is set on the 17th hex digit of the hash: each of its 16 values."""
    namespace = uuid.UUID("5a9a0002-1d5e-4c1e-9b6f-0d3c6a1e2f40")
    prefix = catalogue.namespace_hash(namespace)
    names = [f"row/{n}" for n in range(256)]
    digits = {hashlib.sha1(namespace.bytes + n.encode()).hexdigest()[16] for n in names}
    assert len(digits) == 16
    for name in names:
        assert catalogue.name_uuid(prefix, name) == str(uuid.uuid5(namespace, name))


PHONE = catalogue.entity("person").fields["phone"]  # text, at most 40
LANGUAGES = catalogue.entity("person").fields["languages"]  # a list, at most 16 per item


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (PHONE, "9" * 40, None),  # exactly the limit fits
        (PHONE, "9" * 41, 41),
        (PHONE, "", None),
        # code points, as the server counts: a Thai or Burmese mark is a character of
        # its own, a character beyond the BMP (two UTF-16 units) only one
        (PHONE, "กิ" * 20, None),
        (PHONE, "ကို" * 13 + "က", None),  # 3 code points a syllable: 40 in all
        (PHONE, "ကို" * 13 + "ကာ", 41),
        (PHONE, "😀" * 40, None),
        (LANGUAGES, ["my", "x" * 16], None),
        (LANGUAGES, ["my", "x" * 17, "y" * 20], 20),  # the longest item
        (LANGUAGES, [], None),
        (catalogue.entity("step").fields["data"], {"note": "x" * 100_000}, None),  # no limit
        (PHONE, 12345, None),  # not text: the type check's business
    ],
)
def test_a_value_is_too_long_as_the_server_counts_it(
    spec: catalogue.FieldSpec, value: object, expected: int | None
) -> None:
    assert catalogue.overlong_length(spec, value) == expected


def test_a_pulled_value_longer_than_this_apps_limit_is_taken_as_the_server_sent_it() -> None:
    """The server checked it against its own catalogue, perhaps a newer one with a longer
    limit: refusing it here would stop every pull after it."""
    assert catalogue.from_wire(PHONE, "9" * 41) == "9" * 41


TITLE = catalogue.entity("person").fields["title"]
MARITAL = catalogue.entity("person").fields["marital_status"]


@pytest.mark.parametrize(
    ("spec", "value", "unknown"),
    [
        (TITLE, "mrs", False),
        (TITLE, None, False),  # not recorded
        (TITLE, "ms", True),  # a title without an SSO code is not one the store keeps
        (TITLE, "Mrs", True),
        (MARITAL, "divorced", False),
        (MARITAL, "separated", True),
        (PHONE, "anything", False),  # a field of any text has no codes
    ],
)
def test_a_coded_field_takes_only_its_codes(
    spec: catalogue.FieldSpec, value: object, unknown: bool
) -> None:
    assert catalogue.unknown_choice(spec, value) is unknown


def test_every_title_the_store_keeps_has_an_sso_code() -> None:
    from desktop.domain import names

    assert [names.sso_title_code(t) for t in catalogue.PERSON_TITLES] == ["003", "005", "004"]


def test_a_pulled_code_this_app_does_not_know_is_taken_as_the_server_sent_it() -> None:
    """A newer server may list more codes; refusing one here would stop every pull."""
    assert catalogue.from_wire(TITLE, "ms") == "ms"


# One field of each type, with a good and a bad wire value: a field's reader (what a
# pull applies to every value) answers as from_wire does, value for value.
_READ_CASES = [
    (PHONE, "055 123 456", 55),
    (PERSON_ID, CANONICAL.upper(), "not-a-uuid"),
    (catalogue.entity("person").fields["birth_date"], "1990-02", "1990-02-30"),
    (catalogue.entity("employment").fields["start_date"], "2024-05-01", "2024-05-32"),
    (catalogue.entity("contribution_month").fields["month"], "2024-05", "2024-13"),
]


@pytest.mark.parametrize(("spec", "good", "bad"), _READ_CASES)
def test_a_fields_reader_reads_what_from_wire_reads(
    spec: catalogue.FieldSpec, good: object, bad: object
) -> None:
    read = catalogue.wire_reader(spec)
    assert read(good) == catalogue.from_wire(spec, good)
    if not spec.required:
        assert read(None) is None
    with pytest.raises(catalogue.WireError):
        read(bad)


def test_a_required_text_fields_reader_refuses_a_missing_value() -> None:
    read = catalogue.wire_reader(catalogue.entity("person").fields["office"])
    assert read("TAK-01") == "TAK-01"
    with pytest.raises(catalogue.WireError, match="required"):
        read(None)


def test_an_entitys_readers_are_its_fields_readers() -> None:
    readers = catalogue.wire_readers("person")
    assert set(readers) == set(catalogue.entity("person").fields)
    assert readers["phone"]("081") == "081"
    with pytest.raises(catalogue.WireError):
        readers["birth_date"]("1990-13")
