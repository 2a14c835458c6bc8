"""Bundled resources: where they are and how YAML files are read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from desktop.domain.resources import load_yaml, resource_path, resources_dir


def test_resource_path_is_inside_the_resources_folder() -> None:
    path = resource_path("translations", "ui.yaml")
    assert path.parent.parent == resources_dir()
    assert path.is_file()


@pytest.mark.parametrize("folder", ["translations", "rules", "workflows", "forms"])
def test_load_yaml_reads_every_bundled_file_as_the_reference_loader_does(folder: str) -> None:
    for path in sorted(resource_path(folder).glob("*.yaml")):
        assert load_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path.name


def test_load_yaml_keeps_every_script_intact(tmp_path: Path) -> None:
    path = tmp_path / "names.yaml"
    path.write_text("th: สมชาย\nmy: အောင်ကျော်\nkm: ស៊ុន\nlo: ສົມພອນ\n", encoding="utf-8")
    assert load_yaml(path) == {"th": "สมชาย", "my": "အောင်ကျော်", "km": "ស៊ុន", "lo": "ສົມພອນ"}


def test_load_yaml_refuses_python_objects(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text("x: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        load_yaml(path)


def test_load_yaml_reports_malformed_files(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("key: [unclosed\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        load_yaml(path)
