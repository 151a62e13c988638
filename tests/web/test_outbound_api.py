"""The click-to-call routes over real HTTP with a fake engine port (acd/web/outbound.py): only agents place
calls, for themselves; the dialling rules' refusal and the engine's refusal reach the desk with their
reason and status; nothing is dialled when refused."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from prometheus_client import CollectorRegistry

from acd.settings import Settings
from acd.web.app import create_app
from acd.web.outbound import OUTBOUND
from outbound.dialrules import DialCheck, check_number
from tests.web.conftest import USERS, FakeEngine, auth

TIMEOUT = 10


class Refused(ValueError):
    status = 409


@dataclass
class FakeOutbound:
    placed: list[tuple[str, str, str | None]] = field(default_factory=list)

    def check(self, number: str) -> DialCheck:
        return check_number(number)

    async def dial(self, agent_id: str, number: str, *, callback_id: str | None = None,
                   source: Literal["click", "callback"] = "click") -> str:
        if agent_id == "a2":
            raise Refused("you are on a call already")
        self.placed.append((agent_id, number, callback_id))
        return "acd-oc-1"


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = create_app(settings=Settings(users=USERS), engine=FakeEngine(), db=None,
                     metrics=CollectorRegistry(), clock=lambda: 1795400000.0)
    port = FakeOutbound()
    app[OUTBOUND] = port
    c = await aiohttp_client(app)
    c.outbound = port
    return c


async def test_an_agent_places_a_call_for_themselves(client: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        r = await client.post("/api/outbound/calls", headers=auth("agent1"),
                              json={"number": "8 701 555 01 23"})
        assert r.status == 201
        assert await r.json() == {"call_id": "acd-oc-1", "number": "7015550123", "callback_id": None}
        assert client.outbound.placed == [("a1", "8 701 555 01 23", None)]
        r = await client.get("/api/outbound/check?number=112", headers=auth("agent1"))
        assert (await r.json())["ok"] is False


async def test_refusals_have_their_reason_and_nothing_is_dialled(client: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        for number, words in (("112", "emergency"), ("+7 809 100 20 30", "refused range"),
                              ("1414", "short service code"), ("hello", "not a telephone number")):
            r = await client.post("/api/outbound/calls", headers=auth("agent1"), json={"number": number})
            body = await r.json()
            assert r.status == 422 and words in body["error"] and body["field"] == "number", body
        r = await client.post("/api/outbound/calls", headers=auth("agent2"), json={"number": "87015550123"})
        assert r.status == 409 and "on a call" in (await r.json())["error"]
        r = await client.post("/api/outbound/calls", headers=auth("agent1"), json={})
        assert r.status == 400
        for who in ("sup", "admin", "rep"):
            r = await client.post("/api/outbound/calls", headers=auth(who), json={"number": "87015550123"})
            assert r.status == 403
        assert client.outbound.placed == []
