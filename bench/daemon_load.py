"""Benchmark section ``daemon``: the real daemon (``acd run``) under load, against the ARI simulator.

Issue 11 §6.

Three processes, as ``acd demo`` runs them: the simulator (``python -m acd.ari_sim``) where Asterisk would be,
the daemon (``acd run``, log level info, CDR on SQLite, every conversation recorded) and this process, which
places the callers through the simulator's control API (``/_sim/calls``) at a steady rate. The clock runs at
speed 1, so latencies are real milliseconds.

Traffic: ``RATE`` calls per second for ``DURATION_S`` seconds, all to a number whose scenario puts the caller
straight into a queue served by ``AGENTS`` agents (no IVR menu: the bench measures the daemon, not prompt
lengths). Agents answer after 0.3 s, callers talk 1 s and hang up; wrap-up 0 s, so 60 agents can carry the
load. Every conversation is recorded (R10: the bridge is always recorded) and the recording notice played.

Figures:

- ``cpu_ms_per_call``: the daemon's CPU time (user + system, ``/proc/<pid>/stat`` utime+stime) from the first
  call placed until the last call ended and the CDR was flushed, divided by the calls placed. Start-up
  (config load, database migration) is excluded.
- ``setup_ms_p50``/``setup_ms_p99`` — *set-up latency added by the daemon*: for each caller, the time from the
  ``StasisStart`` the simulator sends to the first event the simulator emits on that channel in reaction to
  a command of the daemon (the effect of its first ``answer``/``set_var``/``play``...). The simulator emits
  nothing on a caller's channel on its own in between (no DTMF, patience far longer), so the difference is
  the daemon's reaction time plus one simulator request. Taken from the simulator's event log
  (``GET /_sim/events``), whose timestamps have millisecond resolution. ``setup_ended_by`` counts the
  event types that ended a set-up: here always ``ChannelVarset``, the daemon's ``ACD_STATE`` write.
- ``connect_ms_p50``/``connect_ms_p99``: for each agent leg, from its ``ChannelStateChange`` to ``Up`` (the
  agent answered) to its ``ChannelEnteredBridge``: how long an answering agent waits for the caller.
- ``setup_daemon_only_ms_mean``/``_p50_at_most``/``_p99_at_most``: the same reaction measured inside the
  daemon (``acd_call_setup_seconds``: from the engine's dispatch of the StasisStart to the call's first
  request), so without the simulator's side; exact mean, percentiles as histogram bucket upper bounds.
- ``dead_air_ms_p50``/``_p99``: for each agent leg that answered, from its answer (``ChannelStateChange`` to
  ``Up``) until the agent and the caller are in the same bridge (issue 11 §5: the agent hears nothing).
- ``ari_requests_per_call`` (and ``_by_kind``): requests the daemon sent (``acd_ari_requests_sent``).
- ``threads_cpu_ms_per_call``: the CPU split between the event loop's thread and the others (aiosqlite's
  connection thread, the default executor).
- ``events_per_s``: ARI events the simulator sent to the daemon per second of the measured window (not
  those the daemon's eventFilter held back); ``events_per_call_by_type`` the same events per call placed,
  by type.
- ``simulator_cpu_share``: the simulator's CPU seconds per second of the window; near 1.0 it would be the
  bottleneck (one core) and the latencies would be its own, not the daemon's.
- ``answered``: calls that reached an agent (a check that the load was carried, not refused).

The machine is shared: run it twice and compare (docs/benchmarks.md, "The daemon under load").

    python -m bench daemon [--quick]          # or: python -m bench.daemon_load [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from acd.demo import demo_clock, free_port, start_daemon, start_simulator, stop_processes, wait_http
from bench.common import Goal, Section, percentile

ROOT = Path(__file__).resolve().parents[1]
RATE = 20.0
AGENTS = 60
DURATION_S = 60.0
QUICK_DURATION_S = 20.0
TALK_S = 1.0
ANSWER_AFTER_S = 0.3
NUMBER = "5000"
GOAL_CPU_MS = 10.0
GOAL_SETUP_P99_MS = 50.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of the event loop's thread (``main``) and of all other threads (aiosqlite's connection
    thread, the default executor), from ``/proc/<pid>/task/*/stat``. Threads that ended are missing, so the
    parts may add up to less than ``cpu_seconds``."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (task / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            kind = "main" if task.name == str(pid) else "other_threads"
            out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


async def daemon_metrics(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    """From the daemon's /metrics: ``acd_ari_requests_sent`` by kind (``sent:<kind>``; updated every 5 s by
    the daemon's housekeeping) and the ``acd_call_setup_seconds`` histogram (``setup:<le>``, ``setup_sum``,
    ``setup_count``)."""
    out: dict[str, float] = {}
    async with http.get(url) as r:
        for line in (await r.text()).splitlines():
            labels, _, value = line.rpartition(" ")
            if line.startswith("acd_ari_requests_sent{"):
                out["sent:" + labels.partition('request="')[2].rpartition('"')[0]] = float(value)
            elif line.startswith("acd_call_setup_seconds_bucket{"):
                out["setup:" + labels.partition('le="')[2].rpartition('"')[0]] = float(value)
            elif line.startswith("acd_call_setup_seconds_sum "):
                out["setup_sum"] = float(value)
            elif line.startswith("acd_call_setup_seconds_count "):
                out["setup_count"] = float(value)
    return out


def bucket_percentile(buckets: dict[str, float], q: float) -> float:
    """The upper bound (ms) of the histogram bucket holding the ``q`` quantile: an upper estimate."""
    bounds = sorted((float(le), n) for le, n in buckets.items())
    total = bounds[-1][1] if bounds else 0.0
    for le, n in bounds:
        if total and n >= q * total:
            return le * 1000
    return float("nan")


def bench_agents_yaml(n: int) -> str:
    lines = ["agents:"]
    for i in range(1, n + 1):
        lines.append(f"  - {{id: agent{i}, name: Agent {i}, endpoint: PJSIP/agent{i}, languages: [kk, ru], "
                     f"skills: {{general: 5}}, queues: {{general: 1}}}}")
    return "\n".join(lines) + "\n"


QUEUES_YAML = """queues:
  - name: general
    strategy: [most_skilled, least_talked_today]
    wrapup_s: 0
    ring_timeout_s: 15
    max_wait_s: 600
    announce_every_s: 60
    sl_threshold_s: 30
