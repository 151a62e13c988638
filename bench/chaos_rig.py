"""The fault campaign's rig: the ARI simulator and the daemon as real processes, as in production.

``python -m acd.ari_sim`` stands where Asterisk would and ``acd run`` (``python -m acd.cli run``) is the
daemon, both on one accelerated virtual clock; the campaign plays callers and agents' phones through the
simulator's control API (``/_sim/``) and reads the results where an operator would: the CDR tables, the
spool's ``rejects.jsonl``, ``/health``, ``/metrics``, the daemon's log and its resident memory. Faults are
made from outside, as they happen in production: SIGKILL, a database made unreachable (``bench.cdr``'s
``TcpProxy``) or locked, the WebSocket dropped by the simulator, hostile events injected by ``AriProxy``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.clock import Clock
from bench.cdr import TcpProxy
from cdr.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
ALMATY = ZoneInfo("Asia/Almaty")
SUPERVISOR = "t-chaos-super"
ADMIN = "t-chaos-admin"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(check: Callable[[], Awaitable[T | None | bool]], timeout_s: float, what: str) -> T:
    """Poll a condition that has no event of its own (a row, a channel state, an HTTP answer) until it
    holds; ``TimeoutError`` naming ``what`` after ``timeout_s`` real seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s: {what}")
        await asyncio.sleep(0.05)


def agents_yaml(n: int) -> str:
    """n agents, all speaking Kazakh and Russian in ``general`` (so any caller fits any agent and the
    figures measure the daemon, not the skills); the last two (or the last one) also serve ``second_line``
    (the stock queues.yaml has it, and a queue nobody serves is a configuration error)."""
    lines = ["agents:"]
    for i in range(1, n + 1):
        second = i > n - 2 if n >= 4 else i == n
        queues = "{second_line: 1, general: 2}" if second else "{general: 1}"
        skills = "{general: 5, technical: 6}" if second else "{general: 5}"
        lines.append(f"  - {{id: agent{i}, name: Agent {i}, endpoint: PJSIP/agent{i}, languages: [kk, ru], "
                     f"skills: {skills}, queues: {queues}}}")
    return "\n".join(lines) + "\n"


@dataclass
class RigOptions:
    agents: int = 8
    speed: float = 10.0
    db_url: str | None = None
    """None: SQLite in the rig's folder. A PostgreSQL URL gets a fresh schema, dropped at the end."""
    db_proxy: bool = False
    """Reach PostgreSQL through a ``TcpProxy`` so the probe can cut it (the server "stopped")."""
    ari_proxy: bool = False
    """Put an ``AriProxy`` between the daemon and the simulator (hostile events injected into the stream)."""
    wrapup_s: int | None = None
    log_level: str = "info"
    quick: bool = False
    """The short CI sizes: rows get less time to complete before they count as stuck."""


