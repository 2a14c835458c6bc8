"""People export as CSV and JSON: every person once, with names, documents and cases."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from desktop.domain.errors import UserError
from desktop.models.store import Store
from desktop.services import demo, exporter

os.environ.setdefault("SAPAN_KDF_N", "1024")


def test_csv_and_json_hold_every_person(store: Store, tmp_path: Path) -> None:
    summary = demo.generate(store, 30, seed=9, today=dt.date(2026, 3, 15), contributions=False)
    assert exporter.export_people(store, tmp_path / "p.csv", "csv") == 30
    assert exporter.export_people(store, tmp_path / "p.json", "json") == 30
    rows = exporter.read_csv_export(tmp_path / "p.csv")
    people = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert {r["person_id"] for r in rows} == {p["id"] for p in people} == set(summary.person_ids)
    first = next(p for p in people if p["id"] == rows[0]["person_id"])
    assert rows[0]["names"] == " | ".join(f"{n['kind']}:{n['full_name']}" for n in first["names"])
    assert all(p["cases"] and p["documents"] for p in people)


def test_small_pages_give_the_same_people(store: Store) -> None:
    demo.generate(store, 7, seed=1, contributions=False)
    assert len(list(exporter.iter_people(store, page=2))) == 7


def test_existing_file_is_not_overwritten(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        exporter.export_people(store, target, "json")
    assert caught.value.code == "export.file_exists"
    assert target.read_text(encoding="utf-8") == "keep"
