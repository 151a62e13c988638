"""R16: per-call detail of every inbound call (caller, date, time, wait until connected, talk, topic)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.base import Column, ReportOptions, ReportResult
from cdr.reports.data import load_calls

NO_REQUIRED_TOPIC = "(нет обязательной темы)"
"""The queue requires a topic and the agent's wrap-up ran out without one (docs/decisions/web-08)."""

COLUMNS = [
    Column("date", "Дата", "Date", "date"),
    Column("time", "Время", "Time", "time"),
    Column("caller", "Номер абонента", "Caller", "str"),
    Column("queue", "Очередь", "Queue", "str"),
    Column("wait_s", "Ожидание, с", "Wait, s", "s"),
    Column("talk_s", "Разговор, с", "Talk, s", "s"),
    Column("agent", "Оператор", "Agent", "str"),
    Column("topic", "Тема обращения", "Topic", "str"),
    Column("result", "Итог обращения", "Result", "str"),
    Column("outcome", "Результат", "Outcome", "str"),
    Column("call_id", "ID звонка", "Call id", "str"),
]


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    rows = []
    for c in await load_calls(engine, start, end, tz, options.queues):
        if c.direction != "inbound":
            continue
        rows.append({
            "date": c.local.date(), "time": c.local.time().replace(microsecond=0), "caller": c.caller,
            "queue": c.queue, "wait_s": _r(c.wait_s),
            "talk_s": _r(c.talk_s), "agent": c.agent,
            "topic": c.topic or (NO_REQUIRED_TOPIC if c.topic_missing else None), "result": c.result,
            "outcome": c.outcome, "call_id": c.id,
        })
    return ReportResult("calls", "Детализация входящих звонков", "Inbound call detail", start, end, str(tz),
                        COLUMNS, rows, {"date": "Итого" if rows else None, "call_id": len(rows)},
                        notes=["Ожидание: от входа в очередь до соединения с оператором или до отбоя "
                               "(queue wait: entering the queue to connected, or to hang-up)."])


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)
