"""The command line: search (with exit 2 on an impossible range), purge --dry-run, QA forms/score/report."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recording import store
from recording.cli import qa_app, recordings_app
from recording.wavinfo import write_silence_wav
from tests.recording.dbutil import add_call, make_db, utc

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A deployment in tmp_path: config/acd.yaml, config/qa/, one old and one young recording."""
    cfg = tmp_path / "config"
    (cfg / "qa").mkdir(parents=True)
    (cfg / "qa" / "standard.yaml").write_text((REPO / "config/qa/standard.yaml").read_text(encoding="utf-8"))
    (cfg / "acd.yaml").write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'acd.db'}\n"
        "paths:\n  recordings: var/recordings\nrecording:\n  retention_days: 90\n", encoding="utf-8")

    async def seed() -> None:
        db = await make_db(tmp_path)
        root = tmp_path / "var/recordings"
        seed_rows = (("old", utc(2026, 1, 10, 6, 0), "a1"), ("young", utc(2026, 11, 20, 6, 0), "a2"))
        for call, started, agent in seed_rows:
            await add_call(db, call, agent=agent, caller="+77011112233" if call == "old" else "+77770000000")
            rid = await store.register_started(db, call_id=call, name=f"d/{call}", fmt="wav",
                                               started_at=started)
            write_silence_wav(root / f"d/{call}.wav", 0.2)
            await store.finish(db, rid, root=root, ended_at=started + timedelta(seconds=1))
        await db.dispose()

    asyncio.run(seed())
    return cfg / "acd.yaml"


def test_search_prints_matches_and_json(config: Path) -> None:
    r = runner.invoke(recordings_app, ["search", "--caller", "1112233", "--json", "-c", str(config)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["call_id"] for x in rows] == ["old"]
    r = runner.invoke(recordings_app, ["search", "--from", "2026-11-01", "--agent", "a2", "-c", str(config)])
    assert r.exit_code == 0 and "young" in r.stdout and "old" not in r.stdout


def test_impossible_date_range_is_a_usage_error(config: Path) -> None:
    r = runner.invoke(recordings_app, ["search", "--from", "2026-11-24", "--to", "2026-11-01",
                                       "-c", str(config)])
    assert r.exit_code == 2
    assert "impossible date range" in r.stderr
    r = runner.invoke(recordings_app, ["search", "--from", "24.11.2026", "-c", str(config)])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.stderr


def test_purge_dry_run_lists_then_purge_deletes(config: Path, tmp_path: Path) -> None:
    old_file = tmp_path / "var/recordings/d/old.wav"
    args = ["purge", "--now", "2026-11-23T12:00:00+05:00", "-c", str(config)]
    r = runner.invoke(recordings_app, [*args, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "would delete: 1 " in r.stdout and "young" not in r.stdout
    assert old_file.exists()
    r = runner.invoke(recordings_app, [*args, "--json"])
    assert r.exit_code == 0
    assert [x["call_id"] for x in json.loads(r.stdout)["purged"]] == ["old"]
    assert not old_file.exists() and (tmp_path / "var/recordings/d/young.wav").exists()


def test_qa_commands(config: Path, tmp_path: Path) -> None:
    r = runner.invoke(qa_app, ["forms", "-c", str(config)])
    assert r.exit_code == 0 and "correctness" in r.stdout
    scores = ["--score", "greeting=5", "--score", "etiquette=5", "--score", "correctness=5",
              "--score", "topic_entered=1", "--score", "closing=5"]
    r = runner.invoke(qa_app, ["score", "--recording", "1", *scores, "--evaluator", "sup1",
                               "-c", str(config)])
    assert r.exit_code == 0, r.output
    assert "total 80%" in r.stdout
    r = runner.invoke(qa_app, ["score", "--recording", "1", *scores[:-2], "--score", "closing=7",
                               "-c", str(config)])
    assert r.exit_code == 1 and "closing: score 7 outside the scale 0..5" in r.stderr
    runner.invoke(qa_app, ["score", "--recording", "1", *scores[:4], "--score", "correctness=9",
                           "--score", "topic_entered=1", "--score", "closing=5", "--evaluator", "sup2",
                           "-c", str(config)])
    r = runner.invoke(qa_app, ["calibration", "old", "--json", "-c", str(config)])
    spread = {s["criterion"]: s for s in json.loads(r.stdout)["spread"]}
    assert spread["correctness"]["min"] == 5 and spread["correctness"]["max"] == 9
    r = runner.invoke(qa_app, ["report", "--json", "-c", str(config)])
    assert json.loads(r.stdout)[0]["agent"] == "a1"
    (tmp_path / "config/qa/broken.yaml").write_text("id: broken\ncriteria:\n  - id: a\n    weight: 10\n")
    r = runner.invoke(qa_app, ["forms", "-c", str(config)])
    assert r.exit_code == 1 and "broken.yaml:2: criteria: weights add up to 10" in r.stderr


def test_search_table_has_a_header_row(config: Path) -> None:
    r = runner.invoke(recordings_app, ["search", "-c", str(config)])
    assert r.exit_code == 0, r.output
    header, *rows = r.stdout.splitlines()
    assert header.split()[:4] == ["id", "started", "(local)", "call"] and "status" in header
    assert len(rows) == 2


def test_search_takes_db_like_acd_report(config: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    elsewhere = tmp_path / "nowhere" / "acd.yaml"  # no config at all: --db is enough
    r = runner.invoke(recordings_app, ["search", "--json", "--db", url, "-c", str(elsewhere)])
    assert r.exit_code == 0, r.output
    assert sorted(x["call_id"] for x in json.loads(r.stdout)) == ["old", "young"]


def test_search_without_a_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """Issue 9 §5: with the default config it created an empty var/acd.db, then 'no such table'."""
    missing = tmp_path / "var" / "acd.db"
    r = runner.invoke(recordings_app, ["search", "--db", f"sqlite+aiosqlite:///{missing}"])
    assert r.exit_code == 1
    assert "no database yet" in r.stderr and "acd db upgrade" in r.stderr
    assert not missing.exists() and "Traceback" not in r.output
    empty = tmp_path / "empty.db"
    empty.touch()
    r = runner.invoke(recordings_app, ["search", "--db", f"sqlite+aiosqlite:///{empty}"])
    assert r.exit_code == 1 and "no database yet" in r.stderr and "no such table" not in r.output


def test_db_upgrade_creates_the_tables_then_search_works(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'acd.db'}"
    done = subprocess.run([sys.executable, "-m", "acd.cli", "db", "upgrade", "--db", url], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "up to date" in done.stdout, done.stderr
    r = runner.invoke(recordings_app, ["search", "--json", "--db", url])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == []


def test_search_with_the_database_down_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(recordings_app, ["search", "--db", f"postgresql+asyncpg://u:p@127.0.0.1:{port}/acd"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.startswith("database: ConnectionRefusedError") and len(r.stderr.splitlines()) == 1


def test_search_without_a_config_reads_acd_db_url(config: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACD_DB_URL", f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    r = runner.invoke(recordings_app, ["search", "--json", "-c", str(tmp_path / "nowhere.yaml")])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)) == 2
