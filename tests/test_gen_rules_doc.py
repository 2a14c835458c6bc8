"""docs/rules.md is generated from the rule data: regenerate and compare, so it cannot drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from desktop.domain import rules

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rules_doc", ROOT / "tools/gen_rules_doc.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_rules_doc_matches_the_data() -> None:
    expected = _tool().render(rules.read_documents())
    assert (ROOT / "docs/rules.md").read_text(encoding="utf-8") == expected, (
        "docs/rules.md is stale: run python tools/gen_rules_doc.py"
    )


def test_every_rule_and_setting_is_listed_with_its_periods() -> None:
    text = _tool().render(rules.read_documents())
    book = rules.load()
    for key, rule in book.rules.items():
        assert text.count(f"| `{key}` |") == len(rule.periods)
    for key in book.settings:
        assert f"| `{key}` |" in text
    assert "| 17500 | 2026-01-01 | 2028-12-31 | ok |" in text


def test_check_mode_reports_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = _tool()
    assert tool.main(["--check"]) == 0
    tool.TARGET = tmp_path / "rules.md"
    tool.TARGET.write_text("old", encoding="utf-8")
    assert tool.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0
