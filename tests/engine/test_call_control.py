"""Agents' call control against the fake ARI: hold and resume (hold time in the CDR), mute, DTMF, a
consultation completed, cancelled, turned into a conference, a blind transfer, and the orders of events that
go wrong: the caller hangs up on hold or during a consultation, the consulted party does not answer."""

from __future__ import annotations

import asyncio

import pytest

from acd.engine.call_control import InvalidCallState, NotYourCall, Target, TargetUnavailable
from acd.engine.resync import resync
from acd.engine.state import SavedState
from acd.settings import DirectoryEntry
from tests.engine.conftest import Rig
from tests.engine.fake_ari import Bridge, destroyed, stasis_start

TIMEOUT = 10


async def _talking(rig: Rig, call: str = "c1") -> tuple[str, str]:
    """A caller of 500 talking to agent1: (agent leg, bridge id)."""
    rig.ari.alive.add(call)
    rig.engine.dispatch(stasis_start(call, ["inbound", "500"]))
    leg = str(await rig.ari.until(lambda: next((c[2] for c in rig.ari.of("originate")), None), "no offer"))
    rig.engine.dispatch(stasis_start(leg, ["agent", call, "agent1"]))
    await rig.ari.until(lambda: rig.ari.of("record_bridge"), "not connected")
    return leg, rig.ari.of("bridge")[0][1]


async def _consulted(rig: Rig, *, answer: bool = True) -> str:
    leg2 = str(await rig.ari.until(
        lambda: next((c[2] for c in rig.ari.of("originate") if c[1] == "PJSIP/agent2"), None), "no consult"))
    if answer:
        rig.engine.dispatch(stasis_start(leg2, ["agent", "c1", "agent2"]))
        await rig.ari.until(lambda: any(c[0] == "add" and leg2 in c for c in rig.ari.calls), "not bridged")
    return leg2


