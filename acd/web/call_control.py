"""The JSON API of call control (R13) and supervisors' listening (R23): what the desktop's buttons call.

Call control is for the agent of the call only (their own calls: 403 otherwise); listening is for
supervisors and admins, who are called on the phone configured as their ``endpoint`` in acd.yaml. Every
operation goes through the engine (``CallControlPort``); the browser never talks to ARI. Errors come back
as ``{"error": "..."}`` with the status the engine's ``CallControlError`` names (404 unknown call, 403 not
yours, 409 not possible in the call's state, 422 target unavailable). docs/api.md lists the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from aiohttp import web

from acd.callcontrol import LISTEN_MODES, CallControlError, CallStatus, ListenMode, ListenStatus, Target
from acd.settings import Role
from acd.web.auth import Principal
from acd.web.context import SETTINGS
from acd.web.errors import ApiError
from acd.web.inputs import read_json_object, required_str
from acd.web.json import json_response
from acd.web.routes import route


class CallControlPort(Protocol):
    """What the API needs of the engine's call control (implemented by ``acd.engine.call_control``)."""

    async def hold(self, call_id: str, *, agent: str | None) -> CallStatus: ...
    async def resume(self, call_id: str, *, agent: str | None) -> CallStatus: ...
    async def mute(self, call_id: str, *, agent: str | None, on: bool) -> CallStatus: ...
    async def dtmf(self, call_id: str, digits: str, *, agent: str | None) -> CallStatus: ...
    async def consult(self, call_id: str, target: Target, *, agent: str | None) -> CallStatus: ...
    async def complete(self, call_id: str, *, agent: str | None) -> CallStatus: ...
    async def cancel(self, call_id: str, *, agent: str | None) -> CallStatus: ...
    async def conference(self, call_id: str, *, agent: str | None) -> CallStatus: ...
    async def hangup(self, call_id: str, *, agent: str | None) -> CallStatus: ...
    async def blind_transfer(self, call_id: str, target: Target, *, agent: str | None) -> CallStatus: ...
    async def listen(
        self, call_id: str, *, supervisor: str, endpoint: str, mode: ListenMode
    ) -> ListenStatus: ...
    async def listen_mode(
        self, session_id: str, mode: ListenMode, *, supervisor: str | None
    ) -> ListenStatus: ...
    async def listen_stop(self, session_id: str, *, supervisor: str | None) -> ListenStatus: ...
    def listen_status(self, session_id: str, *, supervisor: str | None) -> ListenStatus: ...
    def listen_sessions(self, *, supervisor: str | None) -> list[ListenStatus]: ...


CALL_CONTROL: web.AppKey[CallControlPort] = web.AppKey("call_control", object)  # type: ignore[arg-type]
"""Set by the daemon (``app[CALL_CONTROL] = engine.control``)."""

AGENT_ONLY: frozenset[Role] = frozenset({"agent"})
LISTENERS: frozenset[Role] = frozenset({"supervisor", "admin"})


def _port(request: web.Request) -> CallControlPort:
    port = request.app.get(CALL_CONTROL)
    if port is None:
        raise ApiError(503, "call control is not available (no engine)")
    return port


def own_agent(user: Principal | None) -> str:
    """The agent id of a signed-in agent (403 for a user who is not one): whose call control, whose dial."""
    assert user is not None
    if not user.agent:
        raise ApiError(403, f"user {user.name!r} is not an agent")
    return user.agent


def _status(result: CallStatus | ListenStatus) -> web.Response:
    return json_response(result.as_json())


async def _answer(operation: Awaitable[CallStatus | ListenStatus], status: int = 200) -> web.Response:
    """The engine's answer to one operation as JSON; its refusal (``CallControlError``) as the API error
    with the status it names (404, 403, 409, 422)."""
    try:
        result = await operation
    except CallControlError as exc:
        raise ApiError(exc.status, str(exc)) from exc
    return json_response(result.as_json(), status=status)


async def _target(request: web.Request) -> Target:
    return _parse_target(await read_json_object(request))


def _parse_target(data: dict[str, Any]) -> Target:
    try:
        return Target.parse(required_str(data, "target", max_len=140))
    except CallControlError as exc:
        raise ApiError(400, str(exc), field="target") from exc


@route("POST", "/api/calls/{id}/hold", roles=AGENT_ONLY)
async def hold(request: web.Request, user: Principal | None) -> web.Response:
    return await _answer(_port(request).hold(request.match_info["id"], agent=own_agent(user)))


@route("POST", "/api/calls/{id}/resume", roles=AGENT_ONLY)
async def resume(request: web.Request, user: Principal | None) -> web.Response:
    return await _answer(_port(request).resume(request.match_info["id"], agent=own_agent(user)))


@route("POST", "/api/calls/{id}/mute", roles=AGENT_ONLY)
async def mute(request: web.Request, user: Principal | None) -> web.Response:
    return await _answer(_port(request).mute(request.match_info["id"], agent=own_agent(user), on=True))


@route("POST", "/api/calls/{id}/unmute", roles=AGENT_ONLY)
async def unmute(request: web.Request, user: Principal | None) -> web.Response:
    return await _answer(_port(request).mute(request.match_info["id"], agent=own_agent(user), on=False))


@route("POST", "/api/calls/{id}/dtmf", roles=AGENT_ONLY)
async def dtmf(request: web.Request, user: Principal | None) -> web.Response:
    agent = own_agent(user)
    digits = required_str(await read_json_object(request), "digits", max_len=32)
    return await _answer(_port(request).dtmf(request.match_info["id"], digits, agent=agent))


