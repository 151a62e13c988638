"""Recording rows go through the CDR writer's durable path (issue 12 item 2, issue 9 §4, 10, 11 §3).

A row is never lost nor stuck at ``recording``: not in a database outage, not after a restart (the journal
of a killed daemon), not when Asterisk never reports the end. ``calls.recording_status`` and
``recordings.status`` always say the same thing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import cdr.db
from acd.engine.recorder import RecordingIndex
from acd.events import CallEvent, RecordingEvent
from cdr.journal import Journal
from cdr.schema import calls, recordings
from cdr.writer import CdrWriter
from recording.wavinfo import write_silence_wav

pytestmark = pytest.mark.timeout(60)

T0 = 1_795_379_400.0
NAME = "2026/11/23/c1"


def call_events(cid: str, *, name: str, ended: bool = True) -> list[CallEvent]:
    evs = [CallEvent(cid, "arrived", T0, {"caller": "77011234567", "dialled": "193"}),
           CallEvent(cid, "queued", T0 + 5, {"queue": "general"}),
           CallEvent(cid, "connected", T0 + 10, {"queue": "general", "agent": "a1"}),
           CallEvent(cid, "recording_started", T0 + 12, {"recording": name, "path": f"{name}.wav"})]
    if ended:
        evs += [CallEvent(cid, "recording_finished", T0 + 60, {"recording": name, "duration_s": 48}),
                CallEvent(cid, "ended", T0 + 60, {"by": "caller"})]
    return evs


async def rows(w: CdrWriter, cid: str) -> tuple[dict[str, Any], str | None]:
    async with w.engine.connect() as conn:
        rec = (await conn.execute(select(recordings).where(recordings.c.call_id == cid))).mappings().one()
        status = (await conn.execute(select(calls.c.recording_status).where(calls.c.id == cid))).scalar()
    return dict(rec), status


async def writer_for(tmp_path: Path) -> CdrWriter:
    w = CdrWriter(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}", tmp_path / "spool", retry_min_s=0.05,
                  retry_max_s=0.2)
    await w.start()
    return w


async def test_rows_complete_after_a_database_outage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdr.db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    root = tmp_path / "rec"
    w = await writer_for(tmp_path)
    index = RecordingIndex(w.engine, root, w, clock=lambda: T0 + 60)
    locker = sqlite3.connect(tmp_path / "acd.db", isolation_level=None, timeout=0.1)
    locker.execute("BEGIN IMMEDIATE")  # the outage: no write goes through from the call's start to its end
    try:
        evs = call_events("c1", name=NAME)
        for e in evs[:4]:
            w.emit(e)
        index.started(NAME, T0 + 12, call_id="c1", fmt="wav", kind="call", agent="a1")
        write_silence_wav(root / f"{NAME}.wav", 2.0)  # what Asterisk writes
        index.finished(NAME, T0 + 60)
        for e in evs[4:]:
            w.emit(e)
        await index.drain()
        assert not w.db_writable and w.spooled >= 8
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await asyncio.wait_for(w.wait_healthy(), 20)
    rec, status = await rows(w, "c1")
    assert (rec["status"], rec["duration_s"], rec["agent_id"]) == ("done", 2.0, "a1")
    assert rec["size_bytes"] > 0 and len(rec["sha256"]) == 64
    assert status == "done"
    assert w.rejected == 0
    await w.close()


async def test_a_file_missing_at_the_end_is_missing_in_both_tables(tmp_path: Path) -> None:
    w = await writer_for(tmp_path)
    index = RecordingIndex(w.engine, tmp_path / "rec", w)
    for e in call_events("c1", name=NAME):
        w.emit(e)
    index.started(NAME, T0 + 12, call_id="c1", fmt="wav", kind="call", agent="a1")
    index.finished(NAME, T0 + 60)  # Asterisk wrote the file elsewhere: the daemon finds nothing
    await index.drain()
    rec, status = await rows(w, "c1")
    assert rec["status"] == "missing" and "file not found" in rec["failure_reason"]
    assert status == "missing"  # the CDR's recording_finished event no longer says "done" alone
    await w.close()


async def test_rows_of_a_killed_daemon_complete_from_its_journal(tmp_path: Path) -> None:
    """kill -9 after the recording ended, before its batch was written: the next start completes the row,
    and a RecordingFinished that reaches the new process for a recording it did not start finishes it too."""
    root = tmp_path / "rec"
    write_silence_wav(root / f"{NAME}.wav", 3.0)
    dead = Journal(tmp_path / "spool")  # what the killed writer left behind
    dead.open()
    for e in call_events("c1", name=NAME):
        dead.write(e)
    dead.write(RecordingEvent(NAME, "started", T0 + 12, call_id="c1", fmt="wav", recording_kind="call",
                              agent="a1"))
    dead.write(RecordingEvent(NAME, "finished", T0 + 60, status="done", size_bytes=10, sha256="ab" * 32,
                              duration_s=3.0))
    other = "2026/11/23/c2"
    for e in call_events("c2", name=other, ended=False):
        dead.write(e)
    dead.write(RecordingEvent(other, "started", T0 + 12, call_id="c2", fmt="wav", recording_kind="call"))
    dead.close()

    w = await writer_for(tmp_path)
    rec, status = await rows(w, "c1")
    assert (rec["status"], rec["duration_s"], status) == ("done", 3.0, "done")
    index = RecordingIndex(w.engine, root, w)  # the new process: it never saw c2's recording start
    write_silence_wav(root / f"{other}.wav", 1.0)
    index.finished(other, T0 + 70)
    w.emit(CallEvent("c2", "ended", T0 + 70, {"by": "agent"}))
    await index.drain()
    rec, status = await rows(w, "c2")
    assert (rec["status"], rec["duration_s"], status) == ("done", 1.0, "done")
    await w.close()


async def test_stuck_rows_are_finished_once_their_call_is_over(tmp_path: Path) -> None:
    """RecordingFinished never came (lost event, a process killed in between): after the grace period the
    row is finished from the file, or marked missing; a recording whose call goes on is left alone."""
    root = tmp_path / "rec"
    w = await writer_for(tmp_path)
    names = {cid: f"2026/11/23/{cid}" for cid in ("c1", "c2", "c3")}
    for cid, name in names.items():
        for e in call_events(cid, name=name, ended=cid != "c3"):
            if e.kind != "recording_finished":
                w.emit(e)
        w.emit(RecordingEvent(name, "started", T0 + 12, call_id=cid, fmt="wav", recording_kind="call"))
    write_silence_wav(root / f"{names['c1']}.wav", 2.0)  # c2's file is gone; c3 is still talking
    await w.flush()
    assert (await rows(w, "c1"))[0]["status"] == "recording"

    early = RecordingIndex(w.engine, root, w, clock=lambda: T0 + 61)  # within the grace period
    assert await early.reconcile() == 0
    now = [T0 + 60 + 121]
    index = RecordingIndex(w.engine, root, w, clock=lambda: now[0], reconcile_every_s=3600)
    index.start()  # reconciles at start-up
    await asyncio.wait_for(index.round_done.wait(), 20)
    await index.stop()
    await index.drain()
    assert index.reconciled == 2
    rec1, st1 = await rows(w, "c1")
    rec2, st2 = await rows(w, "c2")
    rec3, st3 = await rows(w, "c3")
    assert (rec1["status"], rec1["duration_s"], st1) == ("done", 2.0, "done")
    assert (rec2["status"], st2) == ("missing", "missing") and "reconciliation" in rec2["failure_reason"]
    assert (rec3["status"], st3) == ("recording", "recording")
    await w.close()


async def test_a_replayed_start_never_takes_a_finished_row_back(tmp_path: Path) -> None:
    w = await writer_for(tmp_path)
    started = RecordingEvent(NAME, "started", T0 + 12, call_id="c1", fmt="wav", recording_kind="call")
    finished = RecordingEvent(NAME, "finished", T0 + 60, status="done", size_bytes=1, sha256="0" * 64,
                              duration_s=48.0)
    for e in [*call_events("c1", name=NAME), started, finished, started, finished]:
        w.emit(e)
    await w.flush()
    w.emit(started)  # a spool replayed once more, later
    await w.flush()
    rec, status = await rows(w, "c1")
    assert (rec["status"], rec["duration_s"], status) == ("done", 48.0, "done")
    await w.close()


@pytest.mark.postgres
async def test_rows_complete_after_a_postgres_table_lock(tmp_path: Path) -> None:
    """PostgreSQL variant: ``LOCK TABLE recordings`` (reads of the other tables work) for the whole call."""
    from sqlalchemy import text

    from tests.cdr.conftest import PG_SKIP, PG_URL, _pg_schema, _with_search_path

    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = "rec_lock_" + tmp_path.name[-8:].replace("-", "_").lower()
    await _pg_schema("create", schema)
    url = _with_search_path(PG_URL, schema)
    w = CdrWriter(url, tmp_path / "spool", retry_min_s=0.05, retry_max_s=0.2, lock_timeout_s=0.2)
    locker = cdr.db.make_engine(url)
    try:
        await w.start()
        root = tmp_path / "rec"
        index = RecordingIndex(w.engine, root, w)
        conn = await locker.connect()
        tx = await conn.begin()
        await conn.execute(text("LOCK TABLE recordings IN ACCESS EXCLUSIVE MODE"))
        evs = call_events("c1", name=NAME)
        for e in evs[:4]:
            w.emit(e)
        index.started(NAME, T0 + 12, call_id="c1", fmt="wav", kind="call", agent="a1")
        write_silence_wav(root / f"{NAME}.wav", 2.0)
        index.finished(NAME, T0 + 60)
        for e in evs[4:]:
            w.emit(e)
        await index.drain()
        assert not w.db_writable and w.spooled >= 8
        await tx.rollback()
        await conn.close()
        await asyncio.wait_for(w.wait_healthy(), 20)
        rec, status = await rows(w, "c1")
        assert (rec["status"], rec["duration_s"], status) == ("done", 2.0, "done")
        assert w.rejected == 0
    finally:
        await w.close()
        await locker.dispose()
        await _pg_schema("drop", schema)
