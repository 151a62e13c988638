"""The escalation webhook: signed with HMAC-SHA256, retried while the service desk is down, and kept in the
database so that a restart of the sender (the daemon) loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

from outbound.callbacks import ServiceDesk as DeskConfig
from outbound.schema import webhook_outbox
from outbound.servicedesk import SIGNATURE_HEADER, Escalation, OutboxSender, enqueue, verify
from tests.callbacks.receiver import ServiceDesk
from tests.recording.dbutil import make_db

SECRET = "s3cret-shared-with-the-desk"
TIMEOUT = 30


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_db(tmp_path)
    yield engine
    await engine.dispose()


@pytest.fixture
async def desk() -> AsyncIterator[ServiceDesk]:
    d = ServiceDesk()
    await d.start()
    yield d
    await d.stop()


def _escalation() -> bytes:
    return Escalation(callback_id="cb-1", call_id="call-1", caller="+77011234567", topic="billing",
                      comment="needs a refund", recording_url="/api/recordings/7/audio", agent="a1",
                      escalated_by="agent1", due_at="2026-11-30T07:00:00+00:00").body()


def _sender(db: AsyncEngine, url: str) -> OutboxSender:
    cfg = DeskConfig(url=url, backoff_first=0.05, backoff_max=0.2, timeout=5)
    return OutboxSender(db, cfg, SECRET, clock=time.time, poll_s=0.05)


async def _enqueue(db: AsyncEngine, url: str) -> int:
    async with db.begin() as conn:
        return await enqueue(conn, url, "escalation", _escalation(), datetime.now(UTC))


async def _row_when(db: AsyncEngine, sender: OutboxSender, done: Callable[[Row[Any]], bool]) -> Row[Any]:
    """The outbox row once ``done`` holds, checked after each result the sender stores."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            sender.updated.clear()
            async with db.connect() as conn:
                row = (await conn.execute(select(webhook_outbox))).one()
            if done(row):
                return row
            await sender.updated.wait()


@contextlib.asynccontextmanager
async def _running(sender: OutboxSender) -> AsyncIterator[None]:
    task = asyncio.create_task(sender.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_delivery_is_signed_and_carries_the_escalation(db: AsyncEngine, desk: ServiceDesk) -> None:
    delivery = await _enqueue(db, desk.url)
    sender = _sender(db, desk.url)
    async with _running(sender):
        row = await _row_when(db, sender, lambda r: r.delivered_at is not None)
    [req] = desk.requests
    assert verify(req.body, SECRET, req.headers[SIGNATURE_HEADER])
    assert not verify(req.body, "another secret", req.headers[SIGNATURE_HEADER])
    assert req.headers["X-ACD-Delivery"] == str(delivery) and req.headers["X-ACD-Event"] == "escalation"
    data = json.loads(req.body)
    assert data["call"]["id"] == "call-1" and data["caller"] == "+77011234567"
    assert (data["topic"], data["comment"], data["agent"]) == ("billing", "needs a refund", "a1")
    assert data["recording_url"] == "/api/recordings/7/audio"
    assert row.attempts == 1


async def test_retried_while_down_and_kept_across_a_restart_of_the_sender(db: AsyncEngine,
                                                                         desk: ServiceDesk) -> None:
    desk.down = True
    await _enqueue(db, desk.url)
    first = _sender(db, desk.url)
    async with _running(first):              # refused, then retried after the back-off
        row = await _row_when(db, first, lambda r: r.attempts >= 2)
    assert row.delivered_at is None and row.last_error == "HTTP 503"
    desk.down = False                       # the desk is back; a new sender (daemon restart) finds the row
    second = _sender(db, desk.url)
    async with _running(second):
        row = await _row_when(db, second, lambda r: r.delivered_at is not None)
    accepted = [r for r in desk.requests if r.status == 200]
    assert len(accepted) == 1 and verify(accepted[0].body, SECRET, accepted[0].headers[SIGNATURE_HEADER])
    assert accepted[0].body == _escalation()
    assert row.attempts == desk.refusals() + 1


async def test_an_unreachable_desk_is_retried_too(db: AsyncEngine, desk: ServiceDesk) -> None:
    await desk.stop()                       # connection refused on that port
    await _enqueue(db, desk.url)
    sender = _sender(db, desk.url)
    async with _running(sender):
        row = await _row_when(db, sender, lambda r: r.attempts >= 2)
    assert row.delivered_at is None and "Error" in (row.last_error or "")


async def test_daemon_hook_refuses_a_webhook_without_its_secret(tmp_path: Path, db: AsyncEngine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp import web

    from acd.web.callbacks import CALLBACKS, start_callbacks
    from acd.yamlconf import ConfigError

    (tmp_path / "callbacks.yaml").write_text(
        "service_desk: {url: 'http://127.0.0.1:9/hook', secret_env: ACD_TEST_DESK_SECRET}\n",
        encoding="utf-8")
    monkeypatch.delenv("ACD_TEST_DESK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="ACD_TEST_DESK_SECRET"):
        start_callbacks(web.Application(), tmp_path, {}, db, time.time)
    monkeypatch.setenv("ACD_TEST_DESK_SECRET", SECRET)
    app = web.Application()
    tasks = start_callbacks(app, tmp_path, {}, db, time.time)
    try:
        assert [t.get_name() for t in tasks] == ["servicedesk-outbox"]
        assert app[CALLBACKS].webhook_url == "http://127.0.0.1:9/hook" and app[CALLBACKS].sender is not None
    finally:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
