"""What handlers read from the application: typed keys, and small accessors that fail as JSON errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.settings import Settings
from acd.web.audit_sessions import AccessSessions
from acd.web.errors import ApiError
from acd.web.ports import EnginePort
from recording.qa import QaForm

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
ENGINE: web.AppKey[EnginePort] = web.AppKey("engine", object)  # type: ignore[arg-type]
DB: web.AppKey[AsyncEngine | None] = web.AppKey("db", object)  # type: ignore[arg-type]
METRICS: web.AppKey[CollectorRegistry] = web.AppKey("metrics", CollectorRegistry)
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock", object)  # type: ignore[arg-type]
AUDIO_SESSIONS: web.AppKey[AccessSessions] = web.AppKey("audio_sessions", AccessSessions)
QA_FORMS: web.AppKey[Mapping[str, QaForm]] = web.AppKey("qa_forms", object)  # type: ignore[arg-type]


def clock_function(clock: Any) -> Callable[[], float]:
    """Accept an ``acd.clock.Clock`` (``.now()``) or a plain ``() -> epoch seconds`` callable."""
    now = getattr(clock, "now", None)
    if callable(now):
        return now  # type: ignore[no-any-return]
    if callable(clock):
        return clock  # type: ignore[no-any-return]
    raise TypeError("clock must be an acd.clock.Clock or a callable returning epoch seconds")


def now_utc(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.app[CLOCK](), UTC)


def db_of(request: web.Request) -> AsyncEngine:
    db = request.app[DB]
    if db is None:
        raise ApiError(503, "no database configured: recordings and reports are unavailable")
    return db


def remote_of(request: web.Request) -> str | None:
    return request.remote
