"""``acd check`` and ``acd schema`` as an admin runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

from acd.config_cli import check, schema

CONFIG = Path(__file__).resolve().parents[2] / "config"


def app_of(fn: object) -> typer.Typer:
    app = typer.Typer()
    app.command()(fn)  # type: ignore[arg-type]
    return app


def test_check_passes_on_the_shipped_config() -> None:
    result = CliRunner().invoke(app_of(check), [str(CONFIG)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout and "line-193" in result.stdout


def test_check_fails_with_every_problem_on_stderr(tmp_path: Path) -> None:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    f = d / "scenarios" / "193.yaml"
    text = f.read_text().replace("schedule: tender", "schedule: tendr").replace("name: general", "name: x")
    f.write_text(text)
    result = CliRunner().invoke(app_of(check), [str(d)])
    assert result.exit_code == 1
    assert "config/scenarios/193.yaml:20: steps[2].hours.schedule: unknown schedule 'tendr'" in result.stderr
    assert "unknown queue 'x'" in result.stderr
    assert "2 errors" in result.stderr
    assert result.stdout == ""


def test_schema_describes_steps_for_editors() -> None:
    result = CliRunner().invoke(app_of(schema), ["scenario"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert "steps" in doc["properties"]
    assert "MenuArgs" in doc["$defs"] and doc["$defs"]["MenuArgs"]["properties"]["retries"]["description"]
    everything = json.loads(CliRunner().invoke(app_of(schema), []).stdout)
    assert set(everything) >= {"scenario", "schedules", "queues", "agents", "prompts"}


def test_schema_covers_acd_yaml_regions_and_qa_forms() -> None:
    acd = json.loads(CliRunner().invoke(app_of(schema), ["acd"]).stdout)
    assert {"ari", "database", "paths", "users"} <= set(acd["properties"])
    assert acd["$defs"]["AriSettings"]["properties"]["url"]["description"].startswith("Base URL of ARI")
    regions = json.loads(CliRunner().invoke(app_of(schema), ["regions"]).stdout)
    assert {"mobile", "areas"} <= set(regions["properties"])
    qa = json.loads(CliRunner().invoke(app_of(schema), ["qa"]).stdout)
    assert "criteria" in qa["properties"]
    everything = json.loads(CliRunner().invoke(app_of(schema), []).stdout)
    assert {"acd", "regions", "qa"} <= set(everything)
