"""The queue figures of a period aggregated in SQL, one row per local day (or hour), on both databases.

Why: reading a year of ``calls`` rows into Python took 1.3-2.9 s for the daily report (issue 14 asks for
0.5 s); the database sums 146,000 rows in a fraction of that and sends back 365 rows.

Local days and hours are exact on both databases: the period is cut into *segments* of constant UTC
offset (``offset_segments``: one for Asia/Almaty, which has no DST since 2024; a few around DST changes
elsewhere) and each segment is grouped by its arrivals plus that offset: ``date(arrived_at, '+N seconds')``
on SQLite (which stores naive UTC text and knows no zones), ``timezone('UTC', arrived_at) + interval`` on
PostgreSQL (twice as fast as ``timezone(zone, ...)``, which applies the zone's rules to every row).
The figures are the same sums and counts as ``cdr.reports.metrics`` defines (docs/reports.md); only the
order in which floats are added differs, far below the reports' 0.1 s rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Interval,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.data import utc_range
from cdr.reports.metrics import LOST, REDIRECTED
from cdr.schema import calls


@dataclass(frozen=True)
class Segment:
    """``[lo, hi)`` in UTC during which the zone's offset from UTC is ``offset``."""

    lo: datetime
    hi: datetime
    offset: timedelta


def offset_segments(start: date, end: date, tz: ZoneInfo) -> list[Segment]:
    """The local days ``start``..``end`` as UTC intervals of constant offset (exact to the second).

    A day whose midnight offset differs from the next midnight's holds a transition, found by bisection;
    one transition a day at most (true of every zone in use)."""
    lo, hi = utc_range(start, end, tz)
    out: list[Segment] = []
    seg_lo = lo
    offset = _offset(lo, tz)
    d = start
    while d <= end:
        day_hi = datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        nxt = _offset(day_hi, tz)
        if nxt != offset:
            day_lo = datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)
            a, b = int(day_lo.timestamp()), int(day_hi.timestamp())  # offset(a) is offset; offset(b) is not
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(datetime.fromtimestamp(mid, UTC), tz) == offset:
                    a = mid
                else:
                    b = mid
            change = datetime.fromtimestamp(b, UTC)
            out.append(Segment(seg_lo, change, offset))
            seg_lo, offset = change, nxt
        d += timedelta(days=1)
    out.append(Segment(seg_lo, hi, offset))
    return out


def _offset(at: datetime, tz: ZoneInfo) -> timedelta:
    return at.astimezone(tz).utcoffset() or timedelta(0)


