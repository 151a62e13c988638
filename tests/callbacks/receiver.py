"""A local service desk for the tests: an aiohttp server on loopback that refuses (503) while ``down`` and
records every request with its body and headers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    status: int


@dataclass
class ServiceDesk:
    down: bool = False
    requests: list[Received] = field(default_factory=list)
    accepted: asyncio.Event = field(default_factory=asyncio.Event)
    refused: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None
    url: str = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = 503 if self.down else 200
        self.requests.append(Received(body, dict(request.headers), status))
        (self.refused if self.down else self.accepted).set()
        return web.json_response({"ticket": "SD-1"} if status == 200 else {"error": "down"}, status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/acd", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hooks/acd"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def refusals(self) -> int:
        return sum(1 for r in self.requests if r.status != 200)
