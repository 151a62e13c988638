"""Reading the CDR for reports: local days to UTC ranges, and the ``calls`` rows of a period.

The per-call reports (``calls``, ``topics``, ``monthly``) read the period's rows here and work in Python;
local days (Asia/Almaty moved from UTC+6 to UTC+5 in 2024) are exact on both databases. The queue figures
over long periods (``daily``, ``sla``, the ``hourly`` profile) are summed in SQL instead
(``cdr.reports.aggregate``): a year is 146,000 rows, too many to read for a page that must feel instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from cdr.schema import agent_state_log, calls

FIELDS = ("id", "direction", "caller", "region", "carrier", "service", "call_type", "topic", "queue", "agent",
          "outcome", "transferred_to", "wait_s", "wait_since_answer_s", "talk_s", "hold_s", "wrapup_s",
          "result", "topic_missing")


class CallRow(NamedTuple):
    """The columns reports need of one ``calls`` row, with its local arrival time and whether it was queued
    (a plain tuple: a year of rows is read in well under a second)."""

    id: str
    direction: str
    caller: str | None
    region: str | None
    carrier: str | None
    service: str | None
    call_type: str | None
    topic: str | None
    queue: str | None
    agent: str | None
    outcome: str | None
    transferred_to: str | None
    wait_s: float | None
    wait_since_answer_s: float | None
    talk_s: float | None
    hold_s: float | None
    wrapup_s: float | None
    result: str | None
    """The agent's result picked in wrap-up (the queue's ``results``)."""
    topic_missing: bool | None
    """The queue requires a topic and the wrap-up ran out without one (docs/decisions/web-08)."""
    queued: bool
    local: datetime
    """Local wall time of arrival (naive: the report's zone)."""


def utc_range(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of start, local midnight after end) in UTC."""
    lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return lo, hi


def _naive_utc(value: Any) -> datetime:
    """The raw ``arrived_at``: text on SQLite (naive UTC), an aware datetime on PostgreSQL."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value  # type: ignore[no-any-return]


class LocalClock:
    """UTC (naive) -> local wall time (naive) for rows sorted by time, without a zoneinfo call per row: the
    offset of each local day is computed once, and exactly per row only on a day whose offset changes."""

    def __init__(self, start: date, end: date, tz: ZoneInfo) -> None:
        self.tz = tz
        self.bounds: list[tuple[datetime, timedelta, bool]] = []
        d = start
        while d <= end + timedelta(days=1):
            midnight = datetime.combine(d, time(0), tzinfo=tz)
            nxt = datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz)
            off = midnight.utcoffset() or timedelta(0)
            changes = off != (nxt.utcoffset() or timedelta(0))
            self.bounds.append((midnight.astimezone(UTC).replace(tzinfo=None), off, changes))
            d += timedelta(days=1)
        self.i = 0

    def local(self, utc_naive: datetime) -> datetime:
        b = self.bounds
        while self.i + 1 < len(b) and utc_naive >= b[self.i + 1][0]:
            self.i += 1
        while self.i > 0 and utc_naive < b[self.i][0]:
            self.i -= 1
        _, off, changes = b[self.i]
        if changes:
            return utc_naive.replace(tzinfo=UTC).astimezone(self.tz).replace(tzinfo=None)
        return utc_naive + off


async def load_calls(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
                     queues: list[str] | None = None) -> list[CallRow]:
    """The period's calls ordered by arrival; ``local`` is the naive local wall time of arrival."""
    lo, hi = utc_range(start, end, tz)
    c = calls.c
    pg = engine.dialect.name == "postgresql"
    # arrived_at is read without per-row type processing: PostgreSQL converts it to local time itself
    # (timezone(zone, timestamptz) is a naive local timestamp); SQLite's UTC text goes through LocalClock.
    # queued_at only matters as "was the call queued".
    arrival = func.timezone(tz.key, c.arrived_at) if pg else type_coerce(c.arrived_at, _Raw())
    stmt = (select(*(c[name] for name in FIELDS), c.queued_at.is_not(None), arrival)
            .where(c.arrived_at >= lo, c.arrived_at < hi).order_by(c.arrived_at))
    if queues:
        stmt = stmt.where(c.queue.in_(queues))
    async with engine.connect() as conn:
        raw = (await conn.execute(stmt)).all()
    if pg:
        def to_local(v: Any) -> datetime:
            return v  # type: ignore[no-any-return]
    else:
        clock = LocalClock(start, end, tz)

        def to_local(v: Any) -> datetime:
            return clock.local(_naive_utc(v))
    make = CallRow._make
    return [make((*r[:-2], bool(r[-2]), to_local(r[-1]))) for r in raw]


class _Raw(TypeDecorator[Any]):
    impl = String
    cache_ok = True


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

