"""Reading the CDR for reports: local days to UTC ranges, and the ``calls`` rows of a period.

Reports are computed in Python over the period's rows rather than in dialect-specific SQL: local days
(Asia/Almaty moved from UTC+6 to UTC+5 in 2024) are then exact on both databases, and a year of 400 calls
a day is ~150,000 light rows, read well under the 2 s budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.schema import agent_state_log, calls

CALL_COLUMNS = ("id", "direction", "caller", "region", "carrier", "service", "call_type", "topic", "queue",
                "arrived_at", "answered_at", "queued_at", "connected_at", "ended_at", "wait_s",
                "wait_since_answer_s", "talk_s", "hold_s", "wrapup_s", "outcome", "transferred_to", "agent")


def utc_range(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of start, local midnight after end) in UTC."""
    lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return lo, hi


@dataclass
class CallRow:
    """One ``calls`` row with its local arrival time (reports group by local day and hour)."""

    v: dict[str, Any]
    local: datetime

    def __getattr__(self, name: str) -> Any:
        try:
            return self.v[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


async def load_calls(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
                     queues: list[str] | None = None) -> list[CallRow]:
    lo, hi = utc_range(start, end, tz)
    cols = [calls.c[name] for name in CALL_COLUMNS]
    stmt = (select(*cols).where(calls.c.arrived_at >= lo, calls.c.arrived_at < hi)
            .order_by(calls.c.arrived_at, calls.c.id))
    if queues:
        stmt = stmt.where(calls.c.queue.in_(queues))
    async with engine.connect() as conn:
        result = await conn.execute(stmt)
        raw = result.all()
    out = []
    for r in raw:
        v = dict(zip(CALL_COLUMNS, r, strict=True))
        out.append(CallRow(v, v["arrived_at"].astimezone(tz)))
    return out


@dataclass(frozen=True)
class StateRow:
    agent: str
    state: str
    reason: str | None
    at: datetime
    until: datetime | None


async def load_agent_states(engine: AsyncEngine, lo: datetime, hi: datetime) -> list[StateRow]:
    """State rows overlapping [lo, hi): each with the start of the agent's next row (or None)."""
    t = agent_state_log.c
    margin = timedelta(days=1)
    stmt = (select(t.agent, t.state, t.reason, t.at).where(t.at >= lo - margin, t.at < hi + margin)
            .order_by(t.agent, t.at, t.id))
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    out: list[StateRow] = []
    for i, (agent, state, reason, at) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][0] == agent else None
        out.append(StateRow(agent, state, reason, at, nxt[3] if nxt else None))
    return out

