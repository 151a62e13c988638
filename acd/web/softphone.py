"""The browser softphone (issue 13): its static files, a demo page, and the agent's SIP settings.

The softphone itself is plain JavaScript (``static/softphone.js`` on top of the vendored JsSIP) that the
agent desktop includes with one ``<script>`` tag. This module serves it without depending on how the rest of
the static files are served, and hands an authenticated agent what the browser needs to register: the
WebSocket URL, the SIP URI and the password. The password is read from the environment at request time
(``softphone.password_env_prefix`` + agent id), sent with ``Cache-Control: no-store`` and never logged.

The page ``/softphone`` is public (it holds no data); everything personal comes from
``GET /api/softphone/config``, which needs the agent's credentials like every other agent route.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from acd.web.auth import Principal
from acd.web.context import ENGINE, SETTINGS
from acd.web.errors import ApiError
from acd.web.json import json_response
from acd.web.routes import route

STATIC_DIR: Final = Path(__file__).parent / "static"

ASSETS: Final[dict[str, tuple[str, str]]] = {
    "softphone.js": ("softphone.js", "text/javascript"),
    "softphone.css": ("softphone.css", "text/css"),
    "softphone-demo.js": ("softphone-demo.js", "text/javascript"),
    "vendor/jssip/jssip.min.js": ("vendor/jssip/jssip.min.js", "text/javascript"),
    "vendor/jssip/LICENSE": ("vendor/jssip/LICENSE", "text/plain"),
}
"""What ``/softphone/static/...`` serves: a fixed list, so no path from a request ever reaches the disk."""


def _asset_response(name: str) -> web.Response:
    found = ASSETS.get(name)
    if found is None:
        raise ApiError(404, "no such softphone file")
    path, content_type = found
    response = web.Response(body=(STATIC_DIR / path).read_bytes(), content_type=content_type,
                            charset="utf-8")
    response.headers["Cache-Control"] = "no-cache"  # revalidate: a deploy must reach the agents at once
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def softphone_embedded(request: web.Request, agent: str) -> bool:
    """Whether ``agent``'s desktop embeds the browser phone: a softphone is configured and lists them."""
    conf = request.app[SETTINGS].softphone
    return conf is not None and conf.embedded_for(agent)


def allow_softphone_socket(request: web.Request, response: web.Response) -> None:
    """Let the page's Content-Security-Policy connect to Asterisk's SIP WebSocket (and only to it): the
    pages' policy allows ``connect-src 'self'``, which would block the registration."""
    conf = request.app[SETTINGS].softphone
    if conf is None:
        return
    parts = urlsplit(conf.ws_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = response.headers.get("Content-Security-Policy", "")
    response.headers["Content-Security-Policy"] = policy.replace("connect-src 'self'",
                                                                 f"connect-src 'self' {origin}", 1)


@route("GET", "/softphone", public=True)
async def softphone_page(request: web.Request, user: Principal | None) -> web.Response:
    """The softphone demo and test page: a token field, then registration and call buttons."""
    response = web.Response(body=(STATIC_DIR / "softphone-demo.html").read_bytes(),
                            content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


@route("GET", "/softphone/static/{name:.+}", public=True)
async def softphone_asset(request: web.Request, user: Principal | None) -> web.Response:
    return _asset_response(request.match_info["name"])


@route("GET", "/api/softphone/config", roles={"agent"})
async def softphone_config(request: web.Request, user: Principal | None) -> web.Response:
    """What the signed-in agent's browser needs to register as their PJSIP endpoint.

    404 when the daemon offers no softphone (no ``softphone:`` in acd.yaml); 409 when this agent has no
    SIP password in the environment (an admin's step, named in the message without the value)."""
    assert user is not None and user.agent is not None  # role agent always has an agent id (settings)
    conf = request.app[SETTINGS].softphone
    if conf is None:
        raise ApiError(404, "the softphone is not configured (softphone: in acd.yaml)")
    env_name = conf.password_env_of(user.agent)
    password = os.environ.get(env_name)
    if not password:
        raise ApiError(409, f"no SIP password for agent {user.agent!r}: set {env_name} for the daemon")
    sip_user = conf.sip_user_of(user.agent)
    name = user.agent
    try:
        agent = request.app[ENGINE].snapshot().get("agents", {}).get(user.agent)
        if isinstance(agent, dict) and isinstance(agent.get("name"), str):
            name = agent["name"]
    except Exception:  # the display name is a nicety; registration works without it
        pass
    response = json_response({
        "agent": user.agent,
        "ws_url": conf.ws_url,
        "sip_uri": f"sip:{sip_user}@{conf.domain}",
        "authorization_user": sip_user,
        "password": password,
        "display_name": name,
        "ice_servers": list(conf.ice_servers),
        "auto_answer": conf.auto_answer,
        "register_timeout_s": conf.register_timeout_s,
    })
    response.headers["Cache-Control"] = "no-store"
    return response
