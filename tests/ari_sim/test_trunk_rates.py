"""Called parties on the trunk (acd/ari_sim/called.py): what a campaign's originate to a number meets,
with the events real Asterisk sends for each Dial result (BEHAVIOUR.md 4, 5, 7), checked by the
conformance tool."""

from __future__ import annotations

import pytest

from tests.ari_sim.conftest import Ari, chan


async def _dial(ari: Ari, number: str, ring_s: int = 10) -> str:
    status, ch = await ari.req("POST", "/channels", endpoint=f"PJSIP/{number}@trunk", app="acd",
                               appArgs="campaign,poll", callerId="+77272581500", timeout=ring_s)
    assert status == 200 and ch["state"] == "Down"
    return str(ch["id"])


@pytest.mark.parametrize(("rates", "dialstatus", "cause"), [
    ({"busy_rate": 1.0}, "BUSY", 17),
    ({"busy_rate": 0.0, "congestion_rate": 1.0}, "CONGESTION", 34),
    ({"busy_rate": 0.0, "unavailable_rate": 1.0}, "CHANUNAVAIL", 20),
])
async def test_a_failed_call_reports_its_dial_result_then_the_channel_is_destroyed_with_its_cause(
        ari: Ari, rates: dict[str, float], dialstatus: str, cause: int) -> None:
    await ari.sim("POST", "/trunk/parties", {"answer_rate": 0.0, "unavailable_rate": 0.0, **rates})
    mark = len(ari.events)
    cid = await _dial(ari, "+77011234567")
    gone = await ari.wait("ChannelDestroyed", chan(cid), since=mark)
    assert gone["cause"] == cause
    dials = [e["dialstatus"] for e in ari.since(mark, "Dial") if e["peer"]["id"] == cid]
    assert dials == ["", dialstatus]
    assert not [e for e in ari.since(mark, "StasisStart") if e["channel"]["id"] == cid]
    assert ari.problems == []


async def test_nobody_answers_no_dial_result_and_cause_19_at_the_timeout(ari: Ari) -> None:
    await ari.sim("POST", "/trunk/parties", {"answer_rate": 0.0, "busy_rate": 0.0, "unavailable_rate": 0.0})
    mark = len(ari.events)
    cid = await _dial(ari, "+77011234568", ring_s=5)
    gone = await ari.wait("ChannelDestroyed", chan(cid), since=mark)
    assert gone["cause"] == 19
    assert [e["dialstatus"] for e in ari.since(mark, "Dial") if e["peer"]["id"] == cid] == ["", "RINGING"]
    assert ari.problems == []


async def test_an_answering_party_enters_the_app_and_every_number_dialled_is_remembered(ari: Ari) -> None:
    await ari.sim("POST", "/trunk/parties", {"answer_rate": 1.0, "answer_after_s": 2, "seed": 7})
    mark = len(ari.events)
    cid = await _dial(ari, "+77011234569")
    start = await ari.wait("StasisStart", chan(cid), since=mark)
    assert start["args"] == ["campaign", "poll"] and start["channel"]["state"] == "Up"
    assert [e["dialstatus"] for e in ari.since(mark, "Dial") if e["peer"]["id"] == cid][-1] == "ANSWER"
    parties = await ari.sim("GET", "/trunk/parties")
    assert [d["number"] for d in parties["dialled"]] == ["+77011234569"]
    assert ari.problems == []
