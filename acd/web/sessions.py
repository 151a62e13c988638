"""Browser sessions on top of the accounts: the cookie, the CSRF check, and the app key of the store.

The cookie (``acd_session``) is HttpOnly and SameSite=Strict, and Secure whenever the request came over
TLS (directly or, behind a proxy, as ``X-Forwarded-Proto: https``). Every state-changing request made with
the cookie must echo the session's CSRF token in the ``X-CSRF-Token`` header (fetch) or a ``csrf`` form
field (plain forms); bearer-token requests need none, as a browser never adds that header by itself.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from acd.web.accounts import AccountStore, LoginLimiter, WebSession
from acd.web.errors import ApiError

COOKIE = "acd_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))

ACCOUNTS: web.AppKey[AccountStore | None] = web.AppKey("accounts", object)  # type: ignore[arg-type]
LIMITER: web.AppKey[LoginLimiter] = web.AppKey("login_limiter", LoginLimiter)
WEB_SESSION: web.RequestKey[WebSession] = web.RequestKey("web_session", WebSession)


def is_secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, *,
               max_age: int | None = None, http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=http_only, samesite="Strict",
                        secure=is_secure(request))


async def session_of(request: web.Request) -> WebSession | None:
    """The live session of the request's cookie, None without one (or without a database)."""
    token = request.cookies.get(COOKIE)
    store = request.app.get(ACCOUNTS)
    if not token or store is None or len(token) > 128:
        return None
    return await store.session(token)


async def check_csrf(request: web.Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "CSRF token missing or wrong: reload the page and try again")
