"""Reading request input: every refusal is a 400 that names the field, so a client knows what to fix."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from aiohttp import web

from acd.web.errors import ApiError, bad_request


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (empty body: ``{}``)."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"body: invalid JSON ({exc})", field="body") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "body: expected a JSON object", field="body")
    return data


def optional_str(data: dict[str, Any], field: str, *, max_len: int = 255) -> str | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(field, "expected a string")
    if len(value) > max_len:
        raise bad_request(field, f"longer than {max_len} characters")
    return value


def required_str(data: dict[str, Any], field: str, *, max_len: int = 255) -> str:
    value = optional_str(data, field, max_len=max_len)
    if value is None or not value.strip():
        raise bad_request(field, "required")
    return value.strip()


EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(9998, 12, 31)
"""Dates a query may name: a local day's bounds in UTC (the day after ``to``, a zone ahead of UTC) must
exist, and nothing was recorded before 1970. Outside: 400 naming the field, before any audit or query."""


def query_date(request: web.Request, field: str) -> date | None:
    """A local date ``YYYY-MM-DD`` from the query string, between 1970-01-01 and 9998-12-31."""
    raw = request.query.get(field)
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError as exc:
        raise bad_request(field, f"expected a date YYYY-MM-DD, got {raw!r}") from exc
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise bad_request(field, f"{raw} is out of range: expected {EARLIEST_DATE} to {LATEST_DATE}")
    return value


def date_range(request: web.Request) -> tuple[date | None, date | None]:
    start, end = query_date(request, "from"), query_date(request, "to")
    if start and end and start > end:
        raise bad_request("from", f"impossible date range: from {start} is after to {end}")
    return start, end


def path_int(request: web.Request, field: str = "id") -> int:
    """A numeric id from the URL; anything else (a path, ``..``) is refused before it reaches SQL or disk."""
    raw = request.match_info.get(field, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise bad_request(field, "expected a numeric id")
    return int(raw)
