"""Which due callback to offer to which free agent (R25, issue 15: "offered to a fitting agent as a preview").

Pure: no I/O, no asyncio. The daemon's side (acd/web/callback_offers.py) reads the callbacks ready to dial
and the agents' states, asks ``plan_offers`` for new offers, pushes them on the agents' desktops and
withdraws them after a time-out.

The rules (docs/outbound.md, "Offered callbacks"):

- Only a *free* agent gets an offer: ready, reachable, with no caller waiting in any of their queues
  (inbound calls keep their priority), and no offer of theirs outstanding. The caller decides who is free.
- A callback assigned to an agent (a kept place that reached them, an escalation they made, one they
  claimed) is offered to that agent only, and before anything else they could get; a kept place first.
- An unassigned callback goes, most urgent (earliest due) first, to the free agent who fits it and has
  waited longest: the language of the call it came from (when its queue asks for a language skill), the
  queue of that call with its required skills. A callback with no call (the service desk's) fits anyone.
- An agent who skipped a callback or let its offer time out (``declined``) is not offered it again; the
  caller forgets that after a while.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """An open callback ready to dial (no retry pending), in the order of urgency the store gives."""

    id: str
    due_at: float
    agent: str | None = None
    """Assigned to this agent: offered to them only."""
    kept_place: bool = False
    """A ``requested`` callback from "keep my place", assigned to the agent the caller's turn reached."""
    language: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class FreeAgent:
    id: str
    free_since: float
    languages: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    skills: Mapping[str, int] = field(default_factory=dict)
    held: bool = False
    """Held for a kept place ("keep my place"): offered the callback assigned to them, nothing else."""


@dataclass(frozen=True)
class QueueNeeds:
    """What a queue asks of an agent (``QueueConfig.required_skills``, ``language_skill``)."""

    required_skills: Mapping[str, int] = field(default_factory=dict)
    language_skill: bool = True


def fits(c: Candidate, a: FreeAgent, queues: Mapping[str, QueueNeeds]) -> bool:
    """May agent ``a`` be offered callback ``c``?"""
    if c.agent is not None:
        return c.agent == a.id
    needs = queues.get(c.queue) if c.queue else None
    if c.queue and (needs is None or c.queue not in a.queues):
        return False  # a queue gone from the config, or not the agent's: its agents only
    if c.language and (needs is None or needs.language_skill) and c.language not in a.languages:
        return False
    required = needs.required_skills if needs is not None else {}
    return all(a.skills.get(skill, 0) >= level for skill, level in required.items())


def plan_offers(candidates: Sequence[Candidate], agents: Sequence[FreeAgent],
                queues: Mapping[str, QueueNeeds], declined: Set[tuple[str, str]] = frozenset(),
                ) -> list[tuple[Candidate, str]]:
    """New offers: (callback, agent id), at most one per agent and one per callback. ``candidates`` are
    the callbacks not offered already; ``agents`` the free agents with no offer; ``declined`` the
    (callback id, agent id) pairs not to offer again."""
    out: list[tuple[Candidate, str]] = []
    busy: set[str] = set()
    by_id = {a.id: a for a in agents}
    # first: callbacks assigned to a free agent (their kept place first, then by urgency)
    own = sorted((c for c in candidates if c.agent in by_id),
                 key=lambda c: (not c.kept_place, c.due_at, c.id))
    for c in own:
        if c.agent in busy or (c.id, c.agent) in declined:
            continue
        assert c.agent is not None
        out.append((c, c.agent))
        busy.add(c.agent)
    # then: the unassigned ones, most urgent first, each to the longest-free fitting agent
    waiting = sorted((a for a in agents if not a.held), key=lambda a: (a.free_since, a.id))
    for c in sorted((c for c in candidates if c.agent is None), key=lambda c: (c.due_at, c.id)):
        agent = next((a for a in waiting if a.id not in busy and (c.id, a.id) not in declined
                      and fits(c, a, queues)), None)
        if agent is None:
            continue
        out.append((c, agent.id))
        busy.add(agent.id)
    return out
