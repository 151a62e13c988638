"""Benchmark section ``wallboard``: the supervisor's wallboard fan-out (issue 14, R23).

A real ACD core with 200 agents in 20 queues and 500 callers waiting, the daemon's web application
(``acd.web.app.create_app``) on a loopback port, and 50 WebSocket clients on ``/api/wallboard/live`` in a
separate process (so their CPU is not the daemon's). The daemon's side then makes 50 agent state changes
a second (not ready <-> ready with a reason, as the engine would: a core change plus its CDR record into
the live hub) for the measured period.

- ``latency_p99_ms``: for every change and every client, from the change to the first board the client
  receives after it (the goal: p99 < 200 ms);
- ``fanout_cpu_pct``: the daemon process's CPU time (``time.process_time``) over the wall time of the
  measured period, in percent of one core, less the same run's changes with no wallboard open
  (``baseline_cpu_pct``: the core's own work and the event loop): building the board, serialising it
  once per frame, 50 sends. The goal: < 10 %. ``process_cpu_pct`` is the whole, for the record.

    python -m bench wallboard [--quick]
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from acd.core import Acd, AgentConfig, QueueConfig
from acd.events import AgentEvent
from acd.settings import Settings, User
from acd.web.app import create_app
from acd.web.live import LiveHub
from acd.web.wallboard import BOARD, build_board
from bench.common import Goal, Section, percentile

N_AGENTS, N_QUEUES, N_WAITING, N_CLIENTS, RATE = 200, 20, 500, 50, 50.0
TOKEN = "bench-supervisor"

CLIENT = r"""
import asyncio, json, sys, time
from aiohttp import ClientSession, WSMsgType

async def one(session, url, out, ready):
    async with session.ws_connect(url, headers={"Authorization": "Bearer TOKEN"}, max_msg_size=0) as ws:
        first = True
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            if first:
                first = False
                ready.append(1)
                continue
            out.append(time.time())

async def main():
    url, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    outs = [[] for _ in range(n)]
    ready = []
    async with ClientSession() as session:
        tasks = [asyncio.create_task(one(session, url, outs[i], ready)) for i in range(n)]
        while len(ready) < n:
            await asyncio.sleep(0.05)
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(outs), flush=True)

asyncio.run(main())
""".replace("TOKEN", TOKEN)


class Port:
    """The EnginePort the bench daemon answers with: the core's snapshot and 500 live calls."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self.calls = [{"id": f"c{i}", "caller": f"+7701{i:07d}", "queue": f"q{i % N_QUEUES}"}
                      for i in range(N_WAITING)]

    def snapshot(self) -> dict[str, Any]:
        snap = self.acd.snapshot(time.time())
        snap["calls"] = self.calls
        return snap

    def ari_connected(self) -> bool:
        return True

    def db_writable(self) -> bool | None:
        return None

    def not_ready_reasons(self) -> list[str]:
        return ["break", "lunch"]

    def agent_of_call(self, call_id: str) -> str | None:
        return None

    async def set_agent_state(self, agent_id: str, state: str, reason: str | None, by: str | None) -> None:
        raise NotImplementedError

    async def set_topic(self, call_id: str, topic: str, comment: str | None, by: str) -> None:
        raise NotImplementedError


def build_core(now: float) -> Acd:
    queues = [QueueConfig(name=f"q{i}", announce_every_s=None) for i in range(N_QUEUES)]
    agents = [AgentConfig(id=f"a{i}", queues={f"q{i % N_QUEUES}": 1, f"q{(i + 1) % N_QUEUES}": 2},
                          languages=["kk", "ru"]) for i in range(N_AGENTS)]
    acd = Acd(queues, agents, now=now)
    for a in agents:
        acd.set_agent_state(a.id, "not_ready", now, reason="break")
    for i in range(N_WAITING):
        acd.enqueue(f"c{i}", f"q{i % N_QUEUES}", now - (N_WAITING - i))
    return acd


async def measure(seconds: float) -> dict[str, Any]:
    now = time.time()
    acd = build_core(now)
    hub = LiveHub()
    settings = Settings(users=[User(name="sup", role="supervisor", token=SecretStr(TOKEN))])
    app = create_app(settings=settings, engine=Port(acd), db=None, metrics=CollectorRegistry(),
                     clock=time.time, live=hub)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, f"http://127.0.0.1:{port}/api/wallboard/live", str(N_CLIENTS),
        str(seconds), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    line = await proc.stdout.readline()
    assert line.strip() == b"READY", line
    board_bytes = len(app[BOARD].cached(lambda: build_board(app)))
    n = int(seconds * RATE)
    baseline = LiveHub()  # the same changes with nobody watching: the core's and the loop's own cost
    base_cpu, base_wall, _ = await _changes(acd, baseline, n)
    cpu, wall, sent = await _changes(acd, hub, n)
    proc.stdin.write(b"\n")
    await proc.stdin.drain()
    out, _ = await proc.communicate()
    received: list[list[float]] = json.loads(out.decode().strip().splitlines()[-1])
    await runner.cleanup()
    latencies: list[float] = []
    for times in received:
        j = 0
        for t in sent:
            while j < len(times) and times[j] < t:
                j += 1
            if j < len(times):
                latencies.append(times[j] - t)
    latencies.sort()
    return {
        "agents": N_AGENTS, "queues": N_QUEUES, "waiting": N_WAITING, "clients": N_CLIENTS,
        "events_per_s": RATE, "events": n, "seconds": round(wall, 2),
        "board_json_bytes": board_bytes,
        "messages_received": sum(len(t) for t in received),
        "latency_p50_ms": round(1000 * percentile(latencies, 0.5), 2),
        "latency_p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "latency_max_ms": round(1000 * latencies[-1], 2) if latencies else None,
        "process_cpu_pct": round(100 * cpu / wall, 2),
        "baseline_cpu_pct": round(100 * base_cpu / base_wall, 2),
        "fanout_cpu_pct": round(100 * (cpu / wall - base_cpu / base_wall), 2),
    }


async def _changes(acd: Acd, hub: LiveHub, n: int) -> tuple[float, float, list[float]]:
    """``n`` agent state changes at RATE a second into ``hub``: (CPU s, wall s, when each was made)."""
    sent: list[float] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    start = time.perf_counter()
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        agent = f"a{i % N_AGENTS}"
        t = time.time()
        reason = "lunch" if (i // N_AGENTS) % 2 == 0 else "break"
        acd.set_agent_state(agent, "not_ready", t, reason=reason)
        sent.append(time.time())
        hub.observe(AgentEvent(agent_id=agent, state="not_ready", at=t, reason=reason))
    await asyncio.sleep(0.5)
    return time.process_time() - cpu0, time.perf_counter() - wall0, sent


def run(quick: bool) -> Section:
    figures = asyncio.run(measure(5.0 if quick else 30.0))
    return Section(figures, [
        Goal("latency_p99_ms", figures["latency_p99_ms"], 200.0),
        Goal("fanout_cpu_pct", figures["fanout_cpu_pct"], 10.0),
    ])


if __name__ == "__main__":
    section = run("--quick" in sys.argv)
    print(json.dumps(section.as_dict(), indent=2))
