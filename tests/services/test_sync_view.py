"""The app-facing sync queries: backoff with jitter, the metered-link rule, bad input."""

from __future__ import annotations

import pytest

from desktop.domain.errors import UserError
from desktop.models.store import Store
from desktop.services import sync_view


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    backoff = sync_view.Backoff(base=5.0, cap=40.0, rand=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(5)] == [5.0, 10.0, 20.0, 40.0, 40.0]
    backoff.reset()
    assert backoff.next_delay() == 5.0


def test_backoff_jitter_stays_in_the_upper_half_and_retry_after_is_a_floor() -> None:
    low = sync_view.Backoff(base=8.0, rand=lambda: 0.0)
    assert low.next_delay() == 4.0
    assert low.next_delay(retry_after=120.0) == 120.0


def test_overview_of_an_empty_store_and_the_metered_rule(store: Store) -> None:
    view = sync_view.overview(store)
    assert (view.waiting, view.failed, view.open_conflicts, view.registered) == (0, 0, 0, False)
    assert not sync_view.needs_confirmation(view)
    sync_view.set_metered(store, True, 0)
    metered = sync_view.overview(store)
    assert metered.metered
    assert metered.metered_limit_kb == 0
    assert not sync_view.needs_confirmation(metered)  # nothing to send, nothing to ask


def test_negative_metered_limit_is_refused(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.set_metered(store, True, -1)
    assert caught.value.code == "sync.bad_metered_limit"


def test_sync_without_registration_is_a_clear_error(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.run_sync(store)
    assert caught.value.code == "sync.not_registered"
    with pytest.raises(UserError) as probed:
        sync_view.probe(store)
    assert probed.value.code == "sync.not_registered"


def test_a_server_address_without_http_is_refused(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        sync_view.register(store, "sync.example.org", "somchai", "pw", "laptop")
    assert caught.value.code == "sync.bad_server_url"