@dataclass
class Rig:
    """One simulator, one daemon (restartable), their folder, an HTTP session and a database handle."""

    opts: RigOptions
    work: Path
    clock: Clock
    http: aiohttp.ClientSession
    sim_port: int
    api_port: int
    db_url: str
    cfg: Path
    env: dict[str, str]
    sim: asyncio.subprocess.Process | None = None
    daemon: asyncio.subprocess.Process | None = None
    daemons_started: int = 0
    db: AsyncEngine | None = None
    db_proxy: TcpProxy | None = None
    ari_proxy: AriProxy | None = None
    pg_schema: str | None = None
    pg_admin_url: str | None = None
    placed: list[str] = field(default_factory=list)

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def spool(self) -> Path:
        return self.work / "spool"

    @property
    def recordings(self) -> Path:
        return self.work / "recordings"

    # ---- processes ---------------------------------------------------------------------------------
    async def _spawn(self, *args: str, log: Path) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, env=self.env, cwd=ROOT, stdout=log.open("ab"),
            stderr=asyncio.subprocess.STDOUT)

    async def start_daemon(self) -> float:
        """Start ``acd run``; returns the real seconds until /health says ARI is connected."""
        started = time.monotonic()
        self.daemons_started += 1
        self.daemon = await self._spawn("-m", "acd.cli", "run", "-c", str(self.cfg / "acd.yaml"),
                                        "--agents-ready", log=self.daemon_log)
        await self.wait_ari_connected(60)
        return time.monotonic() - started

    async def wait_ari_connected(self, timeout_s: float) -> float:
        started = time.monotonic()

        async def connected() -> bool:
            if self.daemon is not None and self.daemon.returncode is not None:
                raise RuntimeError(f"the daemon exited with code {self.daemon.returncode} "
                                   f"(see {self.daemon_log})")
            return bool((await self.health()).get("ari_connected"))

        await until(connected, timeout_s, "the daemon's /health never said ari_connected")
        return time.monotonic() - started

    async def kill_daemon(self, sig: int = signal.SIGKILL) -> None:
        assert self.daemon is not None
        self.daemon.send_signal(sig)
        await self.daemon.wait()

    @property
    def daemon_log(self) -> Path:
        return self.work / "daemon.log"

    def alive(self) -> bool:
        return self.daemon is not None and self.daemon.returncode is None

    def rss_mib(self) -> float:
        """The daemon's resident memory (VmRSS), MiB; 0 when it is not running."""
        if not self.alive():
            return 0.0
        assert self.daemon is not None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.daemon.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    # ---- HTTP --------------------------------------------------------------------------------------
    async def health(self) -> dict[str, Any]:
        try:
            async with self.http.get(f"{self.api}/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body: dict[str, Any] = await r.json(content_type=None)
                return {**body, "http_status": r.status}
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return {}

    async def metrics_bytes(self) -> int:
        async with self.http.get(f"{self.api}/metrics") as r:
            return len(await r.read())

    async def metric(self, name: str) -> float:
        """The value of one unlabelled series on /metrics (0 when absent or the daemon does not answer)."""
        try:
            async with self.http.get(f"{self.api}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.text()
        except (TimeoutError, aiohttp.ClientError):
            return 0.0
        for line in body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    async def api_get(self, path: str, token: str = SUPERVISOR) -> Any:
        async with self.http.get(f"{self.api}{path}", headers={"Authorization": f"Bearer {token}"}) as r:
            return await r.json(content_type=None)

    async def sim_state(self) -> dict[str, Any]:
        async with self.http.get(f"{self.sim_url}/_sim/state") as r:
            body: dict[str, Any] = await r.json()
            return body

    async def sim_events(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.sim_url}/_sim/events") as r:
            data = await r.json()
        return [e.get("event", e) for e in data]

    async def endpoint(self, name: str, **behaviour: Any) -> None:
        async with self.http.put(f"{self.sim_url}/_sim/endpoints/PJSIP/{name}", json=behaviour) as r:
            assert r.status < 300, await r.text()

    async def agents_online(self, answer_after_s: float = 2.0, **kw: Any) -> None:
        for i in range(1, self.opts.agents + 1):
            await self.endpoint(f"agent{i}", state="online", behaviour="answer",
                                answer_after_s=answer_after_s, hangup="caller", **kw)

    async def call(self, *, caller: str | None = None, talk_s: float = 30.0, patience_s: float = 3600.0,
                   lang: str = "kk", **kw: Any) -> str:
        """One caller on 193 who chooses a language and the operator (menu key 1)."""
        body = {"number": "193", "caller": caller or f"7701{len(self.placed):07d}", "language": lang,
                "talk_s": talk_s, "patience_s": patience_s,
                "dtmf_on": {"language_menu": "1" if lang == "kk" else "2", "main_menu": "1"}, **kw}
        async with self.http.post(f"{self.sim_url}/_sim/calls", json=body) as r:
            data = await r.json()
            assert r.status < 300, data
        cid = str(data["id"])
        self.placed.append(cid)
        return cid

    async def hangup(self, call: str) -> None:
        """The caller hangs up (the simulator's control API)."""
        async with self.http.post(f"{self.sim_url}/_sim/calls/{call}/hangup", json={}) as r:
            await r.read()

    async def ws_drop(self) -> int:
        async with self.http.post(f"{self.sim_url}/_sim/ws/drop", json={}) as r:
            return int((await r.json())["closed"])

    # ---- database ----------------------------------------------------------------------------------
    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        assert self.db is not None
        async with self.db.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]

    def rejects(self) -> int:
        path = self.spool / "rejects.jsonl"
        return sum(1 for _ in path.open("rb")) if path.exists() else 0


async def open_rig(opts: RigOptions, keep: Path | None = None) -> Rig:
    """Start the simulator (not the daemon) in a fresh folder (``keep`` or a temporary one)."""
    work = Path(tempfile.mkdtemp(prefix="acd-chaos-", dir=keep))
    start = datetime.now(ALMATY).replace(hour=10, minute=0, second=0, microsecond=0)
    clock = Clock(start=start.timestamp(), anchor=time.time(), speed=opts.speed)
    sim_port, api_port = free_port(), free_port()
    pg_schema = pg_admin = None
    if opts.db_url is None:
        db_url = f"sqlite+aiosqlite:///{work / 'acd.db'}"
    else:
        pg_admin = opts.db_url
        pg_schema = f"chaos_{uuid.uuid4().hex[:8]}"
        admin = make_engine(pg_admin)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{pg_schema}"'))
        await admin.dispose()
        db_url = opts.db_url + ("&" if "?" in opts.db_url else "?") + f"search_path={pg_schema}"
    db_proxy = None
    daemon_db_url = db_url
    if opts.db_proxy:
        u = make_url(db_url)
        db_proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
        await db_proxy.open()
        daemon_db_url = u.set(host="127.0.0.1", port=db_proxy.listen_port).render_as_string(False)
    ari_proxy = None
    ari_port = sim_port
    if opts.ari_proxy:
        ari_proxy = AriProxy(f"http://127.0.0.1:{sim_port}")
        await ari_proxy.start()
        ari_port = ari_proxy.port
    cfg = write_config(work, ari_port=ari_port, api_port=api_port, db_url=daemon_db_url, opts=opts)
    env = dict(os.environ, ACD_CLOCK=clock.spec(), PYTHONUNBUFFERED="1")
    env.pop("ACD_DB_URL", None)
    rig = Rig(opts=opts, work=work, clock=clock, http=aiohttp.ClientSession(), sim_port=sim_port,
              api_port=api_port, db_url=db_url, cfg=cfg, env=env, db_proxy=db_proxy, ari_proxy=ari_proxy,
              pg_schema=pg_schema, pg_admin_url=pg_admin)
    sounds = [p for p in (Path("/usr/share/asterisk/sounds"),) if p.is_dir()]
    rig.sim = await rig._spawn(
        "-m", "acd.ari_sim", "--port", str(sim_port), "--password", "secret", "--clock", clock.spec(),
        "--sounds", ",".join(map(str, sounds)), "--recordings", str(rig.recordings), log=work / "sim.log")

    async def sim_up() -> bool:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            await rig.sim_state()
            return True
        return False

    await until(sim_up, 30, "the simulator did not start")
    rig.db = make_engine(db_url)
    return rig


async def close_rig(rig: Rig, *, keep_files: bool = False) -> None:
    for proc in (rig.daemon, rig.sim):
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    await rig.http.close()
    if rig.ari_proxy is not None:
        await rig.ari_proxy.stop()
    if rig.db_proxy is not None:
        await rig.db_proxy.close()
    if rig.db is not None:
        await rig.db.dispose()
    if rig.pg_schema and rig.pg_admin_url:
        admin = make_engine(rig.pg_admin_url)
        with contextlib.suppress(Exception):
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{rig.pg_schema}" CASCADE'))
        await admin.dispose()
    if not keep_files:
        shutil.rmtree(rig.work, ignore_errors=True)


def write_config(work: Path, *, ari_port: int, api_port: int, db_url: str, opts: RigOptions) -> Path:
    cfg = work / "config"
    shutil.copytree(ROOT / "config", cfg, ignore=shutil.ignore_patterns("acd.yaml", "agents.yaml"))
    (cfg / "agents.yaml").write_text(agents_yaml(opts.agents), encoding="utf-8")
    if opts.wrapup_s is not None:
        queues = cfg / "queues.yaml"
        queues.write_text(queues.read_text().replace("wrapup_s: 10", f"wrapup_s: {opts.wrapup_s}"))
    (cfg / "acd.yaml").write_text(
        f"""# Generated by python -m bench.chaos.
ari: {{url: "http://127.0.0.1:{ari_port}/ari", app: acd, user: acd, password: secret}}
database: {{url: "{db_url}", spool_dir: {work / "spool"}}}
paths: {{var: {work}, recordings: {work / "recordings"}, sounds: {ROOT / "var" / "sounds"}}}
timezone: Asia/Almaty
log: {{format: json, level: {opts.log_level}}}
http: {{host: 127.0.0.1, port: {api_port}}}
users:
  - {{name: supervisor, role: supervisor, token: {SUPERVISOR}}}
  - {{name: admin, role: admin, token: {ADMIN}}}
""",
        encoding="utf-8",
    )
    return cfg


class AriProxy:
    """An HTTP and WebSocket proxy in front of the simulator's ``/ari``: the daemon talks to Asterisk
    through it, and ``inject`` puts hostile messages into the event stream as a broken or malicious
    peer would (the simulator only ever sends well-formed events)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = 0
        self.clients: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for ws in list(self.clients):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def inject(self, message: str | bytes) -> int:
        """Send one raw frame to every connected daemon; returns how many received it."""
        sent = 0
        for ws in list(self.clients):
            with contextlib.suppress(ConnectionError, RuntimeError):
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_str(message)
                sent += 1
        return sent

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        url = f"{self.upstream}{request.rel_url}"
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._ws(request, url, headers)
        data = await request.read()
        async with self._session.request(request.method, url, headers=headers, data=data) as r:
            body = await r.read()
            return web.Response(status=r.status, body=body, content_type=r.content_type or None)

    async def _ws(self, request: web.Request, url: str, headers: dict[str, str]) -> web.StreamResponse:
        assert self._session is not None
        try:
            up = await self._session.ws_connect(url.replace("http://", "ws://"), headers=headers)
        except aiohttp.WSServerHandshakeError as e:
            return web.Response(status=e.status)
        down = web.WebSocketResponse()
        await down.prepare(request)
        self.clients.add(down)

        async def upstream_to_daemon() -> None:
            async for msg in up:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await down.send_str(msg.data)
            await down.close()

        pump = asyncio.create_task(upstream_to_daemon())
        try:
            async for _ in down:
                pass
        finally:
            self.clients.discard(down)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
            await up.close()
        return down
