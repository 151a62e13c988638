"""The call-control and listening routes over real HTTP with a fake engine port: who may do what, and how
the engine's refusals reach the desk (status and message)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from acd.callcontrol import (
    CallStatus,
    ListenMode,
    ListenNotFound,
    ListenStatus,
    NotYourCall,
    Target,
    TargetUnavailable,
)
from acd.settings import Settings, User
from acd.web.app import create_app
from acd.web.call_control import CALL_CONTROL
from tests.web.conftest import TOKENS, USERS, FakeEngine, auth

TIMEOUT = 10


@dataclass
class FakeControl:
    asked: list[tuple[Any, ...]] = field(default_factory=list)

    def _st(self, call_id: str, agent: str | None, **kw: Any) -> CallStatus:
        base: dict[str, Any] = {"held": False, "muted": False, "conference": False, "consult": None,
                                "parties": ()}
        return CallStatus(call_id=call_id, agent=agent, **(base | kw))

    def _own(self, call_id: str, agent: str | None) -> None:
        if agent != "a1":
            raise NotYourCall(f"call {call_id!r} is not yours")

    async def hold(self, call_id: str, *, agent: str | None) -> CallStatus:
        self._own(call_id, agent)
        self.asked.append(("hold", call_id))
        return self._st(call_id, agent, held=True)

    async def resume(self, call_id: str, *, agent: str | None) -> CallStatus:
        self.asked.append(("resume", call_id))
        return self._st(call_id, agent)

    async def mute(self, call_id: str, *, agent: str | None, on: bool) -> CallStatus:
        self.asked.append(("mute", call_id, on))
        return self._st(call_id, agent, muted=on)

    async def dtmf(self, call_id: str, digits: str, *, agent: str | None) -> CallStatus:
        self.asked.append(("dtmf", call_id, digits))
        return self._st(call_id, agent)

    async def consult(self, call_id: str, target: Target, *, agent: str | None) -> CallStatus:
        if target.value == "busy":
            raise TargetUnavailable("agent 'busy' is not ready")
        self.asked.append(("consult", call_id, str(target)))
        return self._st(call_id, agent, held=True)

    async def complete(self, call_id: str, *, agent: str | None) -> CallStatus:
        self.asked.append(("complete", call_id))
        return self._st(call_id, None)

    async def cancel(self, call_id: str, *, agent: str | None) -> CallStatus:
        self.asked.append(("cancel", call_id))
        return self._st(call_id, agent)

    async def conference(self, call_id: str, *, agent: str | None) -> CallStatus:
        self.asked.append(("conference", call_id))
        return self._st(call_id, agent, conference=True)

    async def hangup(self, call_id: str, *, agent: str | None) -> CallStatus:
        self._own(call_id, agent)
        self.asked.append(("hangup", call_id))
        return self._st(call_id, None)

    async def blind_transfer(self, call_id: str, target: Target, *, agent: str | None) -> CallStatus:
        self.asked.append(("blind", call_id, str(target)))
        return self._st(call_id, None)

    async def listen(self, call_id: str, *, supervisor: str, endpoint: str, mode: ListenMode) -> ListenStatus:
        self.asked.append(("listen", call_id, supervisor, endpoint, mode))
        return ListenStatus("l1", call_id, supervisor, "a1", mode, "ringing")

    async def listen_mode(self, session_id: str, mode: ListenMode, *, supervisor: str | None) -> ListenStatus:
        self.asked.append(("mode", session_id, mode, supervisor))
        return ListenStatus(session_id, "call-1", "sup", "a1", mode, "active")

    async def listen_stop(self, session_id: str, *, supervisor: str | None) -> ListenStatus:
        self.asked.append(("stop", session_id, supervisor))
        return ListenStatus(session_id, "call-1", "sup", "a1", "listen", "ended")

    def listen_status(self, session_id: str, *, supervisor: str | None) -> ListenStatus:
        if session_id != "l1" or supervisor not in ("sup", None):
            raise ListenNotFound(f"no listening session {session_id!r}")
        return ListenStatus(session_id, "call-1", "sup", "a1", "whisper", "active")

    def listen_sessions(self, *, supervisor: str | None) -> list[ListenStatus]:
        return [self.listen_status("l1", supervisor=supervisor)] if supervisor in ("sup", None) else []


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    users = [u if u.name != "sup" else User(name="sup", role="supervisor", token=SecretStr(TOKENS["sup"]),
                                            endpoint="PJSIP/sup1") for u in USERS]
    app = create_app(settings=Settings(users=users), engine=FakeEngine(), db=None,
                     metrics=CollectorRegistry(), clock=lambda: 1795400000.0)
    control = FakeControl()
    app[CALL_CONTROL] = control
    c = await aiohttp_client(app)
    c.control = control
    return c


async def test_the_agent_holds_consults_and_transfers_their_own_call(client: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        h = auth("agent1")
        r = await client.post("/api/calls/call-1/hold", headers=h)
        assert r.status == 200 and (await r.json())["held"] is True
        r = await client.post("/api/calls/call-1/consult", headers=h, json={"target": "agent:a2"})
        assert r.status == 200
        r = await client.post("/api/calls/call-1/transfer", headers=h, json={"kind": "attended"})
        assert r.status == 200
        r = await client.post("/api/calls/call-1/transfer", headers=h,
                              json={"kind": "blind", "target": "directory:astana"})
        assert r.status == 200
        r = await client.post("/api/calls/call-1/dtmf", headers=h, json={"digits": "12#"})
        assert r.status == 200
        assert client.control.asked == [("hold", "call-1"), ("consult", "call-1", "agent:a2"),
                                        ("complete", "call-1"), ("blind", "call-1", "directory:astana"),
                                        ("dtmf", "call-1", "12#")]


async def test_refusals_reach_the_desk_with_their_reason(client: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        r = await client.post("/api/calls/call-1/hold", headers=auth("agent2"))
        assert r.status == 403 and "not yours" in (await r.json())["error"]
        r = await client.post("/api/calls/call-1/consult", headers=auth("agent1"),
                              json={"target": "agent:busy"})
        assert r.status == 422 and "not ready" in (await r.json())["error"]
        r = await client.post("/api/calls/call-1/consult", headers=auth("agent1"), json={"target": "x"})
        assert r.status == 400 and (await r.json())["field"] == "target"
        r = await client.post("/api/calls/call-1/transfer", headers=auth("agent1"), json={"kind": "magic"})
        assert r.status == 400


async def test_a_supervisor_listens_on_their_configured_phone_and_switches_modes(client: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        r = await client.post("/api/calls/call-1/listen", headers=auth("sup"), json={"mode": "listen"})
        assert r.status == 201 and (await r.json())["session_id"] == "l1"
        r = await client.post("/api/listen/l1/mode", headers=auth("sup"), json={"mode": "whisper"})
        assert (await r.json())["mode"] == "whisper"
        r = await client.post("/api/listen/l1/mode", headers=auth("sup"), json={"mode": "shout"})
        assert r.status == 400
        r = await client.delete("/api/listen/l1", headers=auth("sup"))
        assert (await r.json())["state"] == "ended"
        assert client.control.asked[0] == ("listen", "call-1", "sup", "PJSIP/sup1", "listen")
        r = await client.get("/api/listen/l1", headers=auth("sup"))  # the wallboard follows its session
        assert r.status == 200 and (await r.json())["state"] == "active"
        r = await client.get("/api/listen/l2", headers=auth("sup"))
        assert r.status == 404
        r = await client.get("/api/listen", headers=auth("sup"))
        assert [s["session_id"] for s in (await r.json())["sessions"]] == ["l1"]
        r = await client.get("/api/listen/l1", headers=auth("agent1"))
        assert r.status == 403
        r = await client.post("/api/calls/call-1/listen", headers=auth("admin"), json={"mode": "listen"})
        assert r.status == 409 and "endpoint" in (await r.json())["error"]  # no phone configured


async def test_the_agent_hangs_up_only_their_own_call(client: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        r = await client.post("/api/calls/call-1/hangup", headers=auth("agent2"))
        assert r.status == 403 and "not yours" in (await r.json())["error"]
        r = await client.post("/api/calls/call-1/hangup", headers=auth("sup"))
        assert r.status == 403  # call control is the agent's: a supervisor barges or forces a state
        r = await client.post("/api/calls/call-1/hangup", headers=auth("agent1"))
        assert r.status == 200 and (await r.json())["parties"] == []
        assert client.control.asked == [("hangup", "call-1")]
