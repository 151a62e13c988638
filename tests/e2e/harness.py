"""End-to-end harness: the ARI simulator and the real daemon, in one event loop but over real sockets.

The daemon connects to the simulator over HTTP and WebSocket exactly as to Asterisk; the test plays the
callers and the agents' phones through the simulator's control API (``/_sim/``) and reads the results
where a user would: the CDR tables, the recordings folder, the daemon's HTTP API.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import text

from acd.ari_sim.server import SimulatorConfig, SimulatorHandle, start_simulator
from acd.ari_sim.wav import write_wav
from acd.clock import Clock
from acd.daemon import Daemon
from ivr.speech import KK_WORDS

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_SOUNDS = Path("/usr/share/asterisk/sounds")
DEBIAN_VOICES = {"en": "en_US_f_Allison", "ru": "ru_RU_f_IvrvoiceRU"}
"""Where Debian's asterisk-core-sounds-{en,ru}-wav put the files. The ``en``/``ru`` links Asterisk looks
in come from the separate asterisk-core-sounds-{en,ru} packages (only recommended), so they may be absent."""
KK_DIGIT_S = 0.6
MENU_TIMEOUT_S = 30
"""The shipped menus wait 5 s for a key: a quarter of a real second at x20, which a busy machine can lose
between the simulated caller's key and the daemon's time-out. The harness gives them 30 s; tests of the
time-out itself only take a little longer."""
ALMATY = ZoneInfo("Asia/Almaty")
T = TypeVar("T")
TOKENS = {
    "admin": "t-admin",
    "supervisor": "t-super",
    "reports": "t-reports",
    **{f"agent{i}": f"t-agent{i}" for i in range(1, 9)},
}


def local_clock(iso_local: str, speed: float) -> Clock:
    start = datetime.fromisoformat(iso_local).replace(tzinfo=ALMATY)
    return Clock(start=start.timestamp(), anchor=time.time(), speed=speed)


def write_config(dest: Path, *, ari_url: str, db_url: str, recordings: Path, extra: str = "") -> Path:
    shutil.copytree(ROOT / "config", dest, ignore=shutil.ignore_patterns("acd.yaml"))
    agent_users = "\n".join(
        f"  - {{name: user{i}, role: agent, agent: agent{i}, token: t-agent{i}}}" for i in range(1, 9)
    )
    (dest / "acd.yaml").write_text(
        f"""
ari: {{url: "{ari_url}/ari", app: acd, user: acd, password: secret}}
database: {{url: "{db_url}", spool_dir: {dest.parent / "spool"}}}
paths: {{var: {dest.parent}, recordings: {recordings}, sounds: {ROOT / "var" / "sounds"}}}
timezone: Asia/Almaty
log: {{format: console, level: warning}}
http: {{host: 127.0.0.1, port: 0}}
users:
  - {{name: admin, role: admin, token: {TOKENS["admin"]}}}
  - {{name: supervisor, role: supervisor, token: {TOKENS["supervisor"]}}}
  - {{name: reports, role: reporting, token: {TOKENS["reports"]}}}
{agent_users}
{extra}
""",
        encoding="utf-8",
    )
    return dest


@dataclass
class Harness:
    tmp: Path
    clock: Clock
    sim: SimulatorHandle
    http: aiohttp.ClientSession
    config_dir: Path
    daemon: Daemon | None = None
    started: list[str] = field(default_factory=list)

    @property
    def sim_url(self) -> str:
        return self.sim.url

    @property
    def api(self) -> str:
        assert self.daemon is not None and self.daemon.port
        return f"http://127.0.0.1:{self.daemon.port}"

    async def seed_history(self, queue: str, *, services: int = 5, talk_s: float = 120.0) -> None:
        """Answered calls of ``queue`` yesterday in the CDR, so that the daemon's wait estimator starts with a
        basis (a new queue announces the position only until it has one: issue 11 §4)."""
        from sqlalchemy import insert

        from acd.settings import load_settings
        from cdr.db import make_engine, migrate
        from cdr.schema import calls

        db = make_engine(load_settings(self.config_dir / "acd.yaml").database.url.get_secret_value())
        try:
            await migrate(db)
            day_ago = datetime.fromtimestamp(self.clock.now() - 86400, UTC)
            rows = [{"id": f"history-{queue}-{i}", "direction": "inbound", "queue": queue,
                     "arrived_at": day_ago, "queued_at": day_ago, "outcome": "answered",
                     "wait_s": 10.0, "talk_s": talk_s} for i in range(services)]
            async with db.begin() as conn:
                await conn.execute(insert(calls), rows)
        finally:
            await db.dispose()

    async def start_daemon(self, initial_agent_state: str = "ready") -> Daemon:
        self.daemon = Daemon(
            self.config_dir,
            clock=self.clock,
            initial_agent_state=initial_agent_state,
            http_port=0,
            configure_logs=False,
        )
        await self.daemon.start()
        await asyncio.wait_for(self.daemon.stream.wait_connected(), 30)
        return self.daemon

    async def stop_daemon(self) -> None:
        if self.daemon is not None:
            await self.daemon.stop()
            self.daemon = None

    async def sim_post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.post(f"{self.sim_url}/_sim/{path}", json=body or {}) as r:
            data = await r.json(content_type=None)
            assert r.status < 300, (path, r.status, data)
            return data

    async def endpoint(self, name: str, **behaviour: Any) -> None:
        async with self.http.put(f"{self.sim_url}/_sim/endpoints/PJSIP/{name}", json=behaviour) as r:
            assert r.status < 300, await r.text()

    async def all_agents(self, **behaviour: Any) -> None:
        for i in range(1, 9):
            await self.endpoint(f"agent{i}", **behaviour)

    async def call(self, number: str = "193", caller: str = "77011234567", **kw: Any) -> str:
        data = await self.sim_post("calls", {"number": number, "caller": caller, **kw})
        cid = str(data.get("id") or data.get("channel_id") or data["channel"]["id"])
        self.started.append(cid)
        return cid

    async def state(self) -> dict[str, Any]:
        async with self.http.get(f"{self.sim_url}/_sim/state") as r:
            result: dict[str, Any] = await r.json()
            return result

    async def channel_alive(self, channel_id: str) -> bool:
        st = await self.state()
        chans = st.get("channels", [])
        ids = {
            c["id"] if isinstance(c, dict) else c
            for c in (chans.values() if isinstance(chans, dict) else chans)
        }
        return channel_id in ids

    async def wait_gone(self, channel_id: str, timeout_s: float = 20) -> None:
        await eventually(lambda: self._not_alive(channel_id), timeout_s, f"channel {channel_id} still up")

    async def _not_alive(self, channel_id: str) -> bool:
        return not await self.channel_alive(channel_id)

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        assert self.daemon is not None
        await self.daemon.writer.flush()
        async with self.daemon.db.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]

    async def call_row(self, call_id: str, *, complete: bool = True, timeout_s: float = 20) -> dict[str, Any]:
        async def ready() -> dict[str, Any] | None:
            found = await self.rows("SELECT * FROM calls WHERE id = :id", id=call_id)
            if found and (not complete or found[0]["ended_at"] is not None):
                return found[0]
            return None

        return await eventually(ready, timeout_s, f"no complete CDR row for {call_id}")

    async def api_get(self, path: str, who: str = "supervisor") -> tuple[int, Any]:
        async with self.http.get(
            f"{self.api}{path}", headers={"Authorization": f"Bearer {TOKENS[who]}"}
        ) as r:
            return r.status, await r.json(content_type=None)

    async def api_post(self, path: str, body: dict[str, Any], who: str = "supervisor") -> tuple[int, Any]:
        async with self.http.post(
            f"{self.api}{path}", json=body, headers={"Authorization": f"Bearer {TOKENS[who]}"}
        ) as r:
            return r.status, await r.json(content_type=None)


async def eventually(check: Callable[[], Awaitable[T | None | bool]], timeout_s: float, what: str) -> Any:
    """Poll a condition that has no event of its own (a row in the database, a channel gone in the
    simulator) until it holds; fail with ``what`` after ``timeout_s`` real seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s: {what}")
        await asyncio.sleep(0.05)


