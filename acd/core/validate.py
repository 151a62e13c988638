"""Problems in queues and agents that only the core can judge (the YAML loader adds file:line).

Each problem is one sentence an admin can act on. Models already refuse malformed fields; this looks at
the configuration as a whole: who can serve what, where overflows lead.
"""

from __future__ import annotations

from collections import Counter

from acd.core.config import LANGUAGE_PREFIX, AgentConfig, QueueConfig
from acd.core.eligibility import requirements
from acd.core.prediction import ESTIMATORS

__all__ = ["validate"]


def validate(queues: list[QueueConfig], agents: list[AgentConfig]) -> list[str]:
    """Every problem found, in a stable order; an empty list means the configuration is usable."""
    problems: list[str] = []
    names = {q.name for q in queues}
    for name, n in sorted(Counter(q.name for q in queues).items()):
        if n > 1:
            problems.append(f"queue {name!r} is defined {n} times")
    for agent_id, n in sorted(Counter(a.id for a in agents).items()):
        if n > 1:
            problems.append(f"agent {agent_id!r} is defined {n} times")
    for queue in queues:
        problems += _queue_problems(queue, names, agents)
    for agent in agents:
        for queue_name in agent.queues:
            if queue_name not in names:
                problems.append(f"agent {agent.id!r} serves queue {queue_name!r}, which does not exist")
    users = Counter(a.user for a in agents if a.user is not None)
    for user, n in sorted(users.items()):
        if n > 1:
            problems.append(f"user {user!r} is the login of {n} agents")
    return problems


def _queue_problems(queue: QueueConfig, names: set[str], agents: list[AgentConfig]) -> list[str]:
    problems: list[str] = []
    where = f"queue {queue.name!r}"
    for field in ("wrapup_s", "ring_timeout_s", "max_wait_s", "announce_every_s", "sl_threshold_s"):
        value = getattr(queue, field)
        if value is not None and value < 0:
            problems.append(f"{where}: {field} must not be negative ({value})")
    for step in queue.relax:
        if step.after_s < 0:
            problems.append(f"{where}: relax after_s must not be negative ({step.after_s})")
    target = queue.overflow_queue
    if target is not None:
        if target not in names:
            problems.append(f"{where}: overflow target queue:{target} does not exist")
        elif target == queue.name:
            problems.append(f"{where}: overflows into itself")
    if queue.estimator is not None and queue.estimator not in ESTIMATORS:
        known = ", ".join(sorted(ESTIMATORS))
        problems.append(f"{where}: unknown estimator {queue.estimator!r} (one of {known})")
    members = [a for a in agents if queue.name in a.queues]
    if not members:
        problems.append(f"{where}: no agent serves this queue")
        return problems
    required = dict(requirements(queue, len(queue.relax)))
    if not any(all(a.all_skills.get(s, 0) >= lvl for s, lvl in required.items()) for a in members):
        needs = ", ".join(f"{s} >= {lvl}" for s, lvl in sorted(required.items()))
        problems.append(f"{where}: no agent can ever serve it (needs {needs}, even after relaxation)")
    if queue.language_skill:
        spoken = {lang for a in members for lang in a.all_skills if lang.startswith(LANGUAGE_PREFIX)}
        if not spoken:
            problems.append(f"{where}: language_skill is on but none of its agents has a language")
    return problems

