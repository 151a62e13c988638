"""R18 (and R17's companion form): calls by topic, "Вопрос | Количество", most frequent first."""

from __future__ import annotations

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.base import Column, ReportOptions, ReportResult
from cdr.reports.data import load_calls

NO_TOPIC = "(без темы)"
NO_REQUIRED_TOPIC = "(нет обязательной темы)"
"""Calls of a queue with ``topic_required`` whose wrap-up ran out without a topic: counted apart, they are
a coaching matter, not a gap of the scenario (docs/decisions/web-08-required-topic.md)."""
COLUMNS = [Column("topic", "Вопрос", "Topic", "str"), Column("count", "Количество", "Calls", "int")]


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    counts = Counter(c.topic or (NO_REQUIRED_TOPIC if c.topic_missing else NO_TOPIC)
                     for c in await load_calls(engine, start, end, tz, options.queues)
                     if c.direction == "inbound")
    rows = [{"topic": t, "count": n} for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ReportResult("topics", "Частые вопросы", "Calls by topic", start, end, str(tz), COLUMNS, rows,
                        {"topic": "Итого", "count": sum(counts.values())},
                        notes=[f"{NO_TOPIC}: оператор или сценарий не указал тему / no topic was set.",
                               f"{NO_REQUIRED_TOPIC}: тема обязательна, время обработки вышло без неё / "
                               "the queue requires a topic and the wrap-up ran out without one."])
