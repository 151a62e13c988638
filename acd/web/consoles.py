"""Reports and recordings in the browser (issue 14: R14, R15, R17-R21, R28).

The pages call the same code as ``acd report`` and the recordings API, never a copy of it:

- ``/reports``: any report of ``cdr.reports.REPORTS`` with the filters of ``GET /api/reports/{name}``
  (``from``, ``to``, ``queue``, ``sl_threshold_s``, ``sl_variant``), the tender's column titles, and three
  charts drawn in the browser by the vendored uPlot (``static/vendor/uplot``): the profile by hour
  (answered and lost), the service level by day against the target, and the distribution of waits.
  ``/reports/{name}/export?format=csv|xlsx`` is ``cdr.reports.render`` on the same result.
- ``/recordings``: the search of ``GET /api/recordings`` (same filter, same agent restriction, same
  ``search`` audit row); ``/recordings/{id}``: the player (``<audio>`` on ``/api/recordings/{id}/audio``:
  the browser seeks with Range requests, audited once per access session by that route), the earlier
  evaluations and disputes, and the QA form, which posts to ``/api/recordings/{id}/evaluations``.

Kazakh pages show the Russian column titles: the tenders' forms are Russian and ``cdr.reports`` carries
only Russian and English titles (docs/decisions/web-02-report-titles.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web
from pydantic import ValidationError

from acd.settings import Role
from acd.web.auth import Principal
from acd.web.context import CLOCK, QA_FORMS, SETTINGS, db_of
from acd.web.errors import ApiError, PageError
from acd.web.i18n import translator
from acd.web.inputs import date_range
from acd.web.pages import language_of, render
from acd.web.recordings import _audit, _public, _visible_row
from acd.web.routes import route
from acd.web.sessions import WEB_SESSION
from cdr.reports import REPORTS, ReportOptions, ReportResult, run_report
from cdr.reports.aggregate import counts_by_hour
from cdr.reports.base import SL_VARIANTS
from cdr.reports.data import load_calls
from cdr.reports.render import cell, text, to_csv, to_xlsx
from recording import store
from recording.evaluations import evaluations_of

REPORT_ROLES: frozenset[Role] = frozenset({"reporting", "supervisor", "admin"})
RECORDING_ROLES: frozenset[Role] = frozenset({"agent", "supervisor", "admin"})
WAIT_BUCKETS = (0, 10, 20, 30, 60, 120, 300)
"""Lower bounds (s) of the waits histogram; the last bucket is open."""
SL_TARGET_PCT = 80.0
"""The target line when the filter gives none: the tenders' 80 % (cdr.sla.SlaTargets' default)."""


@dataclass(frozen=True)
class ReportQuery:
    """The page's filters, parsed once; ``options`` is what ``run_report`` takes."""

    name: str
    start: date
    end: date
    queues: list[str]
    threshold_s: float
    variant: str
    target_pct: float
    options: ReportOptions

    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode({"from": self.start.isoformat(), "to": self.end.isoformat(),
                          "queue": ",".join(self.queues), "sl_threshold_s": f"{self.threshold_s:g}",
                          "sl_variant": self.variant, "target": f"{self.target_pct:g}"})


def _dates(request: web.Request, default_from: date, default_to: date | None) -> tuple[date, date]:
    """``from`` and ``to`` checked as the API checks them (format, 1970..9998, order: web-02), before any
    audit row or query; a missing ``to`` is ``default_to`` or the start."""
    try:
        start, end = date_range(request)
    except ApiError as exc:
        raise PageError(exc.status, exc.message) from exc
    start = start or default_from
    end = end or default_to or start
    if start > end:
        raise PageError(400, f"impossible date range: from {start} is after to {end}")
    return start, end


def _number(raw: str | None, default: float, field: str, lo: float, hi: float) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise PageError(400, f"{field}: expected a number") from None
    if not lo < value <= hi:
        raise PageError(400, f"{field}: expected a number above {lo:g} and at most {hi:g}")
    return value


