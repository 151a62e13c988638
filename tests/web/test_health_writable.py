"""/health says when the database reads but does not take writes (issue 12 item 3: a writer lock held)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from acd.settings import Settings
from acd.web.app import create_app
from tests.recording.dbutil import make_db
from tests.web.conftest import USERS, FakeEngine


@dataclass
class _LockedWriterEngine(FakeEngine):
    writable: bool = False

    def db_writable(self) -> bool | None:
        return self.writable


async def test_health_is_503_while_the_cdr_writer_cannot_write(aiohttp_client: Any, tmp_path: Any) -> None:
    db = await make_db(tmp_path)  # reachable: SELECT 1 works
    engine = _LockedWriterEngine()
    app = create_app(settings=Settings(users=USERS), engine=engine, db=db, metrics=CollectorRegistry(),
                     clock=lambda: 0.0)
    client = await aiohttp_client(app)
    r = await client.get("/health")
    body = await r.json()
    assert r.status == 503 and body["status"] == "degraded"
    assert body["db_reachable"] is True and body["db_writable"] is False
    engine.writable = True
    r = await client.get("/health")
    assert r.status == 200 and (await r.json())["db_writable"] is True
    await db.dispose()
