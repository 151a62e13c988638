"""Reports over HTTP: ``cdr.reports.run_report`` with local dates, as JSON (R17-R21)."""

from __future__ import annotations

import importlib
from typing import Any

from aiohttp import web

from acd.web.auth import Principal
from acd.web.context import SETTINGS, db_of
from acd.web.errors import ApiError, bad_request
from acd.web.inputs import date_range
from acd.web.json import json_response
from acd.web.routes import route

_RESERVED = {"from", "to"}


def _run_report() -> Any:
    """Imported per request so the API starts even while the reports package is absent or broken."""
    try:
        module = importlib.import_module("cdr.reports")
        return module.run_report
    except (ImportError, AttributeError) as exc:
        raise ApiError(503, f"reports are not available in this build ({exc})") from exc


@route("GET", "/api/reports/{name}", roles={"reporting", "supervisor", "admin"})
async def report(request: web.Request, user: Principal | None) -> web.Response:
    name = request.match_info["name"]
    start, end = date_range(request)
    if start is None or end is None:
        raise bad_request("from" if start is None else "to", "required (local date YYYY-MM-DD)")
    options = {k: v for k, v in request.query.items() if k not in _RESERVED}
    run_report = _run_report()
    settings = request.app[SETTINGS]
    try:
        result = await run_report(db_of(request), name, start, end, tz=settings.tz, options=options)
    except KeyError as exc:
        raise ApiError(404, f"unknown report {name!r}") from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    payload = result.to_json() if hasattr(result, "to_json") else result
    if isinstance(payload, str | bytes):
        return web.Response(body=payload, content_type="application/json")
    return json_response(payload)
