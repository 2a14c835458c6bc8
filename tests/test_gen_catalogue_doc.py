"""docs/sync-catalogue.md is generated from the catalogue: regenerate and compare, so it
cannot drift; and what it says a field accepts is what the server's value check enforces."""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from desktop.domain.catalogue import ENTITIES, FieldType, Merge
from sync.protocol import MAX_LIST_ITEMS, Errno, ValueProblem, check_value

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    path = ROOT / "tools/gen_catalogue_doc.py"
    spec = importlib.util.spec_from_file_location("gen_catalogue_doc", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(text: str) -> dict[str, dict[str, list[str]]]:
    """entity -> field -> the cells of its row (type, required, max length, merge, notes)."""
    tables: dict[str, dict[str, list[str]]] = {}
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("## `"):
            rows = tables.setdefault(line.split("`")[1], {})
        elif line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[1:]
    return tables


def _limit(cell: str) -> int | None:
    return None if cell == "—" else int(cell.removesuffix(" per item"))


def test_committed_catalogue_doc_matches_the_catalogue() -> None:
    expected = _tool().render(ENTITIES)
    assert (ROOT / "docs/sync-catalogue.md").read_text(encoding="utf-8") == expected, (
        "docs/sync-catalogue.md is stale: run python tools/gen_catalogue_doc.py"
    )


def test_every_entity_and_field_is_in_its_table_with_type_merge_and_limits() -> None:
    tables = _tables(_tool().render(ENTITIES))
    assert list(tables) == list(ENTITIES)  # catalogue order
    for name, entity in ENTITIES.items():
        assert list(tables[name]) == list(entity.fields), name
        for field in entity.fields.values():
            kind, required, limit, merge, _notes = tables[name][field.name]
            assert (kind, merge) == (field.type.value, field.merge.value), (name, field.name)
            assert (required == "yes") is field.required, (name, field.name)
            assert _limit(limit) == field.max_length, (name, field.name)


def test_every_type_and_merge_class_is_explained() -> None:
    text = _tool().render(ENTITIES)
    for kind in FieldType:
        assert f"\n- `{kind.value}`: " in text
    for merge in Merge:
        assert f"\n- `{merge.value}`: " in text
    assert "\n- `deleted` (bool, lww): " in text
    assert "\n- `*` (json, append): " in text


def test_documented_limits_are_the_ones_the_server_enforces() -> None:
    """Every documented text limit: one character over it is refused (105), at it passes."""
    checked = 0
    for name, rows in _tables(_tool().render(ENTITIES)).items():
        for field, (kind, _required, cell, _merge, notes) in rows.items():
            limit = _limit(cell)
            if kind != "text" or limit is None:
                continue
            codes = re.findall(r"`([^`]+)`", notes) if notes.startswith("one of ") else []
            for code in codes:  # a coded field takes its documented codes, nothing else
                check_value(name, field, code)
            if codes:
                with pytest.raises(ValueProblem) as refused:
                    check_value(name, field, "a" * limit)
                assert refused.value.errno is Errno.WRONG_TYPE, (name, field)
            else:
                # hex digits: also a valid attachment sha256 at its limit
                check_value(name, field, "a" * limit)
            with pytest.raises(ValueProblem) as refused:
                check_value(name, field, "a" * (limit + 1))
            assert refused.value.errno is Errno.VALUE_TOO_LONG, (name, field)
            checked += 1
    assert checked > 50
    # inside a new row sent whole, the same limits
    with pytest.raises(ValueProblem) as refused:
        check_value("person", "*", {"office": "MS", "nationality": "MMRX"})
    assert (refused.value.errno, refused.value.field) == (Errno.VALUE_TOO_LONG, "nationality")


def test_every_list_has_a_documented_item_limit_and_count_both_enforced() -> None:
    text = _tool().render(ENTITIES)
    tables = _tables(text)
    assert f"at most {MAX_LIST_ITEMS} of them" in text
    for entity, spec in ENTITIES.items():
        for name, field in spec.fields.items():
            if field.type is FieldType.LIST:
                assert tables[entity][name][2] == f"{field.max_length} per item", (entity, name)
    check_value("person", "languages", ["my"] * MAX_LIST_ITEMS)
    with pytest.raises(ValueProblem) as refused:
        check_value("person", "languages", ["my"] * (MAX_LIST_ITEMS + 1))
    assert refused.value.errno is Errno.VALUE_TOO_LONG


def test_type_bounds_stated_in_the_doc_are_enforced() -> None:
    text = _tool().render(ENTITIES)
    assert "at most 32 characters" in text
    assert "of magnitude below 10^15 and with at most 12 places after the point" in text
    check_value("employment", "monthly_wage", "-999999999999999.999999999999")  # the most
    for refused_decimal in ("1" * 33, "1E+15", "1E-13", "1" * 16):
        with pytest.raises(ValueProblem) as refused:
            check_value("employment", "monthly_wage", refused_decimal)
        assert refused.value.errno is Errno.WRONG_TYPE
    assert "below 2^53" in text
    check_value("step", "position", 2**53 - 1)
    with pytest.raises(ValueProblem) as refused:
        check_value("step", "position", 2**53)
    assert refused.value.errno is Errno.WRONG_TYPE


def test_required_means_not_null_and_present_in_a_whole_row() -> None:
    with pytest.raises(ValueProblem) as refused:
        check_value("person_name", "person_id", None)
    assert refused.value.errno is Errno.REQUIRED_VALUE
    for row, missing in (({"office": "MS"}, "person_id"), ({"full_name": "Aye"}, "office")):
        with pytest.raises(ValueProblem) as refused:
            check_value("person_name", "*", row)  # left out counts as null, as the doc says
        assert (refused.value.errno, refused.value.field) == (Errno.REQUIRED_VALUE, missing)
    check_value("person_name", "*", {"office": "MS", "person_id": str(uuid.uuid4())})


def test_notes_name_reference_targets_and_the_forward_order() -> None:
    tables = _tables(_tool().render(ENTITIES))
    assert tables["person_name"]["person_id"][4] == "→ `person`"
    assert tables["case"]["merged_into"][4] == "→ `case`"
    assert tables["attachment"]["document_id"][4] == ""  # no entity named "document"
    assert tables["step"]["state"][4].startswith(
        "order: `not_started` < `in_progress` < `ready` < `submitted` < "
        "`decided` = `approved` = `rejected` < `paid` = `appealed` < `closed`"
    )


def test_check_mode_reports_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = _tool()
    assert tool.main(["--check"]) == 0
    tool.TARGET = tmp_path / "sync-catalogue.md"
    tool.TARGET.write_text("old", encoding="utf-8")
    assert tool.main(["--check"]) == 1
    assert "run python tools/gen_catalogue_doc.py" in capsys.readouterr().out
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0