"""

SCENARIO_YAML = f"""name: bench
description: Straight into the queue (bench.daemon_load)
numbers: ["{NUMBER}"]
language: ru
languages: [ru]
steps:
  - queue:
      name: general
      announce_position: false
      announce_wait: false
      recording_notice: true
"""


def write_config(work: Path, *, ari_port: int, http_port: int) -> Path:
    cfg = work / "config"
    shutil.copytree(ROOT / "config", cfg,
                    ignore=shutil.ignore_patterns("acd.yaml", "agents.yaml", "queues.yaml"))
    for scenario in (cfg / "scenarios").glob("*.yaml"):
        if not scenario.name.startswith("_"):
            scenario.unlink()
    (cfg / "scenarios" / "bench.yaml").write_text(SCENARIO_YAML, encoding="utf-8")
    (cfg / "agents.yaml").write_text(bench_agents_yaml(AGENTS), encoding="utf-8")
    (cfg / "queues.yaml").write_text(QUEUES_YAML, encoding="utf-8")
    (cfg / "acd.yaml").write_text(
        f"""# Generated by bench.daemon_load.
ari: {{url: "http://127.0.0.1:{ari_port}/ari", app: acd, user: acd}}
database: {{url: "sqlite+aiosqlite:///{work / 'acd.db'}", spool_dir: {work / "spool"}}}
paths: {{var: {work}, recordings: {work / "recordings"}, sounds: {ROOT / "var" / "sounds"}}}
timezone: Asia/Almaty
log: {{format: json, level: info}}
http: {{host: 127.0.0.1, port: {http_port}}}
users:
  - {{name: admin, role: admin, token: bench-admin}}