def asterisk_sounds(dest: Path) -> Path:
    """The sound folder as a real Asterisk with the project installed sees it, independent of this machine:
    Debian's English and Russian core sounds under ``en/`` and ``ru/`` (linked to the voice folders when the
    packages that add those links are not installed), and the Kazakh number words under ``kk/digits/`` that
    ``acd prompts build`` would generate (short tones here, so the harness needs no local build, and every
    file has a known length). Without them a spoken number fails and ends the announcement it is part of."""
    for lang, voice in DEBIAN_VOICES.items():
        for source in (SYSTEM_SOUNDS / lang, SYSTEM_SOUNDS / voice):
            if source.is_dir():
                (dest / lang).parent.mkdir(parents=True, exist_ok=True)
                (dest / lang).symlink_to(source, target_is_directory=True)
                break
    for word in [*map(str, KK_WORDS), "hundred"]:
        write_wav(dest / "kk" / "digits" / f"{word}.wav", KK_DIGIT_S)
    return dest


async def make_harness(
    tmp: Path,
    *,
    start_local: str = "2026-11-24T10:00:00",
    speed: float = 20.0,
    db_url: str | None = None,
    extra_config: str = "",
) -> Harness:
    clock = local_clock(start_local, speed)
    recordings = tmp / "recordings"
    sounds = [asterisk_sounds(tmp / "asterisk-sounds")]
    sim = await start_simulator(
        SimulatorConfig(
            port=0,
            password="secret",
            clock=clock,
            sounds=[s for s in sounds if s.is_dir()],
            recordings=recordings,
        )
    )
    db_url = db_url or f"sqlite+aiosqlite:///{tmp / 'acd.db'}"
    cfg = write_config(
        tmp / "config", ari_url=sim.url, db_url=db_url, recordings=recordings, extra=extra_config
    )
    for scenario in (cfg / "scenarios").glob("*.yaml"):
        text_ = scenario.read_text(encoding="utf-8")
        text_ = text_.replace("timeout_s: 5\n", f"timeout_s: {MENU_TIMEOUT_S}\n")
        scenario.write_text(text_, encoding="utf-8")
    http = aiohttp.ClientSession()
    return Harness(tmp=tmp, clock=clock, sim=sim, http=http, config_dir=cfg)


async def close_harness(h: Harness) -> None:
    """Stop everything the harness started, each part even if the one before failed: a daemon left
    running would close its database connections after the test's event loop is gone."""
    try:
        await h.stop_daemon()
    finally:
        try:
            await h.http.close()
        finally:
            await h.sim.stop()
