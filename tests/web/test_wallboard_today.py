"""R23: a restart does not zero the wall. The daemon reads today's answered, lost, short-lost and service
level back from the CDR at start, "today" being the local day of the configured time zone (Almaty, UTC+5):
a call answered at 01:00 local counts although it is still yesterday in UTC, one answered at 23:00 local
yesterday does not although it is the same UTC date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from acd.settings import load_settings
from cdr.db import make_engine, migrate
from cdr.schema import calls
from tests.e2e.harness import ALMATY, close_harness, make_harness

pytestmark = pytest.mark.timeout(60)


def _row(call_id: str, local: str, outcome: str, wait_s: float, *, queue: str = "general") -> dict[str, Any]:
    queued = datetime.fromisoformat(local).replace(tzinfo=ALMATY).astimezone(UTC)
    row: dict[str, Any] = {"id": call_id, "direction": "inbound", "queue": queue, "arrived_at": queued,
                           "queued_at": queued, "outcome": outcome, "wait_s": wait_s,
                           "ended_at": queued + timedelta(seconds=wait_s + 60), "connected_at": None,
                           "talk_s": None}
    if outcome == "answered":
        row["connected_at"] = queued + timedelta(seconds=wait_s)
        row["talk_s"] = 60.0
    return row


async def test_todays_figures_come_back_from_the_cdr_after_a_restart(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, start_local="2026-11-24T03:00:00", speed=1.0)
    try:
        db = make_engine(load_settings(h.config_dir / "acd.yaml").database.url.get_secret_value())
        try:
            await migrate(db)
            async with db.begin() as conn:
                await conn.execute(insert(calls), [
                    _row("in-sl", "2026-11-24T01:00:00", "answered", 10.0),  # 2026-11-23 20:00 UTC
                    _row("late", "2026-11-24T02:00:00", "answered", 45.0),  # over the 30 s threshold
                    _row("gave-up", "2026-11-24T02:10:00", "abandoned", 70.0),
                    _row("short", "2026-11-24T02:20:00", "short_abandoned", 2.0),
                    _row("yesterday", "2026-11-23T23:00:00", "answered", 5.0),  # same UTC date, not today
                    _row("yesterday-lost", "2026-11-23T12:00:00", "abandoned", 50.0),
                ])
        finally:
            await db.dispose()
        await h.start_daemon()
        status, board = await h.api_get("/api/wallboard")
        assert status == 200
        general = next(q for q in board["queues"] if q["name"] == "general")
        assert (general["answered"], general["lost"], general["short_lost"]) == (2, 2, 1)
        assert general["sl_pct"] == pytest.approx(25.0)  # 1 of 4 ended calls answered within 30 s
        other = next(q for q in board["queues"] if q["name"] == "second_line")
        assert (other["answered"], other["lost"], other["short_lost"]) == (0, 0, 0)
    finally:
        await close_harness(h)


def test_short_lost_restarts_at_local_midnight_not_utc_midnight() -> None:
    from acd.web.wallboard import Board

    board = Board(ALMATY)
    before = datetime(2026, 11, 24, 23, 50, tzinfo=ALMATY).timestamp()  # 18:50 UTC
    board.seed_short_lost({"general": 2}, before)
    assert board.short_lost_today(before) == {"general": 2}
    after = datetime(2026, 11, 25, 0, 10, tzinfo=ALMATY).timestamp()  # 19:10 UTC, the same UTC date
    assert board.short_lost_today(after) == {}
