"""Every error leaves the API as JSON ``{"error": "...", "field": "..."}`` with a meaningful status."""

from __future__ import annotations

import html
import socket
import sqlite3
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; only its exception classes are used
import structlog
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from acd.web.json import json_response

log = structlog.get_logger("acd.web")

DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error,
    ConnectionError, socket.gaierror, TimeoutError,
)
"""What a database outage raises through SQLAlchemy: its own errors, but also the driver's and the
socket's as they are (asyncpg's connect lets ``ConnectionRefusedError`` through unwrapped). Handlers reach
no other network peer, so a connection error in a handler is the database's."""


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.field:
            out["field"] = self.field
        return out


class PageError(ApiError):
    """A refusal on an HTML page: shown as a small HTML page rather than JSON."""


def _page(status: int, message: str) -> web.Response:
    body = (
        "<!doctype html><html><head><meta charset=utf-8><title>acd</title>"
        "<link rel=stylesheet href=/static/app.css></head><body class=centered>"
        f"<main class=card><h1>{status}</h1><p>{html.escape(message)}</p>"
        "<p><a href=/>&larr; acd</a></p></main></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html")


def bad_request(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", field=field)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except PageError as exc:
        return _page(exc.status, exc.message)
    except ApiError as exc:
        return json_response(exc.body(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_response({"error": exc.reason}, status=exc.status)
    except DATABASE_ERRORS as exc:  # e.g. an outage: nothing personal is served unaudited meanwhile
        log.warning("http_database_error", method=request.method, path=request.path, error=type(exc).__name__)
        return json_response({"error": "database unavailable, try again shortly"}, status=503)
    except Exception:
        log.exception("http_unhandled", method=request.method, path=request.path)
        return json_response({"error": "internal error (logged on the server)"}, status=500)
