"""The API while the database is down, and dates no day bounds can hold (issue 12 item 9)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import create_async_engine

from acd.settings import Settings
from acd.web.app import create_app
from recording.audit import access_log
from tests.web.conftest import USERS, Api, FakeEngine, auth


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
async def down(aiohttp_client: Any) -> AsyncIterator[TestClient]:
    """A real PostgreSQL engine whose server is not there: asyncpg raises ConnectionRefusedError as is."""
    db = create_async_engine(f"postgresql+asyncpg://acd:pw@127.0.0.1:{_closed_port()}/acd")
    app = create_app(settings=Settings(users=USERS), engine=FakeEngine(), db=db,
                     metrics=CollectorRegistry(), clock=lambda: 1795400000.0)
    yield await aiohttp_client(app)
    await db.dispose()


@pytest.mark.parametrize("url", [
    "/api/recordings", "/api/recordings?from=2026-11-01&to=2026-11-30", "/api/recordings/7",
    "/api/recordings/7/audio", "/api/reports/daily?from=2026-11-01&to=2026-11-30",
    "/api/reports/hourly?from=2026-11-01&to=2026-11-01",
])
async def test_database_down_is_503_not_500(down: TestClient, url: str) -> None:
    r = await down.get(url, headers=auth("sup"))
    assert r.status == 503, await r.text()
    assert "database unavailable" in (await r.json())["error"]


@pytest.mark.parametrize(("query", "field"), [
    ("from=0001-01-01&to=9999-12-31", "from"), ("from=2026-11-01&to=9999-12-31", "to"),
    ("from=0001-01-01&to=2026-11-01", "from"),
])
async def test_dates_out_of_range_are_a_400_naming_the_field_and_audit_nothing(
    api: Api, query: str, field: str
) -> None:
    for url in (f"/api/recordings?{query}", f"/api/reports/daily?{query}", f"/api/qa/agents?{query}"):
        r = await api.client.get(url, headers=auth("sup"))
        assert r.status == 400, (url, await r.text())
        body = await r.json()
        assert body["field"] == field and "out of range" in body["error"]
    assert await access_log(api.db) == []
