"""Report speed (issues 4 and 14): R17's ``daily`` report over a year of 400 calls a day (146,000 ``calls``
rows), and the other reports over a month of it.

Goals (issue 14, "a report page must feel instant"): ``daily`` over the year <= 0.5 s and ``hourly`` over a
month <= 0.3 s, on SQLite and (when ``ACD_TEST_PG_URL`` is set) PostgreSQL. Each report runs 3 times: the
goal is judged on the median wall time, as a running daemon serves it; the first run (``*_first_s``: lazy
imports, e.g. matplotlib for the hourly chart, and cold caches) and the median CPU time of this process
(``*_cpu_s``: the database server's own CPU is not in it on PostgreSQL) are kept beside it.
The rows are inserted directly (the writer's own speed is ``bench.cdr``'s business).
Run alone: ``python -m bench reports [--quick]`` (or ``python -m bench.reports``).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import Goal, Section
from cdr.db import make_engine, migrate
from cdr.schema import calls

if TYPE_CHECKING:
    from cdr.reports import ReportResult

TZ = ZoneInfo("Asia/Almaty")
OUTCOMES = [("answered", 0.80), ("abandoned", 0.07), ("short_abandoned", 0.03), ("handled_in_ivr", 0.05),
            ("missed_in_ivr", 0.03), ("voicemail", 0.01), ("overflowed", 0.01)]


def year_of_calls(start: date, days: int, per_day: int, seed: int = 4) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    names, weights = zip(*OUTCOMES, strict=True)
    rows = []
    for d in range(days):
        day = start + timedelta(days=d)
        for i in range(per_day):
            opening = datetime(day.year, day.month, day.day, 8, tzinfo=TZ)
            local = opening + timedelta(seconds=rnd.uniform(0, 13 * 3600))
            at = local.astimezone(UTC)
            outcome = rnd.choices(names, weights)[0]
            queued = outcome not in ("handled_in_ivr", "missed_in_ivr")
            wait = rnd.expovariate(1 / 25) if queued else None
            if outcome == "short_abandoned":
                wait = rnd.uniform(0, 5)
            answered = outcome == "answered"
            rows.append({
                "id": f"y{d:03d}-{i:04d}", "direction": "inbound",
                "caller": f"+7701{rnd.randrange(10**7):07d}",
                "region": rnd.choice(["Almaty", "Astana", "mobile", "Shymkent"]), "queue": "general",
                "topic": rnd.choice(["tax", "billing", "schedule", None]), "service": "fiscal",
                "arrived_at": at, "answered_at": at + timedelta(seconds=1),
                "queued_at": at + timedelta(seconds=20) if queued else None,
                "connected_at": at + timedelta(seconds=20 + (wait or 0)) if answered else None,
                "ended_at": at + timedelta(seconds=400), "wait_s": wait,
                "wait_since_answer_s": 19 + (wait or 0),
                "talk_s": rnd.expovariate(1 / 300) if answered else None,
                "hold_s": 0.0 if answered else None, "wrapup_s": 10.0 if answered else None,
                "outcome": outcome,
                "agent": f"a{rnd.randrange(20)}" if answered else None, "offers": 1, "ring_no_answers": 0,
            })
    return rows


async def measure(url: str, rows: list[dict[str, Any]], start: date, end: date) -> dict[str, Any]:
    from cdr.reports import REPORTS, run_report

    engine = make_engine(url)
    try:
        await migrate(engine)
        t = time.perf_counter()
        async with engine.begin() as conn:
            for i in range(0, len(rows), 5000):
                await conn.execute(calls.insert(), rows[i:i + 5000])
        out: dict[str, Any] = {"calls": len(rows), "insert_s": round(time.perf_counter() - t, 2)}
        await _timed(out, "fresh_daily_year", lambda: run_report(engine, "daily", start, end), runs=1)
        await analyze(engine)
        result = await _timed(out, "daily_year", lambda: run_report(engine, "daily", start, end))
        out["daily_rows"] = len(result.rows)
        month_end = start + timedelta(days=30)
        for name in REPORTS:
            await _timed(out, f"{name}_month", partial(run_report, engine, name, start, month_end))
        return out
    finally:
        await engine.dispose()


async def analyze(engine: AsyncEngine) -> None:
    """PostgreSQL: the table as a running server keeps it. Its autovacuum has vacuumed and analysed a table
    filled over a year (visibility map set, so the covering index is read without visiting the heap;
    planner statistics); right after the bulk insert neither is true yet (``fresh_daily_year_s`` is one
    run before this). SQLite has no autovacuum and ``acd`` runs no ``ANALYZE``: nothing is done there."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE calls"))


async def _timed(out: dict[str, Any], key: str, report: Callable[[], Awaitable[ReportResult]],
                 runs: int = 3) -> ReportResult:
    """Run ``report`` ``runs`` times: ``<key>_s`` (median wall time), ``<key>_first_s`` and ``<key>_cpu_s``
    (median CPU time of this process) into ``out``."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        result = await report()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    out[f"{key}_s"] = round(statistics.median(walls), 3)
    out[f"{key}_first_s"] = round(walls[0], 3)
    out[f"{key}_cpu_s"] = round(statistics.median(cpus), 3)
    return result


async def _pg(url: str, rows: list[dict[str, Any]], start: date, end: date) -> dict[str, Any]:
    from sqlalchemy import text

    schema = f"bench_reports_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return await measure(url + ("&" if "?" in url else "?") + f"search_path={schema}", rows, start, end)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def run(quick: bool) -> Section:
    start = date(2025, 1, 1)
    days = 365
    rows = year_of_calls(start, days, 100 if quick else 400)
    end = start + timedelta(days=days - 1)
    figures: dict[str, Any] = {"calls_per_day": 100 if quick else 400, "days": days}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'r.db'}"
        figures["sqlite"] = asyncio.run(measure(url, rows, start, end))
    pg = os.environ.get("ACD_TEST_PG_URL")
    if pg:
        figures["postgres"] = asyncio.run(_pg(pg, rows, start, end))
    goals = []
    for db in ("sqlite", "postgres"):
        if db in figures:
            f = figures[db]
            goals += [Goal(f"{db}.daily_year_s", f["daily_year_s"], 0.5),
                      Goal(f"{db}.hourly_month_s", f["hourly_month_s"], 0.3)]
            print(f"  {db}: daily over a year {f['daily_year_s']:.3f} s "
                  f"(first {f['daily_year_first_s']:.3f} s, CPU {f['daily_year_cpu_s']:.3f} s, "
                  f"on the table just filled {f['fresh_daily_year_s']:.3f} s); "
                  f"hourly over a month {f['hourly_month_s']:.3f} s "
                  f"(first {f['hourly_month_first_s']:.3f} s, CPU {f['hourly_month_cpu_s']:.3f} s)")
    figures["load_average"] = os.getloadavg()[0]
    return Section(figures, goals)


if __name__ == "__main__":
    import sys

    import orjson

    print(orjson.dumps(run(quick="--quick" in sys.argv).as_dict(), option=orjson.OPT_INDENT_2).decode())
