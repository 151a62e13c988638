"""The daemon's recording index at shutdown: the rows queued so far are written, and the task ends between
two database operations, so no connection is closed after the event loop (issue 9)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from acd.engine.recorder import RecordingIndex
from tests.recording.dbutil import add_call, make_db

T0 = 1795379400.0


async def test_stopping_the_index_writes_what_is_queued_first(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    try:
        for i in range(20):
            await add_call(db, f"c{i}")
        index = RecordingIndex(db, tmp_path / "rec")
        index.start()
        for i in range(20):
            index.started(f"2026/11/23/c{i}", T0 + i, call_id=f"c{i}", fmt="wav", kind="call", agent="a1")
        await index.stop()
        async with db.connect() as conn:
            written = (await conn.execute(text("SELECT count(*) FROM recordings"))).scalar()
        assert written == 20
    finally:
        await db.dispose()
