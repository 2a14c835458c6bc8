"""Local store migrations: one head, and the constant that lets a current store skip Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.models import migrations
from desktop.models.migrations import runner
from desktop.models.store import create_store, open_store
from tests.conftest import PASSPHRASE


def test_head_constant_names_alembics_only_head() -> None:
    assert runner.head() == migrations.HEAD


def test_a_store_at_head_opens_without_asking_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_store(tmp_path / "store", PASSPHRASE).close()

    def refuse(*args: object) -> None:
        raise AssertionError("Alembic was consulted for a store already at head")

    monkeypatch.setattr(runner, "current_revision", refuse)
    monkeypatch.setattr(runner, "upgrade", refuse)
    store = open_store(tmp_path / "store", PASSPHRASE)
    try:
        assert store.setting("language", "en") == "en"
    finally:
        store.close()
