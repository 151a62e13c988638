"""A database that refuses writes for a while (a lock held by someone else) loses no record and rejects none.

Issue 12 item 3: while reads still worked, the writer took the failed write for a bad record, split the batch
and wrote every valid record to ``rejects.jsonl``, which nothing replays. Only a value the schema cannot hold
may be a reject; a lock is a reason to spool and retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import cdr.db
from acd.events import AgentEvent, CallEvent
from cdr.schema import agent_state_log, call_events, calls
from cdr.writer import CdrWriter
from tests.cdr.conftest import PG_SKIP, PG_URL, _pg_schema, _with_search_path

pytestmark = pytest.mark.timeout(60)

T0 = 1_800_000_000.0


def a_day_of_calls(n: int = 12) -> list[CallEvent | AgentEvent]:
    out: list[CallEvent | AgentEvent] = []
    for i in range(n):
        cid = f"lock{i:03d}"
        t = T0 + 100 * i
        out += [CallEvent(cid, "arrived", t, {"caller": "77011234567", "dialled": "193"}),
                CallEvent(cid, "queued", t + 5, {"queue": "general", "priority": 0}),
                CallEvent(cid, "connected", t + 20, {"queue": "general", "agent": "a1"}),
                CallEvent(cid, "ended", t + 80, {"by": "caller"}),
                AgentEvent("a1", "on_call", t + 20, previous="ready", call_id=cid),
                AgentEvent("a1", "ready", t + 80, previous="on_call")]
    return out


async def counts(w: CdrWriter) -> tuple[int, int, int]:
    async with w.engine.connect() as conn:
        n_ev = (await conn.execute(select(func.count()).select_from(call_events))).scalar_one()
        n_ag = (await conn.execute(select(func.count()).select_from(agent_state_log))).scalar_one()
        n_done = (await conn.execute(select(func.count()).select_from(calls).where(
            calls.c.caller.is_not(None), calls.c.ended_at.is_not(None)))).scalar_one()
    return n_ev, n_ag, n_done


async def test_an_sqlite_writer_lock_spools_and_rejects_nothing(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdr.db, "SQLITE_BUSY_TIMEOUT_MS", 100)  # give up on the lock fast (45 s in the field)
    path = tmp_path / "cdr.db"
    w = CdrWriter(f"sqlite+aiosqlite:///{path}", tmp_path / "spool", retry_min_s=0.05, retry_max_s=0.2)
    await w.start()
    events = a_day_of_calls()
    half = len(events) // 2
    for e in events[:half]:
        w.emit(e)
    await w.flush()
    assert w.db_writable

    other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock; readers still read (WAL)
    try:
        for e in events[half:]:
            w.emit(e)
        await w.flush()  # the batch could not be written: it went to the spool, not to the rejects
        assert not w.db_writable
        assert w.spooled > 0
        async with w.engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    await asyncio.wait_for(w.wait_healthy(), 20)
    assert w.db_writable
    assert await counts(w) == (48, 24, 12)
    assert w.rejected == 0 and not (tmp_path / "spool" / "rejects.jsonl").exists()
    await w.close()


async def test_a_value_the_schema_refuses_is_still_a_reject(tmp_path: Path) -> None:
    """The other side: a record the database refuses for its own value is isolated, the others kept."""
    w = CdrWriter(f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}", tmp_path / "spool")
    await w.start()
    good = a_day_of_calls(2)
    bad = CallEvent("x" * 10, "arrived", float("1e20"), {})  # a year no timestamp column can hold
    for e in [*good[:3], bad, *good[3:]]:
        w.emit(e)
    await w.flush()
    assert w.rejected == 1 and w.db_writable
    assert await counts(w) == (8, 4, 2)
    await w.close()


@pytest.fixture
async def pg_db(tmp_path: Path) -> AsyncIterator[str]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = "cdr_lock_" + tmp_path.name[-8:].replace("-", "_").lower()
    await _pg_schema("create", schema)
    try:
        yield _with_search_path(PG_URL, schema)
    finally:
        await _pg_schema("drop", schema)


@pytest.mark.postgres
async def test_a_postgres_table_lock_spools_and_rejects_nothing(pg_db: str, tmp_path: Path) -> None:
    w = CdrWriter(pg_db, tmp_path / "spool", retry_min_s=0.05, retry_max_s=0.2, lock_timeout_s=0.2)
    await w.start()
    events = a_day_of_calls()
    half = len(events) // 2
    for e in events[:half]:
        w.emit(e)
    await w.flush()
    locker = cdr.db.make_engine(pg_db)
    conn = await locker.connect()
    tx = await conn.begin()
    try:
        await conn.execute(text("LOCK TABLE call_events IN ACCESS EXCLUSIVE MODE"))
        for e in events[half:]:
            w.emit(e)
        await w.flush()
        assert not w.db_writable and w.spooled > 0
    finally:
        with contextlib.suppress(Exception):
            await tx.rollback()
        await conn.close()
        await locker.dispose()
    await asyncio.wait_for(w.wait_healthy(), 20)
    assert await counts(w) == (48, 24, 12)
    assert w.rejected == 0 and not (tmp_path / "spool" / "rejects.jsonl").exists()
    await w.close()
