"""R19: the monthly report: inbound calls in total, by region, by service, by call type; the IVR figures
with the checked invariant total = answered by an operator + handled in the IVR + missed in the IVR; talk
per operator; average wait since the system's answer.

How outcomes fall into the three IVR buckets (docs/reports.md):
- answered by an operator: ``answered``;
- handled in the IVR: ``handled_in_ivr``, and the calls the IVR sent elsewhere: ``voicemail``,
  ``transferred`` (by the scenario), ``overflowed``;
- missed in the IVR: ``missed_in_ivr`` (hung up before a queue) and ``abandoned``/``short_abandoned``
  (hung up in the queue before an operator), as R19's definition says.
A call in no bucket (no outcome: still in progress, or its end never recorded) breaks the invariant and is
named in a warning, as is an answered call without an operator.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.base import Column, ReportOptions, ReportResult, Section
from cdr.reports.data import CallRow, load_calls

BUCKETS = {
    "answered": "operator",
    "handled_in_ivr": "ivr", "voicemail": "ivr", "transferred": "ivr", "overflowed": "ivr",
    "callback_requested": "ivr",
    "missed_in_ivr": "missed", "abandoned": "missed", "short_abandoned": "missed",
}
COLUMNS = [Column("metric", "Показатель", "Figure", "str"), Column("value", "Значение", "Value", "float"),
           Column("key", "Ключ", "Key", "str")]
METRICS: list[tuple[str, str, str]] = [
    ("total", "Всего входящих звонков", "Inbound calls, total"),
    ("answered_by_operator", "Отвечено оператором", "Answered by an operator"),
    ("handled_in_ivr", "Обслужено в IVR", "Handled in the IVR"),
    ("handled_in_ivr.info", "  в т.ч. информационные ветви", "  of which information branches"),
    ("handled_in_ivr.voicemail", "  в т.ч. голосовая почта", "  of which voicemail"),
    ("handled_in_ivr.transferred", "  в т.ч. переведено сценарием", "  of which transferred by the scenario"),
    ("handled_in_ivr.overflowed", "  в т.ч. переполнение", "  of which overflowed"),
    ("missed_in_ivr", "Потеряно в IVR", "Missed in the IVR"),
    ("missed_in_ivr.before_queue", "  в т.ч. до очереди", "  of which before a queue"),
    ("missed_in_ivr.in_queue", "  в т.ч. в очереди", "  of which in a queue"),
    ("unclassified", "Не классифицировано", "Unclassified"),
    ("talk_total_s", "Время разговоров, всего, с", "Talk, total, s"),
    ("talk_avg_s", "Время разговора, среднее, с", "Talk, average, s"),
    ("avg_wait_since_answer_s", "Среднее ожидание от ответа системы, с",
     "Average wait since the system answer, s"),
    ("outbound", "Исходящих звонков", "Outbound calls"),
]


def _avg(v: list[float]) -> float | None:
    return round(sum(v) / len(v), 1) if v else None


def _counts(key: str, ru: str, en: str, head_ru: str, head_en: str, values: Counter[str]) -> Section:
    cols = [Column(key, head_ru, head_en, "str"), Column("count", "Звонков", "Calls", "int")]
    rows = [{key: k, "count": n} for k, n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Section(key, ru, en, cols, rows, {key: "Итого", "count": sum(values.values())})


def figures(inbound: list[CallRow]) -> tuple[dict[str, Any], list[str]]:
    """The figures and the invariant's warnings for a set of inbound calls."""
    outcomes = Counter(c.outcome for c in inbound)
    buckets: Counter[str] = Counter()
    unclassified: list[str] = []
    for c in inbound:
        b = BUCKETS.get(c.outcome or "")
        if b is None:
            unclassified.append(c.id)
        else:
            buckets[b] += 1
    talk = [c.talk_s or 0.0 for c in inbound if c.outcome == "answered"]
    waits = [c.wait_since_answer_s for c in inbound if c.wait_since_answer_s is not None]
    f: dict[str, Any] = {
        "total": len(inbound),
        "answered_by_operator": buckets["operator"],
        "handled_in_ivr": buckets["ivr"],
        "handled_in_ivr.info": outcomes["handled_in_ivr"],
        "handled_in_ivr.voicemail": outcomes["voicemail"],
        "handled_in_ivr.transferred": outcomes["transferred"],
        "handled_in_ivr.overflowed": outcomes["overflowed"],
        "missed_in_ivr": buckets["missed"],
        "missed_in_ivr.before_queue": outcomes["missed_in_ivr"],
        "missed_in_ivr.in_queue": outcomes["abandoned"] + outcomes["short_abandoned"],
        "unclassified": len(unclassified),
        "talk_total_s": round(sum(talk), 1),
        "talk_avg_s": _avg(talk),
        "avg_wait_since_answer_s": _avg(waits),
    }
    warnings = []
    parts = f["answered_by_operator"] + f["handled_in_ivr"] + f["missed_in_ivr"]
    if parts != f["total"]:
        shown = ", ".join(unclassified[:50]) + (" ..." if len(unclassified) > 50 else "")
        warnings.append(
            f"INVARIANT BROKEN: total {f['total']} != answered by operator {f['answered_by_operator']}"
            f" + handled in IVR {f['handled_in_ivr']} + missed in IVR {f['missed_in_ivr']} (= {parts}); "
            f"{len(unclassified)} call(s) without a final outcome: {shown}")
    no_agent = [c.id for c in inbound if c.outcome == "answered" and not c.agent]
    if no_agent:
        warnings.append(f"INVARIANT BROKEN: {len(no_agent)} answered call(s) have no operator: "
                        + ", ".join(no_agent[:50]))
    return f, warnings


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    rows_all = await load_calls(engine, start, end, tz, options.queues)
    inbound = [c for c in rows_all if c.direction == "inbound"]
    f, warnings = figures(inbound)
    f["outbound"] = sum(1 for c in rows_all if c.direction == "outbound")
    rows = [{"metric": ru, "metric_en": en, "value": f[key], "key": key} for key, ru, en in METRICS]
    per_agent: dict[str, list[float]] = defaultdict(list)
    for c in inbound:
        if c.outcome == "answered" and c.agent:
            per_agent[c.agent].append(c.talk_s or 0.0)
    agents = Section("operators", "По операторам", "By operator", [
        Column("agent", "Оператор", "Operator", "str"), Column("answered", "Отвечено", "Answered", "int"),
        Column("talk_total_s", "Разговор, всего, с", "Talk, total, s", "s"),
        Column("talk_avg_s", "Разговор, среднее, с", "Talk, average, s", "s")],
        [{"agent": a, "answered": len(t), "talk_total_s": round(sum(t), 1), "talk_avg_s": _avg(t)}
         for a, t in sorted(per_agent.items())],
        {"agent": "Итого", "answered": sum(len(t) for t in per_agent.values()),
         "talk_total_s": round(sum(sum(t) for t in per_agent.values()), 1),
         "talk_avg_s": _avg([x for t in per_agent.values() for x in t])})
    sections = [
        _counts("region", "По регионам", "By region", "Регион", "Region",
                Counter(c.region or "unknown" for c in inbound)),
        _counts("service", "По услугам", "By service", "Услуга", "Service",
                Counter(c.service or "(нет)" for c in inbound)),
        _counts("call_type", "По типам звонков", "By call type", "Тип звонка", "Call type",
                Counter(c.call_type or "(нет)" for c in inbound)),
        agents,
    ]
    from cdr.reports.sla import evaluate, summary_note

    notes = [summary_note(await evaluate(engine, start, end, tz, options)),
             "Инвариант / invariant: всего = отвечено оператором + обслужено в IVR + потеряно в IVR "
             "(total = answered by operator + handled in IVR + missed in IVR): "
             + ("нарушен / BROKEN" if warnings else "выполнен / holds") + ".",
             "Ожидание от ответа системы до ответа оператора или отбоя, IVR включительно / wait from the "
             "system's answer to the operator's answer or hang-up, IVR included."]
    return ReportResult("monthly", "Месячный отчёт", "Monthly report", start, end, str(tz), COLUMNS, rows,
                        None, notes, warnings, sections=sections)
