"""Console accounts and browser sessions (issue 13): sign-in with an argon2 password, the session cookie,
CSRF refusals, role refusals for session users, the log-in rate limit and its audit, log-out everywhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar
from sqlalchemy import text

from acd.web.accounts import AccountStore
from acd.web.routes import ROLES, ROUTES
from tests.web.conftest import Api

pytestmark = pytest.mark.timeout(60)

PASSWORDS = {"aigerim": "kokteM-2026", "olga": "bayterek-77", "boss": "Sup3rvisor!", "root": "adm1n-pass",
             "bi": "reporting-1"}
ROLE_LOGIN = {"agent": "aigerim", "supervisor": "boss", "admin": "root", "reporting": "bi"}


async def _users(api: Api) -> AccountStore:
    store = AccountStore(api.db, lambda: api.clock[0])
    await store.add("aigerim", "agent", "a1", PASSWORDS["aigerim"])
    await store.add("olga", "agent", "a2", PASSWORDS["olga"])
    await store.add("boss", "supervisor", None, PASSWORDS["boss"])
    await store.add("root", "admin", None, PASSWORDS["root"])
    await store.add("bi", "reporting", None, PASSWORDS["bi"])
    return store


async def _login(client: Any, name: str, password: str | None = None) -> Any:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf
    return await client.post("/login", data={"user": name, "password": password or PASSWORDS[name],
                                              "csrf": csrf.group(1)}, allow_redirects=False)


async def _csrf(client: Any, path: str = "/home") -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf" (?:value|content)="([^"]+)"', await page.text())
    assert found, await page.text()
    return found.group(1)


def _browser(base: str) -> ClientSession:
    """Another browser: its own cookie jar (unsafe: the test server is an IP address)."""
    return ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True))


async def _rows(api: Api, sql: str) -> list[dict[str, Any]]:
    async with api.db.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(text(sql))]


async def test_an_agent_signs_in_lands_on_their_desktop_and_the_password_is_an_argon2_hash(api: Api) -> None:
    await _users(api)
    r = await _login(api.client, "aigerim")
    assert r.status == 303 and r.headers["Location"] == "/agent/a1"
    cookie = r.headers["Set-Cookie"]
    assert "acd_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    me = await api.client.get("/api/me")
    assert await me.json() == {"name": "aigerim", "role": "agent", "agent": "a1"}
    page = await api.client.get("/agent/a1")
    assert page.status == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    [row] = await _rows(api, "SELECT password_hash FROM web_users WHERE name = 'aigerim'")
    assert row["password_hash"].startswith("$argon2id$") and PASSWORDS["aigerim"] not in row["password_hash"]
    audit = await _rows(api, "SELECT user_name, outcome FROM web_login_log")
    assert audit == [{"user_name": "aigerim", "outcome": "ok"}]


async def test_each_role_lands_where_it_works_unless_next_says_otherwise(api: Api) -> None:
    await _users(api)
    base = str(api.client.make_url("/"))
    lands = {"aigerim": "/agent/a1", "boss": "/wallboard", "root": "/admin", "bi": "/reports"}
    for name, where in lands.items():
        async with _browser(base) as browser:
            r = await _login(browser, name)
            assert r.status == 303 and r.headers["Location"] == where, name
            opened = await browser.get(where, allow_redirects=False)
            assert opened.status in (200, 303) and "/login" not in opened.headers.get("Location", ""), name
            r = await browser.get("/", allow_redirects=False)
            assert r.headers["Location"] == where, name
    async with _browser(base) as browser:
        page = await browser.get("/login?next=/recordings")
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert csrf
        r = await browser.post("/login", data={"user": "boss", "password": PASSWORDS["boss"],
                                               "csrf": csrf.group(1), "next": "/recordings"},
                               allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/recordings"


async def test_there_is_no_default_account_and_a_wrong_password_is_refused_and_audited(api: Api) -> None:
    for name, password in (("admin", "admin"), ("admin", "password")):
        r = await _login(api.client, name, password)
        assert r.status == 401 and "Неверное имя" in await r.text()
    await _users(api)
    r = await _login(api.client, "aigerim", "wrong-password")
    assert r.status == 401
    assert (await api.client.get("/api/me")).status == 401
    outcomes = [x["outcome"] for x in await _rows(api, "SELECT outcome FROM web_login_log ORDER BY id")]
    assert outcomes == ["unknown_user", "unknown_user", "bad_password"]


async def test_login_form_without_its_csrf_cookie_is_refused(api: Api) -> None:
    await _users(api)
    r = await api.client.post("/login", data={"user": "aigerim", "password": PASSWORDS["aigerim"],
                                              "csrf": "forged"}, allow_redirects=False)
    assert r.status == 403
    assert (await api.client.get("/api/me")).status == 401


async def test_state_change_with_the_session_cookie_needs_the_csrf_token(api: Api) -> None:
    await _users(api)
    await _login(api.client, "aigerim")
    r = await api.client.post("/api/agents/a1/state", json={"state": "ready"})
    assert r.status == 403 and "CSRF" in (await r.json())["error"]
    r = await api.client.post("/api/agents/a1/state", json={"state": "ready"},
                              headers={"X-CSRF-Token": "not-the-token"})
    assert r.status == 403
    r = await api.client.post("/api/calls/call-1/topic", json={"topic": "tax"})
    assert r.status == 403
    r = await api.client.post("/logout", allow_redirects=False)
    assert r.status == 403
    assert api.engine.state_changes == [] and api.engine.topics == []
    csrf = await _csrf(api.client, "/agent/a1")
    r = await api.client.post("/api/agents/a1/state", json={"state": "ready"},
                              headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    r = await api.client.post("/api/calls/call-1/topic", json={"topic": "tax"},
                              headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert api.engine.state_changes == [("a1", "ready", None, None)]
    assert api.engine.topics == [("call-1", "tax", None, "aigerim")]


async def test_an_agent_session_cannot_open_another_desktop_or_supervisor_routes(api: Api) -> None:
    await _users(api)
    await _login(api.client, "aigerim")
    csrf = await _csrf(api.client, "/agent/a1")
    assert (await api.client.get("/agent/a2")).status == 403
    assert (await api.client.get("/api/agents/a2/desktop")).status == 403
    assert (await api.client.get("/api/agents/a2/live")).status == 403
    assert (await api.client.get("/api/agents")).status == 403
    r = await api.client.post("/api/agents/a2/state", json={"state": "ready"}, headers={"X-CSRF-Token": csrf})
    assert r.status == 403
    assert api.engine.state_changes == []


async def test_every_route_refuses_session_users_of_other_roles(api: Api) -> None:
    """The role walk of test_roles.py, with browser sessions instead of bearer tokens."""
    await _users(api)
    base = str(api.client.make_url("/"))
    checked = 0
    for role in sorted(ROLES):
        async with _browser(base) as browser:
            await _login(browser, ROLE_LOGIN[role])
            csrf = await _csrf(browser)
            for spec in ROUTES:
                if spec.roles is None or role in spec.roles:
                    continue
                url = re.sub(r"\{[^}]+\}", "1", spec.path)
                r = await browser.request(spec.method, url, json={}, headers={"X-CSRF-Token": csrf},
                                          allow_redirects=False)
                assert r.status == 403, (role, spec.method, spec.path, r.status)
                checked += 1
    assert checked >= 20
    assert api.engine.state_changes == [] and api.engine.topics == []


async def test_failed_logins_are_rate_limited_then_allowed_again(api: Api) -> None:
    await _users(api)
    for _ in range(5):
        assert (await _login(api.client, "olga", "guess-guess")).status == 401
    r = await _login(api.client, "olga")  # even the right password: the limit is on the name
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert (await api.client.get("/api/me")).status == 401
    outcomes = [x["outcome"] for x in await _rows(api, "SELECT outcome FROM web_login_log ORDER BY id")]
    assert outcomes == ["bad_password"] * 5 + ["rate_limited"]
    assert (await _login(api.client, "aigerim")).status == 303  # the same address, another user: fine
    api.client.session.cookie_jar.clear()
    api.clock[0] += 301
    r = await _login(api.client, "olga")
    assert r.status == 303
    assert (await (await api.client.get("/api/me")).json())["name"] == "olga"


async def test_logout_everywhere_ends_the_other_browsers_too(api: Api) -> None:
    await _users(api)
    base = str(api.client.make_url("/"))
    async with _browser(base) as laptop, _browser(base) as desk:
        await _login(laptop, "boss")
        await _login(desk, "boss")
        assert (await desk.get("/api/me")).status == 200
        r = await laptop.post("/logout", data={"csrf": await _csrf(laptop)}, allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/login"
        assert (await laptop.get("/api/me")).status == 401
        assert (await desk.get("/api/me")).status == 200  # plain logout ends only this browser
        await _login(laptop, "boss")
        r = await laptop.post("/logout/all", data={"csrf": await _csrf(laptop)}, allow_redirects=False)
        assert r.status == 303
        assert (await desk.get("/api/me")).status == 401
        assert (await laptop.get("/api/me")).status == 401
    outcomes = [x["outcome"] for x in await _rows(api, "SELECT outcome FROM web_login_log ORDER BY id")]
    assert outcomes == ["ok", "ok", "logout", "ok", "logout_all"]


async def test_disabling_a_user_or_changing_the_password_ends_their_sessions(api: Api) -> None:
    store = await _users(api)
    await _login(api.client, "aigerim")
    await store.set_password("aigerim", "a-new-password")
    assert (await api.client.get("/api/me")).status == 401
    assert (await _login(api.client, "aigerim", "a-new-password")).status == 303
    await store.set_disabled("aigerim", True)
    assert (await api.client.get("/api/me")).status == 401
    r = await _login(api.client, "aigerim", "a-new-password")
    assert r.status == 401
    [last] = await _rows(api, "SELECT outcome FROM web_login_log ORDER BY id DESC LIMIT 1")
    assert last["outcome"] == "disabled"


async def test_pages_without_a_session_go_to_login_and_come_back(api: Api) -> None:
    await _users(api)
    r = await api.client.get("/agent/a1", allow_redirects=False)
    assert r.status == 303
    assert r.headers["Location"] in ("/login?next=%2Fagent%2Fa1", "/login?next=/agent/a1")
    page = await api.client.get("/login?next=/agent/a1&lang=kk")
    body = await page.text()
    assert "Құпиясөз" in body and 'value="/agent/a1"' in body
    csrf = re.search(r'name="csrf" value="([^"]+)"', body)
    assert csrf
    r = await api.client.post("/login", data={"user": "aigerim", "password": PASSWORDS["aigerim"],
                                              "csrf": csrf.group(1), "next": "//evil.example/"},
                              allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/agent/a1"  # never an open redirect
    page = await api.client.get("/agent/a1")
    assert "Дайынмын" in await page.text()  # the language chosen on the login page stays


async def test_one_address_guessing_many_names_is_limited_too(api: Api) -> None:
    await _users(api)
    for i in range(20):
        assert (await _login(api.client, f"guess{i}", "whatever-1")).status == 401
    r = await _login(api.client, "aigerim")
    assert r.status == 429
