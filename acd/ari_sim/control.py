"""The ``/_sim/...`` control API: simulated callers, agents' phones, WebSocket drops, state and event log.

Never under ``/ari``, no auth, loopback clients only: it is the test harness's hand on the fake telephone
network, not part of what a real Asterisk offers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from acd.ari_sim.dialplan import apply_endpoint_settings
from acd.ari_sim.model import Channel, Endpoint

if TYPE_CHECKING:
    from acd.ari_sim.server import Simulator

LOOPBACK = {"127.0.0.1", "::1", None}


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _bad(message: str, status: int = 400) -> web.Response:
    return _json({"message": message}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    data = orjson.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def routes(sim: Simulator) -> list[web.RouteDef]:
    def local_only(fn: Callable[[web.Request], Awaitable[web.Response]]) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            if request.remote not in LOOPBACK:
                return _bad("control API is for loopback clients only", 403)
            try:
                return await fn(request)
            except (ValueError, TypeError, orjson.JSONDecodeError) as e:
                return _bad(str(e))
        return wrapped

    @local_only
    async def new_call(request: web.Request) -> web.Response:
        c = sim.parties.new_call(await _body(request))
        ch = sim.world.channels.get(c.id)
        return _json({**c.to_json(), "channel": ch.to_json() if ch else None}, 201)

    @local_only
    async def call_dtmf(request: web.Request) -> web.Response:
        ch = sim.world.channels.get(request.match_info["id"])
        if ch is None:
            return _bad("no such call", 404)
        digits = str((await _body(request)).get("digits") or "")
        if not digits:
            return _bad("digits required")
        sim.parties.press(ch, digits)
        return _json({"ok": True})

    @local_only
    async def call_hangup(request: web.Request) -> web.Response:
        if not sim.parties.hangup(request.match_info["id"]):
            return _bad("no such call", 404)
        return _json({"ok": True})

    @local_only
    async def put_endpoint(request: web.Request) -> web.Response:
        key = f"{request.match_info['tech']}/{request.match_info['resource']}"
        body = await _body(request)
        ep = sim.world.endpoints.get(key)
        if ep is None:
            tech, _, res = key.partition("/")
            ep = Endpoint(tech, res)
            sim.world.endpoints[key] = ep
        before = ep.state
        apply_endpoint_settings(ep, body)
        if ep.state != before:
            # the order and the recipients of a real phone (un)registering: docs/ari-simulator.md
            sim.world.emit_endpoint(ep, "EndpointStateChange", to_subscribe_all=False)
            sim.world.emit_endpoint(ep, "PeerStatusChange", peer={
                "peer_status": "Reachable" if ep.state == "online" else "Unreachable"})
            sim.world.emit_endpoint(ep, "ContactStatusChange", contact_info={
                "uri": f"sip:{ep.resource}@127.0.0.1:5070",
                "contact_status": "NonQualified" if ep.state == "online" else "Removed",
                "aor": ep.resource, "roundtrip_usec": "0"})
        return _json({**sim.world.endpoint_json(ep), **ep.settings()})

    def _leg(request: web.Request, *, ringing: bool) -> Channel | None:
        """The endpoint's live leg: ringing (dialled, not answered) or answered."""
        tech, res = request.match_info["tech"], request.match_info["resource"]
        for ch in sim.world.channels.values():
            mine = ch.tech == tech and ch.resource == res and not ch.gone and not ch.snoop_of
            if mine and ch.dialing == ringing and (ringing or ch.state == "Up"):
                return ch
        return None

    @local_only
    async def endpoint_answer(request: web.Request) -> web.Response:
        """The phone's user picks up (a phone with behaviour ``no_answer`` rings until this or the time-out):
        the ``acd demo`` agent's phone answered from a browser."""
        ch = _leg(request, ringing=True)
        if ch is None:
            return _bad("the phone is not ringing", 409)
        sim.world.answered(ch)
        return _json({"ok": True, "channel": ch.id})

    @local_only
    async def endpoint_hangup(request: web.Request) -> web.Response:
        """The phone's user hangs up their answered call (the agent's side ends the call)."""
        ch = _leg(request, ringing=False)
        if ch is None:
            return _bad("the phone has no call", 409)
        sim.world.hangup(ch, 16, remote=True)
        return _json({"ok": True, "channel": ch.id})

    @local_only
    async def trunk_parties(request: web.Request) -> web.Response:
        """POST: how called parties on the trunk behave (acd/ari_sim/called.py); GET: that, and every number
        dialled with its virtual time."""
        if request.method == "POST":
            sim.world.called.configure(await _body(request))
        return _json(sim.world.called.to_json())

    @local_only
    async def ws_drop(request: web.Request) -> web.Response:
        body = await _body(request)
        return _json({"closed": await sim.hub.drop(body.get("app"))})

    @local_only
    async def state(request: web.Request) -> web.Response:
        snap = sim.world.snapshot()
        snap["callers"] = sim.parties.snapshot()
        snap["playbacks"] = [p.to_json() for p in sim.media.playbacks.values()]
        snap["recordings"] = {"live": [r.to_json() for r in sim.media.live.values()],
                              "stored": sim.media.stored()}
        snap["now"] = sim.world.clock.now()
        return _json(snap)

    @local_only
    async def events(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return _json(sim.hub.events_since(since))

    @local_only
    async def reset(request: web.Request) -> web.Response:
        sim.reset()
        return _json({"ok": True})

    return [
        web.post("/_sim/calls", new_call),
        web.post("/_sim/calls/{id}/dtmf", call_dtmf),
        web.post("/_sim/calls/{id}/hangup", call_hangup),
        web.put("/_sim/endpoints/{tech}/{resource}", put_endpoint),
        web.post("/_sim/endpoints/{tech}/{resource}/answer", endpoint_answer),
        web.post("/_sim/endpoints/{tech}/{resource}/hangup", endpoint_hangup),
        web.post("/_sim/ws/drop", ws_drop),
        web.post("/_sim/trunk/parties", trunk_parties),
        web.get("/_sim/trunk/parties", trunk_parties),
        web.get("/_sim/state", state),
        web.get("/_sim/events", events),
        web.post("/_sim/reset", reset),
    ]
