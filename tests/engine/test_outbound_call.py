"""Agent-first outbound calls against the fake ARI (acd/engine/outbound_call.py): the agent's phone first,
then the number through the trunk with the service's caller id, the bridge recorded as for inbound calls,
and every way Asterisk reports a number not reached (Dial status, ChannelDestroyed causes, BEHAVIOUR.md 5,
7); the agent is on a call for the ACD core throughout, and back where they were after a failed attempt."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from acd.engine.outbound_call import OutboundDone, OutboundRefused
from acd.engine.resync import resync
from acd.engine.state import SavedState
from acd.settings import OutboundSettings
from tests.engine.conftest import Rig
from tests.engine.fake_ari import Bridge, destroyed, dial, stasis_start

TIMEOUT = 10
NUMBER = "7011234567"


def _state(rig: Rig, agent: str = "agent1") -> dict[str, Any]:
    agents: dict[str, dict[str, Any]] = rig.engine.acd.snapshot(rig.clock.now())["agents"]
    return agents[agent]


def _results(rig: Rig) -> list[OutboundDone]:
    out: list[OutboundDone] = []

    async def on_done(done: OutboundDone) -> None:
        out.append(done)

    rig.engine.outbound.on_done = on_done
    return out


def _service(rig: Rig) -> None:
    settings = rig.engine.settings.model_copy(
        update={"outbound": OutboundSettings(caller_id="7272581500", caller_name="Call centre")})
    rig.engine.settings = settings


async def _ringing_number(rig: Rig, number: str = NUMBER) -> tuple[str, str]:
    """agent1 clicks, answers their phone; returns (call id = agent's channel, the trunk leg)."""
    call = await rig.engine.outbound.dial("agent1", number)
    await rig.ari.until(lambda: rig.ari.of("originate"), "the agent's phone was not called")
    assert rig.ari.of("originate")[0][1:] == ("PJSIP/agent1", call)
    assert _state(rig)["state"] == "on_call"  # reserved from the click: no inbound offer meanwhile
    rig.engine.dispatch(stasis_start(call, ["outcall", call, "agent1"]))
    leg = str(await rig.ari.until(
        lambda: next((c[2] for c in rig.ari.of("originate") if "@trunk" in c[1]), None),
        "number not dialled"))
    return call, leg


async def test_the_agent_rings_first_then_the_number_and_the_conversation_is_recorded(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        _service(rig)
        done = _results(rig)
        call, leg = await _ringing_number(rig)
        assert ("originate", f"PJSIP/{NUMBER}@trunk", leg) in rig.ari.calls
        assert ("ring", call) in rig.ari.calls  # the agent hears the number ring
        assert SavedState.parse(rig.var(call)).direction == "outbound"  # a restart finds it
        rig.engine.dispatch(stasis_start(leg, ["out", call, ""]))
        await rig.ari.until(lambda: rig.ari.of("record_bridge"), "not recorded")
        [connected] = rig.sink.calls(call, "connected")
        assert connected.data["agent"] == "agent1"
        [arrived] = rig.sink.calls(call, "arrived")
        assert arrived.data["direction"] == "outbound" and arrived.data["dialled"] == NUMBER
        assert arrived.data["caller"] == "7272581500" and arrived.data["caller_name"] == "Call centre"
        assert ("originate", f"PJSIP/{NUMBER}@trunk", leg) in rig.ari.calls
        rig.clock.advance(30)
        rig.engine.dispatch(destroyed(leg))  # the called party hangs up
        await rig.ari.until(lambda: done, "no result")
        assert done[0].outcome == "reached" and done[0].agent_id == "agent1"
        assert ("hangup", call) in rig.ari.calls
        assert _state(rig)["state"] == "wrap_up"  # as after an inbound call
        assert rig.sink.agent("agent1")[-2:] == ["on_call", "wrap_up"]
        [ended] = rig.sink.calls(call, "ended")
        assert ended.data["by"] == "called"
        assert rig.engine.agent_of_call(call) == "agent1"  # the topic can be set in wrap-up


@pytest.mark.parametrize(("events", "outcome"), [
    ([("dial", "BUSY"), ("destroyed", 17)], "busy"),
    ([("dial", "CONGESTION"), ("destroyed", 34)], "congestion"),
    ([("dial", "CHANUNAVAIL"), ("destroyed", 1)], "invalid_number"),
    ([("dial", "CHANUNAVAIL"), ("destroyed", 20)], "unavailable"),
    ([("destroyed", 19)], "no_answer"),  # the ring time-out: no Dial NOANSWER (BEHAVIOUR.md 5)
], ids=["busy", "congestion", "unallocated", "absent", "ring-timeout"])
async def test_a_number_not_reached_ends_with_what_asterisk_said(
        rig: Rig, events: list[tuple[str, Any]], outcome: str) -> None:
    async with asyncio.timeout(TIMEOUT):
        done = _results(rig)
        call, leg = await _ringing_number(rig)
        for kind, value in events:
            rig.engine.dispatch(dial(leg, value) if kind == "dial" else destroyed(leg, value))
        await rig.ari.until(lambda: done, "no result")
        assert done[0].outcome == outcome
        assert ("hangup", call) in rig.ari.calls and not rig.ari.of("bridge")
        assert _state(rig)["state"] == "ready"  # no wrap-up for a ring
        [result] = rig.sink.calls(call, "step")[-1:]
        assert result.data == {"step": "outbound_result", "detail": outcome}


async def test_the_agent_not_answering_their_phone_dials_nothing(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        done = _results(rig)
        rig.engine.set_agent_state("agent1", "not_ready", "lunch", None)
        call = await rig.engine.outbound.dial("agent1", NUMBER)
        rig.engine.dispatch(destroyed(call, 19))
        await rig.ari.until(lambda: done, "no result")
        assert done[0].outcome == "agent_no_answer"
        assert [c for c in rig.ari.of("originate") if "@trunk" in c[1]] == []
        assert _state(rig)["state"] == "not_ready" and _state(rig)["reason"] == "lunch"


async def test_the_agent_hanging_up_while_the_number_rings_cancels_it(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        done = _results(rig)
        call, leg = await _ringing_number(rig)
        rig.engine.dispatch(destroyed(call))
        await rig.ari.until(lambda: done, "no result")
        assert done[0].outcome == "cancelled" and ("hangup", leg) in rig.ari.calls


async def test_refusals_have_a_reason_for_the_agent(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        for number, words in (("112", "emergency"), ("103", "emergency"), ("8 809 555 12 12", "refused"),
                              ("1414", "short"), ("+998 71 123 45 67", "allowed prefix")):
            with pytest.raises(OutboundRefused, match=words) as err:
                await rig.engine.outbound.dial("agent1", number)
            assert err.value.status == 422
        with pytest.raises(OutboundRefused, match="log in"):
            await rig.engine.outbound.dial("agent2", NUMBER)  # logged out
        await rig.engine.outbound.dial("agent1", NUMBER)
        with pytest.raises(OutboundRefused, match="on a call"):
            await rig.engine.outbound.dial("agent1", NUMBER)
        await rig.ari.until(lambda: rig.ari.of("originate"), "the first call was not placed")
        assert len(rig.ari.of("originate")) == 1


async def test_a_connected_outbound_call_is_adopted_after_a_restart(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        done = _results(rig)
        now = rig.clock.now()
        call, leg = "acd-oc-old-1", "acd-out-old-2"
        rig.ari.alive |= {call, leg}
        rig.ari.vars[(leg, "ACD_STATE")] = SavedState(role="out", call=call).encode()
        rig.ari.vars[(call, "ACD_STATE")] = SavedState(
            phase="connected", direction="outbound", dialled=NUMBER, agent="agent1", peer=leg, bridge="br9",
            queue="general", arrived=now - 60, connected=now - 40, recording="2026/11/24/acd-oc-old-1",
        ).encode()
        rig.ari.bridges_["br9"] = Bridge("br9", [call, leg])
        rig.ari.live_recordings.add("2026/11/24/acd-oc-old-1")
        await resync(rig.engine)
        assert _state(rig)["state"] == "on_call" and ("hangup", leg) not in rig.ari.calls
        await rig.ari.until(lambda: rig.engine.registry.leg(leg), "the called party's leg not adopted")
        rig.engine.dispatch(destroyed(leg))
        await rig.ari.until(lambda: done, "no result")
        assert done[0].outcome == "reached"
        assert _state(rig)["state"] == "wrap_up"
        [connected] = rig.sink.calls(call, "connected")
        assert connected.at == pytest.approx(now - 40)  # the same milestone, replayed with its time


async def test_an_agent_in_wrap_up_may_call_and_comes_back_ready_after_a_busy_number(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        done = _results(rig)
        first, leg = await _ringing_number(rig)
        rig.engine.dispatch(stasis_start(leg, ["out", first, ""]))
        await rig.ari.until(lambda: rig.ari.of("record_bridge"), "not recorded")
        rig.engine.dispatch(destroyed(leg))
        await rig.ari.until(lambda: done, "no first result")
        assert _state(rig)["state"] == "wrap_up"
        second = await rig.engine.outbound.dial("agent1", "8 701 765 43 21")  # wrap-up ends here
        assert _state(rig)["state"] == "on_call"
        [wrapped] = rig.sink.calls(first, "wrapup_ended")  # the first call's wrap-up is booked
        rig.engine.dispatch(destroyed(second, 17))  # the agent's own phone is busy
        await rig.ari.until(lambda: len(done) == 2, "no second result")
        assert done[1].outcome == "agent_busy" and _state(rig)["state"] == "ready"
        assert wrapped.data["agent"] == "agent1"


async def test_an_agent_whose_phone_is_offline_is_told_so(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        rig.engine.endpoint_state("PJSIP/agent1", "offline")
        with pytest.raises(OutboundRefused, match="phone is not registered"):
            await rig.engine.outbound.dial("agent1", NUMBER)
        assert _state(rig)["state"] == "ready" and rig.ari.of("originate") == []


async def test_no_inbound_caller_is_offered_to_an_agent_placing_a_call(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        call = await rig.engine.outbound.dial("agent1", NUMBER)  # the agent's phone rings
        await rig.ari.until(lambda: rig.ari.of("originate"), "the agent's phone was not called")
        rig.ari.alive.add("c1")
        rig.engine.dispatch(stasis_start("c1", ["inbound", "500"]))
        await rig.ari.until(lambda: rig.sink.calls("c1", "queued"), "the caller did not queue")
        assert [c for c in rig.ari.of("originate") if c[2] != call] == []  # nobody else is ready
        rig.engine.dispatch(destroyed(call, 19))  # the agent gives up: now free for the caller
        await rig.ari.until(lambda: [c for c in rig.ari.of("originate") if c[2] != call],
                            "the caller was not offered to the freed agent")
