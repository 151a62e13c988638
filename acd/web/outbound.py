"""Calls the agents place, over HTTP (R25 "on request", issue 15): click-to-call and callback dialling.

- ``POST /api/outbound/calls`` (role agent) ``{number}`` or ``{call_id}`` (call back the caller of an
  earlier call): the agent's phone rings, then the number is dialled with the service's caller id. 201
  ``{call_id, number}``; 422 with the reason when the dialling rules refuse the number (emergency, short,
  premium, not an allowed prefix); 409 when the agent cannot take a call now (logged out, on a call).
- ``POST /api/callbacks/{id}/dial`` (role agent): the same for an open callback (the agent's own or an
  unassigned one, which becomes theirs); its outcome closes the callback or schedules its retry
  (``record_dial_outcome``, installed by the daemon as the engine's ``on_done``).
- ``GET /api/outbound/check?number=`` (role agent): the dialling rules' verdict, for the desktop.

The routes take a browser session (with its CSRF token) or an agent's bearer token (a machine client
acting for that agent). The engine side is ``acd.engine.outbound_call.Outbound``; the web knows it only
through ``OutboundPort``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal, Protocol

from aiohttp import web
from sqlalchemy import select, update

from acd.web.auth import Principal
from acd.web.call_control import own_agent
from acd.web.callbacks import acted, record_dial_outcome
from acd.web.context import CLOCK, db_of
from acd.web.errors import ApiError, bad_request
from acd.web.inputs import optional_str, read_json_object
from acd.web.json import json_response
from acd.web.routes import route
from cdr.schema import callbacks, calls
from outbound.dialrules import DialCheck


class OutboundPort(Protocol):
    """What the routes need of the engine (``Outbound``)."""

    def check(self, number: str) -> DialCheck: ...

    async def dial(self, agent_id: str, number: str, *, callback_id: str | None = None,
                   source: Literal["click", "callback"] = "click") -> str: ...


class DialDone(Protocol):
    """The end of an outbound call as the engine reports it (``OutboundDone``)."""

    @property
    def call_id(self) -> str: ...
    @property
    def agent_id(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def callback_id(self) -> str | None: ...


OUTBOUND: web.AppKey[OutboundPort] = web.AppKey("outbound", object)  # type: ignore[arg-type]
"""Set by the daemon (``app[OUTBOUND] = engine.outbound``)."""


def _port(request: web.Request) -> OutboundPort:
    port = request.app.get(OUTBOUND)
    if port is None:
        raise ApiError(503, "outbound calls are not available (no engine)")
    return port


async def _dial(request: web.Request, agent: str, number: str, callback_id: str | None) -> web.Response:
    port = _port(request)
    verdict = port.check(number)
    if not verdict.ok:
        raise ApiError(422, f"this number may not be dialled: {verdict.reason}", field="number")
    try:
        call_id = await port.dial(agent, number, callback_id=callback_id,
                                  source="callback" if callback_id else "click")
    except ValueError as exc:  # OutboundRefused: a message for the agent, with its status
        raise ApiError(int(getattr(exc, "status", 409)), str(exc)) from exc
    return json_response({"call_id": call_id, "number": verdict.number, "callback_id": callback_id},
                         status=201)


@route("POST", "/api/outbound/calls", roles={"agent"})
async def click_to_call(request: web.Request, user: Principal | None) -> web.Response:
    agent = own_agent(user)
    data = await read_json_object(request)
    number = optional_str(data, "number", max_len=64)
    earlier = optional_str(data, "call_id", max_len=64)
    if number is None and earlier is not None:
        async with db_of(request).connect() as conn:
            row = (await conn.execute(select(calls.c.direction, calls.c.caller, calls.c.dialled)
                                      .where(calls.c.id == earlier))).first()
        if row is None:
            raise ApiError(404, f"no call {earlier}")
        number = row.dialled if row.direction == "outbound" else row.caller
        if not number:
            raise ApiError(422, f"call {earlier} has no number to call back", field="call_id")
    if number is None:
        raise bad_request("number", "required (or call_id of an earlier call)")
    return await _dial(request, agent, number, None)


@route("GET", "/api/outbound/check", roles={"agent"})
async def check(request: web.Request, user: Principal | None) -> web.Response:
    verdict = _port(request).check(request.query.get("number", ""))
    return json_response({"ok": verdict.ok, "number": verdict.number, "reason": verdict.reason})


@route("POST", "/api/callbacks/{id:.+}/dial", roles={"agent"})
async def dial_callback(request: web.Request, user: Principal | None) -> web.Response:
    agent = own_agent(user)
    cb_id = request.match_info["id"]
    t = callbacks.c
    async with db_of(request).begin() as conn:
        row = (await conn.execute(select(t.status, t.agent, t.number).where(t.id == cb_id))).first()
        if row is None or row.agent not in (None, agent):
            raise ApiError(404, f"no callback {cb_id}")
        if row.status != "open":
            raise ApiError(409, f"callback {cb_id} is already closed")
        if not row.number:
            raise ApiError(422, f"callback {cb_id} has no number")
        if row.agent is None:
            await conn.execute(update(callbacks).where(t.id == cb_id, t.agent.is_(None)).values(agent=agent))
    acted(request, agent)  # a hold for a kept place ends (acd/engine/keep_place.py)
    return await _dial(request, agent, str(row.number), cb_id)


def outcome_recorder(app: web.Application) -> Callable[[DialDone], Coroutine[Any, Any, None]]:
    """The engine's ``on_done``: a dialled callback's outcome closes it or schedules its retry."""

    async def on_done(done: DialDone) -> None:
        if done.callback_id is not None:
            await record_dial_outcome(app, done.callback_id, done.outcome, done.agent_id, app[CLOCK]())

    return on_done
