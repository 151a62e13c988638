"""``python -m bench [section ...] [--quick] [--out var/bench.json]``: run benchmarks, merge the results.

The output file keeps the sections of earlier runs (other areas' benchmarks) and replaces only the ones
run now, so each area can be re-measured alone.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.common import Section

SECTIONS: dict[str, str] = {
    "routing": "bench.routing",
    "ewt": "bench.ewt",
    "ewt_cold": "bench.ewt_cold",
    "sim_day": "bench.sim_day",
    "ari": "bench.ari",
    "cdr": "bench.cdr", "reports": "bench.reports",
    "outbound": "bench.outbound",
    "daemon": "bench.daemon_load", "burst": "bench.daemon_burst",
}
"""Section name -> module with ``run(quick: bool) -> Section``. Add an area with one line here."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"sections to run (default all): {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="smaller runs (seconds, not minutes)")
    parser.add_argument("--out", type=Path, default=Path("var/bench.json"))
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    chosen = args.sections or list(SECTIONS)

    doc: dict[str, Any] = {}
    if args.out.exists():
        doc = orjson.loads(args.out.read_bytes())
    failed = 0
    for name in chosen:
        print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
        started = time.perf_counter()
        section: Section = importlib.import_module(SECTIONS[name]).run(args.quick)
        elapsed = time.perf_counter() - started
        doc[name] = {**section.as_dict(), "quick": args.quick, "bench_s": round(elapsed, 2)}
        for goal in section.goals:
            cmp = ">=" if goal.at_least else "<="
            mark = "ok  " if goal.ok else "MISS"
            print(f"  [{mark}] {goal.name}: {goal.value:.4g} {cmp} {goal.limit:g}")
            failed += not goal.ok
        print(f"  ({elapsed:.1f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    print(f"wrote {args.out}; {failed} goal(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
