"""The supervisor's wallboard over real HTTP with the fake engine: the board, its live socket (a CDR record
reaches an open wallboard), the audited actions, and the read-only TV link (works without a login,
refused once revoked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import WSMsgType
from sqlalchemy import select

from acd.events import CallEvent
from acd.web.live import LIVE
from acd.web.wallboard import BOARD, QueueBoardConfig, Roster, supervisor_audit
from tests.web.conftest import Api, auth

pytestmark = pytest.mark.timeout(30)


@dataclass
class FakeSupervisor:
    moves: list[tuple[str, str, bool, str]] = field(default_factory=list)

    def roster(self) -> Roster:
        return Roster(queues={"general": QueueBoardConfig(20.0, {"waiting_warn": 1, "waiting_alarm": 5})},
                      teams={"a1": ["first_line"], "a2": ["first_line", "almaty"]},
                      member_of={"a1": ["general"], "a2": ["general", "vip"]}, short_abandon_s=5.0)

    def move_call(self, call_id: str, queue: str, *, to_head: bool, by: str) -> None:
        if queue == "nowhere":
            raise ValueError("unknown queue 'nowhere'")
        self.moves.append((call_id, queue, to_head, by))


def _with_supervisor(api: Api) -> FakeSupervisor:
    sup = FakeSupervisor()
    api.client.app[BOARD].supervisor = sup  # type: ignore[index]
    return sup


async def _audit_rows(api: Api) -> list[Any]:
    async with api.db.connect() as conn:
        return list((await conn.execute(select(supervisor_audit).order_by(supervisor_audit.c.id))).all())


async def test_the_board_shows_queues_agents_teams_and_thresholds(api: Api) -> None:
    _with_supervisor(api)
    r = await api.client.get("/api/wallboard", headers=auth("sup"))
    assert r.status == 200
    board = await r.json()
    general = board["queues"][0]
    assert general["name"] == "general" and general["waiting"] == 2
    assert general["sl_threshold_s"] == 20.0 and general["thresholds"]["waiting_alarm"] == 5
    assert board["teams"] == ["almaty", "first_line"]
    teams = {a["id"]: a["teams"] for a in board["agents"]}
    assert teams == {"a1": ["first_line"], "a2": ["first_line", "almaty"]}
    assert {a["id"]: a["queues"] for a in board["agents"]} == {"a1": ["general"], "a2": ["general", "vip"]}


async def test_an_agent_cannot_open_the_wallboard(api: Api) -> None:
    r = await api.client.get("/wallboard", headers=auth("agent1"))
    assert r.status == 403
    r = await api.client.get("/api/wallboard/live", headers=auth("agent1"))
    assert r.status == 403
    r = await api.client.get("/wallboard", headers=auth("rep"))
    assert r.status == 403


async def test_a_change_reaches_an_open_wallboard(api: Api) -> None:
    ws = await api.client.ws_connect("/api/wallboard/live", headers=auth("sup"))
    first = orjson.loads((await ws.receive(timeout=10)).data)
    assert first["type"] == "board"
    assert {a["id"]: a["state"] for a in first["board"]["agents"]}["a2"] == "ready"
    api.engine.agents["a2"] = "on_call"
    api.client.app[LIVE].observe(CallEvent("c9", "connected", api.clock[0], {"agent": "a2"}))  # type: ignore[index]
    msg = await ws.receive(timeout=10)
    assert msg.type == WSMsgType.TEXT
    board = orjson.loads(msg.data)["board"]
    assert {a["id"]: a["state"] for a in board["agents"]}["a2"] == "on_call"
    await ws.close()


async def test_short_lost_calls_are_counted_from_the_cdr_stream(api: Api) -> None:
    hub = api.client.app[LIVE]  # type: ignore[index]
    t = api.clock[0]
    hub.observe(CallEvent("s1", "queued", t, {"queue": "general"}))
    hub.observe(CallEvent("s1", "ended", t + 2, {"by": "caller"}))  # left after 2 s: short
    hub.observe(CallEvent("l1", "queued", t, {"queue": "general"}))
    hub.observe(CallEvent("l1", "ended", t + 60, {"by": "caller"}))  # a real loss
    board = await (await api.client.get("/api/wallboard", headers=auth("sup"))).json()
    assert board["queues"][0]["short_lost"] == 1


async def test_forcing_an_agent_ready_goes_through_the_state_path_and_is_audited(api: Api) -> None:
    r = await api.client.post("/api/wallboard/agents/a1/force", headers=auth("sup"), json={"state": "ready"})
    assert r.status == 200
    assert api.engine.state_changes == [("a1", "ready", None, "sup")]
    r = await api.client.post("/api/wallboard/agents/a2/force", headers=auth("admin"),
                              json={"state": "logout"})
    assert api.engine.state_changes[-1] == ("a2", "logged_out", None, "admin")
    r = await api.client.post("/api/wallboard/agents/a1/force", headers=auth("sup"),
                              json={"state": "not_ready"})
    assert r.status == 400
    rows = await _audit_rows(api)
    assert [(x.user_name, x.action, x.agent, x.from_value, x.to_value) for x in rows] == [
        ("sup", "force_state", "a1", "logged_out", "ready"),
        ("admin", "force_state", "a2", "ready", "logged_out"),
    ]


async def test_moving_a_waiting_caller_is_audited_and_refusals_say_why(api: Api) -> None:
    r = await api.client.post("/api/wallboard/calls/call-1/move", headers=auth("sup"), json={"to_head": True})
    assert r.status == 503  # no daemon behind the bare API
    sup = _with_supervisor(api)
    api.engine.calls = {}
    snap = api.engine.snapshot

    def with_call() -> dict[str, Any]:
        s = snap()
        s["calls"] = [{"id": "w1", "caller": "+77011234567", "queue": "general"}]
        return s

    api.engine.snapshot = with_call  # type: ignore[method-assign]
    r = await api.client.post("/api/wallboard/calls/w1/move", headers=auth("sup"), json={"queue": "vip"})
    assert r.status == 200
    r = await api.client.post("/api/wallboard/calls/w1/move", headers=auth("sup"), json={"to_head": True})
    assert r.status == 200
    r = await api.client.post("/api/wallboard/calls/w1/move", headers=auth("sup"), json={"queue": "nowhere"})
    assert r.status == 409 and "nowhere" in (await r.json())["error"]
    r = await api.client.post("/api/wallboard/calls/zz/move", headers=auth("sup"), json={"to_head": True})
    assert r.status == 404
    assert sup.moves == [("w1", "vip", False, "sup"), ("w1", "general", True, "sup")]
    rows = [(x.action, x.call_id, x.from_value, x.to_value) for x in await _audit_rows(api)]
    assert rows == [("move_call", "w1", "general", "vip"), ("move_call", "w1", "general", "general (head)")]


async def test_a_tv_link_works_without_login_until_revoked(api: Api) -> None:
    r = await api.client.post("/api/wallboard/links", headers=auth("sup"), json={"label": "hall"})
    assert r.status == 201
    link = await r.json()
    r = await api.client.get(link["url"])
    assert r.status == 200 and 'class="wallboard tv"' in await r.text()
    ws = await api.client.ws_connect(link["url"] + "/live")
    board = orjson.loads((await ws.receive(timeout=10)).data)["board"]
    assert "calls" not in board  # no callers' numbers on a wall
    r = await api.client.delete(f"/api/wallboard/links/{link['id']}", headers=auth("sup"))
    assert r.status == 200
    closed = await ws.receive(timeout=10)
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == 4403
    r = await api.client.get(link["url"])
    assert r.status == 403
    r = await api.client.get("/tv/not-a-token")
    assert r.status == 403
    listed = (await (await api.client.get("/api/wallboard/links", headers=auth("sup"))).json())["links"]
    assert listed[0]["label"] == "hall" and listed[0]["revoked_at"] is not None
    assert [x.action for x in await _audit_rows(api)] == ["tv_link", "tv_revoke"]
