"""Simulated callers and agents' phones, the control API, the dialplan fallback and virtual time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp

from acd.ari_sim import SimulatorConfig, start_simulator
from tests.ari_sim.conftest import Ari, chan
from tests.ari_sim.test_behaviour import FIXTURES, ts


async def inbound(ari: Ari, **spec: object) -> str:
    mark = len(ari.events)
    call = await ari.sim("POST", "/calls", {"number": "193", "caller": "77011234567", **spec})
    start = await ari.wait("StasisStart", chan(call["id"]), since=mark)
    assert start["channel"]["dialplan"]["exten"] == "193"
    assert start["channel"]["name"].startswith("PJSIP/trunk-") and start["channel"]["state"] == "Ring"
    return str(call["id"])


async def test_caller_hangs_up_when_patience_runs_out(ari: Ari) -> None:
    cid = await inbound(ari, patience_s=60, name="Ivan", language="kk")  # time to read a variable first
    start = ari.events[-1]
    assert start["channel"]["caller"] == {"name": "Ivan", "number": "77011234567"}
    assert start["channel"]["language"] == "kk"
    lang = await ari.req("GET", f"/channels/{cid}/variable", variable="CHANNEL(language)")
    assert lang == (200, {"value": "kk"})
    hup = await ari.wait("ChannelHangupRequest", chan(cid))
    assert ts(hup) - ts(start) >= 59.9  # virtual seconds; no upper bound: a busy machine fires timers late
    state = await ari.sim("GET", "/state")
    assert [c["end"] for c in state["callers"]] == ["patience"]


async def connect_agent(ari: Ari, cid: str, endpoint: str = "PJSIP/agent1") -> str:
    await ari.req("POST", f"/channels/{cid}/answer")
    mark = len(ari.events)
    status, agent = await ari.req("POST", "/channels", endpoint=endpoint, app="acd", appArgs="agent",
                                  timeout=15)
    assert status == 200
    await ari.wait("StasisStart", chan(agent["id"]), since=mark)
    await ari.req("POST", "/bridges", type="mixing", bridgeId=f"br-{cid}")
    await ari.req("POST", f"/bridges/br-{cid}/addChannel", channel=f"{cid},{agent['id']}")
    return str(agent["id"])


async def test_bridged_caller_talks_then_hangs_up_patience_no_longer_counts(ari: Ari) -> None:
    await ari.sim("PUT", "/endpoints/PJSIP/agent1", {"answer_after_s": 1})
    # patience 60 s (1.2 s of real time at x50: room for the bridging requests on a busy machine)
    cid = await inbound(ari, patience_s=60, talk_s=120)
    start = ari.events[-1]
    agent = await connect_agent(ari, cid)
    hup = await ari.wait("ChannelHangupRequest", chan(cid))
    assert ts(hup) - ts(start) > 100  # the 120 s talk time after bridging, not the 60 s patience
    mark = len(ari.events)
    await ari.req("DELETE", f"/channels/{agent}")
    await ari.wait("ChannelDestroyed", chan(agent), since=mark)
    state = await ari.sim("GET", "/state")
    assert state["callers"][0]["end"] == "talk_done" and state["callers"][0]["bridged_at"]


async def test_agent_that_hangs_up_first(ari: Ari) -> None:
    await ari.sim("PUT", "/endpoints/PJSIP/agent2",
                  {"answer_after_s": 0.5, "talk_s": 4, "hangup": "agent"})
    cid = await inbound(ari, talk_s=60)
    agent = await connect_agent(ari, cid, "PJSIP/agent2")
    entered = await ari.wait("ChannelEnteredBridge", chan(agent))
    hup = await ari.wait("ChannelHangupRequest", chan(agent))
    assert ts(hup) - ts(entered) >= 3.9 and hup["cause"] == 16  # after its 4 s talk, long before the caller
    assert (await ari.req("GET", f"/channels/{cid}"))[0] == 200  # the caller is still there for the app


async def test_scripted_and_prompt_triggered_dtmf(ari: Ari) -> None:
    cid = await inbound(ari, dtmf=[[1, "1"], [2, "23"]], dtmf_on={"acd-welcome": "5"})
    await ari.wait("ChannelDtmfReceived", lambda e: len(ari.since(0, "ChannelDtmfReceived")) >= 3)
    assert [e["digit"] for e in ari.since(0, "ChannelDtmfReceived")][:3] == ["1", "2", "3"]
    await ari.req("POST", f"/channels/{cid}/answer")
    mark = len(ari.events)
    await ari.req("POST", f"/channels/{cid}/play", media="sound:acd-welcome")
    digit = await ari.wait("ChannelDtmfReceived", since=mark)
    assert digit["digit"] == "5" and digit["duration_ms"] == 100
    mark = len(ari.events)
    await ari.sim("POST", f"/calls/{cid}/dtmf", {"digits": "9"})
    assert (await ari.wait("ChannelDtmfReceived", since=mark))["digit"] == "9"


async def test_offline_endpoint_events_and_originate_failure(ari: Ari) -> None:
    await ari.req("POST", "/applications/acd/subscription", eventSource="endpoint:PJSIP/agent6")
    mark = len(ari.events)
    await ari.sim("PUT", "/endpoints/PJSIP/agent6", {"state": "offline"})
    change = await ari.wait("EndpointStateChange", since=mark)
    assert change["endpoint"] == {"technology": "PJSIP", "resource": "agent6", "state": "offline",
                                  "channel_ids": []}
    contact = await ari.wait("ContactStatusChange", since=mark)
    assert contact["contact_info"]["contact_status"] == "Removed"
    assert await ari.req("POST", "/channels", endpoint="PJSIP/agent6", app="acd") == (
        500, {"error": "Allocation failed"})
    assert (await ari.req("GET", "/endpoints/PJSIP/agent6"))[1]["state"] == "offline"
    await ari.sim("PUT", "/endpoints/PJSIP/agent6", {"state": "online"})
    assert (await ari.wait("EndpointStateChange", since=mark + 2))["endpoint"]["state"] == "online"


async def test_registration_events_reach_subscribers_as_on_asterisk(ari: Ari) -> None:
    """Asterisk 22.10.1 (captured with SIP phones): EndpointStateChange of a phone unregistering goes only to
    apps subscribed to the endpoint; a subscribeAll app gets PeerStatusChange and ContactStatusChange."""
    fixture = FIXTURES / "pjsip-subscribed-endpoint-registers-and-unregisters.jsonl"
    captured = [json.loads(line)["type"] for line in fixture.read_text().splitlines()]
    watcher = Ari(ari.handle, ari.session)
    await watcher.connect("watch&subscribeAll=true")
    await ari.req("POST", "/applications/acd/subscription", eventSource="endpoint:PJSIP/agent6")
    mark = len(ari.events)
    await ari.sim("PUT", "/endpoints/PJSIP/agent6", {"state": "offline"})
    await ari.wait("ContactStatusChange", since=mark)
    await watcher.wait("ContactStatusChange")
    kinds = [e["type"] for e in ari.events[mark:] if e.get("endpoint", {}).get("resource") == "agent6"]
    assert kinds == captured[-3:] == ["EndpointStateChange", "PeerStatusChange", "ContactStatusChange"]
    seen = [e["type"] for e in watcher.events if e.get("endpoint", {}).get("resource") == "agent6"]
    assert seen == ["PeerStatusChange", "ContactStatusChange"]
    assert watcher.events[0]["peer"] == {"peer_status": "Unreachable"} and not watcher.problems
    await watcher.close()


async def test_variables_survive_a_client_restart(ari: Ari) -> None:
    cid = await inbound(ari)
    await ari.req("POST", f"/channels/{cid}/variable", variable="ACD_CALL_ID", value="call-42")
    await ari.close()
    again = Ari(ari.handle, ari.session)
    await again.connect()
    assert await again.req("GET", f"/channels/{cid}/variable", variable="ACD_CALL_ID") == (
        200, {"value": "call-42"})
    await again.close()


async def test_fallback_queue_when_app_is_not_connected(tmp_path: Path, sounds_dir: Path) -> None:
    cfg = tmp_path / "sim.json"
    cfg.write_text('{"numbers": {"88000800193": {"fallback": "queue"}}}')
    handle = await start_simulator(SimulatorConfig(port=0, clock="speed=50", sounds=[sounds_dir],
                                                   recordings=tmp_path / "rec", config=cfg))
    try:
        async with aiohttp.ClientSession() as s:
            ari = Ari(handle, s)
            call = await ari.sim("POST", "/calls", {"number": "88000800193", "patience_s": 2})
            other = await ari.sim("POST", "/calls", {"number": "+77272581500", "talk_s": 1})
            state = await ari.sim("GET", "/state")
            by_channel = {f["channel"]: f for f in state["fallbacks"]}
            assert by_channel[call["id"]]["fallback"] == "queue"
            assert by_channel[other["id"]]["fallback"] == "voicemail"
            assert by_channel[other["id"]]["apology"] == "acd/sorry_unavailable"
    finally:
        await handle.stop()


async def test_state_reset_and_virtual_time(ari: Ari) -> None:
    cid = await inbound(ari)
    await ari.req("POST", f"/channels/{cid}/answer")
    mark = len(ari.events)
    wall = time.monotonic()
    await ari.req("POST", f"/channels/{cid}/play", media="sound:acd-welcome")  # 5 s at speed 50 = 0.1 s
    start = await ari.wait("PlaybackStarted", since=mark)
    end = await ari.wait("PlaybackFinished", since=mark)
    # 5 virtual seconds: at least that long in virtual time, and well under 5 s of real time (accelerated)
    assert ts(end) - ts(start) >= 4.9 and time.monotonic() - wall < 2.5
    state = await ari.sim("GET", "/state")
    assert [c["id"] for c in state["channels"]] == [cid] and state["callers"][0]["state"] == "waiting"
    await ari.sim("POST", "/reset")
    assert (await ari.sim("GET", "/state"))["channels"] == []
    async with ari.session.get(f"{ari.url}/ari/_sim/state") as r:
        assert r.status == 401  # the control API is never under /ari