""",
        encoding="utf-8",
    )
    return cfg


@dataclass
class LoadResult:
    calls: int
    answered: int
    window_s: float
    cpu_s: float
    sim_cpu_s: float
    event_types: dict[str, int]
    setup_ms: list[float]
    connect_ms: list[float]
    first_kinds: dict[str, int]
    dead_air_ms: list[float]
    threads_cpu_s: dict[str, float]
    requests: dict[str, float]
    daemon_setup: dict[str, float]


def _ts(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def _channel_events(log: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], str, float]]:
    """The simulator's events that concern a channel: (event, channel, channel id, time in epoch s)."""
    for entry in log:
        ev = entry["event"]
        chan = ev.get("channel") or {}
        cid = chan.get("id")
        if cid is not None:
            yield ev, chan, cid, _ts(ev["timestamp"])


def dead_air(log: list[dict[str, Any]], callers: set[str]) -> list[float]:
    """For each agent leg that answered, in ms: from its answer (``ChannelStateChange`` to ``Up``) until the
    agent can hear the caller, i.e. both the agent and the caller are in the same bridge (issue 11 §5: the
    recording notice no longer plays after the answer)."""
    up_at: dict[str, float] = {}
    members: dict[str, set[str]] = {}
    out: list[float] = []
    done: set[str] = set()
    for ev, chan, cid, at in _channel_events(log):
        if ev["type"] == "ChannelStateChange" and chan.get("state") == "Up" and cid not in callers:
            up_at.setdefault(cid, at)
        elif ev["type"] == "ChannelEnteredBridge":
            bridge = ev.get("bridge") or {}
            inside = members.setdefault(str(bridge.get("id")), set())
            inside.add(cid)
            agents = [c for c in inside if c in up_at and c not in done]
            if agents and inside & callers:
                for agent in agents:
                    done.add(agent)
                    out.append((at - up_at[agent]) * 1000)
    return sorted(out)


def latencies(
    log: list[dict[str, Any]], callers: set[str], first_kinds: Counter[str] | None = None
) -> tuple[list[float], list[float]]:
    """Set-up and connect latencies in ms from the simulator's event log (see the module's docstring);
    ``first_kinds`` counts the event types that ended a set-up (what the daemon's first command was)."""
    stasis_at: dict[str, float] = {}
    setup: dict[str, float] = {}
    up_at: dict[str, float] = {}
    connect: list[float] = []
    for ev, chan, cid, at in _channel_events(log):
        kind = ev["type"]
        if cid in callers:
            if kind == "StasisStart" and cid not in stasis_at:
                stasis_at[cid] = at
            elif cid in stasis_at and cid not in setup:
                setup[cid] = (at - stasis_at[cid]) * 1000
                if first_kinds is not None:
                    first_kinds[kind] += 1
        else:
            if kind == "ChannelStateChange" and chan.get("state") == "Up" and cid not in up_at:
                up_at[cid] = at
            elif kind == "ChannelEnteredBridge" and cid in up_at:
                connect.append((at - up_at.pop(cid)) * 1000)
    return sorted(setup.values()), sorted(connect)


async def _place_calls(
    http: aiohttp.ClientSession, sim_url: str, duration_s: float, rate: float
) -> list[str]:
    """``rate`` calls a second, on a fixed schedule (a late call does not shift the next ones)."""
    ids: list[str] = []
    pending: set[asyncio.Task[None]] = set()
    body = {"number": NUMBER, "language": "ru", "patience_s": 600, "talk_s": TALK_S}

    async def one(i: int) -> None:
        async with http.post(f"{sim_url}/_sim/calls", json={**body, "caller": f"7701{i:07d}"}) as r:
            ids.append(str((await r.json())["id"]))

    started = time.monotonic()
    n = int(rate * duration_s)
    for i in range(n):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    return ids


