"""CDR writer throughput (issue 4): call events per second through the real ``CdrWriter``, end to end
(events inserted, every touched call re-folded and upserted, queue_log and cdr rows derived).

Goal: >= 5,000 call events/s on SQLite. PostgreSQL is measured too when ``ACD_TEST_PG_URL`` is set.

``trickle`` (issue 11 §6): the daemon's own regime, where the per-batch costs dominate. The records the
daemon emits for a queued, answered and recorded call (13 call events, 4 agent state changes, 2 recording
events, as ``python -m bench daemon`` stores them) are fed at 20 calls/s, each at its moment, through the
real ``CdrWriter`` with its own batching on SQLite; the figure is the process's CPU per call
(``time.process_time``: all threads, aiosqlite's included), and the statements per batch.

Run alone: ``python -m bench cdr [--quick]`` (or ``python -m bench.cdr``; ``python -m bench.cdr --trickle-s
20`` for the trickle alone). The 60 s PostgreSQL outage soak (R27, not in CI):
``ACD_TEST_PG_URL=... python -m bench.cdr --outage-s 60``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from acd.events import AgentEvent, CallEvent, CdrRecord, RecordingEvent
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


TRICKLE_RATE = 20.0
TRICKLE_AGENTS = 60


def daemon_call(i: int, t: float, agent: str) -> list[tuple[float, CdrRecord]]:
    """One call as the daemon's bench (``python -m bench daemon``) emits it, with the offsets it was
    stored with: arrives, is answered and queued, an agent is offered at once and answers after 0.3 s, the
    1.8 s recording notice, 1 s of talk recorded, the caller hangs up, wrap-up 0 s. (emit time, record)."""
    cid, name = f"{1_796_000_000 + i // 1000}.{i}", f"2026/11/30/{1_796_000_000 + i // 1000}.{i}"

    def call(dt: float, kind: str, data: dict[str, Any], milestone: bool = False) -> tuple[float, CdrRecord]:
        at = t + dt
        if milestone:
            return at, CallEvent(cid, kind, at, data, f"{cid}/{kind}/{at:.3f}")
        return at, CallEvent(cid, kind, at, data)

    def state(dt: float, new: str, previous: str, call_id: str | None = cid) -> tuple[float, CdrRecord]:
        return t + dt, AgentEvent(agent, new, t + dt, previous=previous, call_id=call_id)

    q = {"queue": "general"}
    return [
        call(0.0, "arrived", {"direction": "inbound", "dialled": "5000", "caller": f"7701{i:07d}",
                              "caller_name": "", "channel": f"PJSIP/trunk-{i:08x}", "linked_id": cid}, True),
        call(0.0014, "answered", {}, True),
        call(0.0024, "scenario", {"name": "bench", "version": "1b5e34fad13b"}),
        call(0.0025, "language", {"lang": "ru", "how": "default"}),
        call(0.0026, "step", {"step": "queue", "detail": "general"}),
        call(0.0027, "queued", {**q, "priority": 0, "position": 1}, True),
        state(0.0035, "ringing", "ready"),
        call(0.0041, "offered", {**q, "agent": agent}),
        state(0.307, "on_call", "ringing"),
        call(1.777, "left_queue", {**q, "reason": "connected"}),
        call(1.778, "connected", {**q, "agent": agent, "bridge": f"acd-br-{i}"}, True),
        call(1.7805, "recording_started", {"recording": name, "path": f"{name}.wav", "kind": "call"}),
        (t + 1.7806, RecordingEvent(name=name, kind="started", at=t + 1.7806, call_id=cid, fmt="wav",
                                    recording_kind="call", agent=agent)),
        call(2.780, "ended", {"by": "caller", "cause": 16}),
        state(2.784, "wrap_up", "on_call"),
        state(2.784, "ready", "wrap_up", None),
        call(2.7841, "wrapup_ended", {"agent": agent, "seconds": 0.0}),
        call(2.785, "recording_finished", {"recording": name, "duration_s": 1.0}),
        (t + 2.7851, RecordingEvent(name=name, kind="finished", at=t + 2.7851, call_id=cid, status="done",
                                    size_bytes=16090, sha256="b8" * 32, duration_s=1.003)),
    ]


def trickle_stream(seconds: float, rate: float = TRICKLE_RATE,
                   t0: float = T0) -> list[tuple[float, CdrRecord]]:
    """``rate`` calls a second for ``seconds``, agents taken in turn (each busy ~2.8 s of every 3 s), as
    (offset from the start in s, record), in emission order."""
    n = int(seconds * rate)
    out: list[tuple[float, CdrRecord]] = []
    for i in range(n):
        out += daemon_call(i, t0 + i / rate, f"agent{i % TRICKLE_AGENTS}")
    out.sort(key=lambda x: x[0])  # stable: a call's records keep their order at equal times
    return [(at - t0, rec) for at, rec in out]


async def trickle(url: str, spool: Path, seconds: float = 20.0) -> dict[str, Any]:
    """Feed ``trickle_stream`` in real time through a ``CdrWriter`` (its default batching) and measure
    the process's CPU per call, with the feeding loop alone measured apart (``feed_only``)."""
    from sqlalchemy import event

    from cdr.writer import CdrWriter

    stream = trickle_stream(seconds)
    calls = int(seconds * TRICKLE_RATE)

    async def feed(emit: Any) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        i = 0
        while i < len(stream):
            now = loop.time() - start
            while i < len(stream) and stream[i][0] <= now:
                emit(stream[i][1])
                i += 1
            if i < len(stream):
                await asyncio.sleep(max(0.0, stream[i][0] - (loop.time() - start)))
        return loop.time() - start

    cpu = time.process_time()
    await feed(lambda rec: None)
    feed_only = time.process_time() - cpu

    w = CdrWriter(url, spool)
    await w.start()
    statements = 0
    batches = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    sync = getattr(w, "_sync", None)  # the writer's own SQLite engine, where it has one
    event.listen(w.engine.sync_engine if sync is None else sync, "before_cursor_execute", count)
    write_tx = w._write_tx

    async def counted(batch: Any) -> None:
        nonlocal batches
        batches += 1
        await write_tx(batch)

    w._write_tx = counted  # type: ignore[method-assign]
    threads = _threads_cpu()
    cpu = time.process_time()
    wall = await feed(w.emit)
    await w.flush()
    used = time.process_time() - cpu
    threads = {k: v - threads.get(k, 0.0) for k, v in _threads_cpu().items()}
    await w.close()
    return {"calls": calls, "records": len(stream), "feed_s": round(wall, 1),
            "cpu_ms_per_call": round(used * 1000 / calls, 2),
            "feed_only_cpu_ms_per_call": round(feed_only * 1000 / calls, 2),
            "writer_cpu_ms_per_call": round((used - feed_only) * 1000 / calls, 2),
            "threads_cpu_ms_per_call": {k: round(v * 1000 / calls, 2) for k, v in sorted(threads.items())},
            "batches": batches, "records_per_batch": round(len(stream) / max(1, batches), 1),
            "statements_per_batch": round(statements / max(1, batches), 1),
            "written": w.written, "spooled": w.spooled,
            "load_average_1m": round(os.getloadavg()[0], 1)}


def _threads_cpu() -> dict[str, float]:
    """CPU seconds of this process's event loop thread (``main``) and of its other threads together
    (aiosqlite's connection thread), from ``/proc/self/task``; {} where there is no /proc."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError):
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (task / "stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                kind = "main" if task.name == str(os.getpid()) else "other_threads"
                out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / tick
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
        figures["trickle"] = asyncio.run(trickle(f"sqlite+aiosqlite:///{d / 'trickle.db'}", d / "spool-t",
                                                 10.0 if quick else 20.0))
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
    parser.add_argument("--trickle-s", type=float, default=0.0,
                        help="run only the trickle figure (the daemon's record stream) for this many seconds")
    args = parser.parse_args()
    if args.outage_s:
        result = asyncio.run(outage_soak(os.environ["ACD_TEST_PG_URL"], args.outage_s))
    elif args.trickle_s:
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite+aiosqlite:///{Path(tmp) / 'trickle.db'}"
            result = asyncio.run(trickle(db, Path(tmp) / "spool", args.trickle_s))
    else:
        result = run(quick=True).as_dict()
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
