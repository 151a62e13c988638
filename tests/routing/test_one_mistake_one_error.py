"""One mistake gives one error (issue 9, section 3): a broken or missing file is reported once, by
file:line, and the references to its names elsewhere are counted under it, not each called unknown."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from acd.configset import load_config
from acd.yamlconf import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    return d


def errors(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    return [str(p) for p in info.value.problems]


def test_yaml_error_in_queues_yaml_is_one_error_with_its_line(config_dir: Path) -> None:
    queues = config_dir / "queues.yaml"
    text = queues.read_text().replace("  - name: second_line", "  - name: second_line\n   x: [", 1)
    queues.write_text(text)
    found = errors(config_dir)
    assert len(found) == 1, found
    assert found[0].startswith("config/queues.yaml:14: YAML syntax:"), found
    assert "references to a queue elsewhere not checked until this is fixed" in found[0]


def test_an_empty_queues_yaml_is_one_error_naming_it(config_dir: Path) -> None:
    (config_dir / "queues.yaml").write_text("# to do\n")
    found = errors(config_dir)
    assert len(found) == 1, found
    assert found[0].startswith("config/queues.yaml: the file is empty (or only comments) ["), found


def test_a_missing_queues_yaml_is_one_error_naming_it(config_dir: Path) -> None:
    (config_dir / "queues.yaml").unlink()
    found = errors(config_dir)
    assert len(found) == 1, found
    assert found[0].startswith("config/queues.yaml: file missing: every scenario and agent names its queues "
                               "here ["), found


def test_one_invalid_queue_leaves_the_others_known(config_dir: Path) -> None:
    queues = config_dir / "queues.yaml"
    queues.write_text(queues.read_text().replace("strategy: least_talked_today", "strategy: fastest", 1))
    found = errors(config_dir)
    assert len(found) == 1 and found[0].startswith("config/queues.yaml:14: queues[1].strategy:"), found


def test_a_deleted_prompts_file_is_one_file_missing_error(config_dir: Path) -> None:
    (config_dir / "prompts" / "ru.yaml").unlink()
    found = errors(config_dir)
    assert len(found) == 1, found
    assert found[0].startswith("config/prompts/ru.yaml: file missing: scenarios line-193, line-almaty, "
                               "line-8800 offer ru, and every prompt they play needs its text here ["), found


def test_an_invalid_shared_schedule_is_reported_once_not_in_every_scenario(config_dir: Path) -> None:
    shared = config_dir / "scenarios" / "_schedules.yaml"
    shared.write_text(shared.read_text().replace('mon: ["09:00-21:00"]', 'mon: ["09:00-25:00"]', 1))
    found = errors(config_dir)
    assert len(found) == 1, found
    assert "_schedules.yaml:8: schedules.tender.weekly.mon: time 25:00" in found[0]
    assert not any("unknown schedule" in p for p in found)


def test_did_you_mean_never_suggests_the_same_name(config_dir: Path) -> None:
    ru = config_dir / "prompts" / "ru.yaml"
    ru.write_text("".join(line for line in ru.read_text().splitlines(keepends=True)
                          if not line.startswith("greeting:")))
    found = errors(config_dir)
    assert found and all("did you mean 'greeting'" not in p for p in found), found
    assert any("prompt 'greeting' has no text in ru (add it to prompts/ru.yaml)" in p for p in found), found


def test_routing_never_imports_acd_configset() -> None:
    """acd.configset composes routing's checks; routing importing it back would be a package cycle."""
    offenders = []
    for path in sorted((ROOT / "routing").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[:2] == ["acd", "configset"]]
    assert offenders == []


@pytest.mark.parametrize("name", ["queues", "prompts/ru"])
def test_a_file_saved_as_yml_is_one_error_not_also_a_missing_yaml(config_dir: Path, name: str) -> None:
    (config_dir / f"{name}.yaml").rename(config_dir / f"{name}.yml")
    found = errors(config_dir)
    assert len(found) == 1, found
    assert found[0].startswith(f"config/{name}.yml: only .yaml files are read: rename it to "), found


def test_an_empty_scenario_file_is_one_error(config_dir: Path) -> None:
    (config_dir / "scenarios" / "new.yaml").write_text("# line 1414, to do\n")
    assert errors(config_dir) == ["config/scenarios/new.yaml: the file is empty (or only comments): "
                                  "delete it or write the scenario (docs/scenarios.md)"]
