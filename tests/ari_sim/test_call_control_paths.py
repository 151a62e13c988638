"""What call control and supervisors' listening need of the simulator, checked against the api-docs by the
conformance tool (the ``ari`` fixture): ChannelHold/ChannelUnhold, music on hold, mute, DTMF, snoop
directions and who hears whom (``/_sim/state``: each channel's ``hears``) as Asterisk mixes them."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.ari_sim.conftest import Ari, chan
from tests.ari_sim.test_behaviour import caller

TIMEOUT = 20


async def _hears(ari: Ari) -> dict[str, list[str]]:
    state = await ari.sim("GET", "/state")
    return {c["id"]: c["hears"] for c in state["channels"]}


async def _bridge(ari: Ari, bid: str, *members: str) -> None:
    assert (await ari.req("POST", f"/bridges/{bid}", type="mixing"))[0] == 200
    assert (await ari.req("POST", f"/bridges/{bid}/addChannel", channel=",".join(members)))[0] == 204


async def test_hold_raises_events_and_the_peer_hears_music(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await caller(ari, "c1")
        await caller(ari, "a1")
        await _bridge(ari, "b1", "c1", "a1")
        assert (await _hears(ari))["c1"] == ["a1"]
        mark = len(ari.events)
        assert (await ari.req("POST", "/channels/a1/hold"))[0] == 204
        await ari.wait("ChannelHold", chan("a1"), since=mark)
        assert (await _hears(ari))["c1"] == ["moh"]
        assert (await ari.req("DELETE", "/channels/a1/hold"))[0] == 204
        await ari.wait("ChannelUnhold", chan("a1"), since=mark)
        assert (await _hears(ari))["c1"] == ["a1"]


async def test_a_caller_out_of_the_bridge_with_music_hears_only_music(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await caller(ari, "c1")
        await caller(ari, "a1")
        await _bridge(ari, "b1", "c1", "a1")
        await ari.req("POST", "/bridges/b1/removeChannel", channel="c1")
        await ari.req("POST", "/channels/c1/moh", mohClass="default")
        hears = await _hears(ari)
        assert hears["c1"] == ["moh"] and hears["a1"] == []


async def test_mute_in_silences_the_agent_for_the_others(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await caller(ari, "c1")
        await caller(ari, "a1")
        await _bridge(ari, "b1", "c1", "a1")
        await ari.req("POST", "/channels/a1/mute", direction="in")
        assert (await _hears(ari))["c1"] == []
        await ari.req("DELETE", "/channels/a1/mute", direction="in")
        assert (await _hears(ari))["c1"] == ["a1"]


async def _snoop(ari: Ari, sid: str, spy: str, whisper: str) -> dict[str, Any]:
    mark = len(ari.events)
    status, body = await ari.req("POST", "/channels/a1/snoop", spy=spy, whisper=whisper, app="acd",
                                 appArgs="snoop", snoopId=sid)
    assert status == 200
    await ari.wait("StasisStart", chan(sid), since=mark)
    return dict(body)


async def test_listen_whisper_barge_audio_paths(ari: Ari) -> None:
    """listen: the supervisor hears both, nobody hears them; whisper: only the agent hears them; barge:
    all three hear each other."""
    async with asyncio.timeout(TIMEOUT):
        for cid in ("c1", "a1", "s1"):
            await caller(ari, cid)
        await _bridge(ari, "b1", "c1", "a1")
        await _snoop(ari, "sn1", "both", "none")
        await _bridge(ari, "lb", "sn1", "s1")
        hears = await _hears(ari)
        assert hears["s1"] == ["a1", "c1"] and hears["a1"] == ["c1"] and hears["c1"] == ["a1"]
        state = await ari.sim("GET", "/state")
        snoop = next(c for c in state["channels"] if c["id"] == "sn1")["snoop"]
        assert snoop == {"of": "a1", "spy": "both", "whisper": "none"}

        await _snoop(ari, "sn2", "both", "out")
        await ari.req("POST", "/bridges/lb/addChannel", channel="sn2")
        await ari.req("DELETE", "/channels/sn1")
        hears = await _hears(ari)
        assert hears["s1"] == ["a1", "c1"] and hears["a1"] == ["c1", "s1"] and hears["c1"] == ["a1"]

        await ari.req("POST", "/bridges/lb/removeChannel", channel="s1")
        await ari.req("DELETE", "/channels/sn2")
        await ari.req("POST", "/bridges/b1/addChannel", channel="s1")
        hears = await _hears(ari)
        assert hears == {**hears, "s1": ["a1", "c1"], "a1": ["c1", "s1"], "c1": ["a1", "s1"]}


async def test_dtmf_sent_to_a_channel_is_accepted(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await caller(ari, "c1")
        assert (await ari.req("POST", "/channels/c1/dtmf", dtmf="12#", between=100))[0] == 204
