"""The layering rule, enforced: imports point inward only (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def _offenders(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for name in _imports(path):
            if name.startswith(forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


def test_no_qt_outside_ui() -> None:
    outside_ui = [
        p for p in _modules("desktop", "sync") if "ui" not in p.relative_to(ROOT).parts[1:2]
    ]
    assert outside_ui, "no modules found: the walk is broken"
    assert _offenders(outside_ui, ("PySide6", "shiboken6", "desktop.ui")) == []


def test_sync_never_imports_qt_or_ui() -> None:
    assert _offenders(_modules("sync"), ("PySide6", "shiboken6", "desktop.ui")) == []


def test_domain_is_pure() -> None:
    forbidden = ("sqlalchemy", "PySide6", "desktop.models", "desktop.services", "sync", "httpx")
    assert _offenders(_modules("desktop/domain"), forbidden) == []


def test_ui_uses_no_sql() -> None:
    ui = _modules("desktop/ui")
    assert _offenders(ui, ("sqlalchemy", "sqlite3", "sqlcipher3", "desktop.models")) == []
    for path in ui:
        source = path.read_text(encoding="utf-8")
        assert "Session(" not in source, f"{path.name} opens a database session"
