"""The desktop's server side over the fake engine: the live hub fed by CDR records, the state it builds
(screen pop, caller history from the CDR, ring and wrap-up deadlines), and the WebSocket that pushes it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acd.events import AgentEvent, CallEvent
from acd.web.demo_users import create_demo_users
from acd.web.live import LIVE, LiveFeed, LiveHub
from tests.recording.dbutil import add_call, make_db
from tests.web.conftest import Api, auth

pytestmark = pytest.mark.timeout(60)
T0 = 1795400000.0


def _ring(hub: LiveHub, call: str = "call-9", agent: str = "a1", caller: str = "87015550123") -> None:
    hub.observe(CallEvent(call, "arrived", T0, {"caller": caller, "dialled": "193", "caller_name": "Ivan"}))
    hub.observe(CallEvent(call, "scenario", T0 + 1, {"name": "line-193", "version": "x"}))
    hub.observe(CallEvent(call, "language", T0 + 5, {"lang": "kk"}))
    hub.observe(AgentEvent(agent, "ringing", T0 + 20, previous="ready", call_id=call))
    hub.observe(CallEvent(call, "queued", T0 + 20, {"queue": "general"}))


def test_the_feed_passes_every_record_on_and_wakes_only_the_agent_concerned() -> None:
    seen: list[Any] = []
    hub = LiveHub(lambda: {"general": SimpleNamespace(ring_timeout_s=15.0, wrapup_s=30.0)})
    feed = LiveFeed(SimpleNamespace(emit=seen.append, spooled=3), hub)  # type: ignore[arg-type]
    with hub.subscribe("a1") as mine, hub.subscribe("a2") as other:
        feed.emit(AgentEvent("a1", "ringing", T0, previous="ready", call_id="c1"))
        assert mine.wake.is_set() and not other.wake.is_set()
    assert len(seen) == 1 and feed.spooled == 3  # the writer's own attributes stay reachable
    assert hub.subscribers("a1") == 0


def test_a_call_card_follows_the_call_from_ringing_to_wrap_up() -> None:
    hub = LiveHub(lambda: {"general": SimpleNamespace(ring_timeout_s=15.0, wrapup_s=30.0)})
    _ring(hub)
    card = hub.current_call("a1")
    assert card is not None and card.caller == "87015550123" and card.scenario == "line-193"
    assert card.language == "kk" and card.queue == "general" and card.ring_started_at == T0 + 20
    hub.observe(AgentEvent("a1", "on_call", T0 + 25, previous="ringing", call_id="call-9"))
    hub.observe(CallEvent("call-9", "connected", T0 + 25, {"agent": "a1", "queue": "general"}))
    hub.observe(CallEvent("call-9", "ended", T0 + 90, {"by": "caller"}))
    hub.observe(AgentEvent("a1", "wrap_up", T0 + 90, previous="on_call", call_id="call-9"))
    card = hub.current_call("a1")
    assert card is not None and card.connected_at == T0 + 25 and card.wrapup_s == 30.0
    hub.observe(AgentEvent("a1", "ready", T0 + 120, previous="wrap_up"))
    assert hub.current_call("a1") is None


async def test_the_desktop_state_has_the_screen_pop_and_the_callers_earlier_calls(api: Api) -> None:
    await add_call(api.db, "old-1", caller="+77015550123", agent="a2", topic="tax refund",
                   arrived_at=datetime(2026, 11, 20, 5, 0, tzinfo=UTC))
    await add_call(api.db, "old-2", caller="+77770000000", agent="a2", topic="other caller")
    api.engine.agents["a1"] = "ringing"
    hub = api.client.app[LIVE]
    _ring(hub)
    r = await api.client.get("/api/agents/a1/desktop", headers=auth("agent1"))
    body = await r.json()
    call = body["call"]
    assert call["caller"] == "+77015550123" and call["dialled"] == "193" and call["language"] == "kk"
    assert call["scenario"] == "line-193" and call["region"] and call["queue"] == "general"
    assert [h["topic"] for h in call["history"]] == ["tax refund"]
    assert body["reasons"] == ["break", "lunch", "training"] and body["agent"]["state"] == "ringing"
    r = await api.client.get("/api/agents/a1/desktop", headers=auth("agent2"))
    assert r.status == 403


async def test_the_socket_sends_the_state_at_once_and_again_after_each_change(api: Api) -> None:
    hub = api.client.app[LIVE]
    async with api.client.ws_connect("/api/agents/a1/live", headers=auth("agent1")) as ws:
        first = await asyncio.wait_for(ws.receive_json(), 10)
        assert first["type"] == "state" and first["state"]["agent"]["state"] == "logged_out"
        api.engine.agents["a1"] = "ringing"
        _ring(hub)
        second = await asyncio.wait_for(ws.receive_json(), 10)
        while second["state"]["call"] is None or second["state"]["call"]["queue"] is None:
            second = await asyncio.wait_for(ws.receive_json(), 10)
        assert second["state"]["call"]["caller"] == "+77015550123"
    r = await api.client.get("/api/agents/a1/live", headers={**auth("agent1"), "Origin": "http://evil.example"})
    assert r.status == 403


async def test_demo_users_get_fresh_random_passwords(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    await db.dispose()
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    first = await create_demo_users(url, "http://127.0.0.1:1")
    again = await create_demo_users(url, "http://127.0.0.1:1")
    assert [x.name for x in first] == ["agent1", "supervisor", "admin"]
    assert first[0].password != again[0].password and len(first[0].password) >= 12


def test_every_ui_text_exists_in_kazakh_russian_and_english() -> None:
    from acd.web.i18n import _TEXTS, LANGS, catalogue

    assert all(all(v.strip() for v in entry) for entry in _TEXTS.values())
    assert {len(catalogue(lang)) for lang in LANGS} == {len(_TEXTS)}
    assert len({catalogue(lang)["action.ready"] for lang in LANGS}) == 3


async def test_templates_take_their_words_from_the_catalogue() -> None:
    """No visible word is typed into a template: all of them come through t(...)."""
    import re

    from acd.web.pages import TEMPLATES

    for path in TEMPLATES.glob("*.html"):
        html = re.sub(r"{[{%#].*?[}%#]}", "", path.read_text(encoding="utf-8"), flags=re.S)
        html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
        words = re.findall(r">\s*([^<>\s][^<>]*?)\s*<", html)
        assert [w for w in words if re.search(r"[A-Za-zА-Яа-яӘәҚқҢңӨөҰұҮүҺһІі]{2,}", w)] == [], path.name


async def test_the_queue_choice_more_time_and_results_over_the_api(api: Api) -> None:
    r = await api.client.post("/api/agents/a1/queues", headers=auth("agent1"), json={"queues": ["vip"]})
    assert r.status == 422 and "not optional" in (await r.json())["error"]
    r = await api.client.post("/api/agents/a1/queues", headers=auth("agent1"), json={"queues": "general"})
    assert r.status == 400
    r = await api.client.post("/api/agents/a1/queues", headers=auth("agent2"), json={"queues": ["general"]})
    assert r.status == 403  # not their desktop
    r = await api.client.post("/api/agents/a1/queues", headers=auth("agent1"), json={"queues": ["general"]})
    assert r.status == 200
    assert api.engine.state_changes[-1] == ("a1", "queues:general", None, None)
    r = await api.client.post("/api/agents/a1/wrapup/extend", headers=auth("agent1"))
    assert r.status == 409 and "does not allow" in (await r.json())["error"]
    r = await api.client.post("/api/calls/call-1/topic", headers=auth("agent1"),
                              json={"topic": "Tax", "result": "Made up"})
    assert r.status == 400 and (await r.json())["field"] == "result"  # not one of the queue's results
    assert api.engine.topics == []


async def test_the_personal_panel_lists_my_callbacks_and_audits_the_recordings_search(api: Api) -> None:
    from sqlalchemy import insert, select

    from cdr.schema import callbacks
    from recording.schema import recording_access_log

    at = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    async with api.db.begin() as conn:
        for cid, agent in (("cb-mine", "a1"), ("cb-other", "a2")):
            await conn.execute(insert(callbacks).values(id=cid, number="+77010000000", reason="requested",
                                                        status="open", created_at=at, due_at=at,
                                                        attempts=0, agent=agent))
    r = await api.client.get("/api/agents/a1/panel", headers=auth("agent1"))
    body = await r.json()
    assert [c["id"] for c in body["callbacks"]] == ["cb-mine"] and body["recordings"] == []
    async with api.db.connect() as conn:
        rows = (await conn.execute(select(recording_access_log.c.user_name, recording_access_log.c.action,
                                          recording_access_log.c.detail))).all()
    assert [(u, a) for u, a, _ in rows] == [("agent1", "search")] and "desktop panel" in rows[0][2]
    r = await api.client.get("/api/agents/a1/panel", headers=auth("agent2"))
    assert r.status == 403


def test_a_row_that_is_no_change_of_state_keeps_the_call_on_the_agents_screen() -> None:
    hub = LiveHub(lambda: {"general": SimpleNamespace(ring_timeout_s=15.0, wrapup_s=30.0)})
    _ring(hub)
    hub.observe(AgentEvent("a1", "on_call", T0 + 25, previous="ringing", call_id="call-9"))
    hub.observe(AgentEvent("a1", "on_call", T0 + 30, previous="on_call", reason="skip:second_line",
                           by="queue_choice"))
    card = hub.current_call("a1")
    assert card is not None and card.call_id == "call-9"
