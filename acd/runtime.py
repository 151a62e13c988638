"""Process-wide tuning of the running daemon: its event loop, and the start-up heap frozen out of garbage
collection.

The loop: uvloop (libuv) when it is installed, as the ``fast`` extra installs it (``pip install 'acd[fast]'``,
what docs/deploy-asterisk.md and ``make install`` do). The daemon's cost per call is mostly I/O machinery
(a socket send per ARI request, a WebSocket frame per event, a wake-up per database hand-off), and uvloop
does that part in C. ``ACD_EVENT_LOOP=asyncio`` keeps the standard loop (to compare, or to rule uvloop out
when chasing a bug). Figures: docs/benchmarks.md, "The daemon under load".

The garbage collector:

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

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop if installed and not turned off by ``ACD_EVENT_LOOP=asyncio``; None: asyncio's own."""
    if os.environ.get("ACD_EVENT_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop ``loop_factory`` chooses."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def tune_gc() -> None:
    """Call once the daemon has started: collect what start-up left behind, then freeze the rest."""
    gc.collect()
    gc.freeze()
