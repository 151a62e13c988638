"""A tiny stand-in for Asterisk's ARI, for the client's tests only.

It records every request, answers REST calls from a FIFO of canned responses (default: 204, empty),
checks Basic auth like Asterisk (401 with ``{"message": "Authentication required"}``), and serves the
events WebSocket: the test pushes messages with ``send`` and drops the socket with ``drop``.
Deliberately independent of acd/ari_sim, which is a full simulator built separately.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    """Relative to /ari, as sent (percent-decoded by aiohttp)."""
    raw_path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    peer: Any = None
    """The client's (host, port): a new port means a new TCP connection."""


@dataclass
class FakeAri:
    user: str = "acd"
    password: str = "s3cret-Pa55"
    requests: list[Recorded] = field(default_factory=list)
    responses: list[tuple[int, Any]] = field(default_factory=list)
    ws_attempts: int = 0
    ws_requests: list[Recorded] = field(default_factory=list)
    ws_refuse: int | None = None
    """Answer the WebSocket upgrade with this HTTP status instead of accepting it."""
    autoping: bool = True
    """False: never answer the client's pings, like a peer that vanished without closing."""
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    connected: asyncio.Queue[web.WebSocketResponse] = field(default_factory=asyncio.Queue)
    gate: asyncio.Event | None = None
    """A slow server: when set, every REST request waits for this event before it is answered."""
    stall: int = 0
    """The next ``stall`` REST requests are never answered (the client's time-out fires)."""
    in_flight: int = 0
    max_in_flight: int = 0
    arrived: asyncio.Queue[Recorded] = field(default_factory=asyncio.Queue)
    """Every recorded REST request, to await its arrival."""

    def respond(self, status: int, body: Any = None) -> None:
        """Queue the answer to the next REST request: a JSON-able body, bytes, or None (empty)."""
        self.responses.append((status, body))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._rest)
        return app

    def _authorized(self, request: web.Request) -> bool:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {token}"

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.json_response({"message": "Authentication required"}, status=401,
                                 headers={"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'})

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append(Recorded(
            method=request.method,
            path=request.path[len("/ari"):],
            raw_path=request.raw_path.split("?")[0][len("/ari"):],
            query=dict(request.query),
            body=orjson.loads(raw) if raw else None,
            headers=dict(request.headers),
            peer=request.transport.get_extra_info("peername") if request.transport else None,
        ))
        self.arrived.put_nowait(self.requests[-1])
        if not self._authorized(request):
            return self._unauthorized()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.stall > 0:
                self.stall -= 1
                await asyncio.Event().wait()  # never answered; the client gives up
            if self.gate is not None:
                await self.gate.wait()
        finally:
            self.in_flight -= 1
        status, body = self.responses.pop(0) if self.responses else (204, None)
        if body is None:
            return web.Response(status=status)
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, content_type="application/octet-stream")
        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.ws_attempts += 1
        self.ws_requests.append(Recorded("GET", request.path[len("/ari"):], request.raw_path,
                                         dict(request.query), None, dict(request.headers)))
        if not self._authorized(request):
            return self._unauthorized()
        if self.ws_refuse is not None:
            return web.json_response({"message": "refused"}, status=self.ws_refuse)
        if "app" not in request.query:
            return web.json_response({"message": "Missing parameter app"}, status=400)
        ws = web.WebSocketResponse(autoping=self.autoping)
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.put_nowait(ws)
        async for _ in ws:
            pass
        return ws

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        """Send one message on the newest WebSocket."""
        ws = self.sockets[-1]
        if isinstance(message, dict):
            await ws.send_str(orjson.dumps(message).decode())
        elif isinstance(message, bytes):
            await ws.send_str(message.decode())
        else:
            await ws.send_str(message)

    async def drop(self) -> None:
        """Close the newest WebSocket from the server side, as when Asterisk restarts."""
        await self.sockets[-1].close()
