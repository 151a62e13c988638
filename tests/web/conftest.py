"""The API over real HTTP (aiohttp's test server on loopback) with a fake engine and a SQLite database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, Counter
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.settings import PathSettings, Settings, User
from acd.web.app import create_app
from recording.qa import load_forms
from tests.recording.dbutil import make_db

REPO = Path(__file__).resolve().parents[2]

TOKENS = {
    "agent1": "tok-agent-1", "agent2": "tok-agent-2", "sup": "tok-sup",
    "admin": "tok-admin", "rep": "tok-rep",
}
USERS = [
    User(name="agent1", role="agent", agent="a1", token=SecretStr(TOKENS["agent1"])),
    User(name="agent2", role="agent", agent="a2", token=SecretStr(TOKENS["agent2"])),
    User(name="sup", role="supervisor", token=SecretStr(TOKENS["sup"])),
    User(name="admin", role="admin", token=SecretStr(TOKENS["admin"])),
    User(name="rep", role="reporting", token=SecretStr(TOKENS["rep"])),
]
ROLE_USER = {"agent": "agent1", "supervisor": "sup", "admin": "admin", "reporting": "rep"}


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[user]}"}


@dataclass
class FakeEngine:
    """What the daemon would answer; records the changes asked of it."""

    connected: bool = True
    agents: dict[str, str] = field(default_factory=lambda: {"a1": "logged_out", "a2": "ready"})
    calls: dict[str, str] = field(default_factory=lambda: {"call-1": "a1"})
    state_changes: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    topics: list[tuple[str, str, str | None, str]] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {"queues": {"general": {"waiting": 2, "ewt_s": 40}},
                "agents": {a: {"state": s} for a, s in self.agents.items()},
                "calls": {c: {"agent": a, "caller": "+77011234567"} for c, a in self.calls.items()}}

    def ari_connected(self) -> bool:
        return self.connected

    def not_ready_reasons(self) -> Sequence[str]:
        return ["break", "lunch", "training"]

    def agent_of_call(self, call_id: str) -> str | None:
        return self.calls.get(call_id)

    async def set_agent_state(self, agent_id: str, state: str, reason: str | None, by: str | None) -> None:
        if agent_id not in self.agents:
            raise KeyError(agent_id)
        if state == "ready" and self.agents[agent_id] == "on_call":
            raise ValueError("agent is on a call: ready after the call")
        self.agents[agent_id] = state
        self.state_changes.append((agent_id, state, reason, by))

    async def set_topic(self, call_id: str, topic: str, comment: str | None, by: str) -> None:
        if call_id not in self.calls:
            raise KeyError(call_id)
        self.topics.append((call_id, topic, comment, by))

    async def set_agent_queues(self, agent_id: str, queues: list[str], by: str | None) -> None:
        if agent_id not in self.agents:
            raise KeyError(agent_id)
        if "general" not in queues:
            raise ValueError("queue 'general' is not optional: every agent of it works it")
        self.state_changes.append((agent_id, "queues:" + ",".join(queues), None, by))

    async def extend_wrapup(self, agent_id: str) -> float:
        raise ValueError("this queue does not allow more wrap-up time")


@dataclass
class Api:
    client: TestClient
    engine: FakeEngine
    db: AsyncEngine
    root: Path
    clock: list[float]


@pytest.fixture
async def api(aiohttp_client: Any, tmp_path: Path) -> Any:
    db = await make_db(tmp_path)
    root = tmp_path / "recordings"
    root.mkdir()
    settings = Settings(users=USERS, paths=PathSettings(recordings=root))
    registry = CollectorRegistry()
    Counter("acd_calls_offered", "calls offered", registry=registry).inc(3)
    engine = FakeEngine()
    now = [1795400000.0]  # 2026-11-23 ~04:13 UTC
    app = create_app(settings=settings, engine=engine, db=db, metrics=registry, clock=lambda: now[0],
                     qa_forms=load_forms(REPO / "config" / "qa"))
    client = await aiohttp_client(app)
    yield Api(client, engine, db, root, now)
    await db.dispose()
