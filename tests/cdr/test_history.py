"""A queue's history from the CDR (issue 11 §4), the numbers the daemon seeds the wait estimator with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from acd.core.prediction import QueueHistory
from cdr.db import make_engine, migrate
from cdr.history import queue_history
from cdr.schema import calls

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _call(i: int, queue: str | None, outcome: str | None, *, days_ago: float = 1.0, wait: float | None = 10.0,
          talk: float | None = None, hold: float | None = None, queued: bool = True,
          direction: str = "inbound") -> dict[str, Any]:
    at = NOW - timedelta(days=days_ago)
    return {"id": f"h{i}", "direction": direction, "queue": queue, "arrived_at": at,
            "queued_at": at if queued else None, "outcome": outcome, "wait_s": wait, "talk_s": talk,
            "hold_s": hold}


async def test_handling_waits_and_abandons_of_the_last_week_by_queue(db_url: str) -> None:
    rows = [
        _call(1, "general", "answered", talk=100.0, hold=20.0, wait=30.0),   # a service of 120 s
        _call(2, "general", "answered", talk=60.0, wait=0.0),                # 60 s, no hold
        _call(3, "general", "abandoned", wait=50.0),
        _call(4, "general", "short_abandoned", wait=3.0),
        _call(5, "general", "overflowed", wait=120.0),                       # left the queue, no abandon
        _call(6, "general", "answered", talk=999.0, days_ago=8),             # older than a week
        _call(7, "general", None, wait=None),                                # still waiting: not counted
        _call(8, "general", "missed_in_ivr", queued=False, wait=None),       # never queued
        _call(9, "billing", "answered", talk=300.0, wait=5.0),
        _call(10, "general", "answered", talk=50.0, direction="outbound"),
    ]
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(calls.insert(), rows)
        got = await queue_history(engine, NOW.timestamp())
    finally:
        await engine.dispose()
    assert got == {
        "general": QueueHistory(services=2, service_s=180.0, left=5, waited_s=203.0, abandons=2),
        "billing": QueueHistory(services=1, service_s=300.0, left=1, waited_s=5.0, abandons=0),
    }
