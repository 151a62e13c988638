"""Called parties on the trunk (issue 15): the simulator plays what a real Asterisk reports when the daemon
originates ``PJSIP/<number>@trunk`` (BEHAVIOUR.md 4, 5, 7): the answer, Dial BUSY / CONGESTION /
CHANUNAVAIL with the ChannelDestroyed cause of each, the ring time-out (cause 19, no Dial NOANSWER), and an
answered party hanging up after its talk time. Every event and REST exchange is checked against the
api-docs by the conformance tool (the ``ari`` fixture)."""

from __future__ import annotations

import asyncio

import pytest

from tests.ari_sim.conftest import Ari, chan
from tests.ari_sim.test_behaviour import caller

TIMEOUT = 20


async def _originate(ari: Ari, cid: str, number: str, ring_s: int = 10) -> None:
    status, body = await ari.req("POST", "/channels", endpoint=f"PJSIP/{number}@trunk", app="acd",
                                 appArgs="out,call,", channelId=cid, callerId="7272581500",
                                 timeout=ring_s)
    assert status == 200, body


@pytest.mark.parametrize(("behaviour", "dialstatus", "cause"), [
    ("busy", "BUSY", 17), ("congestion", "CONGESTION", 34), ("unavailable", "CHANUNAVAIL", 20),
    ("invalid", "CHANUNAVAIL", 1),
])
async def test_a_number_not_reached_reports_its_dial_status_and_cause(
        ari: Ari, behaviour: str, dialstatus: str, cause: int) -> None:
    async with asyncio.timeout(TIMEOUT):
        await ari.sim("PUT", "/endpoints/PJSIP/trunk", {"called": {"7011234567": {"behaviour": behaviour}}})
        await _originate(ari, "o1", "7011234567")
        dial = await ari.wait("Dial", lambda e: e["peer"]["id"] == "o1" and e["dialstatus"] == dialstatus)
        gone = await ari.wait("ChannelDestroyed", chan("o1"))
        assert gone["cause"] == cause
        assert ari.events.index(dial) < ari.events.index(gone)
        assert not ari.since(0, "StasisStart")


async def test_an_unanswered_number_rings_out_with_cause_19(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await ari.sim("PUT", "/endpoints/PJSIP/trunk", {"called": {"7011234567": {"behaviour": "no_answer"}}})
        await _originate(ari, "o2", "7011234567", ring_s=2)
        await ari.wait("Dial", lambda e: e["peer"]["id"] == "o2" and e["dialstatus"] == "RINGING")
        gone = await ari.wait("ChannelDestroyed", chan("o2"))
        assert gone["cause"] == 19
        assert not [e for e in ari.events if e["type"] == "Dial" and e.get("dialstatus") == "NOANSWER"]


async def test_an_answered_party_hears_the_caller_id_talks_and_hangs_up(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await ari.sim("PUT", "/endpoints/PJSIP/trunk",
                      {"called": {"7011234567": {"behaviour": "answer", "answer_after_s": 1, "talk_s": 3}}})
        await caller(ari, "a1")
        await _originate(ari, "o3", "7011234567")
        start = await ari.wait("StasisStart", chan("o3"))
        assert start["args"] == ["out", "call"] and start["channel"]["caller"]["number"] == "7272581500"
        assert (await ari.req("POST", "/bridges/b3", type="mixing"))[0] == 200
        assert (await ari.req("POST", "/bridges/b3/addChannel", channel="a1,o3"))[0] == 204
        request = await ari.wait("ChannelHangupRequest", chan("o3"))
        assert request["cause"] == 16 and not request.get("soft")  # the called party hung up


async def test_answer_probability_makes_some_numbers_ring_out(ari: Ari) -> None:
    async with asyncio.timeout(TIMEOUT):
        await ari.sim("PUT", "/endpoints/PJSIP/trunk", {"answer_probability": 0.0})
        await _originate(ari, "o4", "7019999999", ring_s=1)
        gone = await ari.wait("ChannelDestroyed", chan("o4"))
        assert gone["cause"] == 19
        async with ari.session.put(f"{ari.url}/_sim/endpoints/PJSIP/trunk",
                                   json={"answer_probability": 1.5}) as r:
            assert r.status == 400 and "answer_probability" in await r.text()
