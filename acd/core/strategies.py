"""Distribution strategies (R3): a strategy is a ranking key, lower is better.

A key is a function of the agent and the queue. Every key used here is constant while the agent stays
free (talk seconds only grow on a finished call, idle time starts when the agent becomes ready, the
random token is drawn then, round-robin counts offers), which is what lets the engine keep free agents in a
heap per queue instead of ranking them all for every call. Adding a strategy is one function here, one
name in ``config.StrategyName``, and a test.

A composite strategy is a list of names: the keys are compared in order, the next breaking ties of the
previous. Every strategy ends with longest idle and the agent id as the final tie-breaks, so the choice is
always deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable

from acd.core.agents import Agent
from acd.core.config import QueueConfig

__all__ = ["STRATEGIES", "RankKey", "StrategyKey", "rank_key"]

StrategyKey = Callable[[Agent, QueueConfig], float]
RankKey = tuple[float | str, ...]


def most_skilled(agent: Agent, queue: QueueConfig) -> float:
    """Highest total level in the queue's required skills first (a tie when the queue requires none)."""
    return -float(sum(agent.skills.get(name, 0) for name in queue.required_skills))


def least_talked_today(agent: Agent, queue: QueueConfig) -> float:
    """Fewest talk seconds since local midnight first."""
    return agent.talk_today_s


def longest_idle(agent: Agent, queue: QueueConfig) -> float:
    """Ready for the longest time first."""
    return agent.idle_since


def round_robin(agent: Agent, queue: QueueConfig) -> float:
    """The agent offered a call of this queue longest ago (or never) first."""
    return float(agent.last_offer_seq.get(queue.name, -1))


def random(agent: Agent, queue: QueueConfig) -> float:
    """A random order, drawn from the engine's seeded generator when the agent became ready."""
    return agent.random_token


STRATEGIES: dict[str, StrategyKey] = {
    "most_skilled": most_skilled,
    "least_talked_today": least_talked_today,
    "longest_idle": longest_idle,
    "round_robin": round_robin,
    "random": random,
}


def rank_key(agent: Agent, queue: QueueConfig) -> RankKey:
    """The full ranking key of ``agent`` for ``queue``: the configured keys, then idle time, then id."""
    keys: list[float | str] = [STRATEGIES[name](agent, queue) for name in queue.strategy_names]
    keys.append(agent.idle_since)
    keys.append(agent.id)
    return tuple(keys)
