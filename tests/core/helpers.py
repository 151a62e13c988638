"""Small builders for the core's tests: a queue, an agent, an Acd with agents ready, decision filters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from acd.core import Acd, AgentConfig, QueueConfig
from acd.core.decisions import AgentStateChanged, Decision, Offer

ALMATY = ZoneInfo("Asia/Almaty")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY).timestamp()
"""A Monday, 10:00 in Almaty (05:00 UTC)."""

D = TypeVar("D")


def queue(name: str = "support", **fields: Any) -> QueueConfig:
    fields.setdefault("announce_every_s", None)
    return QueueConfig(name=name, **fields)


def agent(
    agent_id: str,
    queues: Iterable[str] | dict[str, int] = ("support",),
    *,
    skills: dict[str, int] | None = None,
    languages: Sequence[str] = ("kk", "ru"),
    **fields: Any,
) -> AgentConfig:
    served = dict(queues) if isinstance(queues, dict) else {q: 1 for q in queues}
    return AgentConfig(id=agent_id, queues=served, skills=skills or {}, languages=list(languages), **fields)


def make(
    queues: list[QueueConfig],
    agents: list[AgentConfig],
    *,
    ready: Iterable[str] = (),
    now: float = T0,
    **kwargs: Any,
) -> Acd:
    acd = Acd(queues, agents, now=now, **kwargs)
    for agent_id in ready:
        acd.set_agent_state(agent_id, "ready", now)
    return acd


def of(kind: type[D], decisions: Iterable[Decision]) -> list[D]:
    return [d for d in decisions if isinstance(d, kind)]


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    return [(o.call_id, o.agent_id) for o in of(Offer, decisions)]


def states(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    return [(c.agent_id, c.state) for c in of(AgentStateChanged, decisions)]


def connect(acd: Acd, call_id: str, agent_id: str, now: float) -> None:
    """Answer an offer that is ringing."""
    acd.offer_accepted(call_id, agent_id, now)
