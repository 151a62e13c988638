"""The route table: every HTTP route declares, where it is written, the roles it allows.

``@route("POST", "/api/agents/{id}/state", roles={"agent", "supervisor", "admin"})`` registers the handler
in ``ROUTES``; ``create_app`` adds them all to the router, each wrapped by the role check, so no route can
be reached without one. A public route says so (``public=True``). Tests walk ``ROUTES`` to check the
refusals of every route: 401 without a valid token, 403 with a role not listed.

Handlers take ``(request, user)``; ``user`` is None only on public routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from acd.settings import Role
from acd.web.auth import Authenticator, Principal
from acd.web.errors import ApiError

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

    def guarded(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        spec = self

        async def guarded_handler(request: web.Request) -> web.StreamResponse:
            if spec.roles is None:
                return await spec.handler(request, None)
            user = request.app[AUTHENTICATOR].authenticate(request.headers.get("Authorization"))
            if user is None:
                raise ApiError(401, "missing or invalid API token (Authorization: Bearer <token>)")
            if user.role not in spec.roles:
                raise ApiError(403, f"role {user.role!r} may not {spec.method} {spec.path}")
            request[PRINCIPAL] = user
            return await spec.handler(request, user)

        guarded_handler.__name__ = getattr(spec.handler, "__name__", "handler")
        return guarded_handler


ROUTES: list[RouteSpec] = []


def route(method: str, path: str, *, roles: Iterable[Role] | None = None,
          public: bool = False) -> Callable[[Handler], Handler]:
    """Declare a route and who may call it; exactly one of ``roles`` (non-empty) or ``public=True``."""
    allowed = frozenset(roles) if roles is not None else None
    if public == (allowed is not None) or (allowed is not None and not allowed):
        raise ValueError(f"{method} {path}: give either a non-empty roles set or public=True")
    if allowed is not None and not allowed <= ROLES:
        raise ValueError(f"{method} {path}: unknown roles {sorted(allowed - ROLES)}")

    def register(handler: Handler) -> Handler:
        if any(r.method == method and r.path == path for r in ROUTES):
            raise ValueError(f"{method} {path} declared twice")
        ROUTES.append(RouteSpec(method, path, allowed, handler))
        return handler

    return register


def add_routes(app: web.Application) -> None:
    for spec in ROUTES:
        app.router.add_route(spec.method, spec.path, spec.guarded())
