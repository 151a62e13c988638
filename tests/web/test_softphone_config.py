"""GET /api/softphone/config: what an agent's browser needs to register, and only for that agent."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from acd.settings import Settings, SoftphoneSettings
from acd.web.app import create_app
from tests.web.conftest import USERS, FakeEngine, auth

SOFTPHONE = SoftphoneSettings(ws_url="wss://pbx.example.kz:8089/ws", domain="pbx.example.kz",
                              ice_servers=["stun:stun.example.kz:3478"], auto_answer=True)


async def _client(aiohttp_client: Any, softphone: SoftphoneSettings | None) -> Any:
    app = create_app(settings=Settings(users=USERS, softphone=softphone), engine=FakeEngine(), db=None,
                     metrics=CollectorRegistry(), clock=lambda: 0.0)
    return await aiohttp_client(app)


async def test_an_agent_gets_their_own_sip_account_and_it_is_not_cached(
        aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACD_SIP_PASSWORD_A1", "pw-of-a1")
    monkeypatch.setenv("ACD_SIP_PASSWORD_A2", "pw-of-a2")
    client = await _client(aiohttp_client, SOFTPHONE)
    r = await client.get("/api/softphone/config", headers=auth("agent1"))
    assert r.status == 200
    assert r.headers["Cache-Control"] == "no-store"
    body = await r.json()
    assert body["sip_uri"] == "sip:a1@pbx.example.kz" and body["authorization_user"] == "a1"
    assert body["password"] == "pw-of-a1" and body["ws_url"] == "wss://pbx.example.kz:8089/ws"
    assert body["ice_servers"] == ["stun:stun.example.kz:3478"] and body["auto_answer"] is True


async def test_a_missing_password_names_the_variable_and_no_softphone_is_a_404(
        aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACD_SIP_PASSWORD_A1", raising=False)
    client = await _client(aiohttp_client, SOFTPHONE)
    r = await client.get("/api/softphone/config", headers=auth("agent1"))
    assert r.status == 409
    assert "ACD_SIP_PASSWORD_A1" in (await r.json())["error"]
    client = await _client(aiohttp_client, None)
    r = await client.get("/api/softphone/config", headers=auth("agent1"))
    assert r.status == 404 and "softphone" in (await r.json())["error"]


async def test_the_page_and_the_vendored_library_are_served_but_nothing_else_from_disk(
        aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, SOFTPHONE)
    r = await client.get("/softphone")
    assert r.status == 200 and "/softphone/static/softphone.js" in await r.text()
    r = await client.get("/softphone/static/vendor/jssip/jssip.min.js")
    assert r.status == 200 and r.content_type == "text/javascript" and "JsSIP" in (await r.text())[:400]
    r = await client.get("/softphone/static/../softphone.py")
    assert r.status == 404
    r = await client.get("/softphone/static/vendor/jssip/build.mjs")
    assert r.status == 404
