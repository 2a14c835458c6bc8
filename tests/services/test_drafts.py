"""Wizard drafts: saved, replaced, listed and discarded; never in the outbox."""

from __future__ import annotations

import pytest

from desktop.models.store import Store
from desktop.services import drafts


def test_save_and_load_round_trip(store: Store) -> None:
    drafts.save_draft(store, "enrollment:c1", {"step": "person", "name": "မောင်မောင်"}, "c1")
    found = drafts.load_draft(store, "enrollment:c1")
    assert found is not None
    assert found.case_id == "c1"
    assert found.data == {"step": "person", "name": "မောင်မောင်"}


def test_saving_again_replaces_the_draft(store: Store) -> None:
    drafts.save_draft(store, "k", {"a": 1})
    drafts.save_draft(store, "k", {"a": 2, "b": [1, 2]})
    found = drafts.load_draft(store, "k")
    assert found is not None
    assert found.data == {"a": 2, "b": [1, 2]}
    assert [d.key for d in drafts.list_drafts(store)] == ["k"]


def test_missing_draft_is_none(store: Store) -> None:
    assert drafts.load_draft(store, "nothing") is None
    assert drafts.discard_draft(store, "nothing") is False


def test_discard_removes_it(store: Store) -> None:
    drafts.save_draft(store, "k", {"a": 1}, "c1")
    assert drafts.discard_draft(store, "k") is True
    assert drafts.load_draft(store, "k") is None
    assert drafts.list_drafts(store, "c1") == []


def test_list_by_case(store: Store) -> None:
    drafts.save_draft(store, "a", {}, "c1")
    drafts.save_draft(store, "b", {}, "c2")
    assert [d.key for d in drafts.list_drafts(store, "c2")] == ["b"]


def test_empty_key_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="key"):
        drafts.save_draft(store, "", {})


def test_drafts_stay_local(store: Store) -> None:
    from desktop.services.cases import audit_trail

    drafts.save_draft(store, "k", {"a": 1})
    assert audit_trail(store, ["k"]) == []
