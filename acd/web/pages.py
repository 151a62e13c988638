"""Server-rendered pages: sign-in, sign-out (here and everywhere), the landing page by role.

Templates are Jinja2 with autoescape, in ``acd/web/templates``; texts come from ``acd.web.i18n``. Every
page carries a strict Content-Security-Policy (scripts and styles only from ``/static``), so an injected
string can never run. The sign-in form is protected against login CSRF by a double-submit token (a cookie
and a hidden field that must match); after sign-in the session's own CSRF token takes over.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from acd.web.auth import Principal
from acd.web.context import CLOCK
from acd.web.i18n import COOKIE as LANG_COOKIE
from acd.web.i18n import LANG_NAMES, LANGS, catalogue, pick_language, translator
from acd.web.live import LIVE
from acd.web.routes import route
from acd.web.sessions import ACCOUNTS, COOKIE, LIMITER, WEB_SESSION, session_of, set_cookie

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LOGIN_COOKIE = "acd_login"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; media-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")

JINJA: web.AppKey[jinja2.Environment] = web.AppKey("jinja", jinja2.Environment)


def make_jinja() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def language_of(request: web.Request) -> str:
    return pick_language(request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                         request.headers.get("Accept-Language"))


def render(request: web.Request, template_name: str, *, status: int = 200, **context: Any) -> web.Response:
    lang = language_of(request)
    template = request.app[JINJA].get_template(template_name)
    body = template.render(t=translator(lang), lang=lang, langs=LANG_NAMES, catalogue=catalogue(lang),
                           path=request.path, **context)
    response = web.Response(text=body, status=status, content_type="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    if request.query.get("lang") in LANGS:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 86400, http_only=False)
    return response


ROLE_HOMES = {"supervisor": "/wallboard", "admin": "/admin", "reporting": "/reports"}
"""Where each role works: a sign-in without ``next=`` lands there, not on a page of links (/home keeps
the links to the other consoles a role may open)."""


def home_of(user: Principal) -> str:
    if user.role == "agent" and user.agent:
        return f"/agent/{user.agent}"
    return ROLE_HOMES.get(user.role, "/home")


def _safe_next(value: str | None) -> str | None:
    """Only a path of this site (``/x``), never ``//host`` or ``https://...``: no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


@route("GET", "/", public=True)
async def index(request: web.Request, user: Principal | None) -> web.StreamResponse:
    session = await session_of(request)
    raise web.HTTPSeeOther(home_of(session.principal) if session else "/login")


def _login_form(request: web.Request, *, status: int = 200, error: str | None = None,
                name: str = "") -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, error=error, csrf=token, user_name=name,
                      next=_safe_next(request.query.get("next")) or "",
                      nodb=request.app.get(ACCOUNTS) is None)
    set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
    return response


@route("GET", "/login", public=True)
async def login_page(request: web.Request, user: Principal | None) -> web.StreamResponse:
    session = await session_of(request)
    if session is not None:
        raise web.HTTPSeeOther(home_of(session.principal))
    return _login_form(request)


@route("POST", "/login", public=True)
async def login(request: web.Request, user: Principal | None) -> web.StreamResponse:
    t = translator(language_of(request))
    form = await request.post()
    name = str(form.get("user") or "").strip()[:64]
    password = str(form.get("password") or "")[:1024]
    given = str(form.get("csrf") or "")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _login_form(request, status=403, error=t("login.expired"), name=name)
    store = request.app.get(ACCOUNTS)
    if store is None:
        return _login_form(request, status=503, error=t("login.nodb"), name=name)
    remote = request.remote
    limiter = request.app[LIMITER]
    wait = limiter.retry_after(name, remote)
    if wait is not None:
        await store.audit(name or "?", "rate_limited", remote)
        response = _login_form(request, status=429, error=t("login.limited", s=int(wait) + 1), name=name)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    account, outcome = await store.verify(name, password)
    await store.audit(name or "?", outcome, remote)
    if account is None:
        limiter.failed(name, remote)
        return _login_form(request, status=401, error=t("login.bad"), name=name)
    limiter.succeeded(name)
    token, _csrf = await store.open_session(account, remote)
    target = _safe_next(str(form.get("next") or "")) or home_of(account.principal())
    response = web.HTTPSeeOther(target)
    set_cookie(response, request, COOKIE, token)
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


async def _logout(request: web.Request, user: Principal | None, *, everywhere: bool) -> web.StreamResponse:
    assert user is not None
    store = request.app.get(ACCOUNTS)
    session = request.get(WEB_SESSION)
    token = request.cookies.get(COOKIE)
    if store is not None and session is not None and token:
        if everywhere:
            await store.close_all_sessions(user.name)
        else:
            await store.close_session(token)
        await store.audit(user.name, "logout_all" if everywhere else "logout", request.remote)
        request.app[LIVE].wake(user.agent)  # the agent's open desktops re-check their sessions now
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


@route("POST", "/logout", roles={"agent", "supervisor", "admin", "reporting"})
async def logout(request: web.Request, user: Principal | None) -> web.StreamResponse:
    return await _logout(request, user, everywhere=False)


@route("POST", "/logout/all", roles={"agent", "supervisor", "admin", "reporting"})
async def logout_all(request: web.Request, user: Principal | None) -> web.StreamResponse:
    return await _logout(request, user, everywhere=True)


@route("GET", "/home", roles={"agent", "supervisor", "admin", "reporting"}, page=True)
async def home(request: web.Request, user: Principal | None) -> web.StreamResponse:
    assert user is not None
    session = request.get(WEB_SESSION)
    return render(request, "home.html", user=user, csrf=session.csrf if session else "",
                  now=request.app[CLOCK]())
