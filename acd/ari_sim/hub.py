"""Who receives which event: the applications, their one WebSocket each, their subscriptions, the event log.

Asterisk keeps an application (and its subscriptions) after its WebSocket closes; events meanwhile are lost
and never replayed (BEHAVIOUR.md 1-2). A second WebSocket for the same app gets every later event, the first
one gets ``ApplicationReplaced`` and then nothing (res/ari/ari_websockets.c, stasis app "replace").
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from typing import Any

import orjson
from aiohttp import web

from acd.ari_sim.model import App, ari_time
from acd.clock import Clock

ASTERISK_ID = "02:fc:00:00:00:01"
LOG_LIMIT = 200_000
"""Events kept for ``GET /_sim/events`` (a long demo must not grow without bound)."""


class _Socket:
    """One WebSocket with its own queue, so that emitting never awaits and order is kept."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.replaced = False

    async def pump(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                if item is None:
                    return
                if not self.ws.closed:
                    await self.ws.send_str(item.decode())
            except (ConnectionError, RuntimeError):
                pass
            finally:
                self.queue.task_done()


class EventHub:
    def __init__(self, clock: Clock, asterisk_id: str = ASTERISK_ID) -> None:
        self.clock = clock
        self.asterisk_id = asterisk_id
        self.apps: dict[str, App] = {}
        self.subscribe_all: set[str] = set()
        self._sockets: dict[str, _Socket] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self._seq = itertools.count(1)

    # ---- applications and sockets -----------------------------------------------------------------
    def active(self, app: str) -> bool:
        return app in self._sockets

    def register(self, app: str, ws: web.WebSocketResponse, subscribe_all: bool) -> _Socket:
        known = self.apps.setdefault(app, App(app))
        if subscribe_all:
            self.subscribe_all.add(app)
        old = self._sockets.get(app)
        if old is not None:
            old.replaced = True
            if known.allows("ApplicationReplaced"):  # the app's eventFilter applies to it too
                old.queue.put_nowait(self._encode(self._stamp(app, {"type": "ApplicationReplaced"})))
        sock = _Socket(ws)
        self._sockets[app] = sock
        return sock

    def unregister(self, app: str, sock: _Socket) -> None:
        if self._sockets.get(app) is sock:
            del self._sockets[app]
        sock.queue.put_nowait(None)

    async def drop(self, app: str | None = None) -> int:
        """Close the WebSocket(s) (control API, for reconnect tests); returns how many were closed."""
        names = [app] if app else list(self._sockets)
        closed = 0
        for name in names:
            sock = self._sockets.pop(name, None)
            if sock is not None:
                closed += 1
                sock.queue.put_nowait(None)
                with contextlib.suppress(Exception):
                    await sock.ws.close()
        return closed

    async def drain(self) -> None:
        """Wait until every queued event has been written (so events precede an HTTP answer, item 6)."""
        for sock in list(self._sockets.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sock.queue.join(), timeout=1.0)

    async def close(self) -> None:
        await self.drop()

    # ---- emission ---------------------------------------------------------------------------------
    def _stamp(self, app: str, event: dict[str, Any]) -> dict[str, Any]:
        kind = event.pop("type")
        out: dict[str, Any] = {"type": kind, "timestamp": ari_time(self.clock.now())}
        out.update(event)
        out["asterisk_id"] = self.asterisk_id
        out["application"] = app
        return out

    @staticmethod
    def _encode(event: dict[str, Any]) -> bytes:
        return orjson.dumps(event)

    def send(self, app: str, event: dict[str, Any], times: int = 1) -> None:
        """Deliver one event to one app (``times`` > 1 reproduces Asterisk's duplicates, item 9)."""
        stamped = self._stamp(app, dict(event))
        sock = self._sockets.get(app)
        if sock is None or sock.replaced:
            return  # inactive app: the event is lost, as in Asterisk
        known = self.apps.get(app)
        if known is not None and not known.allows(stamped["type"]):
            # filtered out by the app's eventFilter: not sent, but logged (marked) so that tests and
            # benches can still see what happened on the channels
            for _ in range(times):
                self.log.append({"seq": next(self._seq), "event": stamped, "filtered": True})
            return
        data = self._encode(stamped)
        for _ in range(times):
            self.log.append({"seq": next(self._seq), "event": stamped})
            sock.queue.put_nowait(data)

    def events_since(self, since: int) -> list[dict[str, Any]]:
        return [e for e in self.log if e["seq"] > since]
