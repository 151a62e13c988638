"""Reports over HTTP: ``cdr.reports.run_report`` over local dates, as JSON (R17-R21).

Query: ``from``, ``to`` (local dates, inclusive), and options of ``cdr.reports.ReportOptions``:
``queue`` (comma-separated queue names), ``sl_threshold_s``, ``sl_variant``. The service-level threshold
and short-abandon limit default to ``reports`` of ``config/acd.yaml``; ``now`` is the daemon's clock (an
agent state still open is counted up to it).
"""

from __future__ import annotations

import importlib
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from acd.web.auth import Principal
from acd.web.context import CLOCK, SETTINGS, db_of
from acd.web.errors import ApiError, bad_request
from acd.web.inputs import date_range
from acd.web.json import json_response
from acd.web.routes import route

OPTION_PARAMS = {"sl_threshold_s", "sl_variant"}
"""Query parameters passed through to ReportOptions as they are (besides ``queue``)."""


def _reports() -> Any:
    """Imported per request so the API starts even while the reports package is absent or broken."""
    try:
        module = importlib.import_module("cdr.reports")
        module.run_report  # noqa: B018  (fail here, as a 503, if the package is incomplete)
        module.ReportOptions  # noqa: B018
    except (ImportError, AttributeError) as exc:
        raise ApiError(503, f"reports are not available in this build ({exc})") from exc
    return module


def _options(request: web.Request, reports: Any) -> Any:
    settings = request.app[SETTINGS]
    values: dict[str, Any] = {"sl_threshold_s": settings.reports.sl_threshold_s,
                              "short_abandon_s": settings.reports.short_abandon_s,
                              "now": request.app[CLOCK]()}
    for key, value in request.query.items():
        if key in ("from", "to"):
            continue
        if key in ("queue", "queues"):
            values["queues"] = [q for q in value.split(",") if q]
        elif key in OPTION_PARAMS:
            values[key] = value
        else:
            raise bad_request(key, f"unknown parameter (from, to, queue, {', '.join(sorted(OPTION_PARAMS))})")
    try:
        return reports.ReportOptions.model_validate(values)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "options"
        raise bad_request(field, err["msg"]) from exc


@route("GET", "/api/reports/{name}", roles={"reporting", "supervisor", "admin"})
async def report(request: web.Request, user: Principal | None) -> web.Response:
    name = request.match_info["name"]
    start, end = date_range(request)
    if start is None or end is None:
        raise bad_request("from" if start is None else "to", "required (local date YYYY-MM-DD)")
    reports = _reports()
    options = _options(request, reports)
    db = db_of(request)
    try:
        result = await reports.run_report(db, name, start, end, tz=request.app[SETTINGS].timezone,
                                          options=options)
    except KeyError as exc:
        raise ApiError(404, str(exc)) from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    return json_response(result.to_json())
