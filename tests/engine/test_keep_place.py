""""Keep my place" in the engine (issue 15): the key while waiting keeps the place and hangs up after the
confirmation; the callback is written, assigned, when an agent frees up; a key while the agent's phone
rings changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from acd.ari import models
from acd.engine.keep_place import KeptPlace, RequestedCallback
from acd.engine.resync import resync
from acd.engine.state import SavedState
from tests.engine.conftest import Rig
from tests.engine.fake_ari import STAMP, channel, stasis_start

TIMEOUT = 10


@dataclass
class Rows:
    written: list[RequestedCallback] = field(default_factory=list)
    found: list[KeptPlace] = field(default_factory=list)
    released: list[tuple[str, str]] = field(default_factory=list)

    async def requested(self, cb: RequestedCallback) -> str:
        self.written.append(cb)
        return f"cb-{cb.call_id}"

    async def pending(self, since: float) -> list[KeptPlace]:
        return [p for p in self.found if p.pressed_at >= since]

    async def release(self, place: KeptPlace, now: float, why: str) -> str:
        self.released.append((place.call_id, why))
        return f"cb-{place.call_id}"


async def _ready() -> None:
    return None


def _press(rig: Rig, call: str, digit: str) -> None:
    rig.engine.dispatch(models.ChannelDtmfReceived(
        application="acd", timestamp=STAMP, digit=digit, duration_ms=100, channel=channel(call, exten="502")))


async def test_the_key_keeps_the_place_and_the_freed_agent_gets_the_callback(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rows = Rows()
        rig.engine.kept.store = rows
        rig.engine.set_agent_state("agent1", "not_ready", "break", None)
        rig.ari.alive.add("c1")
        rig.engine.dispatch(stasis_start("c1", ["inbound", "502"]))
        await rig.ari.until(lambda: ("moh", "c1", "default") in rig.ari.calls, "never queued")
        _press(rig, "c1", "1")  # another key: nothing
        _press(rig, "c1", "*")
        await rig.ari.until(lambda: ("hangup", "c1") in rig.ari.calls, "not hung up after the key")
        played = [c for c in rig.ari.of("play") if c[1] == "c1"]
        assert "callback_confirmed" in played[-1][2]
        [left] = rig.sink.calls("c1", "left_queue")
        assert left.data["reason"] == "callback"
        assert not rig.ari.of("originate")
        rig.engine.set_agent_state("agent1", "ready", None, None)
        await rig.ari.until(lambda: rows.written, "no callback written")
        [cb] = rows.written
        assert (cb.call_id, cb.agent, cb.queue, cb.number) == ("c1", "agent1", "general", "77011234567")
        assert not rig.ari.of("originate")  # a callback, not a ring
        assert rig.engine.acd.snapshot(rig.clock.now())["agents"]["agent1"]["held_for_callback"] == "c1"
        rig.engine.kept.agent_acted("agent1")
        assert rig.engine.acd.snapshot(rig.clock.now())["agents"]["agent1"]["held_for_callback"] is None


async def test_the_key_while_the_agents_phone_rings_changes_nothing(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.ari.alive.add("c2")
        rig.engine.dispatch(stasis_start("c2", ["inbound", "502"]))
        offered = lambda: next((c[2] for c in rig.ari.of("originate")), None)  # noqa: E731
        leg = str(await rig.ari.until(offered, "no offer"))
        _press(rig, "c2", "*")
        rig.engine.dispatch(stasis_start(leg, ["agent", "c2", "agent1"]))
        await rig.ari.until(lambda: rig.ari.of("record_bridge"), "the answer did not connect")
        assert not [e for e in rig.sink.calls("c2", "left_queue") if e.data["reason"] == "callback"]
        assert ("hangup", "c2") not in rig.ari.calls


async def test_after_a_restart_a_kept_place_goes_first_and_an_adopted_later_caller_waits(rig: Rig) -> None:
    """The previous daemon kept c1's place (the CDR says so) and was killed; c2, who came later, is still
    waiting in Asterisk. The restarted daemon gives the free agent c1's callback, not c2; a place kept two
    hours ago becomes an ordinary callback; c2 is offered once the agent takes the callback."""
    async with asyncio.timeout(TIMEOUT):
        now = rig.clock.now()
        rows = Rows(found=[
            KeptPlace("c1", "77011234567", "kk", "general", now - 120, now - 60, 0, 60.0),
            KeptPlace("old", "77019999999", "kk", "general", now - 7300, now - 7200, 0, 60.0)])
        rig.engine.kept.store = rows
        await rig.engine.kept.recover(rows, ready=lambda: True, wait_ready=_ready)
        rig.ari.alive.add("c2")
        rig.ari.vars[("c2", "ACD_STATE")] = SavedState(
            phase="queued", scenario="line-502", dialled="502", lang="kk", arrived=now - 35,
            answered=now - 35, step=("steps", 0), queue="general", entered=now - 30).encode()
        await resync(rig.engine)
        await rig.ari.until(lambda: rows.written and rows.released, "no callback written")
        [cb] = rows.written
        assert (cb.call_id, cb.agent, cb.entered_at) == ("c1", "agent1", now - 120)
        assert [r[0] for r in rows.released] == ["old"]
        await rig.ari.until(lambda: ("moh", "c2", "default") in rig.ari.calls, "c2 not back in the queue")
        assert not rig.ari.of("originate")  # agent1 is held for c1's callback: c2 waits
        rig.engine.kept.agent_acted("agent1")
        await rig.ari.until(lambda: rig.ari.of("originate"), "c2 not offered once the agent acted")


async def test_a_caller_adopted_while_hearing_the_confirmation_is_let_go_not_queued_again(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent1", "not_ready", "break", None)
        rig.ari.alive.add("c3")
        rig.engine.dispatch(stasis_start("c3", ["inbound", "502"]))
        await rig.ari.until(lambda: ("moh", "c3", "default") in rig.ari.calls, "never queued")
        _press(rig, "c3", "*")
        await rig.ari.until(lambda: "phase=kept" in rig.var("c3"), "the channel does not say it is kept")
        [left] = rig.sink.calls("c3", "left_queue")
        assert left.data["hold_s"] == 60 and left.data["entered_at"] is not None
        # a daemon started now (here: a channel it does not know that says so) lets such a caller go
        rig.ari.alive.add("c4")
        rig.ari.vars[("c4", "ACD_STATE")] = rig.var("c3").replace("c3", "c4")
        await resync(rig.engine)
        await rig.ari.until(lambda: ("hangup", "c4") in rig.ari.calls, "the kept caller was not let go")
        assert ("moh", "c4", "default") not in rig.ari.calls


async def test_with_the_database_down_at_start_the_places_go_back_once_it_is_back(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        now = rig.clock.now()
        rig.engine.set_agent_state("agent1", "not_ready", "break", None)
        rows = Rows(found=[KeptPlace("c1", "77011234567", "kk", "general", now - 120, now - 60, 0, 60.0)])
        back = asyncio.Event()
        await rig.engine.kept.recover(rows, ready=lambda: False, wait_ready=back.wait)
        await resync(rig.engine)
        assert rig.engine.acd.position("c1") is None  # nothing read yet
        back.set()  # the database is back and the CDR spool written
        await rig.ari.until(lambda: rig.engine.acd.position("c1") == 1, "the place was not put back")
        assert rig.engine.kept.restored == ["c1"]
