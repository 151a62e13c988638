"""Report speed (issue 4): R17's ``daily`` report over a year of 400 calls a day (146,000 ``calls`` rows),
and the other reports over a month of it.

Goal: ``daily`` over the year in under 2 s, on SQLite and (when ``ACD_TEST_PG_URL`` is set) PostgreSQL.
The rows are inserted directly (the writer's own speed is ``bench.cdr``'s business).
Run alone: ``python -m bench reports [--quick]`` (or ``python -m bench.reports``).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import Goal, Section
from cdr.db import make_engine, migrate
from cdr.schema import calls

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
        t = time.perf_counter()
        result = await run_report(engine, "daily", start, end)
        out["daily_year_s"] = round(time.perf_counter() - t, 3)
        out["daily_rows"] = len(result.rows)
        month_end = start + timedelta(days=30)
        for name in REPORTS:
            t = time.perf_counter()
            await run_report(engine, name, start, month_end)
            out[f"{name}_month_s"] = round(time.perf_counter() - t, 3)
        return out
    finally:
        await engine.dispose()


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
    goals = [Goal(f"{db}.daily_year_s", figures[db]["daily_year_s"], 2.0) for db in ("sqlite", "postgres")
             if db in figures]
    return Section(figures, goals)


if __name__ == "__main__":
    import sys

    import orjson

    print(orjson.dumps(run(quick="--quick" in sys.argv).as_dict(), option=orjson.OPT_INDENT_2).decode())
