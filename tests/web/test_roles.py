"""Every route in the table refuses a request without a token (401) and one from a role it does not list
(403), before doing anything."""

from __future__ import annotations

import re

import pytest

from acd.web.app import create_app  # noqa: F401  (fills the route table)
from acd.web.routes import ROLES, ROUTES, route
from tests.web.conftest import ROLE_USER, Api, auth

PUBLIC = {("GET", "/health"), ("GET", "/metrics"),
          ("GET", "/softphone"), ("GET", "/softphone/static/{name:.+}")}  # no data: page and its JS


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_route_table_is_complete_and_public_routes_are_the_expected_ones() -> None:
    declared = {(r.method, r.path) for r in ROUTES}
    assert {("POST", "/api/agents/{id}/state"), ("GET", "/api/recordings/{id}/audio"),
            ("DELETE", "/api/recordings/{id}"), ("GET", "/api/reports/{name}")} <= declared
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
        r = await api.client.request(spec.method, url)
        assert r.status == 401, (spec.method, spec.path)
        assert "token" in (await r.json())["error"]
        r = await api.client.request(spec.method, url, headers={"Authorization": "Bearer nope"})
        assert r.status == 401, (spec.method, spec.path)
        for role in sorted(ROLES - spec.roles):
            r = await api.client.request(spec.method, url, headers=auth(ROLE_USER[role]), json={})
            assert r.status == 403, (spec.method, spec.path, role)
            assert role in (await r.json())["error"]
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
