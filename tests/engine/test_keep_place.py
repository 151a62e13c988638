""""Keep my place" in the engine (issue 15): the key while waiting keeps the place and hangs up after the
confirmation; the callback is written, assigned, when an agent frees up; a key while the agent's phone
rings changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from acd.ari import models
from acd.engine.keep_place import RequestedCallback
from tests.engine.conftest import Rig
from tests.engine.fake_ari import STAMP, channel, stasis_start

TIMEOUT = 10


@dataclass
class Rows:
    written: list[RequestedCallback] = field(default_factory=list)

    async def requested(self, cb: RequestedCallback) -> str:
        self.written.append(cb)
        return f"cb-{cb.call_id}"


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
