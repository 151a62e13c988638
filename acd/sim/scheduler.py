"""The discrete-event machinery: a heap of timed events and a virtual clock that jumps from one to the next.

Ties are broken by insertion order, so a run is a pure function of its seed. Cancelled events stay in the
heap and are skipped when they surface (cheaper than removing them). Heap entries are plain tuples, which
Python compares in C: the simulated day must run in well under a second.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

Action = Callable[[], None]


class Handle:
    """Lets the scheduler's user cancel an event it scheduled (a ring time-out, a caller's patience)."""

    __slots__ = ("at", "cancelled")

    def __init__(self, at: float) -> None:
        self.at = at
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Virtual time: ``now`` only moves when ``run`` takes the next event."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._heap: list[tuple[float, int, Action, Handle]] = []
        self._seq = itertools.count()

    def at(self, when: float, action: Action) -> Handle:
        """Run ``action`` at virtual time ``when`` (never in the past: clamped to now)."""
        when = max(when, self.now)
        handle = Handle(when)
        heapq.heappush(self._heap, (when, next(self._seq), action, handle))
        return handle

    def after(self, delay: float, action: Action) -> Handle:
        return self.at(self.now + delay, action)

    def run(self, until: float | None = None) -> None:
        """Run events in time order until none is left (or the next is after ``until``)."""
        heap = self._heap
        pop = heapq.heappop
        while heap:
            if until is not None and heap[0][0] > until:
                self.now = until
                return
            when, _, action, handle = pop(heap)
            if handle.cancelled:
                continue
            self.now = when
            action()

    def pending(self) -> int:
        return sum(1 for e in self._heap if not e[3].cancelled)
