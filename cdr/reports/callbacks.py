"""R25 with R21's form: callbacks created in the period, per kind, and how many were handled within their
deadline (target and verdict).

A callback counts as *met* when it was closed (reached, or given up: wrong number, attempts used up) at or
before its ``due_at``; *late* when closed after it; *overdue* when still open past it; *pending* when open
and not yet due (left out of the verdict: its deadline has not come). The share met is
``met / (met + late + overdue)``; the target is ``TARGET_PCT`` (every callback: the tenders say "every
voicemail ... within 24 h", "every second-line ticket ... within 2 h"). Kinds: voicemail, second_line,
requested, api (outbound/callbacks.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.base import Column, ReportOptions, ReportResult
from cdr.schema import callbacks

TARGET_PCT = 100.0
KIND_TITLES = {"voicemail": ("Голосовая почта", "Voicemail"),
               "second_line": ("Вторая линия", "Second line"),
               "requested": ("По просьбе в очереди", "Requested in the queue"),
               "api": ("Сервис-деск / API", "Service desk / API")}

COLUMNS = [
    Column("kind_title", "Вид", "Kind", "str"),
    Column("total", "Всего", "Total", "int"),
    Column("met", "В срок", "Within deadline", "int"),
    Column("late", "С опозданием", "Late", "int"),
    Column("overdue", "Просрочено (открыты)", "Overdue (open)", "int"),
    Column("pending", "Срок не наступил", "Not yet due", "int"),
    Column("reached", "Дозвонились", "Reached", "int"),
    Column("met_pct", "В срок, %", "Within deadline, %", "pct"),
    Column("goal", "Цель", "Goal", "str"),
    Column("verdict", "Выполнено", "Met", "str"),
]


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    lo = datetime(start.year, start.month, start.day, tzinfo=tz).astimezone(UTC)
    nxt = end + timedelta(days=1)
    return lo, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(UTC)


def _empty(kind: str) -> dict[str, Any]:
    ru, en = KIND_TITLES.get(kind, (kind, kind))
    return {"kind": kind, "kind_title": ru, "kind_title_en": en, "total": 0, "met": 0, "late": 0,
            "overdue": 0, "pending": 0, "reached": 0}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    decided = row["met"] + row["late"] + row["overdue"]
    pct = round(100.0 * row["met"] / decided, 2) if decided else None
    ok = None if pct is None else pct >= TARGET_PCT
    row.update(met_pct=pct, goal=f">= {TARGET_PCT:g} %", met_bool=ok,
               verdict="n/a" if ok is None else ("да" if ok else "НЕТ"),
               verdict_en="n/a" if ok is None else ("yes" if ok else "NO"))
    return row


def classify(status: str, due_at: datetime | None, closed_at: datetime | None, now: datetime) -> str:
    """met, late, overdue or pending (see the module docstring); no due time: pending until closed."""
    if status != "open":
        if due_at is None or closed_at is None or closed_at <= due_at:
            return "met"
        return "late"
    return "overdue" if due_at is not None and due_at < now else "pending"


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    lo, hi = _bounds(start, end, tz)
    now = datetime.fromtimestamp(options.now if options.now is not None else hi.timestamp(), UTC)
    t = callbacks.c
    async with engine.connect() as conn:
        rows = (await conn.execute(select(t.reason, t.status, t.due_at, t.closed_at, t.outcome)
                                   .where(t.created_at >= lo, t.created_at < hi))).all()
    by_kind: dict[str, dict[str, Any]] = {k: _empty(k) for k in KIND_TITLES}
    for kind, status, due_at, closed_at, outcome in rows:
        agg = by_kind.setdefault(kind, _empty(kind))
        agg["total"] += 1
        agg[classify(status, due_at, closed_at, now)] += 1
        agg["reached"] += int(outcome == "reached")
    out = [_finish(a) for a in by_kind.values() if a["total"]]
    totals = _empty("all")
    for a in out:
        for k in ("total", "met", "late", "overdue", "pending", "reached"):
            totals[k] += a[k]
    totals = _finish({**totals, "kind_title": "Итого", "kind_title_en": "Total"})
    missed = [a for a in out if a["met_bool"] is False]
    notes = [f"Обратные звонки в срок (R25, R21) / callbacks within their deadline: {totals['met']} of "
             f"{totals['met'] + totals['late'] + totals['overdue']}; not yet due: {totals['pending']}."]
    warnings = [f"callback target missed: {r['kind']} ({r['met_pct']} % vs {r['goal']})" for r in missed]
    return ReportResult("callbacks", "Обратные звонки в срок", "Callbacks within deadline", start, end,
                        str(tz), COLUMNS, out, totals, notes, warnings)
