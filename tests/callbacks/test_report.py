"""The callbacks report (R25 with R21's target and verdict) on a hand-made set of callbacks."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from cdr.db import make_engine, migrate
from cdr.reports import ReportOptions, run_report
from cdr.schema import callbacks

ALMATY = ZoneInfo("Asia/Almaty")


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ALMATY)


def cb(cid: str, kind: str, created: datetime, due: datetime, status: str = "open",
       closed: datetime | None = None, outcome: str | None = None) -> dict[str, Any]:
    return {"id": cid, "reason": kind, "created_at": created, "due_at": due, "status": status,
            "closed_at": closed, "outcome": outcome, "attempts": 1 if outcome else 0, "number": "7011234567"}


ROWS = [
    cb("v1", "voicemail", t(23, 9), t(24, 9), "done", t(23, 12), "reached"),       # met
    cb("v2", "voicemail", t(23, 11), t(24, 11), "done", t(24, 15), "reached"),     # late
    cb("v3", "voicemail", t(23, 12), t(24, 12), "failed", t(23, 13), "wrong_number"),  # met: closed in time
    cb("v4", "voicemail", t(23, 10), t(24, 10)),                                   # overdue, still open
    cb("s1", "second_line", t(24, 14), t(24, 16), "done", t(24, 15), "reached"),   # met
    cb("s2", "second_line", t(24, 23), t(25, 1)),                                  # not yet due
    cb("old", "voicemail", t(22, 10), t(23, 10)),                                  # before the period
]


async def test_callbacks_met_within_deadline(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(callbacks.insert(), ROWS)
        now = t(24, 23, 30).timestamp()
        res = await run_report(engine, "callbacks", date(2026, 11, 23), date(2026, 11, 24), tz="Asia/Almaty",
                               options=ReportOptions(now=now))
    finally:
        await engine.dispose()
    by_kind = {r["kind"]: r for r in res.rows}
    keys = ("total", "met", "late", "overdue", "pending", "reached", "met_pct", "verdict_en")
    assert {k: by_kind["voicemail"][k] for k in keys} == {
        "total": 4, "met": 2, "late": 1, "overdue": 1, "pending": 0, "reached": 2, "met_pct": 50.0,
        "verdict_en": "NO"}
    assert {k: by_kind["second_line"][k] for k in keys} == {
        "total": 2, "met": 1, "late": 0, "overdue": 0, "pending": 1, "reached": 1, "met_pct": 100.0,
        "verdict_en": "yes"}
    assert res.totals is not None
    assert (res.totals["total"], res.totals["met"], res.totals["met_pct"]) == (6, 3, 60.0)
    assert res.warnings == ["callback target missed: voicemail (50.0 % vs >= 100 %)"]
    assert res.to_json()["report"] == "callbacks"


async def test_acd_report_callbacks_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    engine = make_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(callbacks.insert(), ROWS)
    finally:
        await engine.dispose()
    from acd.cli import _register, app

    _register()
    args = ["report", "callbacks", "--from", "2026-11-23", "--to", "2026-11-24", "--db", url,
            "--format", "csv", "--lang", "en", "-c", str(tmp_path / "none.yaml")]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    # run after the period, so the second-line callback left open is overdue now
    assert "Voicemail,4,2,1,1,0,2,50" in result.output and "Second line,2,1,0,1,0,1,50" in result.output
    assert "callback target missed: second_line" in result.output
