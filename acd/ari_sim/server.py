"""Assembling the fake Asterisk and serving it: ``start_simulator(config) -> SimulatorHandle``.

Used by ``python -m acd.ari_sim``, by tests (port 0 picks a free port) and by ``acd demo``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from acd.ari_sim import control
from acd.ari_sim.dialing import Dialer
from acd.ari_sim.dialplan import load_config
from acd.ari_sim.hub import EventHub
from acd.ari_sim.media import Media
from acd.ari_sim.parties import Parties
from acd.ari_sim.rest import AUTH_HEADERS, Rest, authorized, error
from acd.ari_sim.world import World
from acd.clock import Clock


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8088
    user: str = "acd"
    password: str = "secret"
    app: str = "acd"
    clock: Clock | str | None = None
    sounds: list[Path] = field(default_factory=list)
    recordings: Path = Path("var/ari-sim/recordings")
    config: Path | None = None
    """YAML/JSON file: dialplan numbers/fallback, Local contexts, endpoints, caller defaults."""
    asterisk_conf: Path | None = None
    """An /etc/asterisk copy: the fallback's apology, mailbox, app from extensions.conf and voicemail.conf."""


class Simulator:
    """All the parts of one fake Asterisk, wired together."""

    def __init__(self, cfg: SimulatorConfig) -> None:
        self.cfg = cfg
        self.clock = cfg.clock if isinstance(cfg.clock, Clock) else Clock.parse(cfg.clock)
        self.hub = EventHub(self.clock)
        self._build()

    def _build(self) -> None:
        dialplan, endpoints, callers = load_config(self.cfg.config, self.cfg.asterisk_conf)
        if self.cfg.app != "acd":
            from dataclasses import replace

            dialplan.default_route = replace(dialplan.default_route, app=self.cfg.app)
        self.cfg.recordings.mkdir(parents=True, exist_ok=True)
        self.world = World(self.clock, self.hub, dialplan, endpoints)
        self.dialer = Dialer(self.world)
        self.media = Media(self.world, list(self.cfg.sounds), self.cfg.recordings)
        self.parties = Parties(self.world, self.dialer, self.media, callers)
        self.rest = Rest(self.world, self.dialer, self.media, self.cfg.user, self.cfg.password)

    def reset(self) -> None:
        """Forget every call, bridge, playback and caller; keep apps, WebSockets and stored files."""
        self.world.cancel_all()
        apps = self.hub.apps
        for app in apps.values():
            app.channel_ids.clear()
            app.bridge_ids.clear()
            app.endpoint_ids.clear()
        self.hub.log.clear()
        self._build()

    async def events_ws(self, request: web.Request) -> web.StreamResponse:
        if not authorized(request, self.cfg.user, self.cfg.password):
            return error(401, "Authentication required", AUTH_HEADERS)
        apps = [a for a in request.query.get("app", "").split(",") if a]
        if not apps:
            return error(400, "Missing param 'app'")
        subscribe_all = request.query.get("subscribeAll", "").lower() in ("true", "1", "yes")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        socks = [(a, self.hub.register(a, ws, subscribe_all)) for a in apps]
        pumps = [asyncio.create_task(s.pump()) for _, s in socks]
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            for a, s in socks:
                self.hub.unregister(a, s)
            for t in pumps:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        return ws

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        return await self.rest.dispatch(request)  # looked up per request: reset() rebuilds the parts

    def app(self) -> web.Application:
        application = web.Application(client_max_size=16 * 1024 * 1024)
        application.router.add_get("/ari/events", self.events_ws)
        application.router.add_routes(control.routes(self))
        application.router.add_route("*", "/ari/{tail:.*}", self._dispatch)
        return application


@dataclass
class SimulatorHandle:
    url: str
    port: int
    sim: Simulator
    runner: web.AppRunner

    @property
    def base(self) -> str:
        return self.url

    async def stop(self) -> None:
        self.sim.world.cancel_all()
        await self.sim.hub.close()
        await self.runner.cleanup()


async def start_simulator(config: SimulatorConfig | dict[str, Any] | None = None) -> SimulatorHandle:
    """Start serving; ``url`` is ``http://host:port`` (ARI under ``/ari``, control under ``/_sim``)."""
    cfg = config if isinstance(config, SimulatorConfig) else SimulatorConfig(**(config or {}))
    sim = Simulator(cfg)
    runner = web.AppRunner(sim.app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    await site.start()
    port = cfg.port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = server.sockets[0].getsockname()[1]
    return SimulatorHandle(url=f"http://{cfg.host}:{port}", port=port, sim=sim, runner=runner)
