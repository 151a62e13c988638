"""R21: the SLA check: each configured target (``cdr.sla.SlaTargets``) met or missed, with the figure."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.aggregate import QueueTotals, queue_totals_by_day, total, worst_wait_call
from cdr.reports.base import SL_VARIANTS, Column, ReportOptions, ReportResult
from cdr.reports.metrics import queue_figures

COLUMNS = [
    Column("target", "Показатель", "Target", "str"),
    Column("goal", "Цель", "Goal", "str"),
    Column("actual", "Факт", "Actual", "float"),
    Column("met", "Выполнено", "Met", "str"),
    Column("detail", "Подробно", "Detail", "str"),
]


def _lost_pct(t: QueueTotals, exclude_short: bool) -> float | None:
    pool = t.offered - (t.short if exclude_short else 0)
    lost = t.lost - (t.short if exclude_short else 0)
    return round(100.0 * lost / pool, 2) if pool else None


def _row(key: str, ru: str, en: str, goal: str, actual: float | None, met: bool | None,
         detail: str = "") -> dict[str, Any]:
    return {"key": key, "target": ru, "target_en": en, "goal": goal, "actual": actual,
            "met": "n/a" if met is None else ("да" if met else "НЕТ"),
            "met_en": "n/a" if met is None else ("yes" if met else "NO"), "met_bool": met, "detail": detail}


async def evaluate(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
                   options: ReportOptions) -> list[dict[str, Any]]:
    """One row per configured target: goal, actual figure, met (``met_bool``: True, False or None)."""
    days = await queue_totals_by_day(engine, start, end, tz, options.queues, options.sl_threshold_s,
                                     thresholds(options))
    return evaluate_totals(days, await worst_of(engine, start, end, tz, options, days), options)


def thresholds(options: ReportOptions) -> list[float]:
    """The service-level thresholds the SLA targets need counted (besides the report's own)."""
    return [sl.threshold_s for sl in options.sla.service_levels]


async def worst_of(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo, options: ReportOptions,
                   days: dict[date, QueueTotals]) -> tuple[float, str] | None:
    """The longest wait of ``days`` and its call, when a ``max_wait_s`` target needs it (else None)."""
    longest = total(days.values()).max_wait_ended
    if options.sla.max_wait_s is None or longest is None:
        return None
    call = await worst_wait_call(engine, start, end, tz, options.queues, longest)
    return longest, call or "?"


def evaluate_totals(days: dict[date, QueueTotals], worst: tuple[float, str] | None,
                    options: ReportOptions) -> list[dict[str, Any]]:
    """``evaluate`` over already summed days (the daily report has them): ``days`` counted ``within``
    for ``thresholds(options)``, ``worst`` from ``worst_of``."""
    t = options.sla
    period = total(days.values())
    for th in thresholds(options):
        period.within.setdefault(th, 0)
    rows: list[dict[str, Any]] = []
    if t.max_wait_s is not None:
        rows.append(_row("max_wait_s", "Макс. ожидание, с", "Max wait, s", f"<= {t.max_wait_s:g}",
                         None if worst is None else round(worst[0], 1),
                         None if worst is None else worst[0] <= t.max_wait_s,
                         f"call {worst[1]}" if worst else ""))
    for sl in t.service_levels:
        pct = queue_figures(period, sl.threshold_s, options.sl_variant)["sl_pct"]
        rows.append(_row(f"sl_{sl.threshold_s:g}", f"Отвечено за {sl.threshold_s:g} с, %",
                         f"Answered within {sl.threshold_s:g} s, %", f">= {sl.min_pct:g}", pct,
                         None if pct is None else pct >= sl.min_pct, f"variant {options.sl_variant}"))
    if t.max_lost_pct_day is not None:
        worst_day, worst_pct = None, None
        for d, day in sorted(days.items()):
            p = _lost_pct(day, t.lost_excludes_short)
            if p is not None and (worst_pct is None or p > worst_pct):
                worst_day, worst_pct = d, p
        rows.append(_row("max_lost_pct_day", "Потери за худший день, %", "Lost on the worst day, %",
                         f"<= {t.max_lost_pct_day:g}", worst_pct,
                         None if worst_pct is None else worst_pct <= t.max_lost_pct_day,
                         worst_day.isoformat() if worst_day else ""))
    if t.max_lost_pct_period is not None:
        p = _lost_pct(period, t.lost_excludes_short)
        rows.append(_row("max_lost_pct_period", "Потери за период, %", "Lost over the period, %",
                         f"<= {t.max_lost_pct_period:g}", p,
                         None if p is None else p <= t.max_lost_pct_period))
    if t.max_avg_wait_s is not None:
        n = period.offered_ended
        avg = round(period.sum_wait_ended / n, 1) if n else None
        rows.append(_row("max_avg_wait_s", "Среднее ожидание, с", "Average wait, s",
                         f"<= {t.max_avg_wait_s:g}", avg, None if avg is None else avg <= t.max_avg_wait_s))
    if t.min_served_pct is not None:
        ended, served = period.inbound_ended, period.inbound_served
        pct = round(100.0 * served / ended, 2) if ended else None
        rows.append(_row("min_served_pct", "Обслужено входящих, %", "Inbound calls served, %",
                         f">= {t.min_served_pct:g}", pct, None if pct is None else pct >= t.min_served_pct,
                         f"{served} of {ended}"))
    return rows


def summary_note(rows: list[dict[str, Any]]) -> str:
    """"SLA: met 2 of 6; missed: ..." for the notes of any report."""
    met = [r for r in rows if r["met_bool"] is True]
    missed = [r for r in rows if r["met_bool"] is False]
    return (f"SLA (R21): выполнено {len(met)} из {len(rows)} / met {len(met)} of {len(rows)}"
            + ("; не выполнено / missed: " + ", ".join(r["key"] for r in missed) if missed else "") + ".")


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    rows = await evaluate(engine, start, end, tz, options)
    missed = [r for r in rows if r["met_bool"] is False]
    ru, en = SL_VARIANTS[options.sl_variant]
    notes = [summary_note(rows), f"Уровень сервиса / service level ({options.sl_variant}): {ru} / {en}."]
    return ReportResult("sla", "Проверка SLA", "SLA check", start, end, str(tz), COLUMNS, rows, None, notes,
                        [f"SLA target missed: {r['key']} ({r['actual']} vs {r['goal']})" for r in missed])
