"""Waiting callers (R1): named queues, caller priority, FIFO within a priority, positions at all times.

Each queue keeps its waiting calls in sorted lists of keys ``(-priority, entered_at, seq)``: one list of
all its callers (positions are a bisection) and one per call language (a free agent looks only at the
languages they speak). Because skill relaxation only ever relaxes with waiting time, the oldest caller of
a (queue, language, priority) run is the easiest to serve; an agent who cannot serve the head of a run
cannot serve anyone behind it, so finding an agent's next call looks at a handful of run heads, never at
the whole line. A call being offered to an agent is out of the lists and comes back with the same key,
that is at its original place (R5).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Call", "CallKey", "CallState", "WaitingQueue"]

CallKey = tuple[int, float, int]
"""(-caller priority, entered_at, arrival sequence): sorts in serving order."""


class CallState(StrEnum):
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass
class Call:
    """A call the core knows: waiting, ringing an agent, or connected (until the agent hangs up)."""

    id: str
    queue: str
    priority: int
    language: str | None
    entered_at: float
    seq: int
    state: CallState = CallState.WAITING
    agent_id: str | None = None
    missed: set[str] = field(default_factory=set)
    """Agents who already let this call ring out: tried last, not never."""
    offer_version: int = 0
    outcome: str | None = None
    """'connected', 'abandoned', 'overflow' (max_wait, no_agents, queue_removed): set exactly once."""
    max_wait_due: bool = False
    """max_wait_s passed while the call was ringing: overflow if it comes back."""
    virtual: bool = False
    """The caller hung up asking to be called back ("keep my place"): the entry keeps its place and is
    never rung; when an agent would take it, the agent gets the callback instead (``AssignCallback``)."""
    agents: frozenset[str] | None = None
    """Only these agents may be offered the call (a campaign's ``agents``); None: any eligible agent."""
    hold_s: float = 0.0
    """For a virtual entry: how long the agent who gets its callback is held from inbound offers."""

    @property
    def key(self) -> CallKey:
        return (-self.priority, self.entered_at, self.seq)


class WaitingQueue:
    """The waiting calls of one queue, ordered for serving and for positions."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._all: list[CallKey] = []
        self._buckets: dict[str | None, list[CallKey]] = {}
        self._calls: dict[CallKey, Call] = {}

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, call: Call) -> bool:
        return call.key in self._calls

    def add(self, call: Call) -> None:
        key = call.key
        insort(self._all, key)
        insort(self._buckets.setdefault(call.language, []), key)
        self._calls[key] = call

    def remove(self, call: Call) -> None:
        key = call.key
        del self._calls[key]
        _remove_key(self._all, key)
        bucket = self._buckets[call.language]
        _remove_key(bucket, key)
        if not bucket:
            del self._buckets[call.language]

    def position(self, call: Call) -> int:
        """1-based position among all callers of this queue."""
        return bisect_left(self._all, call.key) + 1

    def ahead_in_bucket(self, call: Call) -> int:
        """Callers ahead of ``call`` with the same language (they compete for the same agents)."""
        return bisect_left(self._buckets.get(call.language, []), call.key)

    def ahead_in_language(self, call: Call, language: str | None) -> int:
        """Callers of ``language`` ahead of ``call`` (its own bucket or another)."""
        return bisect_left(self._buckets.get(language, []), call.key)

    def bucket_size(self, language: str | None) -> int:
        return len(self._buckets.get(language, []))

    def head(self) -> Call | None:
        return self._calls[self._all[0]] if self._all else None

    def bucket_head(self, language: str | None) -> Call | None:
        bucket = self._buckets.get(language)
        return self._calls[bucket[0]] if bucket else None

    def languages(self) -> list[str | None]:
        return list(self._buckets)

    def calls(self) -> list[Call]:
        """All waiting calls in serving order (for snapshots, reloads and overflow of a whole queue)."""
        return [self._calls[key] for key in self._all]

    def bucket_calls(self, language: str | None) -> list[Call]:
        return [self._calls[key] for key in self._buckets.get(language, [])]

    def run_heads(self, language: str | None) -> Iterator[int]:
        """Index of the first call of each priority run in the language bucket, best priority first."""
        bucket = self._buckets.get(language, [])
        i = 0
        while i < len(bucket):
            yield i
            neg_prio = bucket[i][0]
            i = bisect_left(bucket, (neg_prio + 1, float("-inf"), -1), i)

    def run_calls(self, language: str | None, start: int) -> Iterator[Call]:
        """The calls of the priority run starting at ``start``, oldest first."""
        bucket = self._buckets.get(language, [])
        if start >= len(bucket):
            return
        neg_prio = bucket[start][0]
        for i in range(start, len(bucket)):
            key = bucket[i]
            if key[0] != neg_prio:
                return
            yield self._calls[key]


def _remove_key(keys: list[CallKey], key: CallKey) -> None:
    i = bisect_left(keys, key)
    if i == len(keys) or keys[i] != key:
        raise KeyError(key)
    del keys[i]
