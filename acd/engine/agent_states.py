"""Agents' states across a restart: read back from the CDR's ``agent_state_log`` (R4, R27).

The database is what survives a restart of the daemon, of Asterisk or of the machine, and it already holds
every change of state (the CDR writer replays its journal and spool into it before the daemon reads it).
An agent's last row says where they were; docs/decisions/engine-04-agent-states-survive.md says why this
source and how each state comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.schema import agent_state_log

log = structlog.get_logger(__name__)

REACHABILITY_BY = "endpoint"
"""``by`` of the rows that record a phone becoming (un)reachable: not a change of the agent's state."""
QUEUE_CHOICE_BY = "queue_choice"
"""``by`` of the rows that record the queues an agent chose to work (the desktop's sign-in choice): the
state is unchanged, ``reason`` is ``skip:<queue>,<queue>`` (the queues left out; ``skip:`` for none)."""
SKIP_PREFIX = "skip:"
NOT_STATE_CHANGES = (REACHABILITY_BY, QUEUE_CHOICE_BY)

RESTORED = {
    "ready": "ready",
    "not_ready": "not_ready",
    "logged_out": "logged_out",
    "ringing": "ready",
    "on_call": "ready",
    "wrap_up": "ready",
}
"""The state an agent comes back in. Ringing: the offer died with the daemon. On a call: ready, and the
adopted conversation puts them back on it. In wrap-up: ready (the wrap-up would be over or nearly)."""


@dataclass(frozen=True)
class LastState:
    state: str
    reason: str | None
    wrapup: tuple[str, float] | None = None
    """The agent was in wrap-up after this call (id, epoch start): the restart ends that wrap-up, with a
    row and the call's ``wrapup_ended``, so neither stays open for ever."""


async def last_agent_states(db: AsyncEngine) -> dict[str, LastState]:
    """Each agent's state as the previous daemon left it ({} when the database cannot say)."""
    t = agent_state_log
    changes = t.c.by_user.is_(None) | t.c.by_user.not_in(NOT_STATE_CHANGES)
    latest = select(t.c.agent, func.max(t.c.at).label("at")).where(changes).group_by(t.c.agent).subquery()
    stmt = (
        select(t.c.agent, t.c.state, t.c.reason, t.c.id, t.c.call_id, t.c.at)
        .join(latest, (t.c.agent == latest.c.agent) & (t.c.at == latest.c.at))
        .where(changes)
        .order_by(t.c.id)
    )
    try:
        async with db.connect() as conn:
            rows = (await conn.execute(stmt)).all()
    except Exception as exc:  # the database may be down: agents start as configured, calls still flow
        log.warning("agent_states_unavailable", error=str(exc)[:300])
        return {}
    out: dict[str, LastState] = {}
    for agent, state, reason, _id, call_id, at in rows:
        restored = RESTORED.get(state)
        if restored is not None:
            wrapup = (call_id, at.timestamp()) if state == "wrap_up" and call_id else None
            out[agent] = LastState(restored, reason if restored == "not_ready" else None, wrapup)
    return out


def skip_reason(skipped: list[str]) -> str | None:
    """The ``reason`` of a queue-choice row, or None when it does not fit the column (64 characters): the
    choice is then not kept across a restart (logged)."""
    reason = SKIP_PREFIX + ",".join(sorted(skipped))
    return reason if len(reason) <= 64 else None


async def last_queue_choices(db: AsyncEngine) -> dict[str, frozenset[str]]:
    """The queues each agent left out at their last sign-in, if they have not logged out since (the choice
    lasts until log-out): agent -> the skipped queues. {} when the database cannot say."""
    t = agent_state_log
    choice = (select(t.c.agent, func.max(t.c.at).label("at")).where(t.c.by_user == QUEUE_CHOICE_BY)
              .group_by(t.c.agent).subquery())
    logout = (select(t.c.agent, func.max(t.c.at).label("at")).where(t.c.state == "logged_out")
              .where(t.c.by_user.is_(None) | t.c.by_user.not_in(NOT_STATE_CHANGES))
              .group_by(t.c.agent).subquery())
    stmt = (select(t.c.agent, t.c.reason, logout.c.at)
            .join(choice, (t.c.agent == choice.c.agent) & (t.c.at == choice.c.at))
            .outerjoin(logout, logout.c.agent == t.c.agent)
            .where(t.c.by_user == QUEUE_CHOICE_BY)
            .order_by(t.c.id))
    try:
        async with db.connect() as conn:
            rows = (await conn.execute(stmt.add_columns(t.c.at))).all()
    except Exception as exc:
        log.warning("queue_choices_unavailable", error=str(exc)[:300])
        return {}
    out: dict[str, frozenset[str]] = {}
    for agent, reason, logged_out_at, at in rows:
        if logged_out_at is not None and logged_out_at >= at:
            out.pop(agent, None)
            continue
        names = (reason or "").removeprefix(SKIP_PREFIX)
        out[agent] = frozenset(n for n in names.split(",") if n)
    return out
