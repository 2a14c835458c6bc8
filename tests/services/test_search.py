"""Search finds people by a fragment of a name in any script or of a document number."""

from __future__ import annotations

import pytest

from desktop.models.store import Store
from desktop.services import people, search
from desktop.services.people import DocumentInput, NameInput, PersonInput


@pytest.fixture
def population(store: Store) -> dict[str, str]:
    made = {
        "burmese": people.create_person(
            store,
            PersonInput(
                names=[NameInput("မောင်ထွန်းထွန်းနိုင်"), NameInput("Maung Tun Tun Naing", "passport")],
                documents=[DocumentInput("passport", "MC1234567")],
            ),
        ),
        "thai": people.create_person(store, PersonInput(names=[NameInput("สมศักดิ์ รักไทย", "thai")])),
        "khmer": people.create_person(store, PersonInput(names=[NameInput("សុខ ដារ៉ា")])),
        "lao": people.create_person(store, PersonInput(names=[NameInput("ສົມພອນ ແກ້ວມະນີ")])),
        "vietnamese": people.create_person(store, PersonInput(names=[NameInput("Nguyễn Văn An")])),
    }
    return {key: result.person_id for key, result in made.items()}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("ထွန်းနိုင်", "burmese"),
        ("tun naing", "burmese"),
        ("1234567", "burmese"),
        ("mc12", "burmese"),
        ("MC-123-4567", "burmese"),  # a number typed as printed, with its dashes
        ("mc.1234567", "burmese"),
        # typed on a Zawgyi keyboard, still common in Myanmar: the name is stored in Unicode
        ("ထြန္းႏိုင္", "burmese"),
        ("ထြန္း tun", "burmese"),
        ("ศักดิ์", "thai"),
        ("ដារ៉ា", "khmer"),
        ("ແກ້ວ", "lao"),
        ("nguyen", "vietnamese"),
        ("Văn", "vietnamese"),
    ],
)
def test_fragment_finds_the_person(
    store: Store, population: dict[str, str], query: str, who: str
) -> None:
    hits = search.search(store, query)
    assert hits, query
    assert hits[0].person_id == population[who]


def test_no_match_and_empty_query(store: Store, population: dict[str, str]) -> None:
    assert search.search(store, "zzzzqqq") == []
    assert search.search(store, "   ") == []


def test_hostile_query_text_is_just_text(store: Store, population: dict[str, str]) -> None:
    for query in ['"', "a OR b", "NEAR(", "%_\\", "'; DROP TABLE person;--"]:
        search.search(store, query)  # must not raise


def test_new_document_is_searchable(store: Store, population: dict[str, str]) -> None:
    people.add_document(store, population["khmer"], DocumentInput("passport", "N0099887"))
    assert search.search(store, "0099887")[0].person_id == population["khmer"]


def test_a_name_kept_in_zawgyi_is_found_as_typed(store: Store) -> None:
    """The caseworker may decline converting a name: typed in Zawgyi again, it is found."""
    kept = people.create_person(store, PersonInput(names=[NameInput("ေအာင္ေက်ာ္")])).person_id
    assert [hit.person_id for hit in search.search(store, "ေအာင္ေက်ာ္")] == [kept]
    assert [hit.person_id for hit in search.search(store, "ေက်ာ္")] == [kept]
