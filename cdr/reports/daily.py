"""R17: daily call statistics, one row a local day, in the columns of the tender's form."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.aggregate import QueueTotals, queue_totals_by_day, total
from cdr.reports.base import SL_VARIANTS, Column, ReportOptions, ReportResult
from cdr.reports.metrics import queue_figures

COLUMNS = [
    Column("date", "Дата", "Date", "date"),
    Column("offered", "Поступ.", "Offered", "int"),
    Column("answered", "Принято", "Answered", "int"),
    Column("answered_late", "Отв. после порога", "Answered after threshold", "int"),
    Column("transferred", "Перев.", "Transferred", "int"),
    Column("lost", "Потеряно: Всего", "Lost: total", "int"),
    Column("lost_late", "Потеряно: После порога", "Lost: after threshold", "int"),
    Column("lost_short", "Потеряно: Короткие", "Lost: short", "int"),
    Column("lost_pct", "(%)", "Lost %", "pct"),
    Column("avg_wait_lost_s", "Среднее: Потер.", "Avg wait of lost, s", "s"),
    Column("avg_wait_answered_s", "Среднее: Отвеч.", "Avg wait of answered, s", "s"),
    Column("avg_talk_s", "Среднее: Разг.", "Avg talk, s", "s"),
    Column("avg_wrapup_s", "Среднее: Заверш.", "Avg wrap-up, s", "s"),
    Column("avg_handling_s", "Среднее: Обраб.", "Avg handling, s", "s"),
    Column("sl_pct", "Уровень сервиса (%)", "Service level %", "pct"),
    Column("max_wait_answered_s", "Макс. Отвеч.", "Max wait of answered, s", "s"),
    Column("max_wait_lost_s", "Макс. Потер.", "Max wait of lost, s", "s"),
]


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    from cdr.reports.sla import evaluate_totals, summary_note, thresholds, worst_of

    days = await queue_totals_by_day(engine, start, end, tz, options.queues, options.sl_threshold_s,
                                     thresholds(options))
    rows = []
    d = start
    empty = QueueTotals(within=dict.fromkeys([options.sl_threshold_s, *thresholds(options)], 0))
    while d <= end:
        figures = queue_figures(days.get(d, empty), options.sl_threshold_s, options.sl_variant)
        rows.append({"date": d, **{c.key: figures[c.key] for c in COLUMNS[1:]}})
        d += timedelta(days=1)
    period = total(days.values())
    period.within.setdefault(options.sl_threshold_s, 0)
    total_ = queue_figures(period, options.sl_threshold_s, options.sl_variant)
    totals = {"date": "Итого", **{c.key: total_[c.key] for c in COLUMNS[1:]}}
    ru, en = SL_VARIANTS[options.sl_variant]
    notes = [
        f"Порог / threshold: {options.sl_threshold_s:g} s; "
        f"короткие / short abandons: < {options.short_abandon_s:g} s.",
        f"Уровень сервиса ({options.sl_variant}): {ru} / service level: {en}.",
        "День звонка - местная дата поступления / a call's day is its local arrival date.",
        "Перев.: ушли из очереди без оператора (переполнение, голосовая почта, перевод) / "
        "left the queue without an operator (overflow, voicemail, transfer).",
    ]
    sla_rows = evaluate_totals(days, await worst_of(engine, start, end, tz, options, days), options)
    notes.append(summary_note(sla_rows))
    warnings = []
    if total_["in_progress"]:
        warnings.append(f"{total_['in_progress']} call(s) still in progress are counted as offered only.")
    return ReportResult("daily", "Ежедневная статистика звонков", "Daily call statistics", start, end,
                        str(tz), COLUMNS, rows, totals, notes, warnings)
