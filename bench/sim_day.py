"""A simulated day (400 calls, 8 agents, the real ACD core) must run in well under a second: the what-if
tool is interactive, and the wait-prediction and strategy studies run thousands of days."""

from __future__ import annotations

import statistics
import time

from acd.sim.whatif import WhatIf
from acd.sim.whatif import run as run_whatif
from bench.common import Goal, Section


def run(quick: bool) -> Section:
    repeats = 3 if quick else 10
    times: list[float] = []
    report = None
    for seed in range(1, repeats + 1):
        started = time.perf_counter()
        report = run_whatif(WhatIf(agents=8, calls_per_day=400, seed=seed))
        times.append(time.perf_counter() - started)
    assert report is not None
    median = statistics.median(times)
    figures = {
        "day_median_ms": round(median * 1000, 2),
        "day_max_ms": round(max(times) * 1000, 2),
        "calls_last_day": report.offered,
        "repeats": repeats,
    }
    print(f"  one day of 400 calls, 8 agents: median {median * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    return Section(figures, [Goal("day_median_s", median, 0.5)])
