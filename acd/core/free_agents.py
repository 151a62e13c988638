"""Free agents per queue, best first by the queue's strategy: offering a call ranks no one.

A free agent is pushed into the heap of every queue they serve with their ranking key, which stays
constant while they are free (see ``strategies``). Entries are never removed: each carries the agent's
``free_version`` at push time, and an entry whose version is stale (the agent was offered a call, went on a
break, ...) is dropped when it surfaces. Finding the best eligible agent pops until one fits, then pushes
the live entries it looked at back.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from acd.core.agents import Agent
from acd.core.config import QueueConfig
from acd.core.strategies import RankKey, rank_key

__all__ = ["FreeAgents"]

_Entry = tuple[RankKey, int, str]


class FreeAgents:
    def __init__(self, agents: dict[str, Agent]) -> None:
        self._agents = agents
        """The engine's own agent table (shared, never copied)."""
        self._heaps: dict[str, list[_Entry]] = {}

    def reset(self, queue_names: Iterable[str]) -> None:
        self._heaps = {name: [] for name in queue_names}

    def push(self, agent: Agent, queues: Iterable[QueueConfig]) -> None:
        """Index a free agent (call after bumping ``agent.free_version``)."""
        for queue in queues:
            heap = self._heaps.get(queue.name)
            if heap is not None:
                heapq.heappush(heap, (rank_key(agent, queue), agent.free_version, agent.id))
                if len(heap) > 64 and len(heap) > 4 * len(self._agents):
                    self.count_live(queue.name)

    def best(
        self,
        queue: str,
        fits: Callable[[Agent], bool],
        tried_last: set[str],
    ) -> Agent | None:
        """The best-ranked free agent of ``queue`` that ``fits``; those in ``tried_last`` only if no other."""
        heap = self._heaps.get(queue)
        if not heap:
            return None
        looked: list[_Entry] = []
        fallback: Agent | None = None
        chosen: Agent | None = None
        while heap:
            entry = heapq.heappop(heap)
            agent = self._agents.get(entry[2])
            if agent is None or not self._live(entry):
                continue  # stale
            looked.append(entry)
            if not fits(agent):
                continue
            if agent.id in tried_last:
                if fallback is None:
                    fallback = agent
                continue
            chosen = agent
            break
        for entry in looked:
            heapq.heappush(heap, entry)
        return chosen or fallback

    def _live(self, entry: _Entry) -> bool:
        agent = self._agents.get(entry[2])
        return agent is not None and agent.free_version == entry[1] and agent.free

    def count_live(self, queue: str) -> int:
        """Free agents of ``queue`` (for snapshots; compacts the heap as a side effect)."""
        heap = self._heaps.get(queue, [])
        live = [entry for entry in heap if self._live(entry)]
        heapq.heapify(live)
        self._heaps[queue] = live
        return len(live)
