"""Where the bundled resources live: the repository's ``resources/`` or the frozen bundle's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

# libyaml's loader is about ten times faster than the pure-Python one (the catalogue,
# rules and workflows are read at every start); the results are the same.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def resources_dir() -> Path:
    """The ``resources`` folder: beside the package in a checkout, in ``_MEIPASS`` when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """Path of one bundled resource, e.g. ``resource_path("rules", "ssf.yaml")``."""
    return resources_dir().joinpath(*parts)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file safely (plain data only), with libyaml when it is installed."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
