"""``acd users``: the first admin is made by a command, with a password typed or piped, never a default."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from acd.web.cli import users_app

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "acd.yaml"
    cfg.write_text(f'database: {{url: "sqlite+aiosqlite:///{tmp_path / "acd.db"}"}}\n', encoding="utf-8")
    return cfg


def _run(config: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(users_app, [*args, "-c", str(config)], input=stdin, env=env)


def test_users_are_added_listed_disabled_and_given_new_passwords(config: Path) -> None:
    r = _run(config, "add", "aigerim", "--role", "agent", "--agent", "agent1", "--password-stdin",
             stdin="long-enough-1\n")
    assert r.exit_code == 0, r.output
    r = _run(config, "add", "root", "--role", "admin", stdin="adm1n-pass\nadm1n-pass\n")  # typed twice
    assert r.exit_code == 0, r.output
    r = _run(config, "add", "bi", "--role", "reporting", env={"ACD_USER_PASSWORD": "reporting-1"})
    assert r.exit_code == 0, r.output
    r = _run(config, "list")
    lines = r.output.splitlines()
    assert [x.split()[:3] for x in lines] == [["aigerim", "agent", "agent1"], ["bi", "reporting", "-"],
                                              ["root", "admin", "-"]]
    assert _run(config, "disable", "aigerim").exit_code == 0
    assert "disabled" in _run(config, "list").output.splitlines()[0]
    assert _run(config, "passwd", "root", "--password-stdin", stdin="another-pass\n").exit_code == 0


def test_bad_input_is_refused_with_a_message(config: Path) -> None:
    r = _run(config, "add", "x", "--role", "admin", "--password-stdin", stdin="short\n")
    assert r.exit_code == 1 and "too short" in r.output
    r = _run(config, "add", "x", "--role", "agent", "--password-stdin", stdin="long-enough-1\n")
    assert r.exit_code == 1 and "--agent" in r.output
    r = _run(config, "add", "x", "--role", "root", "--password-stdin", stdin="long-enough-1\n")
    assert r.exit_code == 1 and "unknown role" in r.output
    _run(config, "add", "x", "--role", "admin", "--password-stdin", stdin="long-enough-1\n")
    r = _run(config, "add", "x", "--role", "admin", "--password-stdin", stdin="long-enough-1\n")
    assert r.exit_code == 1 and "exists" in r.output
    r = _run(config, "disable", "nobody")
    assert r.exit_code == 1 and "no user" in r.output
