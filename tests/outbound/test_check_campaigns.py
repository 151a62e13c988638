"""``acd check`` reads ``config/campaigns`` as the daemon does at start (issue 15): a campaign's problems
(a calling window that never opens, a queue that does not exist) fail the check with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

CONFIG = Path(__file__).resolve().parents[2] / "config"


def _check(config_dir: Path) -> tuple[int, str, str]:
    from acd.config_cli import check

    app = typer.Typer()
    app.command()(check)
    result = CliRunner().invoke(app, [str(config_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_acd_check_names_the_campaigns_and_refuses_a_broken_one(tmp_path: Path) -> None:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    code, out, _ = _check(d)
    assert code == 0 and "campaigns: survey" in out
    survey = d / "campaigns" / "survey.yaml"
    original = survey.read_text(encoding="utf-8")
    survey.write_text(original.replace("days: [mon, tue, wed, thu, fri, sat]", "days: []"), encoding="utf-8")
    code, _, err = _check(d)
    assert code == 1
    assert "survey.yaml:9: window: the calling window never opens: no days" in err, err
    survey.write_text(original.replace("queue: general", "queue: genral"), encoding="utf-8")
    code, _, err = _check(d)
    assert code == 1 and "survey.yaml:5: queue:" in err and "genral" in err, err
