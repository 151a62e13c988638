"""The kept places a restarted daemon finds in the CDR (outbound/callback_store.py, issue 15): a place whose
turn never came (no ``callbacks`` row) with its queue, entry time, priority, hold and the caller's number;
one that got its callback is not found again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.events import Arrived, CallEvent, Ended, Language, LeftQueue, Queued
from cdr.writer import CdrWriter
from outbound.callback_store import create_kept_place, get, pending_kept_places

pytestmark = pytest.mark.timeout(60)
T0 = 1795496400.0


def _kept_call(w: CdrWriter, cid: str, at: float) -> None:
    key = LeftQueue(queue="general", reason="callback", entered_at=at + 2, priority=2, hold_s=45.0)
    for fact, t in ((Arrived(caller="77015550102", dialled="5553"), at), (Language(lang="kk"), at + 1),
                    (Queued(queue="general", priority=2, position=1), at + 2), (key, at + 30),
                    (Ended(by="system"), at + 35)):
        w.emit(CallEvent.of(cid, fact, t))


async def test_a_place_without_its_callback_is_found_once_and_not_after_its_callback(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    w = CdrWriter(url, tmp_path / "spool")
    await w.start()
    try:
        _kept_call(w, "k1", T0)
        _kept_call(w, "k2", T0 + 100)
        w.emit(CallEvent.of("answered", Arrived(caller="77010000000"), T0))
        await asyncio.wait_for(w.flush(), 30)
        await create_kept_place(w.engine, call_id="k2", number="77015550102", agent="agent1", queue="general",
                                language="kk", waited_s=28, now=T0 + 500)
        [p] = await pending_kept_places(w.engine, T0 - 3600)
        assert (p.call_id, p.number, p.language, p.queue, p.entered_at, p.pressed_at, p.priority,
                p.hold_s) == ("k1", "77015550102", "kk", "general", T0 + 2, T0 + 30, 2, 45.0)
        assert await pending_kept_places(w.engine, T0 + 1) == []  # older than the look-back
        await create_kept_place(w.engine, call_id="k1", number=p.number, agent=None, queue="general",
                                language="kk", waited_s=28, now=T0 + 7200, why="the daemon came back late")
        assert await pending_kept_places(w.engine, T0 - 3600) == []
        row = await get(w.engine, "cb-kept-k1")
        assert row is not None and row["agent"] is None and row["kind"] == "requested"
        assert "came back late" in row["notes"]
    finally:
        await w.close()
