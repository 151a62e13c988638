from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recording import store
from recording.wavinfo import write_silence_wav
from tests.recording.dbutil import add_call, make_db, utc

ALMATY = ZoneInfo("Asia/Almaty")


async def test_finish_measures_the_file_and_missing_file_is_reported(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    root = tmp_path / "rec"
    rid = await store.register_started(db, call_id="c1", name="2026/11/23/c1", fmt="wav",
                                       started_at=utc(2026, 11, 23, 5, 0), agent_id="a1")
    write_silence_wav(root / "2026/11/23/c1.wav", 3.0)
    row = await store.finish(db, rid, root=root, ended_at=utc(2026, 11, 23, 5, 0, 3))
    assert row["status"] == "done"
    assert row["duration_s"] == pytest.approx(3.0)
    assert row["size_bytes"] == 44 + 3 * 16000
    assert len(row["sha256"]) == 64

    lost = await store.register_started(db, call_id="c2", name="2026/11/23/c2", fmt="wav",
                                        started_at=utc(2026, 11, 23, 6, 0))
    row2 = await store.finish(db, lost, root=root, ended_at=utc(2026, 11, 23, 6, 1))
    assert row2["status"] == "missing"
    assert "not found" in row2["failure_reason"]

    failed = await store.register_started(db, call_id="c3", name="2026/11/23/c3", fmt="wav",
                                          started_at=utc(2026, 11, 23, 7, 0))
    await store.mark_failed(db, failed, "disk full")
    got = await store.get_recording(db, failed)
    assert got is not None and got["status"] == "failed" and got["failure_reason"] == "disk full"
    await db.dispose()


async def _seed(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = await make_db(tmp_path)
    # c-late: 2026-11-22 20:00 UTC = 23 Nov 01:00 in Almaty; c-day: 23 Nov 10:00 local; c-next: 24 Nov local
    await add_call(db, "c-late", caller="+77011112233", agent="a1", queue="general", topic="tax")
    await add_call(db, "c-day", caller="+77272581500", agent="a2", queue="second_line", topic="refund")
    await add_call(db, "c-next", caller="+77011112233", agent="a2", queue="general", topic="tax")
    ids = {}
    for call, at in (("c-late", utc(2026, 11, 22, 20, 0)), ("c-day", utc(2026, 11, 23, 5, 0)),
                     ("c-next", utc(2026, 11, 23, 19, 30))):
        ids[call] = await store.register_started(db, call_id=call, name=f"x/{call}", fmt="wav", started_at=at)
    return db, ids


async def test_search_filters_by_caller_local_dates_agent_queue_topic_call(tmp_path: Path) -> None:
    db, ids = await _seed(tmp_path)

    async def found(**kw: object) -> list[str]:
        rows = await store.search(db, store.SearchFilter(**kw), ALMATY)  # type: ignore[arg-type]
        return sorted(r["call_id"] for r in rows)

    assert await found(date_from=date(2026, 11, 23), date_to=date(2026, 11, 23)) == ["c-day", "c-late"]
    assert await found(date_from=date(2026, 11, 24)) == ["c-next"]
    assert await found(caller="1112233") == ["c-late", "c-next"]
    assert await found(agent="a2") == ["c-day", "c-next"]
    assert await found(queue="second_line") == ["c-day"]
    assert await found(topic="tax", date_to=date(2026, 11, 23)) == ["c-late"]
    assert await found(call_id="c-next") == ["c-next"]
    assert await found(only_agent="a1") == ["c-late"]
    assert await found(caller="%") == []  # LIKE wildcards are literal
    row = await store.get_recording(db, ids["c-day"])
    assert row is not None and row["caller"] == "+77272581500" and row["call_agent"] == "a2"
    await db.dispose()


def test_impossible_date_range_is_refused() -> None:
    with pytest.raises(ValueError, match="impossible date range"):
        store.SearchFilter(date_from=date(2026, 11, 24), date_to=date(2026, 11, 23))


def test_access_rule() -> None:
    row = {"agent_id": None, "call_agent": "a1"}
    assert store.may_access(row, role="agent", agent="a1")
    assert not store.may_access(row, role="agent", agent="a2")
    assert store.may_access(row, role="supervisor", agent=None)
    assert not store.may_access(row, role="reporting", agent=None)
