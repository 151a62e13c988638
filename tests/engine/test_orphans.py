"""Calls that ended while no daemon listened (issue 12, items 2 and 7): after the first resync, every call
the CDR still has open, that the new process did not adopt and whose channel Asterisk no longer has, is
closed with an estimated end, and its recordings leave ``recording``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from acd.engine import orphans
from acd.engine.orphans import OpenCall, OpenRecording, summarise
from acd.engine.resync import resync
from tests.engine.conftest import START, Rig

TIMEOUT = 10


@dataclass
class Rows:
    """The ``recordings`` table as the engine drives it."""

    done: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def started(self, name: str, at: float, *, call_id: str, fmt: str, kind: str, agent: str | None) -> None:
        pass

    def finished(self, name: str, at: float) -> None:
        self.done.append(name)

    def failed(self, name: str, at: float, reason: str) -> None:
        self.lost.append(name)

    def missing(self, name: str, at: float, reason: str) -> None:
        self.lost.append(name)


@dataclass
class Cdr:
    """Open calls as the database would list them; ``down`` times it does not answer first."""

    calls: list[OpenCall]
    down: int = 0
    asked: int = 0

    async def open_calls(self, before: float) -> list[OpenCall]:
        self.asked += 1
        if self.asked <= self.down:
            raise ConnectionRefusedError("database down")
        return [c for c in self.calls if c.first_at < before]


def _talking(call_id: str, bridge: str, rec: str) -> OpenCall:
    """What the CDR holds of a call killed while talking: the events up to its recording's start."""
    evs = [
        ("arrived", START - 60, {"dialled": "500", "caller": "77011234567"}),
        ("queued", START - 55, {"queue": "general"}),
        ("connected", START - 40, {"queue": "general", "agent": "agent1", "bridge": bridge}),
        ("recording_started", START - 39, {"recording": rec, "kind": "call"}),
    ]
    return summarise(call_id, evs, (OpenRecording(rec, "wav", f"{rec}.wav", START - 39, "call"),))


def _queued(call_id: str) -> OpenCall:
    evs = [("arrived", START - 30, {"dialled": "500"}), ("queued", START - 28, {"queue": "general"}),
           ("announced", START - 10, {"position": 1})]
    return summarise(call_id, evs, ())


async def _swept(rig: Rig, cdr: Cdr) -> None:
    rig.engine.orphans.source = cdr
    await resync(rig.engine)
    task = rig.engine.orphans._task
    assert task is not None
    await task


async def test_a_talk_that_ended_unseen_is_closed_at_its_last_event_and_its_orphaned_recording_stopped(
    rig: Rig,
) -> None:
    """The bridge outlived the call and still records: stopped, its end awaited, the bridge destroyed; the
    call ends (estimated) at its last known event, answered, and counts in the agent's calls today."""
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.recorder = rows
        await rig.ari.bridges.create("mixing", "acd-br-old-1")
        rig.ari.live_recordings.add("2026/11/24/gone1")
        await _swept(rig, Cdr([_talking("gone1", "acd-br-old-1", "2026/11/24/gone1")]))
        assert ("stop_recording", "2026/11/24/gone1") in rig.ari.calls
        assert rows.done == ["2026/11/24/gone1"] and not rows.lost
        finished = rig.sink.calls("gone1", "recording_finished")
        assert [e.data["recording"] for e in finished] == ["2026/11/24/gone1"]
        assert ("destroy", "acd-br-old-1") in rig.ari.calls
        [ended] = rig.sink.calls("gone1", "ended")
        assert ended.at == START - 39 and ended.data["end_estimated"] is True
        assert not rig.sink.calls("gone1", "left_queue")
        agent = rig.engine.acd.snapshot(rig.clock.now())["agents"]["agent1"]
        assert agent["calls_today"] == 1 and agent["state"] == "ready"


async def test_a_waiting_caller_gone_unseen_abandoned_and_a_stored_recording_is_finished(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.recorder = rows
        rig.ari.stored.add("2026/11/24/gone2")  # the bridge went with the call: the file is stored
        talk = _talking("gone2", "acd-br-old-2", "2026/11/24/gone2")
        await _swept(rig, Cdr([_queued("gone3"), talk]))
        assert rows.done == ["2026/11/24/gone2"]
        assert ("stop_recording", "2026/11/24/gone2") not in rig.ari.calls
        [left] = rig.sink.calls("gone3", "left_queue")
        [ended] = rig.sink.calls("gone3", "ended")
        assert left.data == {"queue": "general", "reason": "abandoned"}
        assert left.at == ended.at == START - 10 and ended.data["end_estimated"] is True
        assert rig.engine.orphans.closed == ["gone3", "gone2"]


async def test_a_call_asterisk_still_has_or_the_new_process_adopted_is_not_closed(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.ari.alive.add("alive1")  # listed, no ACD_STATE: not adopted, but not ended either
        await _swept(rig, Cdr([_queued("alive1")]))
        assert not rig.sink.calls("alive1", "ended")
        assert rig.engine.orphans.closed == []


async def test_a_database_down_at_the_first_resync_is_asked_again_and_a_reconnect_sweeps_no_twice(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The WebSocket-gap variant: the database did not answer at start, the sweep retries on its own; a
    later reconnect (another resync) does not sweep again."""
    monkeypatch.setattr(orphans, "RETRY_FIRST_S", 0.01)
    async with asyncio.timeout(TIMEOUT):
        cdr = Cdr([_queued("gone4")], down=2)
        await _swept(rig, cdr)
        assert cdr.asked == 3 and len(rig.sink.calls("gone4", "ended")) == 1
        await resync(rig.engine)
        assert cdr.asked == 3 and len(rig.sink.calls("gone4", "ended")) == 1


async def test_a_call_that_ends_during_the_start_up_resync_before_its_adoption_is_closed(rig: Rig) -> None:
    """Listed by Asterisk when the resync began, gone when its ACD_STATE is read: nothing to adopt, and
    its open row is closed all the same."""
    async with asyncio.timeout(TIMEOUT):
        rig.ari.alive.add("vanishing")
        original = rig.ari.channels.get_var

        async def get_var(cid: str, name: str) -> str:
            if cid == "vanishing":
                rig.ari.alive.discard(cid)
            return await original(cid, name)

        rig.ari.channels.get_var = get_var  # type: ignore[method-assign]
        await _swept(rig, Cdr([_queued("vanishing")]))
        assert rig.engine.registry.sessions() == []
        [ended] = rig.sink.calls("vanishing", "ended")
        assert ended.data["end_estimated"] is True
