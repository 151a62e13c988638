"""`acd check` covers regions.yaml too: a mistake there is named with file and line like any other."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from acd.configset import load_config
from acd.yamlconf import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_a_typo_in_regions_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    path = cfg / "regions.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("internal_max_digits:"))
    lines[n] = lines[n].replace("internal_max_digits", "internal_max_digit")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert f"regions.yaml:{n + 1}: internal_max_digit: unknown key" in str(err.value)


def test_the_shipped_regions_yaml_is_valid() -> None:
    assert load_config(ROOT / "config").scenarios  # no problem raised, regions included
