"""CDR writer throughput (issue 4): call events per second through the real ``CdrWriter``, end to end
(events inserted, every touched call re-folded and upserted, queue_log and cdr rows derived).

Goal: >= 5,000 call events/s on SQLite. PostgreSQL is measured too when ``ACD_TEST_PG_URL`` is set.
Run alone: ``python -m bench cdr [--quick]`` (or ``python -m bench.cdr``).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from acd.events import CallEvent
from bench.common import Goal, Section
from cdr.db import make_engine

T0 = 1_795_400_000.0


def synthetic_calls(n_calls: int, seed: int = 1) -> list[CallEvent]:
    """A busy line: each call arrives, is answered, queued, offered, connected and ends (10 events), calls
    overlapping in time as they would on the wire."""
    rnd = random.Random(seed)
    out: list[CallEvent] = []
    for i in range(n_calls):
        cid, t = f"b{i:07d}", T0 + i * 3.0
        wait, talk = rnd.expovariate(1 / 30), rnd.expovariate(1 / 300)
        out += [
            CallEvent(cid, "arrived", t, {"direction": "inbound", "dialled": "193",
                                          "caller": f"8701{i:07d}"}),
            CallEvent(cid, "answered", t + 0.5),
            CallEvent(cid, "scenario", t + 0.6, {"name": "193", "version": "abc"}),
            CallEvent(cid, "language", t + 4, {"lang": "kk", "how": "dtmf"}),
            CallEvent(cid, "queued", t + 5, {"queue": "general", "priority": 0}),
            CallEvent(cid, "offered", t + 5 + wait, {"queue": "general", "agent": f"a{i % 20}"}),
            CallEvent(cid, "connected", t + 8 + wait, {"queue": "general", "agent": f"a{i % 20}",
                                                       "bridge": cid}),
            CallEvent(cid, "topic", t + 60 + wait, {"topic": "tax", "by": f"a{i % 20}"}),
            CallEvent(cid, "ended", t + 8 + wait + talk, {"by": "caller", "cause": "16"}),
            CallEvent(cid, "wrapup_ended", t + 18 + wait + talk, {"agent": f"a{i % 20}", "seconds": 10}),
        ]
    out.sort(key=lambda e: e.at)
    return out


async def measure(url: str, events: list[CallEvent], spool: Path) -> dict[str, Any]:
    from cdr.writer import CdrWriter

    w = CdrWriter(url, spool)
    await w.start()
    started = time.perf_counter()
    emit_started = time.perf_counter()
    for e in events:
        w.emit(e)
    emit_us = (time.perf_counter() - emit_started) / len(events) * 1e6
    await w.flush()
    elapsed = time.perf_counter() - started
    await w.close()
    return {"events": len(events), "elapsed_s": round(elapsed, 3),
            "events_per_s": round(len(events) / elapsed), "emit_us_per_event": round(emit_us, 2),
            "written": w.written, "spooled": w.spooled}


async def _pg(url: str, events: list[CallEvent], spool: Path) -> dict[str, Any]:
    from sqlalchemy import text

    schema = f"bench_cdr_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return await measure(url + ("&" if "?" in url else "?") + f"search_path={schema}", events, spool)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def run(quick: bool) -> Section:
    events = synthetic_calls(2_000 if quick else 10_000)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        figures["sqlite"] = asyncio.run(measure(f"sqlite+aiosqlite:///{d / 'cdr.db'}", events, d / "spool"))
        pg = os.environ.get("ACD_TEST_PG_URL")
        if pg:
            figures["postgres"] = asyncio.run(_pg(pg, events, d / "spool-pg"))
    goals = [Goal("sqlite.events_per_s", figures["sqlite"]["events_per_s"], 5000, at_least=True)]
    if "postgres" in figures:
        goals.append(Goal("postgres.events_per_s", figures["postgres"]["events_per_s"], 5000, at_least=True))
    return Section(figures, goals)


if __name__ == "__main__":
    import orjson

    print(orjson.dumps(run(quick=True).as_dict(), option=orjson.OPT_INDENT_2).decode())