async def test_hold_and_resume_play_music_and_count_the_hold_time(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        _leg, bridge = await _talking(rig)
        ctl = rig.engine.control
        status = await ctl.hold("c1", agent="agent1")
        assert status.held and ("remove", bridge, "c1") in rig.ari.calls
        assert rig.ari.calls[-1][:2] == ("moh", "c1")
        with pytest.raises(InvalidCallState):
            await ctl.hold("c1", agent="agent1")
        rig.clock.advance(42)
        status = await ctl.resume("c1", agent="agent1")
        assert not status.held and rig.ari.calls[-2:] == [("moh_stop", "c1"), ("add", bridge, "c1")]
        assert [e.data["seconds"] for e in rig.sink.calls("c1", "hold")] == [42.0]
        assert len(rig.ari.of("record_bridge")) == 1  # the same recording goes on


async def test_only_the_agent_of_the_call_controls_it(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        await _talking(rig)
        with pytest.raises(NotYourCall):
            await rig.engine.control.hold("c1", agent="agent2")


async def test_mute_mutes_the_agents_microphone_and_dtmf_goes_to_the_caller(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg, _ = await _talking(rig)
        assert (await rig.engine.control.mute("c1", agent="agent1", on=True)).muted
        assert ("mute", leg, "in") in rig.ari.calls
        await rig.engine.control.mute("c1", agent="agent1", on=False)
        assert ("unmute", leg, "in") in rig.ari.calls
        await rig.engine.control.dtmf("c1", "12#", agent="agent1")
        assert ("dtmf", "c1", "12#") in rig.ari.calls
        with pytest.raises(InvalidCallState):
            await rig.engine.control.dtmf("c1", "x", agent="agent1")


async def test_the_caller_hangs_up_on_hold(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg, _ = await _talking(rig)
        await rig.engine.control.hold("c1", agent="agent1")
        rig.clock.advance(10)
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert ("hangup", leg) in rig.ari.calls
        assert [e.data["seconds"] for e in rig.sink.calls("c1", "hold")] == [10.0]
        assert rig.sink.agent("agent1")[-1] == "wrap_up"


async def test_an_attended_transfer_hands_the_caller_to_the_consulted_agent(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        leg, bridge = await _talking(rig)
        status = await rig.engine.control.consult("c1", Target.parse("agent:agent2"), agent="agent1")
        assert status.held and status.consult is not None and status.consult.state == "ringing"
        leg2 = await _consulted(rig)
        assert rig.engine.control.status("c1").consult.state == "answered"  # type: ignore[union-attr]
        await rig.engine.control.complete("c1", agent="agent1")
        assert ("hangup", leg) in rig.ari.calls and ("add", bridge, "c1") in rig.ari.calls
        assert rig.sink.agent("agent1")[-1] == "wrap_up"
        assert rig.engine.control.agent_of_call("c1") == "agent2"
        assert SavedState.parse(rig.var("c1")).peer == leg2
        (transfer,) = rig.sink.calls("c1", "transfer")
        assert transfer.data["kind"] == "attended" and transfer.data["target"] == "agent:agent2"
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert ("hangup", leg2) in rig.ari.calls
        assert rig.sink.agent("agent2")[-1] == "wrap_up"
        assert len(rig.ari.of("record_bridge")) == 1


async def test_a_cancelled_consultation_returns_to_the_caller(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        leg, bridge = await _talking(rig)
        await rig.engine.control.consult("c1", Target.parse("queue:general"), agent="agent1")
        leg2 = await _consulted(rig)
        status = await rig.engine.control.cancel("c1", agent="agent1")
        assert not status.held and status.consult is None
        assert ("hangup", leg2) in rig.ari.calls and rig.ari.calls[-1] == ("add", bridge, "c1")
        assert rig.engine.control.agent_of_call("c1") == "agent1"
        assert not rig.sink.calls("c1", "transfer")


async def test_a_conference_keeps_all_three_until_the_caller_leaves(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        leg, bridge = await _talking(rig)
        await rig.engine.control.consult("c1", Target.parse("agent:agent2"), agent="agent1")
        leg2 = await _consulted(rig)
        status = await rig.engine.control.conference("c1", agent="agent1")
        assert status.conference and set(status.parties) == {leg, leg2}
        assert set(rig.ari.bridges_[bridge].channels) >= {"c1", leg, leg2}
        rig.ari.alive.discard(leg)
        rig.engine.dispatch(destroyed(leg))  # the first agent leaves: the other two go on
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert ("hangup", leg2) in rig.ari.calls
        assert rig.sink.agent("agent2")[-1] == "wrap_up" and rig.sink.agent("agent1")[-1] == "wrap_up"


async def test_the_consulted_party_does_not_answer(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        await _talking(rig)
        await rig.engine.control.consult("c1", Target.parse("agent:agent2"), agent="agent1")
        leg2 = await _consulted(rig, answer=False)
        rig.engine.dispatch(destroyed(leg2, cause=19))
        await rig.ari.until(
            lambda: rig.engine.control.status("c1").consult.state == "failed",  # type: ignore[union-attr]
            "the consultation did not fail",
        )
        with pytest.raises(InvalidCallState):
            await rig.engine.control.complete("c1", agent="agent1")
        status = await rig.engine.control.resume("c1", agent="agent1")  # back to the caller
        assert not status.held and status.consult is None


async def test_the_caller_hangs_up_during_a_consultation(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        leg, _ = await _talking(rig)
        await rig.engine.control.consult("c1", Target.parse("agent:agent2"), agent="agent1")
        leg2 = await _consulted(rig)
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        await rig.ari.until(lambda: ("hangup", leg2) in rig.ari.calls, "the consulted agent stayed up")
        assert ("hangup", leg) in rig.ari.calls


async def test_a_blind_transfer_to_a_directory_number(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        entry = DirectoryEntry(id="astana", name="Astana", endpoint="PJSIP/7172@trunk", kind="branch")
        rig.engine.settings = rig.engine.settings.model_copy(update={"directory": [entry]})
        leg, bridge = await _talking(rig)
        await rig.engine.control.blind_transfer("c1", Target.parse("directory:astana"), agent="agent1")
        assert ("hangup", leg) in rig.ari.calls and rig.sink.agent("agent1")[-1] == "wrap_up"
        out = str(await rig.ari.until(
            lambda: next((c[2] for c in rig.ari.of("originate") if c[1] == "PJSIP/7172@trunk"), None),
            "no dial",
        ))
        rig.engine.dispatch(stasis_start(out, ["out", "c1", ""]))
        await rig.ari.until(lambda: ("add", bridge, "c1", out) in rig.ari.calls, "not bridged with it")
        (transfer,) = rig.sink.calls("c1", "transfer")
        assert transfer.data["kind"] == "blind"
        rig.engine.dispatch(destroyed(out))
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")


async def test_an_unknown_or_busy_target_is_refused_clearly(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        await _talking(rig)
        with pytest.raises(TargetUnavailable, match="not ready"):
            await rig.engine.control.consult("c1", Target.parse("agent:agent3"), agent="agent1")
        with pytest.raises(TargetUnavailable, match="directory"):
            await rig.engine.control.blind_transfer("c1", Target.parse("directory:nowhere"), agent="agent1")
        with pytest.raises(TargetUnavailable):
            Target.parse("external:123")


async def test_a_supervisor_listens_whispers_barges_and_every_period_is_audited(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg, bridge = await _talking(rig)
        lis = rig.engine.listening
        status = await lis.start("c1", supervisor="boss", endpoint="PJSIP/sup1", mode="listen")
        assert status.state == "ringing"
        sup = str(await rig.ari.until(
            lambda: next((c[2] for c in rig.ari.of("originate") if c[1] == "PJSIP/sup1"), None), "no call"))
        rig.engine.dispatch(stasis_start(sup, ["out", "c1", ""]))
        first = await rig.ari.until(lambda: rig.ari.of("snoop"), "no snoop")
        assert first[0][1:4] == (leg, "both", "none")
        snoop1 = first[0][4]
        await rig.ari.until(lambda: any(c[0] == "add" and sup in c for c in rig.ari.calls), "not bridged")
        rig.clock.advance(5)
        await lis.set_mode(status.session_id, "whisper", supervisor="boss")
        assert rig.ari.of("snoop")[-1][1:4] == (leg, "both", "out") and ("hangup", snoop1) in rig.ari.calls
        rig.clock.advance(5)
        await lis.set_mode(status.session_id, "barge", supervisor="boss")
        assert rig.ari.calls[-2] == ("add", bridge, sup)
        rig.clock.advance(5)
        ended = await lis.stop(status.session_id, supervisor="boss")
        assert ended.state == "ended" and ("hangup", sup) in rig.ari.calls
        periods = [(e.data["mode"], e.at - e.data["from"]) for e in rig.sink.calls("c1", "listen")]
        assert periods == [("listen", 5.0), ("whisper", 5.0), ("barge", 5.0)]
        assert {e.data["supervisor"] for e in rig.sink.calls("c1", "listen")} == {"boss"}
        assert rig.engine.control.agent_of_call("c1") == "agent1"  # the call goes on


async def test_listening_ends_with_the_call(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        await _talking(rig)
        status = await rig.engine.listening.start("c1", supervisor="boss", endpoint="PJSIP/sup1",
                                                  mode="listen")
        sup = str(await rig.ari.until(
            lambda: next((c[2] for c in rig.ari.of("originate") if c[1] == "PJSIP/sup1"), None), "no call"))
        rig.engine.dispatch(stasis_start(sup, ["out", "c1", ""]))
        await rig.ari.until(lambda: rig.ari.of("snoop"), "no snoop")
        rig.engine.dispatch(destroyed("c1"))
        await rig.ari.until(lambda: ("hangup", sup) in rig.ari.calls, "the supervisor stayed on the line")
        await rig.ari.until(lambda: rig.sink.calls("c1", "listen"), "no audit")
        assert rig.engine.listening.sessions() == [] and status.mode == "listen"


async def test_a_call_on_hold_at_a_restart_comes_back_with_its_agent_without_music(rig: Rig) -> None:
    """The caller was out of the bridge with music when the daemon died: the next daemon puts them back
    with the agent and stops the music (docs/call-control.md, restart)."""
    async with asyncio.timeout(TIMEOUT):
        now = rig.clock.now()
        rig.ari.alive |= {"c4", "leg4"}
        rig.ari.vars[("leg4", "ACD_STATE")] = SavedState(role="agent", call="c4", agent="agent1").encode()
        rig.ari.vars[("c4", "ACD_STATE")] = SavedState(
            phase="connected", dialled="500", queue="general", agent="agent1", peer="leg4", bridge="br4",
            connected=now - 30,
        ).encode()
        rig.ari.bridges_["br4"] = Bridge("br4", ["leg4"])  # the caller is on hold: not in the bridge
        await resync(rig.engine)
        await rig.ari.until(lambda: ("add", "br4", "c4") in rig.ari.calls, "the caller stayed on hold")
        kinds = rig.ari.calls
        assert kinds.index(("moh_stop", "c4")) < kinds.index(("add", "br4", "c4"))
        assert not rig.ari.of("hangup")


async def test_a_blind_transfer_ringing_at_a_restart_is_queued_again_not_dropped(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        await _talking(rig)
        await rig.engine.control.blind_transfer("c1", Target.parse("agent:agent2"), agent="agent1")
        saved = SavedState.parse(rig.var("c1"))
        assert (saved.phase, saved.step, saved.peer) == ("transferring", ("steps", 0), "")


async def test_the_live_calls_show_hold_and_consultation(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.set_agent_state("agent2", "ready", None, None)
        await _talking(rig)
        await rig.engine.control.consult("c1", Target.parse("agent:agent2"), agent="agent1")
        (call,) = rig.engine.snapshot()["calls"]
        assert (call["agent"], call["held"], call["consult"]) == (
            "agent1", True, {"target": "agent:agent2", "state": "ringing"})


async def test_the_agent_hangs_up_from_the_desk_as_the_phone_would(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        leg, _ = await _talking(rig)
        with pytest.raises(NotYourCall):
            await rig.engine.control.hangup("c1", agent="agent2")
        status = await rig.engine.control.hangup("c1", agent="agent1")
        assert leg not in status.parties and ("hangup", leg) in rig.ari.calls
        rig.engine.dispatch(destroyed(leg))  # Asterisk reports the agent's leg gone
        await rig.ari.until(lambda: rig.sink.calls("c1", "ended"), "no end of call")
        assert ("hangup", "c1") in rig.ari.calls  # the caller is hung up too
        (ended,) = rig.sink.calls("c1", "ended")
        assert ended.data["by"] == "agent"
        assert rig.sink.agent("agent1")[-1] == "wrap_up"
