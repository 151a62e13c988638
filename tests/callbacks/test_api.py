"""Callbacks over the API: an escalation creates a second-line callback due in 2 h and fires the signed
webhook; the service desk creates callbacks with its ticket; agents see and close their own."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from acd.settings import PathSettings, Settings
from acd.web.app import create_app
from acd.web.callbacks import CallbacksWiring, install
from outbound.callbacks import CallbacksConfig, Plan
from outbound.servicedesk import SIGNATURE_HEADER, OutboxSender, verify
from tests.callbacks.receiver import ServiceDesk
from tests.recording.dbutil import add_call, make_db
from tests.web.conftest import USERS, FakeEngine, auth

SECRET = "desk-secret"
NOW = 1795400000.0  # 2026-11-23 04:13:20 UTC
TIMEOUT = 30


@pytest.fixture
async def desk() -> AsyncIterator[ServiceDesk]:
    d = ServiceDesk()
    await d.start()
    yield d
    await d.stop()


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, desk: ServiceDesk) -> AsyncIterator[Any]:
    db = await make_db(tmp_path)
    await add_call(db, "call-1", caller="+77011234567", agent="a1", topic="billing")
    settings = Settings(users=USERS, paths=PathSettings(recordings=tmp_path))
    app: web.Application = create_app(settings=settings, engine=FakeEngine(), db=db,
                                      metrics=CollectorRegistry(), clock=lambda: NOW)
    cfg = CallbacksConfig.model_validate({"service_desk": {"url": desk.url, "backoff_first": 0.05,
                                                           "backoff_max": 0.2}})
    sender = OutboxSender(db, cfg.service_desk, SECRET, clock=lambda: NOW, poll_s=0.05)
    install(app, CallbacksWiring(Plan(cfg, None), desk.url, sender))
    task = asyncio.create_task(sender.run())
    yield await aiohttp_client(app)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await db.dispose()


async def test_escalation_creates_a_callback_due_in_2_hours_and_fires_the_webhook(
        client: Any, desk: ServiceDesk) -> None:
    r = await client.post("/api/calls/call-1/escalate", headers=auth("agent1"),
                          json={"comment": "refund over the limit"})
    assert r.status == 201, await r.text()
    cb = (await r.json())["callback"]
    assert cb["kind"] == "second_line" and cb["status"] == "open" and cb["agent"] == "a1"
    due = datetime.fromisoformat(cb["due_at"].replace("Z", "+00:00")).timestamp()
    assert due - NOW == 2 * 3600
    async with asyncio.timeout(TIMEOUT):
        await desk.accepted.wait()
    [req] = desk.requests
    assert verify(req.body, SECRET, req.headers[SIGNATURE_HEADER])
    body = json.loads(req.body)
    assert body["callback_id"] == cb["id"] and body["call"]["id"] == "call-1"
    assert (body["caller"], body["topic"], body["comment"], body["agent"]) == (
        "+77011234567", "billing", "refund over the limit", "a1")
    listed = await (await client.get("/api/callbacks", headers=auth("agent1"))).json()
    assert [c["id"] for c in listed["callbacks"]] == [cb["id"]]
    assert (await (await client.get("/api/callbacks", headers=auth("agent2"))).json())["count"] == 0
    assert (await (await client.get("/api/callbacks", headers=auth("sup"))).json())["count"] == 1


async def test_only_the_calls_agent_or_a_supervisor_may_escalate(client: Any, desk: ServiceDesk) -> None:
    r = await client.post("/api/calls/call-1/escalate", headers=auth("agent2"), json={})
    assert r.status == 403
    r = await client.post("/api/calls/nope/escalate", headers=auth("sup"), json={})
    assert r.status == 404
    r = await client.post("/api/calls/call-1/escalate", headers=auth("sup"), json={"topic": "tariffs"})
    assert r.status == 201 and (await r.json())["callback"]["created_by"] == "sup"


async def test_service_desk_creates_a_callback_with_its_ticket(client: Any) -> None:
    r = await client.post("/api/callbacks", headers=auth("rep"),
                          json={"number": "8 701 123 45 67", "ticket_id": "SD-4711", "agent": "a2"})
    assert r.status == 201, await r.text()
    cb = (await r.json())["callback"]
    # the number in its canonical form (routing.numbers), as in the CDR
    assert (cb["kind"], cb["ticket_id"], cb["number"]) == ("api", "SD-4711", "7011234567")
    assert datetime.fromisoformat(cb["due_at"].replace("Z", "+00:00")).timestamp() - NOW == 24 * 3600
    for bad in ({"ticket_id": "x"}, {"number": "abc"}, {"number": "+77011234567", "kind": "voicemail"}):
        r = await client.post("/api/callbacks", headers=auth("rep"), json=bad)
        assert r.status == 400, bad


async def test_closing_retries_until_reached(client: Any) -> None:
    r = await client.post("/api/callbacks", headers=auth("sup"),
                          json={"number": "+77011234567", "agent": "a1"})
    cb_id = (await r.json())["callback"]["id"]
    r = await client.post(f"/api/callbacks/{cb_id}/close", headers=auth("agent2"), json={"outcome": "busy"})
    assert r.status == 404                                   # not agent2's
    r = await client.post(f"/api/callbacks/{cb_id}/close", headers=auth("agent1"), json={"outcome": "busy"})
    cb = (await r.json())["callback"]
    assert (cb["status"], cb["attempts"], cb["outcome"]) == ("open", 1, "busy") and cb["next_attempt_at"]
    r = await client.post(f"/api/callbacks/{cb_id}/close", headers=auth("agent1"),
                          json={"outcome": "reached"})
    cb = (await r.json())["callback"]
    assert (cb["status"], cb["attempts"], cb["closed_at"] is not None) == ("done", 2, True)
    r = await client.post(f"/api/callbacks/{cb_id}/close", headers=auth("agent1"), json={"outcome": "busy"})
    assert r.status == 409
    r = await client.post(f"/api/callbacks/{cb_id}/close", headers=auth("sup"), json={"outcome": "maybe"})
    assert r.status == 400


async def test_deadline_report_over_the_api(client: Any) -> None:
    r = await client.post("/api/calls/call-1/escalate", headers=auth("agent1"), json={})
    assert r.status == 201
    r = await client.get("/api/reports/callbacks?from=2026-11-23&to=2026-11-23", headers=auth("rep"))
    assert r.status == 200, await r.text()
    data = await r.json()
    [row] = data["rows"]
    assert (row["kind"], row["total"], row["pending"], row["verdict_en"]) == ("second_line", 1, 1, "n/a")


async def test_next_callback_is_offered_as_a_preview_with_its_screen_pop(client: Any) -> None:
    r = await client.post("/api/callbacks", headers=auth("sup"),
                          json={"number": "+77017654321", "agent": "a2", "ticket_id": "SD-9"})
    for_a2 = (await r.json())["callback"]["id"]
    r = await client.post("/api/calls/call-1/escalate", headers=auth("agent1"), json={"comment": "urgent"})
    escalated = (await r.json())["callback"]["id"]
    r = await client.post("/api/callbacks/next", headers=auth("agent1"))
    offer = await r.json()
    assert offer["callback"]["id"] == escalated
    assert [c["id"] for c in offer["screen_pop"]["earlier_calls"]] == ["call-1"]
    await client.post(f"/api/callbacks/{escalated}/close", headers=auth("agent1"), json={"outcome": "busy"})
    r = await client.post("/api/callbacks/next", headers=auth("agent1"))  # retry not due; a2's is not free
    assert (await r.json())["callback"] is None
    r = await client.post("/api/callbacks/next", headers=auth("agent2"))
    offer = await r.json()
    assert offer["callback"]["id"] == for_a2 and offer["screen_pop"]["ticket_id"] == "SD-9"
