"""packaging/: the systemd unit runs commands the CLI has, and the environment file names every secret the
daemon reads from the environment (a renamed option or variable would break a production install)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from acd.cli import _register, app
from acd.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "acd.service"


def unit_values(key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(f"{key}=")]


def test_the_unit_runs_existing_acd_commands_as_user_acd() -> None:
    assert unit_values("User") == ["acd"]
    assert unit_values("EnvironmentFile") == ["/etc/acd/acd.env"]
    assert unit_values("Restart") == ["on-failure"] and unit_values("KillSignal") == ["SIGTERM"]
    _register()
    for key in ("ExecStartPre", "ExecStart"):
        [line] = unit_values(key)
        argv = shlex.split(line)
        assert argv[0] == "/opt/acd/bin/acd"
        result = CliRunner().invoke(app, [*argv[1:], "--help"])
        assert result.exit_code == 0, (line, result.output)


def test_the_environment_example_names_every_secret() -> None:
    names = set(re.findall(r"^([A-Z_0-9]+)=", (ROOT / "packaging" / "acd.env.example").read_text(), re.M))
    settings = load_settings(ROOT / "config" / "acd.yaml")
    tokens = {u.token_env for u in settings.users if u.token_env}
    assert {"ACD_ARI_USER", "ACD_ARI_PASSWORD", "ACD_DB_URL"} | tokens <= names
