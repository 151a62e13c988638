"""A voicemail left after hours becomes a callback due after 24 business hours when config/callbacks.yaml
says so (the CDR writer takes the daemon's plan); without it, the scenario's deadline stands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cdr.schema import callbacks
from cdr.writer import CdrWriter
from outbound.callbacks import CallbacksConfig, Plan
from tests.callbacks.test_due import OFFICE, at, local
from tests.cdr.dataset import L, all_events

TIMEOUT = 60
BUSINESS = Plan(CallbacksConfig.model_validate(
    {"schedule": "office", "deadlines": {"voicemail": {"within": "24h", "business_hours": True}}}), OFFICE)


@pytest.fixture
async def writer(db_url: str, tmp_path: Path) -> AsyncIterator[CdrWriter]:
    w = CdrWriter(db_url, tmp_path / "spool", clock=lambda: L(20, 0, day=24))
    await w.start()
    yield w
    await w.close()


async def _voicemail_due(writer: CdrWriter) -> float:
    for e in all_events():
        writer.emit(e)
    async with asyncio.timeout(TIMEOUT):
        await writer.flush()
    async with writer.engine.connect() as conn:
        cb = (await conn.execute(select(callbacks))).one()
    assert cb.reason == "voicemail"
    return float(cb.due_at.timestamp())


async def test_voicemail_callback_counts_business_hours_when_configured(writer: CdrWriter) -> None:
    writer.voicemail_due = lambda created: BUSINESS.due_at("voicemail", created)
    due = await _voicemail_due(writer)
    # the dataset's voicemail is left on Monday 2026-11-23 at 15:02:40 (Almaty): 2 h 57 min 20 s that day,
    # 9 h on Tuesday and Wednesday, the remaining 3 h 2 min 40 s on Thursday
    assert local(due).isoformat() == "2026-11-26T12:02:40"
    assert due > at(2026, 11, 24, 15, 2, 40)


async def test_without_the_setting_the_scenarios_deadline_stands(writer: CdrWriter) -> None:
    assert await _voicemail_due(writer) == L(15, 2, 40) + 24 * 3600
