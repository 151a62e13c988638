"""Nothing lost, nothing doubled: the database goes away, records spool to disk, and come back in order."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from acd.events import AgentEvent, CallEvent
from bench.cdr import TcpProxy  # the same outage proxy as the 60 s soak
from cdr.schema import agent_state_log, call_events, calls
from cdr.spool import Spool
from cdr.writer import CdrWriter
from tests.cdr.conftest import _pg_schema, _with_search_path, aiosqlite_threads_finished
from tests.cdr.dataset import L, all_events


async def event_ids_in_db(writer: CdrWriter) -> list[str]:
    async with writer.engine.connect() as conn:
        return list((await conn.execute(select(call_events.c.event_id).order_by(call_events.c.id))).scalars())


async def test_sqlite_unreachable_then_back_replays_once_in_order(tmp_path: Path) -> None:
    db_dir = tmp_path / "not-yet"                      # SQLite cannot open a file in a missing directory
    w = CdrWriter(f"sqlite+aiosqlite:///{db_dir / 'cdr.db'}", tmp_path / "spool", retry_min_s=0.05,
                  retry_max_s=0.2)
    await w.start()                                    # must not fail: the daemon starts anyway
    events = all_events()
    for e in events:
        w.emit(e)
    await w.flush()
    lines = (tmp_path / "spool" / "spool.jsonl").read_bytes().splitlines()
    assert [orjson.loads(x)["event_id"] for x in lines] == [e.event_id for e in events]
    assert w.written == 0
    db_dir.mkdir()                                     # the database is back
    await asyncio.wait_for(w.wait_healthy(), 10)
    assert not (tmp_path / "spool" / "spool.jsonl").exists()
    call_ids = [e.event_id for e in events if isinstance(e, CallEvent)]
    assert await event_ids_in_db(w) == call_ids        # all of them, once, in emission order
    for e in events:                                   # a second replay of the same records
        w.emit(e)
    await w.flush()
    assert await event_ids_in_db(w) == call_ids
    async with w.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(calls))).scalar_one() == 14
        assert (await conn.execute(select(func.count()).select_from(agent_state_log))).scalar_one() == 8
    await w.close()
    await aiosqlite_threads_finished()  # the failed connects' threads (see there)


async def test_a_spool_left_by_a_crashed_daemon_is_replayed_at_start(tmp_path: Path) -> None:
    events = all_events()
    spool = Spool(tmp_path / "spool")
    spool.append(events[:40])
    with (tmp_path / "spool" / "spool.jsonl").open("ab") as fh:
        fh.write(b'{"type": "call", "call_id": "torn')       # the crash cut the last line
    w = CdrWriter(f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}", tmp_path / "spool")
    await w.start()
    assert await event_ids_in_db(w) == [e.event_id for e in events[:40] if isinstance(e, CallEvent)]
    assert not spool.pending()
    assert b"unreadable spool line 41" in (tmp_path / "spool" / "rejects.jsonl").read_bytes()
    await w.close()


async def test_emit_after_close_never_raises_and_the_record_survives(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}"
    w = CdrWriter(url, tmp_path / "spool")
    await w.start()
    await w.close()
    late = CallEvent("late", "ended", L(10, 0), {"by": "caller"})
    w.emit(late)                                       # a call ending during shutdown
    w.emit("not a record")  # type: ignore[arg-type]
    assert w.spooled == 1 and w.rejected == 1
    w2 = CdrWriter(url, tmp_path / "spool")
    await w2.start()                                   # the next start replays it
    assert await event_ids_in_db(w2) == [late.event_id]
    await w2.close()


@pytest.mark.postgres
async def test_postgres_outage_under_a_stream_of_events(pg_url: str, tmp_path: Path) -> None:
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    await proxy.open()
    schema = "cdr_outage_" + tmp_path.name[-8:].replace("-", "_").lower()
    await _pg_schema("create", schema)
    url = _with_search_path(u.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(False), schema)
    w = CdrWriter(url, tmp_path / "spool", retry_min_s=0.05, retry_max_s=0.3)
    try:
        await w.start()
        data = {"arrived": {"caller": "2581500"}, "ended": {"by": "caller"}}
        other = {"queue": "q", "agent": "a9"}
        stream = [CallEvent(f"s{i // 5:04d}", kind, 1_800_000_000 + i, data.get(kind, other))
                  for i, kind in enumerate(["arrived", "queued", "offered", "connected", "ended"] * 120)]
        stream += [AgentEvent("a9", "ready" if i % 2 else "not_ready", 1_800_000_000 + i, reason="break")
                   for i in range(40)]
        third = len(stream) // 3
        for e in stream[:third]:
            w.emit(e)
        await w.flush()
        assert w.written == third
        await proxy.close()                                 # the outage begins, mid-stream
        for e in stream[third:2 * third]:
            w.emit(e)
            await asyncio.sleep(0)                          # let the writer run between emits
        await w.flush()
        assert w.spooled > 0                                # records went to disk, not lost
        await proxy.open()                                  # the database is back
        for e in stream[2 * third:]:
            w.emit(e)
        await w.flush()
        await asyncio.wait_for(w.wait_healthy(), 15)
        for e in stream:                                    # and a full replay on top
            w.emit(e)
        await w.flush()
        async with w.engine.connect() as conn:
            n_events = (await conn.execute(select(func.count()).select_from(call_events))).scalar_one()
            distinct = select(func.count(func.distinct(call_events.c.event_id)))
            n_unique = (await conn.execute(distinct)).scalar_one()
            n_states = (await conn.execute(select(func.count()).select_from(agent_state_log))).scalar_one()
            n_calls = (await conn.execute(select(func.count()).select_from(calls)
                                          .where(calls.c.outcome == "answered"))).scalar_one()
        assert (n_events, n_unique, n_states, n_calls) == (600, 600, 40, 120)
    finally:
        await w.close()
        with contextlib.suppress(Exception):
            await proxy.close()
        await _pg_schema("drop", schema)


async def test_agent_totals_do_not_block_start_up_when_the_database_is_down(tmp_path: Path) -> None:
    w = CdrWriter(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'cdr.db'}", tmp_path / "spool")
    await w.start()
    assert await w.agent_totals(L(0, 0)) == {}
    await w.close()
    await aiosqlite_threads_finished()  # the failed connects' threads (see there)


async def test_records_of_a_killed_writer_are_recovered_from_the_journal(tmp_path: Path) -> None:
    """A process killed between emit() and its batch write (SIGKILL) leaves the records in the journal;
    the next writer stores them, once."""
    from cdr.journal import Journal
    from cdr.writer import CdrWriter

    url = f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}"
    spool = tmp_path / "spool"
    # what a killed writer leaves behind: journalled, never written (the journal of a live writer)
    dead = Journal(spool)
    dead.open()
    lost = [CallEvent("k1", "arrived", 1000.0, {"dialled": "193", "caller": "77011234567"}),
            CallEvent("k1", "ended", 1010.0, {"by": "caller"})]
    for r in lost:
        dead.write(r)
    dead.close()

    writer = CdrWriter(url, spool)
    await writer.start()
    writer.emit(lost[0])  # the same event again: idempotent
    await writer.flush()
    async with writer.engine.connect() as conn:
        n_events = (await conn.execute(text("SELECT count(*) FROM call_events WHERE call_id='k1'"))).scalar()
        row = (await conn.execute(text("SELECT outcome, ended_at FROM calls WHERE id='k1'"))).one()
    await writer.close()
    assert n_events == 2
    assert row.outcome == "missed_in_ivr" and row.ended_at is not None
    assert (spool / "journal.jsonl").stat().st_size == 0  # all stored: the journal is empty again
