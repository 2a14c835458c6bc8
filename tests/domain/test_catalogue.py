"""The sync catalogue's wire conversion: row references (``from_wire`` on REF fields)."""

from __future__ import annotations

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
