"""Who may serve which call: required skills, their relaxation over waiting time, and the language.

A queue's requirements at relaxation *stage* ``k`` are its required skills once the first ``k`` relax
steps apply (the engine caches them per queue and stage); a call's stage only depends on how long it has
waited. Relaxation only ever relaxes: a later stage never asks more than an earlier one, which the
waiting-call index relies on.
"""

from __future__ import annotations

from acd.core.agents import Agent
from acd.core.config import LANGUAGE_PREFIX, QueueConfig

__all__ = ["eligible", "next_relax_at", "requirements", "stage_at"]


def requirements(queue: QueueConfig, stage: int) -> tuple[tuple[str, int], ...]:
    """Required (skill, minimum level) pairs of ``queue`` once ``stage`` relax steps apply."""
    required = dict(queue.required_skills)
    for step in queue.relax[:stage]:
        if "*" in step.drop:
            required.clear()
        for name in step.drop:
            required.pop(name, None)
        if step.min_level is not None:
            required = {name: min(level, step.min_level) for name, level in required.items()}
    return tuple(sorted(required.items()))


def stage_at(queue: QueueConfig, entered_at: float, now: float) -> int:
    """How many relax steps apply to a caller who entered at ``entered_at``."""
    # Compare absolute times, exactly as the timers are set: now - entered_at can round below after_s.
    stage = 0
    for step in queue.relax:
        if entered_at + step.after_s > now:
            break
        stage += 1
    return stage


def next_relax_at(queue: QueueConfig, entered_at: float, now: float) -> float | None:
    """When the next relax step applies to this caller, or None when none is left."""
    stage = stage_at(queue, entered_at, now)
    if stage < len(queue.relax):
        return entered_at + queue.relax[stage].after_s
    return None


def eligible(
    agent: Agent, queue: QueueConfig, language: str | None, required: tuple[tuple[str, int], ...]
) -> bool:
    """May ``agent`` serve a call of ``queue`` in ``language`` given the ``required`` skills of its stage?

    Only skills and language: whether the agent is free is the caller's business.
    """
    skills = agent.skills
    if queue.language_skill and language is not None and LANGUAGE_PREFIX + language not in skills:
        return False
    return all(skills.get(name, 0) >= level for name, level in required)