def report_query(request: web.Request, name: str) -> ReportQuery:
    if name not in REPORTS:
        raise PageError(404, f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    settings = request.app[SETTINGS]
    q = request.query
    start, end = _dates(request, _today(request), None)
    if (end - start).days > 366:
        raise PageError(400, "the period is longer than a year")
    queues = [x.strip() for x in (q.get("queue") or "").split(",") if x.strip()]
    threshold = _number(q.get("sl_threshold_s"), settings.reports.sl_threshold_s, "sl_threshold_s", 0, 3600)
    variant = q.get("sl_variant") or "offered"
    if variant not in SL_VARIANTS:
        raise PageError(400, f"sl_variant: one of {', '.join(SL_VARIANTS)}")
    target = _number(q.get("target"), SL_TARGET_PCT, "target", 0, 100)
    try:
        options = ReportOptions.model_validate({
            "sl_threshold_s": threshold, "short_abandon_s": settings.reports.short_abandon_s,
            "sl_variant": variant, "queues": queues or None, "now": request.app[CLOCK](), "chart": False})
    except ValidationError as exc:
        raise PageError(400, str(exc.errors(include_url=False)[0]["msg"])) from exc
    return ReportQuery(name, start, end, queues, threshold, variant, target, options)


def _today(request: web.Request) -> date:
    tz = ZoneInfo(request.app[SETTINGS].timezone)
    return datetime.fromtimestamp(request.app[CLOCK](), tz).date()


def _title_lang(lang: str) -> str:
    """The reports carry Russian and English titles; Kazakh pages use the tender's Russian ones."""
    return "en" if lang == "en" else "ru"


async def _run(request: web.Request, rq: ReportQuery, name: str | None = None) -> ReportResult:
    try:
        return await run_report(db_of(request), name or rq.name, rq.start, rq.end,
                                tz=request.app[SETTINGS].timezone, options=rq.options)
    except ApiError as exc:
        raise PageError(exc.status, exc.message) from exc


def _tables(result: ReportResult, lang: str) -> list[dict[str, Any]]:
    """Every table of the result as display strings, in the order and with the titles of ``acd report``."""
    tl = _title_lang(lang)
    out = []
    for sec in result.tables():
        rows = [[text(cell(r, c, tl)) for c in sec.columns] for r in sec.rows]
        totals = None
        if sec.totals:
            t = dict(sec.totals)
            if tl == "en" and t.get(sec.columns[0].key) == "Итого":
                t[sec.columns[0].key] = "Total"
            totals = [text(t.get(c.key)) for c in sec.columns]
        out.append({"key": sec.key, "title": sec.title(tl),
                    "columns": [{"key": c.key, "title": c.title(tl),
                                 "num": c.kind not in ("str", "date", "time")} for c in sec.columns],
                    "rows": rows, "totals": totals})
    return out


async def chart_data(request: web.Request, rq: ReportQuery, shown: ReportResult) -> dict[str, Any]:
    """What the three charts plot, from the same aggregates as the reports (the daily report's service
    level is the one shown when the page is the daily report, else it is run for the chart)."""
    db = db_of(request)
    tz = ZoneInfo(request.app[SETTINGS].timezone)
    hours = await counts_by_hour(db, rq.start, rq.end, tz, rq.options.queues)
    daily = shown if shown.name == "daily" else await _run(request, rq, "daily")
    waits_answered = [0] * len(WAIT_BUCKETS)
    waits_lost = [0] * len(WAIT_BUCKETS)
    for c in await load_calls(db, rq.start, rq.end, tz, rq.options.queues):
        if not c.queued or c.wait_s is None or c.outcome not in ("answered", "abandoned", "short_abandoned"):
            continue
        i = max(n for n, lo in enumerate(WAIT_BUCKETS) if c.wait_s >= lo)
        (waits_answered if c.outcome == "answered" else waits_lost)[i] += 1
    labels = [f"<{hi}" for hi in WAIT_BUCKETS[1:]] + [f"{WAIT_BUCKETS[-1]}+"]  # short: 7 bars side by side
    return {
        "hours": {"answered": [h.answered for h in hours], "lost": [h.lost for h in hours]},
        "days": {"labels": [r["date"].isoformat() for r in daily.rows],
                 "sl": [r["sl_pct"] for r in daily.rows], "target": rq.target_pct},
        "waits": {"labels": labels, "answered": waits_answered, "lost": waits_lost},
    }


def _when(request: web.Request) -> Any:
    """A template's ``when(dt)``: a stored UTC time as the contact centre's local ``YYYY-MM-DD HH:MM``."""
    tz = request.app[SETTINGS].tz

    def when(value: datetime | None) -> str:
        if value is None:
            return ""
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    return when


def _csrf(request: web.Request) -> str:
    session = request.get(WEB_SESSION)
    return session.csrf if session else ""


def _json_block(value: Any) -> str:
    return orjson.dumps(value).decode().replace("<", "\\u003c")


@route("GET", "/reports", roles=REPORT_ROLES, page=True)
async def reports_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    assert user is not None
    name = request.query.get("report") or "daily"
    rq = report_query(request, name)
    result = await _run(request, rq)
    lang = language_of(request)
    charts = await chart_data(request, rq, result)
    t = translator(lang)
    return render(request, "reports.html", user=user, csrf=_csrf(request), rq=rq, reports=list(REPORTS),
                  result=result, report_title=result.title(_title_lang(lang)), tables=_tables(result, lang),
                  variants=list(SL_VARIANTS), query=rq.query_string(),
                  charts=_json_block({**charts, "text": {k: t(f"charts.{k}") for k in (
                      "answered", "lost", "sl", "target", "hour", "day", "wait", "wait_s", "calls")}}))


@route("GET", "/reports/{name}/export", roles=REPORT_ROLES, page=True)
async def report_export(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """The file ``acd report NAME --format csv|xlsx`` writes, in the page's title language."""
    rq = report_query(request, request.match_info["name"])
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise PageError(400, "format: csv or xlsx")
    options = rq.options.model_copy(update={"chart": fmt == "xlsx"})
    with_chart = ReportQuery(**{**rq.__dict__, "options": options})
    result = await _run(request, with_chart)  # the XLSX carries the PNG chart, as acd report's does
    tl = _title_lang(language_of(request))
    filename = f"{rq.name}_{rq.start}_{rq.end}.{fmt}"
    if fmt == "csv":
        body = to_csv(result, tl).encode("utf-8-sig")  # the BOM: Excel opens Cyrillic CSV correctly
        ctype = "text/csv"
    else:
        body = to_xlsx(result, tl)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(body=body, content_type=ctype, charset="utf-8" if fmt == "csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "no-store"})


@route("GET", "/recordings", roles=RECORDING_ROLES, page=True)
async def recordings_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """The search of ``GET /api/recordings``: the same filter, the agent restriction, the audit row."""
    assert user is not None
    q = request.query
    today = _today(request)
    start, end = _dates(request, today - timedelta(days=6), today)
    flt = store.SearchFilter(
        caller=q.get("caller") or None, date_from=start, date_to=end, agent=q.get("agent") or None,
        queue=q.get("queue") or None, topic=q.get("topic") or None, call_id=q.get("call") or None,
        only_agent=(user.agent or "") if user.role == "agent" else None, limit=200)
    await _audit(request, user, "search", detail=" ".join(f"{k}={v}" for k, v in flt.as_dict().items()))
    rows = await store.search(db_of(request), flt, request.app[SETTINGS].tz)
    return render(request, "recordings.html", user=user, csrf=_csrf(request), when=_when(request),
                  rows=[_public(r) for r in rows], f={**{k: q.get(k, "") for k in (
                      "caller", "agent", "queue", "topic", "call")}, "from": start.isoformat(),
                      "to": end.isoformat()})


@route("GET", "/recordings/{id}", roles=RECORDING_ROLES, page=True)
async def recording_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    """The player, the evaluations (with their disputes) and, for a supervisor, the QA form."""
    assert user is not None
    try:
        row = await _visible_row(request, user)
    except ApiError as exc:
        raise PageError(exc.status, exc.message) from exc
    await _audit(request, user, "view", recording_id=row["id"], call_id=row["call_id"])
    evals = await evaluations_of(db_of(request), recording_id=row["id"])
    forms = list(request.app[QA_FORMS].values())
    return render(request, "recording.html", user=user, csrf=_csrf(request), rec=_public(row),
                  when=_when(request), tz=request.app[SETTINGS].timezone,
                  evals=evals, forms=forms, playable=row["status"] == "done",
                  can_score=user.role == "supervisor", can_resolve=user.role == "supervisor",
                  can_dispute=user.role == "agent")
