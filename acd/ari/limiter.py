"""How many ARI requests are in flight at once, and which waiting one goes next.

Why (issue 12, item 8): a burst of 3,000 callers sent thousands of requests at once; Asterisk's HTTP server
and the client's connection pool queued them first come first served, so the time-outs fell on whatever was
late, including the ``ACD_STATE`` writes that make a call adoptable after a restart. With a bound and
priorities, what keeps a call correct (its state, its answer, its hang-up, its bridge) passes before what
only makes it pleasant (announcements, music on hold), and a request's time-out counts from the moment it
is sent, not from the moment it was queued.

``Priority`` is an ``IntEnum``: lower is more urgent. ``default_priority`` gives one from the method and the
path, so callers that pass none (the engine today) get the right order without change.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum


class Priority(IntEnum):
    """The order in which waiting ARI requests are sent; lower goes first."""

    STATE = 0
    """What must not be lost: a channel variable write (``ACD_STATE``), a hang-up."""
    CALL = 1
    """What the call waits for: answer, originate/dial, bridge operations, recordings."""
    NORMAL = 2
    """Reads and anything else."""
    MEDIA = 3
    """Announcements, playbacks, music on hold, ringing indications: late is better than a lost state."""


_HANGUP = re.compile(r"^/channels/[^/]+$")
_MEDIA_SUFFIXES = ("/play", "/moh", "/ring", "/silence", "/dtmf")
_CALL_SUFFIXES = ("/answer", "/dial", "/continue", "/redirect", "/move", "/record", "/addChannel",
                  "/removeChannel", "/snoop", "/hold", "/mute")


def default_priority(method: str, path: str) -> Priority:
    """The priority of a request the caller gave none: by what the method and path do."""
    if method == "POST" and path.endswith("/variable"):
        return Priority.STATE
    if method == "DELETE" and _HANGUP.match(path):
        return Priority.STATE
    if path.endswith(_MEDIA_SUFFIXES) or path.startswith("/playbacks/"):
        return Priority.MEDIA
    if method == "GET":
        return Priority.NORMAL
    if path.endswith(_CALL_SUFFIXES) or path.startswith(("/bridges", "/channels", "/recordings/live")):
        return Priority.CALL
    return Priority.NORMAL


def must_not_be_lost(method: str, path: str) -> bool:
    """Requests retried on a time-out or a 5xx: the state write and the hang-up (both idempotent)."""
    return default_priority(method, path) is Priority.STATE


class PriorityLimiter:
    """At most ``limit`` holders at once; waiters are served by priority, then in arrival order.

    A released slot is handed straight to the next waiter (no window in which a newcomer could overtake).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def waiting(self) -> int:
        """Requests queued for a slot (for metrics and tests)."""
        return sum(1 for _, _, fut in self._waiters if not fut.done())

    async def acquire(self, priority: Priority) -> None:
        # invariant: waiters exist only while every slot is taken (release hands a slot over, or frees
        # it when nobody waits), so a free slot means nobody to overtake
        if self.in_flight < self.limit:
            self.in_flight += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was handed to us just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)  # the slot passes to this waiter; in_flight is unchanged
                return
        self.in_flight -= 1

    @asynccontextmanager
    async def slot(self, priority: Priority) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
