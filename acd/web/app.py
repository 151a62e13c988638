"""The daemon's HTTP application: ``create_app`` wires settings, the live engine, the database and the
metrics registry into an aiohttp app whose every route is role-checked (``acd.web.routes``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

import acd.web.admin  # noqa: F401  (the /api/admin routes, R24)
import acd.web.admin_pages  # noqa: F401  (the /admin pages, R24)
from acd.settings import Settings

# Importing the handler modules fills the route table.
from acd.web import (  # noqa: F401
    agents,
    call_control,
    campaigns,
    consoles,
    desktop,
    health,
    pages,
    recordings,
    reports,
    softphone,
    wallboard,
)
from acd.web import callback_offers as _callback_offers  # noqa: F401  (R25 callbacks offered to agents)
from acd.web import callbacks as _callbacks  # noqa: F401  (R25 callbacks and escalation)
from acd.web import outbound as _outbound  # noqa: F401  (R25 click-to-call, callback dialling)
from acd.web.accounts import AccountStore, LoginLimiter
from acd.web.audit_sessions import AccessSessions
from acd.web.auth import Authenticator
from acd.web.context import AUDIO_SESSIONS, CLOCK, DB, ENGINE, METRICS, QA_FORMS, SETTINGS, clock_function
from acd.web.desktop import REGIONS, region_lookup
from acd.web.errors import error_middleware
from acd.web.live import LIVE, LiveHub
from acd.web.pages import JINJA, STATIC, make_jinja
from acd.web.ports import EnginePort
from acd.web.routes import AUTHENTICATOR, add_routes
from acd.web.sessions import ACCOUNTS, LIMITER
from cdr.regions import RegionLookup
from recording.qa import QaForm

MAX_BODY_BYTES = 256 * 1024


def create_app(*, settings: Settings, engine: EnginePort, db: AsyncEngine | None,
               metrics: CollectorRegistry, clock: Any,
               qa_forms: Mapping[str, QaForm] | None = None, live: LiveHub | None = None,
               regions: RegionLookup | None = None) -> web.Application:
    """The API application. ``clock`` is an ``acd.clock.Clock`` or a ``() -> epoch seconds`` callable;
    ``qa_forms`` come from ``recording.qa.load_forms(config/qa)`` (loaded, and refused, at start-up);
    ``live`` is the hub the engine's CDR stream feeds (``acd.web.live.LiveFeed``); ``regions`` names the
    caller's region on the screen pop (the CDR writer's lookup)."""
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[ENGINE] = engine
    app[DB] = db
    app[METRICS] = metrics
    app[CLOCK] = clock_function(clock)
    app[QA_FORMS] = dict(qa_forms or {})
    app[AUDIO_SESSIONS] = AccessSessions()
    app[AUTHENTICATOR] = Authenticator(settings.users)
    app[ACCOUNTS] = AccountStore(db, app[CLOCK]) if db is not None else None
    app[LIMITER] = LoginLimiter(app[CLOCK])
    app[LIVE] = live or LiveHub()
    app[REGIONS] = region_lookup(regions)
    app[JINJA] = make_jinja()
    wallboard.install_wallboard(app)  # the daemon sets app[wallboard.SUPERVISOR] afterwards
    add_routes(app)
    app.router.add_static("/static", STATIC, append_version=False)
    return app
