"""Each queue's recent history from the CDR, for the wait estimator's start (issue 11 §4).

At start the daemon reads the last days of ``calls`` per queue: handling times, waits and abandons, and
hands them to the core as plain numbers (``Acd.seed_statistics(queue, QueueHistory(...))``): the first
callers after a restart then hear waits measured on this queue instead of a generic 300 s prior.

The figures are what the core's online statistics would have learnt from the same calls:
- a service is an answered call with a talk time; its handling time is connected to hang-up, i.e.
  ``talk_s + hold_s`` (the core times a conversation from connected to hang-up, hold included);
- every queued call that ended left the queue after ``wait_s``; abandoned and short-abandoned ones hung
  up while waiting (the core counts a hang-up in the queue as an abandon, however short).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.core.prediction import QueueHistory
from cdr.schema import calls

HISTORY_DAYS = 7
"""How far back the daemon looks by default: a week covers every weekday's mix of topics."""

LOST = ("abandoned", "short_abandoned")


async def queue_history(engine: AsyncEngine, now: float,
                        days: float = HISTORY_DAYS) -> dict[str, QueueHistory]:
    """Per queue, its calls that arrived in the ``days`` before ``now`` (epoch seconds), summed.

    Queues with no ended queued call in the period are absent (their statistics keep the prior)."""
    c = calls.c
    hi = datetime.fromtimestamp(now, UTC)
    lo = hi - timedelta(days=days)
    served = and_(c.outcome == "answered", c.talk_s.is_not(None))
    stmt = (
        select(
            c.queue,
            func.sum(case((served, 1), else_=0)),
            func.sum(case((served, c.talk_s + func.coalesce(c.hold_s, 0.0)), else_=0.0)),
            func.count(),
            func.sum(func.coalesce(c.wait_s, 0.0)),
            func.sum(case((c.outcome.in_(LOST), 1), else_=0)),
        )
        .where(c.arrived_at >= lo, c.arrived_at < hi, c.direction == "inbound", c.queue.is_not(None),
               c.queued_at.is_not(None), c.outcome.is_not(None))
        .group_by(c.queue)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return {
        str(queue): QueueHistory(services=int(services or 0), service_s=float(service_s or 0.0),
                                 left=int(left), waited_s=float(waited_s or 0.0), abandons=int(abandons or 0))
        for queue, services, service_s, left, waited_s, abandons in rows
    }
