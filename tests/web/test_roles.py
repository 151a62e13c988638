"""Every route in the table refuses a request without a token (401) and one from a role it does not list
(403), before doing anything. A page (``page=True``) sends a visitor without a session to /login instead,
and refuses a wrong role with an HTML 403; a browser session in place of the token is refused the same way
(tests/web/test_accounts.py walks the table with session cookies)."""

from __future__ import annotations

import re

import pytest

from acd.web.app import create_app  # noqa: F401  (fills the route table)
from acd.web.routes import ROLES, ROUTES, route
from tests.web.conftest import ROLE_USER, Api, auth

PUBLIC = {("GET", "/health"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/login"), ("POST", "/login"),
          ("GET", "/tv/{token}"), ("GET", "/tv/{token}/live"),
          ("GET", "/softphone"), ("GET", "/softphone/static/{name:.+}")}  # no data: page and its JS
"""The TV wallboard is public but needs its link's token (tests/web/test_wallboard.py)."""
WALLBOARD_ROUTES = {
    ("GET", "/wallboard"), ("GET", "/api/wallboard"), ("GET", "/api/wallboard/live"),
    ("POST", "/api/wallboard/agents/{id}/force"), ("POST", "/api/wallboard/calls/{id}/move"),
    ("GET", "/api/wallboard/links"), ("POST", "/api/wallboard/links"),
    ("DELETE", "/api/wallboard/links/{id}"),
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_route_table_is_complete_and_public_routes_are_the_expected_ones() -> None:
    declared = {(r.method, r.path) for r in ROUTES}
    assert {("POST", "/api/agents/{id}/state"), ("GET", "/api/recordings/{id}/audio"),
            ("DELETE", "/api/recordings/{id}"), ("GET", "/api/reports/{name}"),
            ("GET", "/agent/{id}"), ("GET", "/api/agents/{id}/live"), ("GET", "/api/agents/{id}/desktop"),
            ("POST", "/logout"), ("POST", "/logout/all"), ("GET", "/home")} <= declared
    call_control = {("POST", f"/api/calls/{{id}}/{op}") for op in (
        "hold", "resume", "mute", "unmute", "dtmf", "consult", "transfer", "cancel-consult", "conference")}
    listening = {("POST", "/api/calls/{id}/listen"), ("POST", "/api/listen/{session}/mode"),
                 ("DELETE", "/api/listen/{session}")}
    assert call_control | listening <= declared
    roles = {(r.method, r.path): r.roles for r in ROUTES}
    assert all(roles[k] == {"agent"} for k in call_control)  # the agent of the call, nobody else
    assert all(roles[k] == {"supervisor", "admin"} for k in listening)
    assert declared >= WALLBOARD_ROUTES
    for spec in ROUTES:  # the wallboard and its actions: supervisors and admins only (R23)
        if (spec.method, spec.path) in WALLBOARD_ROUTES:
            assert spec.roles == {"supervisor", "admin"}, spec.path
    assert {(r.method, r.path) for r in ROUTES if r.roles is None} == PUBLIC


def test_a_route_must_declare_roles_or_be_public() -> None:
    with pytest.raises(ValueError, match="roles"):
        route("GET", "/x")
    with pytest.raises(ValueError, match="roles"):
        route("GET", "/x", roles=set())
    with pytest.raises(ValueError, match="unknown roles"):
        route("GET", "/x", roles={"root"})  # type: ignore[arg-type]


async def test_every_route_refuses_missing_bad_token_and_wrong_roles(api: Api) -> None:
    checked = 0
    for spec in ROUTES:
        if spec.roles is None:
            continue
        url = _concrete(spec.path)
        for headers in ({}, {"Authorization": "Bearer nope"}):
            r = await api.client.request(spec.method, url, headers=headers, allow_redirects=False)
            if spec.page:
                assert r.status == 303 and r.headers["Location"].startswith("/login?next="), spec.path
            else:
                assert r.status == 401, (spec.method, spec.path)
                assert "token" in (await r.json())["error"]
        for role in sorted(ROLES - spec.roles):
            r = await api.client.request(spec.method, url, headers=auth(ROLE_USER[role]), json={})
            assert r.status == 403, (spec.method, spec.path, role)
            assert role in ((await r.text()) if spec.page else (await r.json())["error"])
            checked += 1
    assert checked >= 15
    assert api.engine.state_changes == [] and api.engine.topics == []


async def test_me_tells_who_the_token_belongs_to(api: Api) -> None:
    r = await api.client.get("/api/me", headers=auth("agent1"))
    assert await r.json() == {"name": "agent1", "role": "agent", "agent": "a1"}
    r = await api.client.get("/api/me", headers={"Authorization": "Basic dG9rLXN1cA=="})
    assert r.status == 401


async def test_unknown_route_is_json_404(api: Api) -> None:
    r = await api.client.get("/api/nothing-here")
    assert r.status == 404
    assert "error" in await r.json()


ADMIN_ROUTES = {
    ("GET", "/api/admin/config"), ("GET", "/api/admin/scenarios"), ("POST", "/api/admin/reload"),
    ("GET", "/api/admin/agents"), ("POST", "/api/admin/agents"), ("PUT", "/api/admin/agents/{id}"),
    ("POST", "/api/admin/agents/{id}/disable"), ("GET", "/api/admin/queues"),
    ("PUT", "/api/admin/queues/{name}"), ("GET", "/api/admin/not-ready-reasons"),
    ("PUT", "/api/admin/not-ready-reasons"), ("GET", "/api/admin/numbers"),
    ("PUT", "/api/admin/scenarios/{name}/numbers"), ("GET", "/api/admin/schedules"),
    ("PUT", "/api/admin/schedules/{name}"), ("GET", "/api/admin/history"), ("GET", "/api/admin/history/{id}"),
    ("POST", "/api/admin/history/{id}/rollback"),
}


async def test_administration_routes_are_for_admins_only(api: Api) -> None:
    """R24: the config editor's routes are in the table (so the walk above refuses them to every other role)
    and list the admin role alone; an admin gets past the role check."""
    admin_routes = {(r.method, r.path): r for r in ROUTES if r.path.startswith("/api/admin")}
    assert set(admin_routes) == ADMIN_ROUTES
    for (method, path), spec in admin_routes.items():
        assert spec.roles == {"admin"}, (method, path)
        for role in ("agent", "supervisor", "reporting"):
            r = await api.client.request(method, _concrete(path), headers=auth(ROLE_USER[role]), json={})
            assert r.status == 403, (method, path, role)
        r = await api.client.request(method, _concrete(path), headers=auth("admin"), json={})
        assert r.status not in (401, 403), (method, path)


CALLBACK_ROUTES = {
    ("POST", "/api/calls/{id}/escalate"): {"agent", "supervisor", "admin"},
    ("POST", "/api/callbacks"): {"reporting", "supervisor", "admin"},
    ("GET", "/api/callbacks"): {"agent", "supervisor", "admin"},
    ("POST", "/api/callbacks/{id:.+}/close"): {"agent", "supervisor", "admin"},  # voicemail ids have '/'
    ("POST", "/api/callbacks/next"): {"agent"},
    ("POST", "/api/callbacks/{id:.+}/dial"): {"agent"},
    ("POST", "/api/outbound/calls"): {"agent"},
    ("GET", "/api/outbound/check"): {"agent"},
}


async def test_callback_routes_list_their_roles(api: Api) -> None:
    """R25/R28: escalation and closing are for agents (their own calls and callbacks) and supervisors;
    creating a callback is for the service-desk integration user (role reporting) and supervisors; the
    walk above refuses every other role."""
    declared = {(r.method, r.path): r.roles for r in ROUTES}
    for key, roles in CALLBACK_ROUTES.items():
        assert declared.get(key) == roles, key
    r = await api.client.get("/api/callbacks", headers=auth(ROLE_USER["reporting"]))
    assert r.status == 403
    r = await api.client.get("/api/callbacks", headers=auth("agent1"))
    assert r.status == 200 and (await r.json())["count"] == 0


CONSOLE_ROUTES = {
    ("GET", "/reports"): {"reporting", "supervisor", "admin"},
    ("GET", "/reports/{name}/export"): {"reporting", "supervisor", "admin"},
    ("GET", "/recordings"): {"agent", "supervisor", "admin"},
    ("GET", "/recordings/{id}"): {"agent", "supervisor", "admin"},
}


async def test_console_pages_have_the_roles_of_their_api(api: Api) -> None:
    """Issue 14: the report pages are for the roles of GET /api/reports/{name}, the recording pages for
    those of GET /api/recordings; both are pages (sign-in redirect, HTML 403), walked above for refusals."""
    specs = {(r.method, r.path): r for r in ROUTES}
    api_roles = {"/reports": specs[("GET", "/api/reports/{name}")].roles,
                 "/recordings": specs[("GET", "/api/recordings")].roles}
    for key, roles in CONSOLE_ROUTES.items():
        spec = specs[key]
        assert spec.page and spec.roles == roles, key
        assert spec.roles == api_roles["/" + key[1].split("/")[1]], key
    r = await api.client.get("/reports", headers=auth("agent1"))
    assert r.status == 403 and "text/html" in r.headers["Content-Type"]
    r = await api.client.get("/recordings", headers=auth("rep"))
    assert r.status == 403 and "reporting" in await r.text()


ADMIN_PAGES = {
    ("GET", "/admin"), ("GET", "/admin/{section}"), ("GET", "/admin/history/{id}"),
    ("POST", "/admin/users"), ("POST", "/admin/users/{name}/disable"),
    ("POST", "/admin/users/{name}/password"),
    ("POST", "/admin/users/{name}/role"), ("POST", "/admin/agents"), ("POST", "/admin/agents/{id}"),
    ("POST", "/admin/agents/{id}/disable"), ("POST", "/admin/queues/{name}"), ("POST", "/admin/reasons"),
    ("POST", "/admin/numbers/{scenario}"), ("POST", "/admin/hours/{name}"), ("POST", "/admin/reload"),
    ("POST", "/admin/history/{id}/rollback"),
}


async def test_administration_pages_are_for_admins_only(api: Api) -> None:
    """R24: the console's pages and form posts are pages of the admin role alone (the walk above refuses
    them without a session); every page, each section by name, is an HTML 403 to the other roles, and no
    form post of theirs changes anything (the users' table stays as it was)."""
    from acd.web.admin_pages import SECTIONS

    pages = {(r.method, r.path): r for r in ROUTES if r.path == "/admin" or r.path.startswith("/admin/")}
    assert set(pages) == ADMIN_PAGES
    assert all(spec.page and spec.roles == {"admin"} for spec in pages.values())
    urls = [(m, _concrete(p)) for m, p in ADMIN_PAGES] + [("GET", f"/admin/{s}") for s in SECTIONS]
    for method, url in urls:
        for role in ("agent", "supervisor", "reporting"):
            r = await api.client.request(method, url, headers=auth(ROLE_USER[role]),
                                         data={"name": "x", "role": "admin", "password": "long-enough-1"})
            assert r.status == 403 and "text/html" in r.headers["Content-Type"], (method, url, role)
        r = await api.client.request(method, url, headers=auth("admin"), allow_redirects=False)
        assert r.status not in (401, 403), (method, url)
    r = await api.client.get("/admin/users", headers=auth("admin"))
    assert r.status == 200 and 'id="user-x"' not in await r.text()


async def test_the_access_page_is_the_route_table(api: Api) -> None:
    """The roles table of the console is generated from ROUTES: every route with exactly its roles."""
    from acd.web.admin_pages import access_table

    rows = {(row["method"], row["path"]): row for row in access_table()}
    assert set(rows) == {(r.method, r.path) for r in ROUTES}
    for spec in ROUTES:
        allowed = {role for role, ok in rows[(spec.method, spec.path)]["roles"].items() if ok}
        assert allowed == (set(ROLES) if spec.roles is None else spec.roles), spec.path
    r = await api.client.get("/admin/access", headers=auth("admin"))
    body = await r.text()
    assert r.status == 200 and body.count("<tr><td><code>") == len(ROUTES)


def test_every_route_is_in_docs_api_md() -> None:
    """docs/api.md's table cannot silently lose a route: each path of the route table is named there, in
    full or as the tail of a row that lists several (`/admin/users/{name}/disable`, `/password`)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")

    def norm(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    named = {norm(m.group(1).split("[")[0]) for m in re.finditer(r"`(?:[A-Z]+ )?(/[^`?\s]*)", doc)}
    missing = [(r.method, r.path) for r in ROUTES
               if not any(norm(r.path) == n or (len(n) > 3 and norm(r.path).endswith(n)) for n in named)]
    assert missing == []
