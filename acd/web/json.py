"""JSON responses through orjson: datetimes as ISO 8601 UTC, never a 500 for a non-str key."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)


def json_response(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(body=dumps(data), status=status, content_type="application/json")

