"""Routing decisions of the ACD core at scale (goal: p99 < 1 ms with 1,000 agents and 10,000 waiting calls).

Two decisions are timed, each on a core holding 1,000 agents and 10,000 waiting calls:

- ``pick_call``: an agent of the busy half ends wrap-up (``set_agent_state(ready)``) and the core chooses
  the caller to offer among the 10,000 waiting in that agent's queues (priorities, languages, skills);
- ``pick_agent``: a new caller arrives in a queue of the other half, where most agents are free, and the
  core chooses among some 500 free agents by the queue's strategy.

Both wall-clock and CPU time are recorded: on a shared machine the wall-clock p99 also measures the
neighbours (the load average is recorded with the figures); the CPU time is the core's own cost, and the
goal is judged on it. On an idle machine the two agree within a few per cent.
Between timed calls the state is restored untimed (the offer is accepted and a new caller joins the busy
queues; the ringing caller hangs up), so every sample sees the same load.
"""

from __future__ import annotations

import gc
import os
import random
import time
from typing import Any

from acd.core import Acd, AgentConfig, Offer, QueueConfig
from bench.common import Goal, Section, percentile

AGENTS = 1000
WAITING = 10_000
BUSY_QUEUES = ("sales", "support", "billing", "tech", "vip")
FREE_QUEUES = ("info", "claims", "retail", "corporate", "callback")
START = 1_795_410_000.0  # 2026-11-23, morning in Almaty


def build(rng: random.Random) -> Acd:
    strategies: list[Any] = ["most_skilled", "least_talked_today", ["most_skilled", "least_talked_today"]]
    queues = [
        QueueConfig(
            name=name,
            strategy=strategies[i % len(strategies)],
            required_skills={name: 1 + i % 3},
            wrapup_s=3600.0,  # agents leave wrap-up when the benchmark says so
            ring_timeout_s=3600.0,
            announce_every_s=None,
            when_empty="wait",
        )
        for i, name in enumerate(BUSY_QUEUES + FREE_QUEUES)
    ]
    agents = []
    for i in range(AGENTS):
        own = BUSY_QUEUES if i < AGENTS // 2 else FREE_QUEUES
        langs = rng.choice([["kk", "ru"], ["kk", "ru"], ["kk"], ["ru"]])
        agents.append(
            AgentConfig(
                id=f"a{i}",
                skills={q: rng.randint(3, 10) for q in own},
                languages=langs,
                queues={q: rng.randint(1, 2) for q in own},
            )
        )
    return Acd(queues, agents, now=START, seed=1)


class Bench:
    def __init__(self) -> None:
        self.rng = random.Random(7)
        self.acd = build(self.rng)
        self.now = START
        self.seq = 0
        self.cpu_us: list[float] = []

    def tick(self) -> float:
        self.now += 0.5
        return self.now

    def new_call(self, queues: tuple[str, ...]) -> tuple[str, list[Any]]:
        self.seq += 1
        cid = f"c{self.seq}"
        out = self.acd.enqueue(
            cid, self.rng.choice(queues), self.tick(), language=self.rng.choice(["kk", "ru"])
        )
        return cid, out

    def fill(self) -> None:
        """Busy half on calls, 10,000 callers waiting for it; the free half ready."""
        for i in range(AGENTS):
            self.acd.set_agent_state(f"a{i}", "ready", self.tick())
        waiting = 0
        while waiting < WAITING:
            _, out = self.new_call(BUSY_QUEUES)
            offers = [d for d in out if isinstance(d, Offer)]
            for offer in offers:
                self.acd.offer_accepted(offer.call_id, offer.agent_id, self.tick())
            waiting += not offers
        agents = self.acd.snapshot(self.now)["agents"]
        self.busy_agents = [a for a, st in agents.items() if st["state"] == "on_call"]
        self.waiting = sum(q["waiting"] for q in self.acd.snapshot(self.now)["queues"].values())

    def pick_call(self) -> float:
        """One agent of the busy half finishes; time the choice of its next caller."""
        agent = self.rng.choice(self.busy_agents)
        self.acd.call_finished(agent, self.tick())
        now = self.tick()
        wall, cpu = time.perf_counter_ns(), time.process_time_ns()
        out = self.acd.set_agent_state(agent, "ready", now)
        self.cpu_us.append((time.process_time_ns() - cpu) / 1000.0)
        elapsed = time.perf_counter_ns() - wall
        for d in out:
            if isinstance(d, Offer):
                self.acd.offer_accepted(d.call_id, d.agent_id, self.tick())
        self.new_call(BUSY_QUEUES)  # keep 10,000 waiting
        return elapsed / 1000.0

    def pick_agent(self) -> float:
        """A caller arrives where agents are free; time the choice of the agent."""
        self.seq += 1
        cid = f"n{self.seq}"
        queue = self.rng.choice(FREE_QUEUES)
        language = self.rng.choice(["kk", "ru"])
        now = self.tick()
        wall, cpu = time.perf_counter_ns(), time.process_time_ns()
        out = self.acd.enqueue(cid, queue, now, language=language)
        self.cpu_us.append((time.process_time_ns() - cpu) / 1000.0)
        elapsed = time.perf_counter_ns() - wall
        if not any(isinstance(d, Offer) for d in out):
            raise AssertionError("benchmark set-up: no free agent was offered the call")
        self.acd.remove_call(cid, self.tick())
        return elapsed / 1000.0


def run(quick: bool) -> Section:
    samples = 300 if quick else 3000
    bench = Bench()
    started = time.perf_counter()
    bench.fill()
    setup_s = time.perf_counter() - started
    figures: dict[str, Any] = {"agents": AGENTS, "waiting_calls": bench.waiting, "samples": samples}
    print(f"  {AGENTS} agents ({len(bench.busy_agents)} on calls), {bench.waiting} callers waiting")
    goals: list[Goal] = []
    gc.collect()
    gc.freeze()  # the set-up's objects are long-lived, as a daemon's are after start-up
    for name, fn in (("pick_call", bench.pick_call), ("pick_agent", bench.pick_agent)):
        for _ in range(samples // 10):  # warm-up
            fn()
        bench.cpu_us.clear()
        wall = sorted(fn() for _ in range(samples))
        cpu = sorted(bench.cpu_us)
        p50, p99, cpu50, cpu99 = (
            percentile(v, q) for v, q in ((wall, 0.5), (wall, 0.99), (cpu, 0.5), (cpu, 0.99))
        )
        figures[name] = {
            "p50_us": round(p50, 1),
            "p99_us": round(p99, 1),
            "max_us": round(wall[-1], 1),
            "cpu_p50_us": round(cpu50, 1),
            "cpu_p99_us": round(cpu99, 1),
        }
        goals.append(Goal(f"{name}.cpu_p99_us", cpu99, 1000.0))
        print(
            f"  {name}: p50 {p50:.0f} us, p99 {p99:.0f} us, max {wall[-1]:.0f} us (wall); "
            f"CPU p50 {cpu50:.0f} us, p99 {cpu99:.0f} us"
        )
    gc.unfreeze()
    figures["setup_s"] = round(setup_s, 2)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    figures["cpus"] = os.cpu_count()
    return Section(figures, goals)
