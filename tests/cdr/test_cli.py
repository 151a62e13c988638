"""``acd report``: output files in each format, and usage errors as one line on stderr with exit code 2."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import orjson
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from cdr.cli import report
from cdr.writer import CdrWriter
from tests.cdr.dataset import all_events

app = typer.Typer()
app.command()(report)
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("cli")
    url = f"sqlite+aiosqlite:///{d / 'cdr.db'}"

    async def fill() -> None:
        w = CdrWriter(url, d / "spool")
        await w.start()
        for e in all_events():
            w.emit(e)
        await w.close()

    asyncio.run(fill())
    return url


def run(*args: str) -> typer.testing.Result:
    return runner.invoke(app, list(args))


def test_csv_to_stdout_and_xlsx_and_json_to_files(db: str, tmp_path: Path) -> None:
    r = run("daily", "--from", "2026-11-23", "--to", "2026-11-24", "--format", "csv", "--db", db,
            "-c", str(tmp_path / "none.yaml"))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("Дата,Поступ.,Принято")
    out = tmp_path / "m.xlsx"
    r = run("monthly", "--from", "2026-11-01", "--to", "2026-11-30", "-f", "xlsx", "-o", str(out),
            "--lang", "en", "--db", db, "-c", str(tmp_path / "none.yaml"))
    assert r.exit_code == 0, r.output
    ws = load_workbook(io.BytesIO(out.read_bytes())).active
    assert ws is not None and ws["A2"].value == "Figure"
    out = tmp_path / "s.json"
    r = run("sla", "--from", "2026-11-23", "--to", "2026-11-24", "-f", "json", "-o", str(out), "--db", db,
            "-c", str(tmp_path / "none.yaml"))
    assert r.exit_code == 0
    assert orjson.loads(out.read_bytes())["report"] == "sla"
    assert "SLA target missed" in r.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["daily", "--from", "2026-11-24", "--to", "2026-11-23"], "is after --to"),
    (["weekly", "--from", "2026-11-23"], "unknown report 'weekly'"),
    (["daily", "--from", "2026-11-23", "-f", "csv", "-o", "/nonexistent-dir/x.csv"], "cannot write"),
    (["daily", "--from", "23.11.2026"], "expected a date"),
    (["daily", "--from", "2026-11-23", "--format", "pdf"], "unknown --format"),
])
def test_usage_errors_exit_2_with_a_clear_message(db: str, args: list[str], message: str,
                                                  tmp_path: Path) -> None:
    r = run(*args, "--db", db, "-c", str(tmp_path / "none.yaml"))
    assert r.exit_code == 2
    assert message in r.stderr and r.stdout == ""


def test_a_database_without_the_cdr_is_exit_1_with_one_line(tmp_path: Path) -> None:
    r = run("daily", "--from", "2026-11-23", "--db", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
            "-c", str(tmp_path / "none.yaml"))
    assert r.exit_code == 1
    assert r.stderr.strip().endswith("no such table: calls") and len(r.stderr.strip().splitlines()) == 1


def test_the_17_column_daily_form_is_readable_on_an_80_column_terminal(db: str, tmp_path: Path) -> None:
    """Too wide for the terminal, the table turns: one line per figure, the days across."""
    r = runner.invoke(app, ["daily", "--from", "2026-11-23", "--to", "2026-11-24", "--db", db,
                            "-c", str(tmp_path / "none.yaml")], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    offered = next(line for line in lines if "Поступ." in line)
    assert "2026-11-23" in r.stdout and any(ch.isdigit() for ch in offered)  # a figure, not a cut "…"
    assert "…" not in r.stdout