@dataclass
class QueueTotals:
    """Counts and sums over some inbound calls (a day, or the period); ``cdr.reports.metrics`` turns them
    into the report's figures. ``within``: answered calls whose queue wait was <= each threshold."""

    inbound_ended: int = 0
    inbound_served: int = 0
    offered: int = 0
    offered_ended: int = 0
    answered: int = 0
    lost: int = 0
    lost_late: int = 0
    short: int = 0
    redirected: int = 0
    open: int = 0
    sum_wait_ended: float = 0.0
    sum_wait_answered: float = 0.0
    sum_wait_lost: float = 0.0
    sum_talk: float = 0.0
    sum_wrapup: float = 0.0
    sum_handling: float = 0.0
    max_wait_answered: float | None = None
    max_wait_lost: float | None = None
    max_wait_ended: float | None = None
    within: dict[float, int] = field(default_factory=dict)

    def add(self, other: QueueTotals) -> None:
        for name in (*_INTS, *_FLOATS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_wait_answered = _max(self.max_wait_answered, other.max_wait_answered)
        self.max_wait_lost = _max(self.max_wait_lost, other.max_wait_lost)
        self.max_wait_ended = _max(self.max_wait_ended, other.max_wait_ended)
        for t, n in other.within.items():
            self.within[t] = self.within.get(t, 0) + n


_INTS = ("inbound_ended", "inbound_served", "offered", "offered_ended", "answered", "lost", "lost_late",
         "short", "redirected", "open")
_FLOATS = ("sum_wait_ended", "sum_wait_answered", "sum_wait_lost", "sum_talk", "sum_wrapup", "sum_handling")
"""QueueTotals' counts and sums (added by ``QueueTotals.add``)."""


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None or a >= b else b


def total(parts: Iterable[QueueTotals]) -> QueueTotals:
    out = QueueTotals()
    for p in parts:
        out.add(p)
    return out


def _count(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _sum(cond: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((cond, value), else_=0.0)), 0.0)


def _filters(lo: datetime, hi: datetime, queues: list[str] | None) -> list[ColumnElement[bool]]:
    c = calls.c
    out = [c.arrived_at >= lo, c.arrived_at < hi]
    if queues:
        out.append(c.queue.in_(queues))
    return out


async def queue_totals_by_day(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
                              queues: list[str] | None, threshold_s: float,
                              sl_thresholds: Sequence[float] = ()) -> dict[date, QueueTotals]:
    """Inbound calls of local days ``start``..``end`` summed per local day of arrival (days without
    calls are absent). ``threshold_s`` splits answered/lost "late"; ``within`` has every threshold.

    The database groups by (day, outcome, queued) with plain sums, cheaper than one conditional sum per
    figure (a few thousand groups for a year); the groups are folded into the figures here."""
    c = calls.c
    w = func.coalesce(c.wait_s, 0.0)
    thresholds = sorted({threshold_s, *sl_thresholds})
    measures: list[ColumnElement[Any]] = [
        func.count(), func.sum(w), func.max(w), func.sum(func.coalesce(c.talk_s, 0.0)),
        func.sum(func.coalesce(c.hold_s, 0.0)), func.sum(func.coalesce(c.wrapup_s, 0.0)),
        *(_count(w <= t) for t in thresholds),
    ]
    queued = c.queued_at.is_not(None)
    out: dict[date, QueueTotals] = {}
    async with engine.connect() as conn:
        for day_expr, lo, hi in _day_groups(engine, start, end, tz):
            stmt = (select(day_expr, c.outcome, queued, *measures)
                    .where(c.direction == "inbound", *_filters(lo, hi, queues))
                    .group_by(day_expr, c.outcome, queued))
            for row in (await conn.execute(stmt)).all():
                day = row[0] if isinstance(row[0], date) else date.fromisoformat(row[0])
                t = out.get(day)
                if t is None:
                    t = out[day] = QueueTotals(within=dict.fromkeys(thresholds, 0))
                within = {th: int(v) for th, v in zip(thresholds, row[9:], strict=True)}
                _fold(t, row[1], bool(row[2]), int(row[3]), float(row[4]), float(row[5]), float(row[6]),
                      float(row[7]), float(row[8]), within, threshold_s)
    return out


def _fold(t: QueueTotals, outcome: str | None, queued: bool, n: int, sum_wait: float, max_wait: float,
          sum_talk: float, sum_hold: float, sum_wrapup: float, within: dict[float, int],
          threshold_s: float) -> None:
    """Add one group of calls (same day, outcome, queued or not) to ``t``: the definitions of
    ``cdr.reports.metrics``."""
    if outcome is not None:
        t.inbound_ended += n
        if outcome not in (*LOST, "missed_in_ivr"):
            t.inbound_served += n
    if not queued:
        return
    t.offered += n
    if outcome is None:
        t.open += n
        return
    t.offered_ended += n
    t.sum_wait_ended += sum_wait
    t.max_wait_ended = _max(t.max_wait_ended, max_wait)
    if outcome == "answered":
        t.answered += n
        t.sum_wait_answered += sum_wait
        t.sum_talk += sum_talk
        t.sum_wrapup += sum_wrapup
        t.sum_handling += sum_talk + sum_hold + sum_wrapup
        t.max_wait_answered = _max(t.max_wait_answered, max_wait)
        for th, k in within.items():
            t.within[th] += k
    elif outcome in LOST:
        t.lost += n
        t.lost_late += n - within[threshold_s]
        t.sum_wait_lost += sum_wait
        t.max_wait_lost = _max(t.max_wait_lost, max_wait)
        if outcome == "short_abandoned":
            t.short += n
    elif outcome in REDIRECTED:
        t.redirected += n


def _day_groups(engine: AsyncEngine, start: date, end: date,
                tz: ZoneInfo) -> list[tuple[ColumnElement[Any], datetime, datetime]]:
    """(local-day expression, UTC lo, UTC hi) to group by, one per segment of constant offset."""
    c = calls.c
    if engine.dialect.name == "postgresql":
        return [(cast(_pg_local(s.offset), Date), s.lo, s.hi) for s in offset_segments(start, end, tz)]
    return [(func.date(c.arrived_at, _modifier(s.offset)), s.lo, s.hi)
            for s in offset_segments(start, end, tz)]


def _hour_groups(engine: AsyncEngine, start: date, end: date,
                 tz: ZoneInfo) -> list[tuple[ColumnElement[Any], datetime, datetime]]:
    c = calls.c
    if engine.dialect.name == "postgresql":
        return [(cast(extract("hour", _pg_local(s.offset)), Integer), s.lo, s.hi)
                for s in offset_segments(start, end, tz)]
    return [(cast(func.strftime("%H", c.arrived_at, _modifier(s.offset)), Integer), s.lo, s.hi)
            for s in offset_segments(start, end, tz)]


def _pg_local(offset: timedelta) -> ColumnElement[Any]:
    """PostgreSQL: the naive local time of arrival at a fixed offset (UTC plus an interval): about twice
    as fast as ``timezone(zone, arrived_at)``, which looks the zone's rules up for every row."""
    return cast(func.timezone("UTC", calls.c.arrived_at), DateTime) + literal(offset, Interval)


def _modifier(offset: timedelta) -> str:
    return f"{int(offset.total_seconds()):+d} seconds"


@dataclass
class HourCounts:
    inbound: int = 0
    outbound: int = 0
    offered: int = 0
    answered: int = 0
    lost: int = 0


async def counts_by_hour(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
                         queues: list[str] | None) -> list[HourCounts]:
    """Calls of the period per local hour of arrival (0..23), as R20's profile counts them."""
    c = calls.c
    outbound = c.direction == "outbound"
    offered = and_(not_(outbound), c.queued_at.is_not(None))
    out = [HourCounts() for _ in range(24)]
    async with engine.connect() as conn:
        for hour_expr, lo, hi in _hour_groups(engine, start, end, tz):
            stmt = (select(hour_expr, _count(not_(outbound)), _count(outbound),
                           _count(offered), _count(and_(offered, c.outcome == "answered")),
                           _count(and_(offered, c.outcome.in_(LOST))))
                    .where(*_filters(lo, hi, queues)).group_by(hour_expr))
            for hour, *counts in (await conn.execute(stmt)).all():
                h = out[int(hour)]
                h.inbound += int(counts[0])
                h.outbound += int(counts[1])
                h.offered += int(counts[2])
                h.answered += int(counts[3])
                h.lost += int(counts[4])
    return out


async def worst_wait_call(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
                          queues: list[str] | None, wait_s: float) -> str | None:
    """The call whose queue wait was ``wait_s`` (the period's longest, ``QueueTotals.max_wait_ended``);
    of several, the greatest id. Looked up by value so that only the matching rows are read."""
    c = calls.c
    lo, hi = utc_range(start, end, tz)
    # no ORDER BY: SQLite would walk the primary key for it, reading every row; the few ids are sorted here
    stmt = select(c.id).where(c.direction == "inbound", c.queued_at.is_not(None), c.outcome.is_not(None),
                              func.coalesce(c.wait_s, 0.0) == wait_s, *_filters(lo, hi, queues))
    async with engine.connect() as conn:
        ids = (await conn.execute(stmt)).scalars().all()
    return max(ids, default=None)
