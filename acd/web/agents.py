"""Agents and live state: who am I, agent states (R4, R23), live queues, a call's topic (R16, R22)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acd.core.config import QueueConfig
from acd.web.auth import Principal
from acd.web.context import ENGINE
from acd.web.errors import ApiError, bad_request
from acd.web.inputs import optional_str, read_json_object, required_str
from acd.web.json import json_response
from acd.web.live import LIVE
from acd.web.ports import AgentState
from acd.web.routes import route

STATE_ALIASES: dict[str, AgentState] = {
    "login": "ready", "ready": "ready", "not_ready": "not_ready",
    "logout": "logged_out", "logged_out": "logged_out",
}
"""``login`` makes an agent ready at once (the demo and most desks expect that); to log in on a break,
send ``not_ready`` with a reason straight away."""

FORCEABLE: frozenset[str] = frozenset(("ready", "logged_out"))
"""What a supervisor may force on another agent (R4, R23)."""


def _me(user: Principal | None) -> Principal:
    assert user is not None  # only public routes get None
    return user


@route("GET", "/api/me", roles={"agent", "supervisor", "admin", "reporting"})
async def me(request: web.Request, user: Principal | None) -> web.Response:
    return json_response(_me(user).as_dict())


@route("GET", "/api/agents", roles={"supervisor", "admin"})
async def list_agents(request: web.Request, user: Principal | None) -> web.Response:
    snap = request.app[ENGINE].snapshot()
    return json_response({"agents": snap.get("agents", {})})


@route("GET", "/api/queues", roles={"supervisor", "admin", "reporting"})
async def list_queues(request: web.Request, user: Principal | None) -> web.Response:
    snap = request.app[ENGINE].snapshot()
    body: dict[str, Any] = {"queues": snap.get("queues", {})}
    if _me(user).role in ("supervisor", "admin"):  # live calls carry callers' numbers (R28)
        body["calls"] = snap.get("calls", {})
    return json_response(body)


@route("POST", "/api/agents/{id}/state", roles={"agent", "supervisor", "admin"})
async def set_state(request: web.Request, user: Principal | None) -> web.Response:
    who = _me(user)
    agent_id = request.match_info["id"]
    data = await read_json_object(request)
    raw_state = required_str(data, "state", max_len=32)
    state = STATE_ALIASES.get(raw_state)
    if state is None:
        raise bad_request("state", f"unknown state {raw_state!r} (login, ready, not_ready, logout)")
    reason = optional_str(data, "reason", max_len=64)
    engine = request.app[ENGINE]
    by: str | None = None
    if who.role == "agent":
        if who.agent != agent_id:
            raise ApiError(403, "an agent may change only their own state")
    else:
        if state not in FORCEABLE:
            raise ApiError(403, f"a {who.role} may force only ready or logout, not {raw_state!r}")
        by = who.name
    if state == "not_ready":
        allowed = list(engine.not_ready_reasons())
        if reason is None:
            raise bad_request("reason", f"required for not_ready (one of: {', '.join(allowed)})")
        if reason not in allowed:
            raise bad_request("reason", f"unknown reason {reason!r} (one of: {', '.join(allowed)})")
    elif reason is not None and who.role == "agent":
        raise bad_request("reason", "only not_ready takes a reason")
    try:
        await engine.set_agent_state(agent_id, state, reason, by)
    except KeyError as exc:
        raise ApiError(404, f"unknown agent {agent_id!r}") from exc
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    return json_response({"agent": agent_id, "state": state, "reason": reason, "by": by})


@route("POST", "/api/calls/{id}/topic", roles={"agent", "supervisor"})
async def set_topic(request: web.Request, user: Principal | None) -> web.Response:
    who = _me(user)
    call_id = request.match_info["id"]
    data = await read_json_object(request)
    topic = required_str(data, "topic", max_len=255)
    comment = optional_str(data, "comment", max_len=2000)
    result = optional_str(data, "result", max_len=128)
    engine = request.app[ENGINE]
    if who.role == "agent":
        on_call = engine.agent_of_call(call_id)
        if on_call is None:
            raise ApiError(404, f"no live call {call_id!r}")
        if on_call != who.agent:
            raise ApiError(403, "only the agent on the call (or a supervisor) may set its topic")
    if result is not None:
        allowed = call_results(request, call_id)
        if result not in allowed:
            raise bad_request("result", f"unknown result {result!r} (one of: {', '.join(allowed) or 'none'})")
    try:
        if result is None:  # an older engine port without results keeps working
            await engine.set_topic(call_id, topic, comment, who.name)
        else:
            await engine.set_topic(call_id, topic, comment, who.name, result)
    except KeyError as exc:
        raise ApiError(404, f"no live call {call_id!r}") from exc
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    return json_response({"call": call_id, "topic": topic, "comment": comment, "result": result,
                          "by": who.name})


def call_results(request: web.Request, call_id: str) -> list[str]:
    """The results the call's queue offers in wrap-up (``results`` of queues.yaml)."""
    hub = request.app.get(LIVE)
    card = hub.cards.get(call_id) if hub is not None else None
    queue = hub.queues().get(card.queue or "") if hub is not None and card is not None else None
    return list(queue.results) if isinstance(queue, QueueConfig) else []
