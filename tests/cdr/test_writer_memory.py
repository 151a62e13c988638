"""The writer's memories (issue 11 §6): a call's stored events and each agent's last state row are kept in
memory between batches. These tests catch a fold from a stale or partial memory: a restarted writer, a
replayed duplicate, an agent's record older than its last stored one, and a mixed stream whose rows must
equal those of a writer that reads everything back from the database on every batch (as before)."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from acd.events import AgentEvent, CallEvent, CdrRecord, RecordingEvent
from bench.cdr import daemon_call
from cdr.schema import agent_state_log, callbacks, calls, cdr, queue_log, recordings
from cdr.writer import CdrWriter
from tests.cdr.conftest import PG_URL, _pg_schema, _with_search_path
from tests.cdr.dataset import L, all_events

pytestmark = pytest.mark.timeout(60)
T = L(10, 0)


def _writer(url: str, spool: Path) -> CdrWriter:
    return CdrWriter(url, spool, clock=lambda: L(20, 0, day=24))


async def _write(w: CdrWriter, chunks: Sequence[Sequence[CdrRecord]]) -> None:
    for chunk in chunks:  # each chunk is one batch: emitted, then flushed
        for rec in chunk:
            w.emit(rec)
        await w.flush()


async def _rows(url: str, spool: Path, table: Table, key: str) -> dict[Any, dict[str, Any]]:
    w = _writer(url, spool)
    try:
        async with w.engine.connect() as conn:
            rows = (await conn.execute(select(table))).mappings().all()
    finally:
        await w.engine.dispose()
    return {r[key]: {k: v for k, v in r.items() if k != "id"} for r in rows}


@pytest.fixture
async def writer(db_url: str, tmp_path: Path) -> AsyncIterator[CdrWriter]:
    w = _writer(db_url, tmp_path / "spool")
    await w.start()
    yield w
    await w.close()


async def test_a_restarted_writer_folds_an_old_call_from_its_stored_events(db_url: str,
                                                                          tmp_path: Path) -> None:
    first = _writer(db_url, tmp_path / "spool")
    await first.start()
    await _write(first, [[CallEvent("r1", "arrived", T, {"caller": "87011234567"}),
                          CallEvent("r1", "queued", T + 5, {"queue": "general"})]])
    await first.close()
    again = _writer(db_url, tmp_path / "spool")  # a new process: nothing of r1 in memory
    await again.start()
    await _write(again, [[CallEvent("r1", "connected", T + 25, {"queue": "general", "agent": "a1"})],
                         [CallEvent("r1", "ended", T + 85, {"by": "caller"})]])
    await again.close()
    row = (await _rows(db_url, tmp_path / "spool", calls, "id"))["r1"]
    assert row["caller"] == "+77011234567" and row["queue"] == "general"
    assert row["wait_s"] == pytest.approx(20) and row["talk_s"] == pytest.approx(60)
    assert row["outcome"] == "answered"


async def test_a_replayed_duplicate_doubles_nothing(writer: CdrWriter, db_url: str, tmp_path: Path) -> None:
    offered = CallEvent("d1", "offered", T + 6, {"queue": "general", "agent": "a1"})
    ringing = AgentEvent("a1", "ringing", T + 6, previous="ready", call_id="d1")
    await _write(writer, [[CallEvent("d1", "arrived", T, {}),
                           CallEvent("d1", "queued", T + 5, {"queue": "general"}),
                           AgentEvent("a1", "ready", T), offered, ringing]])
    # the same records again (a spool replay, a journal recovered after kill -9), twice in one batch too
    await _write(writer, [[offered, ringing, offered],
                          [CallEvent("d1", "ring_no_answer", T + 21, {"queue": "general", "agent": "a1"}),
                           AgentEvent("a1", "not_ready", T + 21, previous="ringing", reason="no_answer"),
                           ringing]])
    row = (await _rows(db_url, tmp_path / "spool", calls, "id"))["d1"]
    assert row["offers"] == 1 and row["ring_no_answers"] == 1 and row["ring_s"] == pytest.approx(15)
    states = await _rows(db_url, tmp_path / "spool", agent_state_log, "event_id")
    assert sorted((r["state"], r["duration_s"]) for r in states.values()) == [
        ("not_ready", None), ("ready", 6.0), ("ringing", 15.0)]
    ql = [r["event"] for r in (await _rows(db_url, tmp_path / "spool", queue_log, "event_id")).values()]
    assert sorted(ql) == ["AGENTLOGIN", "ENTERQUEUE", "PAUSE", "RINGNOANSWER"]


async def test_an_agent_record_older_than_the_last_stored_gets_the_right_durations(
        writer: CdrWriter, db_url: str, tmp_path: Path) -> None:
    await _write(writer, [[AgentEvent("a1", "ready", T, previous="logged_out")],
                          [AgentEvent("a1", "on_call", T + 30, previous="ready")]])
    # a record of the time between, written later (a spool replayed after newer records went in)
    await _write(writer, [[AgentEvent("a1", "not_ready", T + 10, previous="ready", reason="break")],
                          [AgentEvent("a1", "wrap_up", T + 50, previous="on_call")]])
    states = await _rows(db_url, tmp_path / "spool", agent_state_log, "event_id")
    assert sorted((r["at"].timestamp() - T, r["state"], r["duration_s"]) for r in states.values()) == [
        (0, "ready", 10.0), (10, "not_ready", 20.0), (30, "on_call", 20.0), (50, "wrap_up", None)]


def _mixed_stream(seed: int) -> list[list[CdrRecord]]:
    """The test day's calls and agents and a few of the daemon's recorded calls, cut into batches at
    random, with duplicates (replays) and agent records moved later (out of order)."""
    rnd = random.Random(seed)
    records: list[CdrRecord] = list(all_events())
    for i in range(6):
        records += [rec for _, rec in daemon_call(i, T + i * 0.7, f"b{i % 3}")]
    records.sort(key=lambda r: r.at)
    for _ in range(8):  # an agent's record arriving after later ones
        i = rnd.randrange(len(records) - 5)
        if isinstance(records[i], AgentEvent):
            records.insert(i + rnd.randint(1, 5), records.pop(i))
    records += rnd.sample(records, 15)  # replays
    chunks: list[list[CdrRecord]] = []
    while records:
        n = rnd.randint(1, 12)
        chunks.append(records[:n])
        del records[:n]
    return chunks


@pytest.mark.parametrize("seed", [1, 2])
async def test_rows_equal_those_of_a_writer_that_reads_everything_back(db_url: str, tmp_path: Path,
                                                                      seed: int) -> None:
    chunks = _mixed_stream(seed)
    half = len(chunks) // 2
    if db_url.startswith("sqlite"):
        plain_url = f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}"
    else:
        assert PG_URL
        schema = f"cdr_test_{uuid.uuid4().hex[:12]}"
        await _pg_schema("create", schema)
        plain_url = _with_search_path(PG_URL, schema)
    try:
        for url, memory in ((db_url, True), (plain_url, False)):
            for part in (chunks[:half], chunks[half:]):  # a restart half-way: a new writer, memory empty
                w = _writer(url, tmp_path / f"spool-{memory}")
                if not memory:
                    w.live_calls = 0  # every batch reads its calls and agents back from the database
                await w.start()
                await _write(w, part)
                await w.close()
        for table, key in ((calls, "id"), (agent_state_log, "event_id"), (queue_log, "event_id"),
                           (cdr, "uniqueid"), (recordings, "name"), (callbacks, "id")):
            mine = await _rows(db_url, tmp_path / "spool-True", table, key)
            plain = await _rows(plain_url, tmp_path / "spool-False", table, key)
            assert mine == plain, table.name
        assert len(mine) and any(isinstance(r, RecordingEvent) for c in chunks for r in c)
    finally:
        if not db_url.startswith("sqlite"):
            await _pg_schema("drop", schema)
