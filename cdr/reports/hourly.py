"""R20: the day's profile by local hour (answered and lost, inbound and outbound volumes) with a PNG
chart, and agent-state statistics (time per agent, state and reason) from ``agent_state_log``.

A state's duration runs to the agent's next state; it is clipped to the period, and a state still open
counts up to ``options.now`` (the present, filled in by ``run_report``) or the period's end, whichever
comes first: a report over today never counts time that has not happened yet.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.reports.aggregate import HourCounts, counts_by_hour
from cdr.reports.base import Column, ReportOptions, ReportResult, Section
from cdr.reports.data import load_agent_states, utc_range

COLUMNS = [
    Column("hour", "Час", "Hour", "str"),
    Column("inbound", "Входящие", "Inbound", "int"),
    Column("outbound", "Исходящие", "Outbound", "int"),
    Column("offered", "В очередь", "Offered to a queue", "int"),
    Column("answered", "Отвечено", "Answered", "int"),
    Column("lost", "Потеряно", "Lost", "int"),
]
STATE_COLUMNS = [
    Column("agent", "Оператор", "Agent", "str"),
    Column("state", "Состояние", "State", "str"),
    Column("reason", "Причина", "Reason", "str"),
    Column("count", "Раз", "Times", "int"),
    Column("total_s", "Всего, с", "Total, s", "s"),
]


def hour_rows(hours: list[HourCounts]) -> list[dict[str, Any]]:
    return [{"hour": f"{h:02d}:00", "inbound": c.inbound, "outbound": c.outbound, "offered": c.offered,
             "answered": c.answered, "lost": c.lost} for h, c in enumerate(hours)]


def chart(rows: list[dict[str, Any]], title: str) -> bytes:
    """The profile as a PNG bar chart (answered, lost stacked). Drawn on a bare ``Figure`` with fixed
    margins: pyplot's figure manager and ``tight_layout`` cost a third of the report's time (issue 14)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    hours = list(range(24))
    fig = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.bar(hours, [r["answered"] for r in rows], label="answered / отвечено", color="#2e7d32")
    ax.bar(hours, [r["lost"] for r in rows], bottom=[r["answered"] for r in rows],
           label="lost / потеряно", color="#c62828")
    ax.set_xticks(hours)
    ax.set_xlabel("hour / час")
    ax.set_ylabel("calls / звонки")
    ax.set_title(title)
    ax.legend()
    fig.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.12)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


async def run(engine: AsyncEngine, start: date, end: date, tz: ZoneInfo,
              options: ReportOptions) -> ReportResult:
    rows = hour_rows(await counts_by_hour(engine, start, end, tz, options.queues))
    totals: dict[str, Any] = {"hour": "Итого"}
    for c in COLUMNS[1:]:
        totals[c.key] = sum(r[c.key] for r in rows)
    lo, hi = utc_range(start, end, tz)
    # nothing after now is counted: an open state runs to now, not to the end of today
    upto = min(hi, datetime.fromtimestamp(options.now, UTC)) if options.now is not None else hi
    acc: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for s in await load_agent_states(engine, lo, hi):
        if s.at >= upto and s.at >= lo:
            continue
        stop = s.until if s.until is not None else upto
        a, b = max(s.at, lo), min(stop, upto)
        if b <= a and not (lo <= s.at < hi):
            continue
        key = (s.agent, s.state, s.reason or "")
        acc[key][0] += 1 if lo <= s.at < hi else 0
        acc[key][1] += max(0.0, (b - a).total_seconds())
    states = [{"agent": a, "state": st, "reason": r or None, "count": int(v[0]), "total_s": round(v[1], 1)}
              for (a, st, r), v in sorted(acc.items())]
    section = Section("agent_states", "Состояния операторов", "Agent states", STATE_COLUMNS, states)
    png = chart(rows, f"{start.isoformat()} - {end.isoformat()}") if options.chart else None
    return ReportResult("hourly", "Почасовой профиль", "Hourly profile", start, end, str(tz), COLUMNS, rows,
                        totals, ["Час - местное время поступления / hour of local arrival time."], [],
                        chart_png=png, sections=[section])