@route("POST", "/api/calls/{id}/consult", roles=AGENT_ONLY)
async def consult(request: web.Request, user: Principal | None) -> web.Response:
    """``{"target": "agent:<id>" | "queue:<name>" | "directory:<id>"}``: hold the caller and call the
    target; the answer says ``consult.state`` (ringing, answered, failed)."""
    agent = own_agent(user)
    target = await _target(request)
    return await _answer(_port(request).consult(request.match_info["id"], target, agent=agent))


@route("POST", "/api/calls/{id}/transfer", roles=AGENT_ONLY)
async def transfer(request: web.Request, user: Principal | None) -> web.Response:
    """``{"kind": "blind", "target": "..."}`` transfers without consulting; ``{"kind": "attended"}``
    completes the consultation under way (the caller goes to the consulted party, the agent to wrap-up)."""
    agent = own_agent(user)
    data = await read_json_object(request)
    kind = required_str(data, "kind", max_len=16)
    port, call_id = _port(request), request.match_info["id"]
    if kind == "blind":
        return await _answer(port.blind_transfer(call_id, _parse_target(data), agent=agent))
    if kind == "attended":
        return await _answer(port.complete(call_id, agent=agent))
    raise ApiError(400, "kind must be 'blind' or 'attended'", field="kind")


@route("POST", "/api/calls/{id}/cancel-consult", roles=AGENT_ONLY)
async def cancel_consult(request: web.Request, user: Principal | None) -> web.Response:
    return await _answer(_port(request).cancel(request.match_info["id"], agent=own_agent(user)))


@route("POST", "/api/calls/{id}/conference", roles=AGENT_ONLY)
async def conference(request: web.Request, user: Principal | None) -> web.Response:
    return await _answer(_port(request).conference(request.match_info["id"], agent=own_agent(user)))


@route("POST", "/api/calls/{id}/hangup", roles=AGENT_ONLY)
async def hangup(request: web.Request, user: Principal | None) -> web.Response:
    """The agent hangs up their own call from the desk, as the phone's hang-up button would: the CDR says
    ``ended_by = agent``; during an answered consultation this completes the transfer."""
    return await _answer(_port(request).hangup(request.match_info["id"], agent=own_agent(user)))


# ---- listening (R23) ----------------------------------------------------------------------------------
async def _mode(request: web.Request) -> ListenMode:
    raw = required_str(await read_json_object(request), "mode", max_len=16)
    for mode in LISTEN_MODES:
        if raw == mode:
            return mode
    raise ApiError(400, f"mode must be one of {', '.join(LISTEN_MODES)}", field="mode")


def _endpoint(request: web.Request, user: Principal) -> str:
    for u in request.app[SETTINGS].users:
        if u.name == user.name and u.endpoint:
            return u.endpoint
    raise ApiError(409, f"user {user.name!r} has no phone to be called on: set 'endpoint' in acd.yaml users")


def _listener(user: Principal | None) -> Principal:
    assert user is not None
    return user


def _whose(user: Principal) -> str | None:
    """Whose listening sessions a user may see and change: their own; an admin's, anyone's (None)."""
    return None if user.role == "admin" else user.name


@route("POST", "/api/calls/{id}/listen", roles=LISTENERS)
async def listen(request: web.Request, user: Principal | None) -> web.Response:
    """``{"mode": "listen" | "whisper" | "barge"}``: the supervisor's phone is called; once answered they
    are in the call in that mode. The answer carries ``session_id`` for the mode switches."""
    who = _listener(user)
    mode = await _mode(request)
    endpoint = _endpoint(request, who)
    return await _answer(_port(request).listen(request.match_info["id"], supervisor=who.name,
                                               endpoint=endpoint, mode=mode), status=201)


@route("POST", "/api/listen/{session}/mode", roles=LISTENERS)
async def listen_mode(request: web.Request, user: Principal | None) -> web.Response:
    who = _listener(user)
    mode = await _mode(request)
    return await _answer(_port(request).listen_mode(request.match_info["session"], mode,
                                                    supervisor=_whose(who)))


@route("DELETE", "/api/listen/{session}", roles=LISTENERS)
async def listen_stop(request: web.Request, user: Principal | None) -> web.Response:
    who = _listener(user)
    return await _answer(_port(request).listen_stop(request.match_info["session"], supervisor=_whose(who)))


@route("GET", "/api/listen/{session}", roles=LISTENERS)
async def listen_status(request: web.Request, user: Principal | None) -> web.Response:
    """A listening session of this supervisor (any, for an admin): ``state`` ringing (their phone is being
    called), active, ended; 404 once it is over. The wallboard reads it while the phone rings."""
    who = _listener(user)
    try:
        return _status(_port(request).listen_status(
            request.match_info["session"], supervisor=_whose(who)))
    except CallControlError as exc:
        raise ApiError(exc.status, str(exc)) from exc


@route("GET", "/api/listen", roles=LISTENERS)
async def listen_sessions(request: web.Request, user: Principal | None) -> web.Response:
    """This supervisor's listening sessions (all, for an admin): a reloaded wallboard picks its session up."""
    who = _listener(user)
    found = _port(request).listen_sessions(supervisor=_whose(who))
    return json_response({"sessions": [s.as_json() for s in found]})
