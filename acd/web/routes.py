"""The route table: every HTTP route declares, where it is written, the roles it allows.

``@route("POST", "/api/agents/{id}/state", roles={"agent", "supervisor", "admin"})`` registers the handler
in ``ROUTES``; ``create_app`` adds them all to the router, each wrapped by the role check, so no route can
be reached without one. A public route says so (``public=True``). Tests walk ``ROUTES`` to check the
refusals of every route: 401 without a valid token, 403 with a role not listed.

Who is calling: a bearer token (machines) or, without an ``Authorization`` header, the browser session
cookie (``acd.web.sessions``); a state-changing request made with the cookie must carry the session's CSRF
token. A page (``page=True``) sends a visitor without a session to ``/login`` instead of a 401, and shows
its 403 as HTML.

Handlers take ``(request, user)``; ``user`` is None only on public routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from acd.settings import Role
from acd.web.auth import Authenticator, Principal
from acd.web.errors import ApiError, PageError
from acd.web.sessions import SAFE_METHODS, WEB_SESSION, check_csrf, session_of

ROLES: frozenset[str] = frozenset(("agent", "supervisor", "admin", "reporting"))

Handler = Callable[[web.Request, Principal | None], Awaitable[web.StreamResponse]]

AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator", Authenticator)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    roles: frozenset[str] | None
    """None: public (no token needed)."""
    handler: Handler
    page: bool = False
    """An HTML page: no session redirects to /login, refusals are HTML."""

    def guarded(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        spec = self

        async def guarded_handler(request: web.Request) -> web.StreamResponse:
            if spec.roles is None:
                return await spec.handler(request, None)
            header = request.headers.get("Authorization")
            user = request.app[AUTHENTICATOR].authenticate(header)
            if user is None and header is None:
                session = await session_of(request)
                if session is not None:
                    if request.method not in SAFE_METHODS:
                        await check_csrf(request, session.csrf)
                    request[WEB_SESSION] = session
                    user = session.principal
            if user is None:
                if spec.page:
                    raise web.HTTPSeeOther(f"/login?{urlencode({'next': request.path_qs})}")
                raise ApiError(401, "missing or invalid API token (Authorization: Bearer <token>) "
                                    "or browser session")
            if user.role not in spec.roles:
                error = PageError if spec.page else ApiError
                raise error(403, f"role {user.role!r} may not {spec.method} {spec.path}")
            request[PRINCIPAL] = user
            return await spec.handler(request, user)

        guarded_handler.__name__ = getattr(spec.handler, "__name__", "handler")
        return guarded_handler


ROUTES: list[RouteSpec] = []


def route(method: str, path: str, *, roles: Iterable[Role] | None = None,
          public: bool = False, page: bool = False) -> Callable[[Handler], Handler]:
    """Declare a route and who may call it; exactly one of ``roles`` (non-empty) or ``public=True``."""
    allowed = frozenset(roles) if roles is not None else None
    if public == (allowed is not None) or (allowed is not None and not allowed):
        raise ValueError(f"{method} {path}: give either a non-empty roles set or public=True")
    if allowed is not None and not allowed <= ROLES:
        raise ValueError(f"{method} {path}: unknown roles {sorted(allowed - ROLES)}")

    def register(handler: Handler) -> Handler:
        if any(r.method == method and r.path == path for r in ROUTES):
            raise ValueError(f"{method} {path} declared twice")
        ROUTES.append(RouteSpec(method, path, allowed, handler, page))
        return handler

    return register


def add_routes(app: web.Application) -> None:
    for spec in ROUTES:
        app.router.add_route(spec.method, spec.path, spec.guarded())
