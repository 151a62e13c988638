"""Process-wide tuning of the running daemon: the start-up heap is frozen out of garbage collection.

Why: a full (generation 2) collection of CPython's cyclic garbage collector walks every object of the
process, and after start-up that is hundreds of thousands of objects that live for ever (modules, the
configuration, SQLAlchemy tables, pydantic schemas). Each one stops the event loop: under the daemon bench
(``python -m bench daemon``, 20 calls/s) one such pause took 103 ms, more than the whole set-up latency
budget (50 ms p99), and every call in flight waited for it. After ``gc.freeze()`` those objects sit in a
permanent generation that collections never scan; what a call allocates is still collected as before. The
same bench then measured full collections of 4 ms at most (docs/benchmarks.md, "The daemon under load").

A larger first-generation threshold was tried too (20,000 instead of 700): fewer collections, but single
pauses of 80-120 ms, so CPython's thresholds are kept.
"""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Call once the daemon has started: collect what start-up left behind, then freeze the rest."""
    gc.collect()
    gc.freeze()
