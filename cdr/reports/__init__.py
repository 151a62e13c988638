"""The tenders' reports (R16-R21), one module each, looked up by name.

``await run_report(engine, "daily", date(2026, 11, 1), date(2026, 11, 30), options=ReportOptions())``
returns a ``ReportResult``; ``cdr.reports.render`` turns it into a table, CSV, XLSX or JSON.
Days and hours are local (``tz``); the database stores UTC.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports import callbacks, calls, daily, hourly, monthly, sla, topics
from cdr.reports.base import Column, ReportOptions, ReportResult, Section

Runner = Callable[[AsyncEngine, date, date, ZoneInfo, ReportOptions], Awaitable[ReportResult]]

REPORTS: dict[str, Runner] = {
    "calls": calls.run,      # R16 per-call detail
    "daily": daily.run,      # R17 daily statistics (the tender's form)
    "topics": topics.run,    # R18 calls by topic
    "monthly": monthly.run,  # R19 monthly: regions, services, call types, IVR invariant, operators
    "hourly": hourly.run,    # R20 hourly profile, chart, agent states
    "sla": sla.run,          # R21 SLA targets met or missed
    "callbacks": callbacks.run,  # R25 callbacks within their deadline (R21 form)
}


class UnknownReport(KeyError):
    def __str__(self) -> str:
        return f"unknown report {self.args[0]!r}; known: {', '.join(REPORTS)}"


async def run_report(engine: AsyncEngine, name: str, start: date, end: date, *, tz: str = "Asia/Almaty",
                     options: ReportOptions | None = None,
                     clock: Callable[[], float] = time.time) -> ReportResult:
    """Run report ``name`` over local days ``start``..``end`` (inclusive). Raises UnknownReport, or
    ValueError when start > end.

    ``clock`` (epoch seconds) is "now" unless ``options.now`` says otherwise: a report over today counts
    an agent state that is still open up to now, never into the rest of the day (the web API passes the
    daemon's clock as ``options.now``; it may run accelerated in tests and simulations)."""
    if name not in REPORTS:
        raise UnknownReport(name)
    if start > end:
        raise ValueError(f"the period's start {start} is after its end {end}")
    options = options or ReportOptions()
    if options.now is None:
        options = options.model_copy(update={"now": clock()})
    return await REPORTS[name](engine, start, end, ZoneInfo(tz), options)


__all__ = ["REPORTS", "Column", "ReportOptions", "ReportResult", "Section", "UnknownReport", "run_report"]
