"""Benchmark section ``burst``: 3,000 callers in 3 seconds against the real daemon (issue 12, item 8).

The same three processes as ``bench daemon`` (bench/daemon_load.py: the ARI simulator, ``acd run`` at log
level info with CDR on SQLite, this process placing calls), 1,000 calls/s for 3 s at speed 1, 60 agents.
Most callers wait (60 agents serve about 30 calls/s), so the daemon holds thousands of channels, music on
hold and ACD_STATE writes at once. After 60 s more the run ends, whether or not every call did.

What is judged is what the issue saw lost: requests that failed (``ari.request_failed``: time-outs,
connection errors), ``set_var_failed`` (ACD_STATE not written: the call could not be adopted after a
restart), ``play_failed`` and ``originate_failed``, counted in the daemon's log. Goal: none.
``answered`` (calls that reached an agent within the run) is a figure, not a goal.

    python -m bench burst          # about 90 s; --quick is the same run
"""

from __future__ import annotations

import asyncio
import collections
import sys
from pathlib import Path

import orjson

from bench.common import Goal, Section
from bench.daemon_load import ROOT, run_load

CALLS = 3000
BURST_S = 3.0
LOST = ("ari.request_failed", "set_var_failed", "play_failed", "originate_failed")


def warnings_in(log: Path) -> collections.Counter[str]:
    """Warning and error events of the daemon's JSON log, by name."""
    counts: collections.Counter[str] = collections.Counter()
    for line in log.read_bytes().splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
            counts[str(entry.get("event"))] += 1
    return counts


def run(quick: bool) -> Section:
    work = ROOT / "var" / "bench-burst"
    res = asyncio.run(run_load(BURST_S, work, rate=CALLS / BURST_S, drain_s=60))
    counts = warnings_in(work / "daemon.log")
    figures = {
        "calls": res.calls, "burst_s": BURST_S, "answered": res.answered,
        "daemon_cpu_s": round(res.cpu_s, 1), "window_s": round(res.window_s, 1),
        **{name.replace(".", "_"): counts.get(name, 0) for name in LOST},
        "ari_request_retry": counts.get("ari.request_retry", 0),
        "warnings": dict(counts.most_common(10)),
    }
    for key, value in figures.items():
        print(f"  {key}: {value}")
    return Section(figures, [Goal(name.replace(".", "_"), counts.get(name, 0), 0) for name in LOST])


if __name__ == "__main__":
    run("--quick" in sys.argv[1:])
