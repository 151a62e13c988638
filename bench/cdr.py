"""CDR writer throughput (issue 4): call events per second through the real ``CdrWriter``, end to end
(events inserted, every touched call re-folded and upserted, queue_log and cdr rows derived).

Goal: >= 5,000 call events/s on SQLite. PostgreSQL is measured too when ``ACD_TEST_PG_URL`` is set.
Run alone: ``python -m bench cdr [--quick]`` (or ``python -m bench.cdr``). The 60 s PostgreSQL outage soak
(R27, not in CI): ``ACD_TEST_PG_URL=... python -m bench.cdr --outage-s 60``.
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


class TcpProxy:
    """Loopback TCP proxy to PostgreSQL; ``close()`` is the outage (connections cut, new ones refused)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port, self.listen_port = host, port, 0
        self.server: asyncio.Server | None = None
        self.transports: set[asyncio.BaseTransport] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.listen_port,
                                                 reuse_address=True)
        self.listen_port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for t in list(self.transports):
                t.abort()
            await self.server.wait_closed()
            self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        self.transports.update({writer.transport, up_w.transport})

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except Exception:
                pass
            w.transport.abort()
            self.transports.discard(w.transport)

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


async def outage_soak(pg_url: str, outage_s: float = 60.0, rate_per_s: float = 200.0) -> dict[str, Any]:
    """R27 soak: a steady stream of call events while PostgreSQL is unreachable for ``outage_s``; then
    count what arrived. Nothing lost (every event once), nothing doubled."""
    from sqlalchemy import func, select, text
    from sqlalchemy.engine import make_url

    from cdr.schema import call_events
    from cdr.writer import CdrWriter

    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    await proxy.open()
    schema = f"soak_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = u.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(False)
    url += ("&" if "?" in url else "?") + f"search_path={schema}"
    events = synthetic_calls(int(rate_per_s * (outage_s + 20) / 10) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        w = CdrWriter(url, Path(tmp) / "spool", retry_max_s=5.0)
        await w.start()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        max_spooled = 0
        try:
            for i, e in enumerate(events):
                w.emit(e)
                elapsed = loop.time() - t0
                if proxy.server is not None and 10 <= elapsed < 10 + outage_s:
                    await proxy.close()
                elif proxy.server is None and elapsed >= 10 + outage_s:
                    await proxy.open()
                if i % 200 == 0:
                    max_spooled = max(max_spooled, w.spooled)
                await asyncio.sleep(max(0.0, t0 + (i + 1) / rate_per_s - loop.time()))
            if proxy.server is None:
                await proxy.open()
            await w.flush()
            await asyncio.wait_for(w.wait_healthy(), 120)
            async with w.engine.connect() as conn:
                n = (await conn.execute(select(func.count()).select_from(call_events))).scalar_one()
                distinct = select(func.count(func.distinct(call_events.c.event_id)))
                unique = (await conn.execute(distinct)).scalar_one()
        finally:
            await w.close()
            await proxy.close()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    return {"outage_s": outage_s, "events": len(events), "stored": n, "unique": unique,
            "max_spooled": max_spooled, "lost": len(events) - unique, "doubled": n - unique}


if __name__ == "__main__":
    import argparse

    import orjson

    parser = argparse.ArgumentParser(prog="python -m bench.cdr")
    parser.add_argument("--outage-s", type=float, default=0.0,
                        help="run the PostgreSQL outage soak (ACD_TEST_PG_URL) for this many seconds instead")
    args = parser.parse_args()
    if args.outage_s:
        result = asyncio.run(outage_soak(os.environ["ACD_TEST_PG_URL"], args.outage_s))
    else:
        result = run(quick=True).as_dict()
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
