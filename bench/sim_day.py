"""A simulated day (400 calls, 8 agents, the real ACD core) must run in well under a second: the what-if
tool is interactive, and the wait-prediction and strategy studies run thousands of days.

Wall-clock and CPU time are both recorded; the goal is judged on CPU time, which a busy shared machine
does not inflate (see bench/routing.py).
"""

from __future__ import annotations

import os
import statistics
import time

from acd.sim.whatif import WhatIf
from acd.sim.whatif import run as run_whatif
from bench.common import Goal, Section


def run(quick: bool) -> Section:
    repeats = 3 if quick else 10
    wall: list[float] = []
    cpu: list[float] = []
    offered = 0
    for seed in range(1, repeats + 1):
        w0, c0 = time.perf_counter(), time.process_time()
        offered = run_whatif(WhatIf(agents=8, calls_per_day=400, seed=seed)).offered
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    median, cpu_median = statistics.median(wall), statistics.median(cpu)
    figures = {
        "day_median_ms": round(median * 1000, 2),
        "day_max_ms": round(max(wall) * 1000, 2),
        "day_cpu_median_ms": round(cpu_median * 1000, 2),
        "calls_last_day": offered,
        "repeats": repeats,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(
        f"  one day of 400 calls, 8 agents: median {median * 1000:.1f} ms, max {max(wall) * 1000:.1f} ms "
        f"(wall); CPU median {cpu_median * 1000:.1f} ms"
    )
    return Section(figures, [Goal("day_cpu_median_s", cpu_median, 0.5)])
