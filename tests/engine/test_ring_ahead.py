"""Issue 11 §5: an agent who answers at once no longer waits through the recording notice in silence. The
engine learns the agent's answer time and the notice's length, and holds the ring back by the difference
(acd/engine/ring_ahead.py, decision engine-12)."""

from __future__ import annotations

import asyncio

import pytest

from acd.engine.ring_ahead import MARGIN_S, RingAhead
from tests.engine.conftest import Rig
from tests.engine.fake_ari import destroyed, stasis_start

TIMEOUT = 10


def _notice_playing(rig: Rig) -> str | None:
    return next((pid for pid, media in rig.ari.playing.items() if "recording_notice" in media[0]), None)


def test_the_hold_is_the_notice_left_after_the_usual_answer() -> None:
    ahead = RingAhead(samples=3)
    assert ahead.hold_s("agent1", "kk") == 0  # never heard answering: rung at once
    ahead.answered("agent1", 0.3)
    assert ahead.hold_s("agent1", "kk") == 0  # the notice's length is not known yet
    ahead.notice_played("kk", 1.8)
    ahead.notice_played("kk", 0.4)  # a play cut short says nothing about the length
    assert ahead.hold_s("agent1", "kk") == pytest.approx(1.8 - 0.3 - MARGIN_S)
    assert ahead.hold_s("agent1", "ru") == 0  # another language's notice has its own length
    for slow in (4.0, 5.0):  # an agent who takes longer to answer than the notice lasts: no hold
        ahead.answered("agent1", slow)
    assert ahead.hold_s("agent1", "kk") == 0


async def test_the_engine_learns_the_answer_time_and_the_notice_length(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        rig.ari.alive.add("c1")
        rig.engine.dispatch(stasis_start("c1", ["inbound", "500"]))
        leg = await rig.ari.until(lambda: next((c[2] for c in rig.ari.of("originate")), None), "no offer")
        playback = await rig.ari.until(lambda: _notice_playing(rig), "no notice while the phone rang")
        rig.clock.advance(0.3)
        rig.engine.dispatch(stasis_start(leg, ["agent", "c1", "agent1"]))
        await rig.ari.until(lambda: rig.engine.ring_ahead.answer_s("agent1") is not None, "not learned")
        rig.clock.advance(1.5)
        rig.ari.finish_playback(playback)
        await rig.ari.until(lambda: rig.ari.of("add"), "the agent was never bridged")
        assert rig.engine.ring_ahead.hold_s("agent1", "kk") == pytest.approx(1.8 - 0.3 - MARGIN_S)


async def test_a_fast_agent_is_rung_after_the_notice_started(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.ring_ahead.answered("agent1", 0.3)
        rig.engine.ring_ahead.notice_played("kk", 1.8)
        rig.ari.alive.add("c1")
        rig.engine.dispatch(stasis_start("c1", ["inbound", "500"]))
        await rig.ari.until(lambda: rig.ari.of("originate"), "the agent was never rung")
        kinds = [c[0] for c in rig.ari.calls]
        notice = next(i for i, c in enumerate(rig.ari.calls) if c[0] == "play" and "recording_notice" in c[2])
        assert notice < kinds.index("originate")  # the caller hears the notice first, then the phone rings


async def test_a_caller_who_leaves_while_the_ring_is_held_back_rings_nobody(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.ari.held.add("recording_notice")
        rig.engine.ring_ahead.answered("agent1", 0.3)
        rig.engine.ring_ahead.notice_played("kk", 5000.0)  # a hold of ~5 s real time at the rig's speed
        rig.ari.alive.add("c1")
        rig.engine.dispatch(stasis_start("c1", ["inbound", "500"]))
        await rig.ari.until(lambda: _notice_playing(rig), "no notice")
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        await rig.ari.until(lambda: rig.sink.agent("agent1")[-1:] == ["ready"], "agent1 not ready again")
        assert not rig.ari.of("originate")
        assert not rig.engine.held_rings
