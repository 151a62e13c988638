"""Liveness for load balancers and monitoring: /health (200 or 503) and /metrics (Prometheus text).

Both are public: a health check must not need a token, and the metrics carry no personal data (counts and
durations only; never numbers or names).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

import acd
from acd.web.auth import Principal
from acd.web.context import DB, ENGINE, METRICS
from acd.web.json import json_response
from acd.web.routes import route

DB_PING_TIMEOUT_S = 2.0


async def _db_reachable(request: web.Request) -> tuple[bool | None, str | None]:
    db = request.app[DB]
    if db is None:
        return None, "not configured"
    try:
        async with asyncio.timeout(DB_PING_TIMEOUT_S):
            async with db.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not reachable"; the reason helps the operator
        return False, type(exc).__name__
    return True, None


@route("GET", "/health", public=True)
async def health(request: web.Request, user: Principal | None) -> web.Response:
    try:
        ari = bool(request.app[ENGINE].ari_connected())
    except Exception:
        ari = False
    try:
        writable = request.app[ENGINE].db_writable()
    except Exception:  # an engine port without a CDR writer: unknown
        writable = None
    db_ok, db_detail = await _db_reachable(request)
    healthy = ari and db_ok is not False and writable is not False
    body = {"status": "ok" if healthy else "degraded", "version": acd.__version__, "ari_connected": ari,
            "db_reachable": db_ok, "db_writable": writable}
    if db_detail:
        body["db_detail"] = db_detail
    return json_response(body, status=200 if healthy else 503)


@route("GET", "/metrics", public=True)
async def metrics(request: web.Request, user: Principal | None) -> web.Response:
    payload = generate_latest(request.app[METRICS])
    response = web.Response(body=payload)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
