"""Fixtures for the ARI simulator tests: a simulator on a free port, and a plain aiohttp ARI client that
checks every request and every event against Asterisk's api-docs with the shared conformance tool."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from acd.ari_sim import SimulatorConfig, start_simulator
from acd.ari_sim.server import SimulatorHandle
from acd.ari_sim.wav import write_wav

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
sys.path.insert(0, str(SHARED / "tools"))
from ari_conformance import Spec  # noqa: E402

ARI_DIR = SHARED / "asterisk-ari"
SPEED = 50.0
AUTH = {"Authorization": "Basic " + base64.b64encode(b"acd:secret").decode()}

_SPEC: Spec | None = None


def spec() -> Spec:
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec.load(ARI_DIR / "api-docs")
    return _SPEC


SOUNDS = {
    "en/hello-world": 1.5,
    "ru/hello-world": 4.0,
    "en/digits/1": 0.5,
    "en/digits/2": 0.5,
    "en/digits/3": 0.5,
    "en/digits/4": 0.5,
    "en/digits/5": 0.5,
    "en/digits/7": 0.5,
    "en/vm-goodbye": 1.0,
    "en/demo-instruct": 70.0,
    "en/acd-welcome": 5.0,
    "en/acd/sorry_unavailable": 3.0,
}


@pytest.fixture(scope="session")
def sounds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sounds")
    for name, secs in SOUNDS.items():
        write_wav(base / f"{name}.wav", secs, tone=False)
    return base


class Ari:
    """A minimal ARI client for tests: REST calls validated by the conformance tool, events collected."""

    def __init__(self, handle: SimulatorHandle, session: aiohttp.ClientSession) -> None:
        self.handle = handle
        self.url = handle.url
        self.session = session
        self.events: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._changed = asyncio.Event()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, app: str = "acd") -> None:
        self.ws = await self.session.ws_connect(f"{self.url}/ari/events?app={app}", headers=AUTH)
        self._reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                self.problems += [f"{event.get('type')}: {p}" for p in spec().check_event(event)]
                self.events.append(event)
                self._changed.set()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader

    async def req(self, method: str, path: str, *, check: bool = True, json_body: Any = None,
                  **params: Any) -> tuple[int, Any]:
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
        async with self.session.request(method, f"{self.url}/ari{path}", params=query, json=json_body,
                                        headers=AUTH) as r:
            raw = await r.read()
            body = json.loads(raw) if raw and r.content_type == "application/json" else (raw or None)
        if check:
            problems, _notes = spec().check_exchange(method, path, query, r.status, body, json_body)
            self.problems += [f"{method} {path}: {p}" for p in problems]
        return r.status, body

    async def sim(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.url}/_sim{path}", json=body) as r:
            assert r.status < 300, (r.status, await r.text())
            return await r.json()

    def since(self, mark: int, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events[mark:] if kind is None or e["type"] == kind]

    async def wait(self, kind: str, pred: Callable[[dict[str, Any]], bool] = lambda e: True,
                   since: int = 0, within: float = 5.0) -> dict[str, Any]:
        """The first event of ``kind`` after index ``since`` matching ``pred`` (awaited, not slept for)."""
        async def scan() -> dict[str, Any]:
            i = since
            while True:
                while i < len(self.events):
                    e = self.events[i]
                    i += 1
                    if e["type"] == kind and pred(e):
                        return e
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), within)


def chan(cid: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: (e.get("channel") or e.get("peer") or {}).get("id") == cid


@pytest.fixture
async def sim(tmp_path: Path, sounds_dir: Path) -> AsyncIterator[SimulatorHandle]:
    handle = await start_simulator(SimulatorConfig(port=0, clock=f"speed={SPEED:g}", sounds=[sounds_dir],
                                                   recordings=tmp_path / "recordings"))
    yield handle
    await handle.stop()


@pytest.fixture
async def ari(sim: SimulatorHandle) -> AsyncIterator[Ari]:
    async with aiohttp.ClientSession() as session:
        client = Ari(sim, session)
        await client.connect()
        yield client
        await client.close()
        assert client.problems == [], client.problems[:10]