async def _all_ended(http: aiohttp.ClientSession, sim_url: str, ids: set[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with http.get(f"{sim_url}/_sim/state") as r:
            st = await r.json()
        live = {c["id"] for c in st.get("callers", []) if c.get("ended_at") is None}
        if not live & ids:
            return
        await asyncio.sleep(0.5)
    print(f"  warning: calls still up after {timeout_s:.0f} s", file=sys.stderr)


def prepare(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)


async def run_load(duration_s: float, work: Path, rate: float = RATE, drain_s: float = 60) -> LoadResult:
    """Run the three processes, place ``rate`` calls/s for ``duration_s``, wait up to ``drain_s`` more for
    the calls to end; the figures, with the daemon's log left in ``work``."""
    prepare(work)
    ari_port, http_port = free_port(), free_port()
    cfg = write_config(work, ari_port=ari_port, http_port=http_port)
    clock = demo_clock(1.0)
    env = dict(os.environ, ACD_ARI_PASSWORD="bench", ACD_CLOCK=clock.spec())
    env.pop("ACD_DB_URL", None)
    sim_log = (work / "simulator.log").open("wb")
    daemon_log = (work / "daemon.log").open("wb")
    sim = await start_simulator(work, ROOT, port=ari_port, password="bench", clock=clock, log=sim_log,
                                env=env)
    daemon = None
    sim_url = f"http://127.0.0.1:{ari_port}"
    try:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
            await wait_http(http, f"{sim_url}/_sim/state", sim, "ARI simulator")
            for i in range(1, AGENTS + 1):
                async with http.put(f"{sim_url}/_sim/endpoints/PJSIP/agent{i}", json={
                    "state": "online", "behaviour": "answer", "answer_after_s": ANSWER_AFTER_S,
                    "hangup": "caller"}) as r:
                    r.raise_for_status()
            daemon = await start_daemon(cfg, log=daemon_log, env=env)
            await wait_http(http, f"http://127.0.0.1:{http_port}/health", daemon, "daemon")
            await asyncio.sleep(1.0)  # the daemon's start-up work (resync, subscriptions) settles
            async with http.get(f"{sim_url}/_sim/events", params={"since": "0"}) as r:
                first_seq = max((e["seq"] for e in await r.json()), default=0)
            metrics_url = f"http://127.0.0.1:{http_port}/metrics"
            sent0 = await daemon_metrics(http, metrics_url)
            threads0 = thread_cpu(daemon.pid)
            cpu0, sim0, t0 = cpu_seconds(daemon.pid), cpu_seconds(sim.pid), time.monotonic()
            ids = await _place_calls(http, sim_url, duration_s, rate)
            await _all_ended(http, sim_url, set(ids), timeout_s=drain_s + duration_s)
            await asyncio.sleep(1.0)  # the last CDR events and recordings are handled
            cpu1, sim1, t1 = cpu_seconds(daemon.pid), cpu_seconds(sim.pid), time.monotonic()
            threads1 = thread_cpu(daemon.pid)
            await asyncio.sleep(5.5)  # the daemon's housekeeping publishes the request counts
            sent1 = await daemon_metrics(http, metrics_url)
            async with http.get(f"{sim_url}/_sim/events", params={"since": str(first_seq)}) as r:
                log = await r.json()
            daemon.send_signal(signal.SIGTERM)
            await asyncio.wait_for(daemon.wait(), 60)
    finally:
        await stop_processes(daemon, sim)
        sim_log.close()
        daemon_log.close()
    first_kinds: Counter[str] = Counter()
    setup, connect = latencies(log, set(ids), first_kinds)
    answered = len({e["event"]["channel"]["id"] for e in log if e["event"]["type"] == "ChannelEnteredBridge"
                    and e["event"]["channel"]["id"] in set(ids)})
    return LoadResult(calls=len(ids), answered=answered, window_s=t1 - t0, cpu_s=cpu1 - cpu0,
                      sim_cpu_s=sim1 - sim0,
                      event_types=dict(Counter(e["event"]["type"] for e in log if not e.get("filtered"))),
                      setup_ms=setup, connect_ms=connect,
                      first_kinds=dict(first_kinds), dead_air_ms=dead_air(log, set(ids)),
                      threads_cpu_s={k: round(v - threads0.get(k, 0.0), 2) for k, v in threads1.items()},
                      requests={k[5:]: v - sent0.get(k, 0.0) for k, v in sent1.items()
                                if k.startswith("sent:") and v > sent0.get(k, 0.0)},
                      daemon_setup={k: v - sent0.get(k, 0.0) for k, v in sent1.items()
                                    if k.startswith("setup")})


def run(quick: bool) -> Section:
    duration = QUICK_DURATION_S if quick else DURATION_S
    if not (ROOT / "var" / "sounds" / "ru" / "acd" / "recording_notice.wav").is_file():
        print("  warning: no prompts in var/sounds (run `make prompts`): the recording notice fails at once "
              "and the figures are not comparable", file=sys.stderr)
    load_before = os.getloadavg()[0]
    res = asyncio.run(run_load(duration, ROOT / "var" / "bench-daemon"))
    cpu_ms = res.cpu_s * 1000 / max(1, res.calls)
    setup_p99 = round(percentile(res.setup_ms, 0.99), 1)
    figures: dict[str, Any] = {
        "rate_calls_per_s": RATE, "agents": AGENTS, "duration_s": duration, "calls": res.calls,
        "answered": res.answered, "window_s": round(res.window_s, 1),
        "daemon_cpu_s": round(res.cpu_s, 2),
        "simulator_cpu_share": round(res.sim_cpu_s / res.window_s, 2), "cpu_ms_per_call": round(cpu_ms, 2),
        "setup_ms_p50": round(percentile(res.setup_ms, 0.5), 1),
        "setup_ms_p99": setup_p99,
        "setup_samples": len(res.setup_ms),
        "setup_ended_by": res.first_kinds,
        "connect_ms_p50": round(percentile(res.connect_ms, 0.5), 1),
        "connect_ms_p99": round(percentile(res.connect_ms, 0.99), 1),
        "events_per_s": round(sum(res.event_types.values()) / res.window_s, 1),
        "events_per_call_by_type": {k: round(v / max(1, res.calls), 2)
                                    for k, v in sorted(res.event_types.items(), key=lambda kv: -kv[1])},
        "setup_daemon_only_ms_mean": round(1000 * res.daemon_setup.get("setup_sum", 0.0)
                                           / max(1.0, res.daemon_setup.get("setup_count", 0.0)), 2),
        "setup_daemon_only_ms_p50_at_most": bucket_percentile(
            {k[6:]: v for k, v in res.daemon_setup.items() if k.startswith("setup:")}, 0.5),
        "setup_daemon_only_ms_p99_at_most": bucket_percentile(
            {k[6:]: v for k, v in res.daemon_setup.items() if k.startswith("setup:")}, 0.99),
        "dead_air_ms_p50": round(percentile(res.dead_air_ms, 0.5), 1),
        "dead_air_ms_p99": round(percentile(res.dead_air_ms, 0.99), 1),
        "threads_cpu_ms_per_call": {k: round(v * 1000 / max(1, res.calls), 2)
                                    for k, v in sorted(res.threads_cpu_s.items())},
        "ari_requests_per_call": round(sum(res.requests.values()) / max(1, res.calls), 2),
        "ari_requests_per_call_by_kind": {k: round(v / max(1, res.calls), 2)
                                          for k, v in sorted(res.requests.items(), key=lambda kv: -kv[1])},
        "load_average_1m_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    for key, value in figures.items():
        print(f"  {key}: {value}")
    return Section(figures, [
        Goal("cpu_ms_per_call", cpu_ms, GOAL_CPU_MS),
        Goal("setup_ms_p99", setup_p99, GOAL_SETUP_P99_MS),
        Goal("answered_share", res.answered / max(1, res.calls), 0.99, at_least=True),
    ])


if __name__ == "__main__":
    run("--quick" in sys.argv[1:])
