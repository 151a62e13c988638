"""The core's pending deadlines, earliest first: ring time-outs, wrap-up ends, max waits, announcements,
relaxation steps and local midnight.

Timers are never cancelled: each carries the version of what it is about (an offer number, the moment a
wrap-up began), and the engine drops a timer whose version no longer matches when it comes due. That keeps
every change O(log n) and the heap the only record of time.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Timer", "TimerKind", "Timers"]


class TimerKind(StrEnum):
    RING = "ring"
    WRAPUP = "wrapup"
    MAX_WAIT = "max_wait"
    ANNOUNCE = "announce"
    RELAX = "relax"
    MIDNIGHT = "midnight"
    HELD = "held"
    """An agent's hold for a kept place's callback is over."""


@dataclass(frozen=True, order=True)
class Timer:
    at: float
    seq: int
    kind: TimerKind = field(compare=False)
    target: str = field(compare=False)
    version: float = field(compare=False, default=0)


class Timers:
    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, at: float, kind: TimerKind, target: str = "", version: float = 0) -> None:
        heapq.heappush(self._heap, Timer(at, next(self._seq), kind, target, version))

    def peek(self) -> Timer | None:
        return self._heap[0] if self._heap else None

    def pop(self) -> Timer:
        return heapq.heappop(self._heap)
