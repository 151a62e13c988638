"""One test per numbered observation of BEHAVIOUR.md (items 1-16 and 19), against the simulator over
real HTTP and WebSocket. Every request and event is also checked against the api-docs (see conftest)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
import structlog
from pydantic import SecretStr

from acd.ari.client import AriClient
from acd.ari.errors import AriNotFound
from acd.ari_sim.server import SimulatorHandle
from tests.ari_sim.conftest import AUTH, Ari, chan

FIXTURES = Path(__file__).parent / "fixtures"


async def caller(ari: Ari, cid: str, exten: str = "100", **extra: str) -> dict:
    """Originate Local/<exten>@caller into the app and wait for its StasisStart."""
    mark = len(ari.events)
    status, body = await ari.req("POST", "/channels", endpoint=f"Local/{exten}@caller", app="acd",
                                 appArgs="caller,q1", channelId=cid, otherChannelId=f"{cid}-2",
                                 formats="ulaw", **extra)
    assert status == 200, body
    await ari.wait("StasisStart", chan(cid), since=mark)
    return body


def ts(event: dict) -> float:
    return datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


async def test_1_second_websocket_replaces_the_first(ari: Ari) -> None:
    second = Ari(ari.handle, ari.session)
    await second.connect()
    await ari.wait("ApplicationReplaced")
    await caller(second, "c1")
    assert [e["type"] for e in ari.events] == ["ApplicationReplaced"]
    assert ari.events[0]["application"] == "acd"
    await second.close()
    assert second.problems == []


async def test_2_dropped_websocket_keeps_channels_loses_events_and_dialplan_falls_back(ari: Ari) -> None:
    await caller(ari, "c1")
    await ari.sim("POST", "/ws/drop")
    status, apps = await ari.req("GET", "/applications")
    assert status == 200 and "c1" in apps[0]["channel_ids"]
    call = await ari.sim("POST", "/calls", {"number": "193", "caller": "77011234567"})
    state = await ari.sim("GET", "/state")
    assert state["fallbacks"][0]["channel"] == call["id"]
    assert state["fallbacks"][0]["fallback"] == "voicemail"
    await ari.req("POST", "/channels/c1/variable", variable="ACD_GAP", value="lost")
    again = Ari(ari.handle, ari.session)
    await again.connect()
    status, chans = await ari.req("GET", "/channels")
    assert "c1" in [c["id"] for c in chans]
    await again.req("DELETE", "/channels/c1")
    await again.wait("ChannelDestroyed", chan("c1"))
    assert not [e for e in again.events if e["type"] == "StasisStart"]  # not sent again after reconnect
    assert not [e for e in again.events if e.get("variable") == "ACD_GAP"]  # lost in the gap, no replay
    assert [e["type"] for e in again.events][-1] == "ChannelDestroyed"
    await again.close()
    assert again.problems == []


async def test_3_local_halves_both_report_and_ids_look_like_asterisk(ari: Ari) -> None:
    await caller(ari, "c1")
    assert any(e["type"] == "ChannelStateChange" and e["channel"]["id"] == "c1-2" for e in ari.events)
    mark = len(ari.events)
    status, body = await ari.req("POST", "/channels", endpoint="Local/101@caller", app="acd")
    assert status == 200 and re.fullmatch(r"\d+\.\d+", body["id"]) and body["name"].endswith(";1")
    start = await ari.wait("StasisStart", chan(body["id"]), since=mark)
    other = [e for e in ari.since(mark, "ChannelDialplan")]
    assert other and all(e["channel"]["name"].endswith(";2") for e in other)
    assert start["args"] == []


async def test_4_originate_event_order_and_create_then_dial(ari: Ari) -> None:
    mark = len(ari.events)
    status, body = await ari.req("POST", "/channels", endpoint="PJSIP/agent1", app="acd", appArgs="agent,a1",
                                 channelId="ag1")
    assert status == 200 and body["state"] == "Down"
    await ari.wait("StasisStart", chan("ag1"), since=mark)
    seq = [(e["type"], e.get("dialstatus"), e.get("channel", {}).get("state")) for e in ari.since(mark)]
    assert seq == [("Dial", "", None), ("ChannelStateChange", None, "Ringing"), ("Dial", "RINGING", None),
                   ("ChannelStateChange", None, "Up"), ("Dial", "ANSWER", None),
                   ("ChannelVarset", None, "Up"), ("StasisStart", None, "Up")]
    assert ari.events[-1]["args"] == ["agent", "a1"]
    mark = len(ari.events)
    status, body = await ari.req("POST", "/channels/create", endpoint="PJSIP/agent2", app="acd",
                                 appArgs="agent", channelId="ag2")
    start = await ari.wait("StasisStart", chan("ag2"), since=mark)
    assert start["channel"]["state"] == "Down"
    await caller(ari, "c1", callerId='"Ivan" <79990001122>')
    assert (await ari.req("POST", "/channels/ag2/dial", timeout=10, caller="c1"))[0] == 204
    answer = await ari.wait("Dial", lambda e: e["peer"]["id"] == "ag2" and e["dialstatus"] == "ANSWER",
                            since=mark)
    assert answer["caller"]["id"] == "c1" and answer["peer"]["connected"]["number"] == "79990001122"


async def test_5_busy_leaves_channel_alive_and_ring_timeout_is_cause_19(ari: Ari) -> None:
    await ari.sim("PUT", "/endpoints/PJSIP/agent3", {"behaviour": "busy"})
    mark = len(ari.events)
    await ari.req("POST", "/channels/create", endpoint="PJSIP/agent3", app="acd", channelId="b1")
    await ari.wait("StasisStart", chan("b1"), since=mark)
    await ari.req("POST", "/channels/b1/dial")
    await ari.wait("Dial", lambda e: e["dialstatus"] == "BUSY", since=mark)
    assert (await ari.req("GET", "/channels/b1"))[0] == 200
    await ari.req("DELETE", "/channels/b1")
    destroyed = await ari.wait("ChannelDestroyed", chan("b1"), since=mark)
    assert destroyed["cause"] == 17

    await ari.sim("PUT", "/endpoints/PJSIP/agent4", {"behaviour": "no_answer"})
    mark = len(ari.events)
    await ari.req("POST", "/channels/create", endpoint="PJSIP/agent4", app="acd", channelId="n1")
    await ari.wait("StasisStart", chan("n1"), since=mark)
    await ari.req("POST", "/channels/n1/dial", timeout=3)
    destroyed = await ari.wait("ChannelDestroyed", chan("n1"), since=mark)
    assert (destroyed["cause"], destroyed["cause_txt"]) == (19, "User alerting, no answer")
    kinds = [e["type"] for e in ari.since(mark) if e["type"] in ("ChannelHangupRequest", "StasisEnd",
                                                                  "ChannelDestroyed")]
    assert kinds == ["ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]
    assert not [e for e in ari.since(mark, "Dial") if e["dialstatus"] == "NOANSWER"]


async def test_6_bridge_events_arrive_before_the_http_answer(ari: Ari) -> None:
    await caller(ari, "c1")
    await ari.req("POST", "/bridges", type="mixing", bridgeId="br1")
    mark = len(ari.events)
    seq_before = len(await ari.sim("GET", "/events"))
    status, _ = await ari.req("POST", "/bridges/br1/addChannel", channel="c1")
    assert status == 204
    log = await ari.sim("GET", f"/events?since={seq_before}")
    assert [e["event"]["type"] for e in log][:1] == ["ChannelEnteredBridge"]
    await ari.wait("ChannelEnteredBridge", chan("c1"), since=mark, within=1)


async def test_7_hangup_causes(ari: Ari) -> None:
    await caller(ari, "c1")
    mark = len(ari.events)
    await ari.req("DELETE", "/channels/c1", reason="busy")
    await ari.wait("ChannelDestroyed", chan("c1-2"), since=mark)
    req = [e for e in ari.since(mark, "ChannelHangupRequest")]
    assert (req[0]["channel"]["id"], req[0]["cause"], req[0]["soft"]) == ("c1", 32, True)
    assert len([e for e in req if e["channel"]["id"] == "c1-2"]) == 2
    causes = {e["channel"]["id"]: e["cause"] for e in ari.since(mark, "ChannelDestroyed")}
    assert causes == {"c1": 17, "c1-2": 17}
    for reason, cause in (("normal", 16), ("no_answer", 19)):
        await caller(ari, f"c-{reason}")
        mark = len(ari.events)
        await ari.req("DELETE", f"/channels/c-{reason}", reason=reason)
        assert (await ari.wait("ChannelDestroyed", chan(f"c-{reason}"), since=mark))["cause"] == cause
    call = await ari.sim("POST", "/calls", {"number": "193", "caller": "7701"})
    mark = len(ari.events)
    await ari.sim("POST", f"/calls/{call['id']}/hangup")
    hup = await ari.wait("ChannelHangupRequest", chan(call["id"]), since=mark)
    assert hup["cause"] == 16 and "soft" not in hup


async def test_8_playback_missing_bogus_language_and_playlist(ari: Ari) -> None:
    await caller(ari, "c1")
    mark = len(ari.events)
    status, pb = await ari.req("POST", "/channels/c1/play", media="sound:no-such-file-xyz")
    assert status == 201 and pb["state"] == "queued"
    done = await ari.wait("PlaybackFinished", lambda e: e["playback"]["id"] == pb["id"], since=mark)
    assert done["playback"]["state"] == "failed"

    status, bogus = await ari.req("POST", "/channels/c1/play", media="bogus:x", playbackId="pb-bogus")
    await ari.wait("PlaybackStarted", lambda e: e["playback"]["id"] == "pb-bogus", since=mark)
    en_mark = len(ari.events)
    query = "media=sound:vm-goodbye&media=sound:hello-world&playbackId=pb-last"
    async with ari.session.post(f"{ari.url}/ari/channels/c1/play?{query}", headers=AUTH) as r:
        assert r.status == 201 and (await r.json())["media_uri"] == "sound:hello-world"
    assert (await ari.req("GET", "/playbacks/pb-last"))[1]["state"] == "queued"  # behind the endless one
    await ari.req("DELETE", "/playbacks/pb-bogus")
    stopped = await ari.wait("PlaybackFinished", lambda e: e["playback"]["id"] == "pb-bogus", since=en_mark)
    assert stopped["playback"]["state"] == "done"
    await ari.wait("PlaybackFinished", lambda e: e["playback"]["id"] == "pb-last", since=en_mark)

    async def length(lang: str) -> float:
        m = len(ari.events)
        await ari.req("POST", "/channels/c1/play", media="sound:hello-world", lang=lang,
                      playbackId=f"pb-{lang}")
        start = await ari.wait("PlaybackStarted", lambda e: e["playback"]["id"] == f"pb-{lang}", since=m)
        end = await ari.wait("PlaybackFinished", lambda e: e["playback"]["id"] == f"pb-{lang}", since=m)
        assert end["playback"]["language"] == lang
        return ts(end) - ts(start)

    # sounds/ru/hello-world.wav lasts 4 s, the English one 1.5 s. Timers never fire early; at speed 50 a
    # busy machine fires them late, so only the lower bounds and the order are checked.
    ru, en = await length("ru"), await length("en")
    assert ru >= 3.9 and en >= 1.4 and ru > en

    m = len(ari.events)
    await ari.req("POST", "/channels/c1/play", media="sound:digits/1,sound:digits/2,sound:vm-goodbye",
                  playbackId="plist")
    await ari.wait("PlaybackFinished", lambda e: e["playback"]["id"] == "plist", since=m)
    cont = ari.since(m, "PlaybackContinuing")
    assert [e["playback"]["next_media_uri"] for e in cont] == ["sound:digits/2", "sound:vm-goodbye"]
    assert len(ari.since(m, "PlaybackStarted")) == 3


async def test_9_endpoint_subscription_doubles_channel_events(ari: Ari) -> None:
    mark = len(ari.events)
    await ari.req("POST", "/channels", endpoint="PJSIP/agent1", app="acd", channelId="ag1")
    await ari.wait("StasisStart", chan("ag1"), since=mark)
    status, _ = await ari.req("POST", "/applications/acd/subscription", eventSource="endpoint:PJSIP/agent1")
    assert status == 200
    mark = len(ari.events)
    await ari.req("POST", "/channels/ag1/variable", variable="ACD_X", value="1")
    await ari.wait("ChannelVarset", since=mark)
    await ari.req("DELETE", "/channels/ag1")
    await ari.wait("ChannelDestroyed", chan("ag1"), since=mark)
    await ari.wait("ChannelDestroyed", chan("ag1"), since=len(ari.events) - 1)
    assert len([e for e in ari.since(mark, "ChannelVarset") if e["variable"] == "ACD_X"]) == 2
    assert len(ari.since(mark, "ChannelDestroyed")) == 2


async def test_10_bridge_technology_member_hangup_and_bridge_destroyed(ari: Ari) -> None:
    await caller(ari, "c1")
    await caller(ari, "c2", exten="102")
    mark = len(ari.events)
    status, br = await ari.req("POST", "/bridges", type="mixing", bridgeId="br1")
    assert br["technology"] == "simple_bridge"
    await ari.req("POST", "/bridges/br1/addChannel", channel="c1,c2")
    assert (await ari.req("GET", "/bridges/br1"))[1]["technology"] == "simple_bridge"
    await ari.req("POST", "/bridges/br1/record", name="br-rec", format="wav")
    assert (await ari.req("GET", "/bridges/br1"))[1]["technology"] == "softmix"
    await ari.req("POST", "/recordings/live/br-rec/stop")
    assert not ari.since(mark, "BridgeCreated")
    m2 = len(ari.events)
    await ari.sim("POST", "/calls/c2/hangup")
    await ari.wait("ChannelDestroyed", chan("c2"), since=m2)
    kinds = [e["type"] for e in ari.since(m2) if e.get("channel", {}).get("id") == "c2"]
    assert [k for k in kinds if k != "ChannelVarset"] == ["ChannelHangupRequest", "ChannelLeftBridge",
                                                          "StasisEnd", "ChannelDestroyed"]
    assert (await ari.req("GET", "/bridges/br1"))[0] == 200  # the bridge lives on
    m3 = len(ari.events)
    await ari.req("DELETE", "/bridges/br1")
    await ari.wait("BridgeDestroyed", since=m3)
    # a bridge only used through addChannel/removeChannel gives no BridgeDestroyed
    await ari.req("POST", "/bridges", type="mixing", bridgeId="br2")
    await ari.req("POST", "/bridges/br2/addChannel", channel="c1")
    await ari.req("POST", "/bridges/br2/removeChannel", channel="c1")
    m4 = len(ari.events)
    await ari.req("DELETE", "/bridges/br2")
    await ari.req("GET", "/asterisk/ping")
    assert not ari.since(m4, "BridgeDestroyed")


async def test_10_a_bridge_deleted_while_recorded_loses_the_recordings_end(ari: Ari) -> None:
    """Issue 11 §3: a bridge destroyed right after a call, its recording still live: Asterisk writes the file
    but the app never hears RecordingFinished (the captured ``bridge_delete`` step has none). The stored
    recording is there; a recording stopped before the delete is reported."""
    await caller(ari, "c1")
    await caller(ari, "c2", exten="102")
    await ari.req("POST", "/bridges", type="mixing", bridgeId="br1")
    await ari.req("POST", "/bridges/br1/addChannel", channel="c1,c2")
    mark = len(ari.events)
    await ari.req("POST", "/bridges/br1/record", name="lost-rec", format="wav")
    await ari.wait("RecordingStarted", since=mark)
    await ari.req("DELETE", "/bridges/br1")
    await ari.req("GET", "/asterisk/ping")
    assert not ari.since(mark, "RecordingFinished")
    assert (await ari.req("GET", "/recordings/live/lost-rec", check=False))[0] == 404
    status, stored = await ari.req("GET", "/recordings/stored/lost-rec", check=False)
    assert status == 200 and stored["name"] == "lost-rec"
    # stopped first, then deleted: the end is reported. A name with folders is addressed with %2F (res_ari
    # splits the path before it decodes each segment).
    await ari.req("POST", "/bridges", type="mixing", bridgeId="br2")
    await ari.req("POST", "/bridges/br2/addChannel", channel="c1,c2")
    mark = len(ari.events)
    await ari.req("POST", "/bridges/br2/record", name="2026/11/24/kept", format="wav")
    await ari.wait("RecordingStarted", since=mark)
    assert (await ari.req("POST", "/recordings/live/2026%2F11%2F24%2Fkept/stop"))[0] == 204
    await ari.wait("RecordingFinished", since=mark)
    await ari.req("DELETE", "/bridges/br2")
    status, stored = await ari.req("GET", "/recordings/stored/2026%2F11%2F24%2Fkept", check=False)
    assert status == 200 and stored["name"] == "2026/11/24/kept"


async def test_11_stasisstatus_and_bridgepeer_noise(ari: Ari) -> None:
    await caller(ari, "c1")
    await caller(ari, "c2", exten="102")
    await ari.req("POST", "/bridges", bridgeId="br1")
    mark = len(ari.events)
    await ari.req("POST", "/bridges/br1/addChannel", channel="c1")
    await ari.req("POST", "/bridges/br1/addChannel", channel="c2")
    peers = {e["channel"]["id"]: e["value"] for e in ari.since(mark, "ChannelVarset")
             if e["variable"] == "BRIDGEPEER"}
    assert peers == {"c1": "Local/102@caller-00000001;1", "c2": "Local/100@caller-00000000;1"}
    assert [e for e in ari.events if e["type"] == "ChannelVarset" and e["variable"] == "STASISSTATUS"]


async def test_12_unmute_without_direction_is_400(ari: Ari) -> None:
    await caller(ari, "c1")
    assert await ari.req("DELETE", "/channels/c1/mute") == (400, {"message": "Direction is required"})
    assert (await ari.req("DELETE", "/channels/c1/mute", direction="both"))[0] == 204


async def test_13_answer_when_up_is_204(ari: Ari) -> None:
    await caller(ari, "c1")
    mark = len(ari.events)
    assert (await ari.req("POST", "/channels/c1/answer"))[0] == 204
    await ari.req("GET", "/asterisk/ping")
    assert not ari.since(mark, "ChannelStateChange")


async def test_14_recording_without_audio_is_a_44_byte_wav(ari: Ari) -> None:
    await caller(ari, "c1")
    mark = len(ari.events)
    status, rec = await ari.req("POST", "/channels/c1/record", name="quiet", format="wav",
                                maxDurationSeconds=1)
    assert status == 201 and rec["state"] == "queued"
    done = await ari.wait("RecordingFinished", since=mark)
    assert done["recording"]["duration"] == 0
    status, data = await ari.req("GET", "/recordings/stored/quiet/file", check=False)
    assert status == 200 and len(data) == 44
    # a simulated caller talks: its recording has the length it lasted
    call = await ari.sim("POST", "/calls", {"number": "193", "caller": "7701"})
    await ari.req("POST", f"/channels/{call['id']}/answer")
    mark = len(ari.events)
    await ari.req("POST", f"/channels/{call['id']}/record", name="voice", format="wav", maxDurationSeconds=2)
    done = await ari.wait("RecordingFinished", since=mark)
    assert done["recording"]["duration"] == 2
    status, data = await ari.req("GET", "/recordings/stored/voice/file", check=False)
    assert len(data) == 44 + 2 * 8000 * 2


async def test_15_bad_credentials_and_missing_app(ari: Ari) -> None:
    bad = {"Authorization": "Basic " + "YWNkOndyb25n"}
    async with ari.session.get(f"{ari.url}/ari/asterisk/info", headers=bad) as r:
        assert r.status == 401 and await r.json() == {"message": "Authentication required"}
        assert r.headers["WWW-Authenticate"] == 'Basic realm="Asterisk REST Interface"'
    for headers, query, status in ((bad, "?app=acd", 401), (AUTH, "", 400)):
        try:
            await ari.session.ws_connect(f"{ari.url}/ari/events{query}", headers=headers)
            raise AssertionError("upgrade accepted")
        except aiohttp.WSServerHandshakeError as e:
            assert e.status == status


async def test_16_snoop_channel_enters_stasis_with_args(ari: Ari) -> None:
    await caller(ari, "c1")
    mark = len(ari.events)
    status, snoop = await ari.req("POST", "/channels/c1/snoop", spy="both", whisper="out", app="acd",
                                  appArgs="snoop", snoopId="sn1")
    assert status == 200 and re.fullmatch(r"Snoop/c1-[0-9a-f]{8}", snoop["name"])
    start = await ari.wait("StasisStart", chan("sn1"), since=mark)
    assert start["args"] == ["snoop"] and start["channel"]["dialplan"]["app_data"] == "acd,snoop"
    assert (await ari.req("POST", "/channels/sn1/record", name="sn-rec", format="wav"))[0] == 201
    await ari.req("POST", "/recordings/live/sn-rec/stop")
    await ari.wait("RecordingFinished", since=mark)
    mark = len(ari.events)
    await ari.req("DELETE", "/channels/sn1")
    await ari.wait("StasisEnd", chan("sn1"), since=mark)
    await ari.req("GET", "/asterisk/ping")
    assert not [e for e in ari.since(mark, "ChannelDestroyed") if e["channel"]["id"] == "sn1"]


async def test_19_error_answers(ari: Ari) -> None:
    await caller(ari, "c1")
    await ari.req("POST", "/channels/create", endpoint="PJSIP/agent5", app="acd", channelId="down1")
    await ari.wait("StasisStart", chan("down1"))
    cases = [
        ("POST", "/channels/c1-2/answer", {}, 409, "Channel not in Stasis application"),
        ("POST", "/channels/c1-2/play", {"media": "sound:x"}, 409, "Channel not in Stasis application"),
        ("DELETE", "/channels/nope", {}, 404, "Channel not found"),
        ("POST", "/channels/down1/answer", {}, 412, "Channel in invalid state"),
        ("POST", "/channels/down1/hold", {}, 412, "Channel in invalid state"),
        ("POST", "/bridges/nob/addChannel", {"channel": "c1"}, 404, "Bridge not found"),
        ("POST", "/channels/c1/play", {}, 500, "Failed to queue media for playback"),
        ("POST", "/channels/c1/record", {"format": "wav"}, 500, "Error parsing request"),
        ("GET", "/channels/c1-2/variable", {"variable": "CALLERID(num)"}, 200, None),
        ("DELETE", "/applications/acd/subscription", {"eventSource": "endpoint:PJSIP/agent1"}, 422,
         "Event source was not subscribed to"),
    ]
    for method, path, params, status, message in cases:
        got, body = await ari.req(method, path, **params)
        assert got == status, (method, path, body)
        if message:
            assert body == {"message": message}, (path, body)
    await ari.req("POST", "/bridges", bridgeId="br1")
    assert await ari.req("POST", "/bridges/br1/addChannel", channel="nope") == (
        400, {"message": "Channel not found"})
    assert (await ari.req("POST", "/bridges/br1/addChannel", channel="c1-2"))[0] == 422
    assert (await ari.req("POST", "/bridges/br1/removeChannel", channel="c1"))[1] == {
        "message": "Channel not in this bridge"}
    assert await ari.req("POST", "/channels", endpoint="NoSuchTech/1", app="acd") == (
        500, {"error": "Allocation failed"})
    # no false 409 after a duplicate id (the Asterisk bug of originate_bad_tech is not copied)
    dup = await ari.req("POST", "/channels", endpoint="Local/1@caller", app="acd", channelId="c1")
    assert dup[0] == 409
    assert (await ari.req("POST", "/channels", endpoint="NoSuchTech/1", app="acd"))[0] == 500
    # recording a bridged channel: 201, then RecordingFailed
    await ari.req("POST", "/bridges/br1/addChannel", channel="c1")
    mark = len(ari.events)
    assert (await ari.req("POST", "/channels/c1/record", name="inbr", format="wav"))[0] == 201
    failed = await ari.wait("RecordingFailed", since=mark)
    assert failed["recording"]["cause"] == "Cannot record channel while in bridge"
    # stopped playback ends "done"; unpausing sends PlaybackStarted again
    await ari.req("POST", "/bridges/br1/removeChannel", channel="c1")
    mark = len(ari.events)
    await ari.req("POST", "/channels/c1/play", media="sound:demo-instruct", playbackId="long")
    await ari.wait("PlaybackStarted", since=mark)
    await ari.req("POST", "/playbacks/long/control", operation="pause")
    assert (await ari.req("GET", "/playbacks/long"))[1]["state"] == "paused"
    await ari.req("POST", "/playbacks/long/control", operation="unpause")
    assert len(ari.since(mark, "PlaybackStarted")) == 2
    await ari.req("DELETE", "/playbacks/long")
    assert (await ari.wait("PlaybackFinished", since=mark))["playback"]["state"] == "done"
    assert json.dumps(await ari.req("GET", "/playbacks/long")) == json.dumps(
        [404, {"message": "Playback not found"}])


async def test_10_a_bridge_recording_ends_when_its_last_member_leaves(ari: Ari) -> None:
    """Captured on Asterisk 22.10.1 (docs/deploy-tested.md): the caller leaves the conversation bridge, then
    the agent; RecordingFinished follows the last ChannelLeftBridge, before the app deletes the bridge, and
    a stop sent after it answers 404 (the daemon's stop races with that end: a normal 404)."""
    real = [json.loads(line) for line in (FIXTURES / "bridge-recording-ends-with-the-last-member.jsonl")
            .read_text().splitlines()]
    shape = [(e["type"], len((e.get("bridge") or {}).get("channels") or [])) for e in real
             if e["type"] in ("ChannelLeftBridge", "RecordingFinished", "BridgeDestroyed")]
    assert shape == [("ChannelLeftBridge", 1), ("ChannelLeftBridge", 0), ("RecordingFinished", 0),
                     ("BridgeDestroyed", 0)]
    await caller(ari, "c1")
    await caller(ari, "c2", exten="102")
    await ari.req("POST", "/bridges", type="mixing", bridgeId="br1")
    await ari.req("POST", "/bridges/br1/addChannel", channel="c1,c2")
    mark = len(ari.events)
    await ari.req("POST", "/bridges/br1/record", name="ends", format="wav")
    await ari.wait("RecordingStarted", since=mark)
    await ari.req("POST", "/bridges/br1/removeChannel", channel="c1")
    await ari.req("GET", "/asterisk/ping")
    assert not ari.since(mark, "RecordingFinished")  # one member left: still recording
    await ari.req("POST", "/bridges/br1/removeChannel", channel="c2")
    await ari.wait("RecordingFinished", since=mark)
    kinds = [e["type"] for e in ari.since(mark) if e["type"] in ("ChannelLeftBridge", "RecordingFinished")]
    assert kinds == ["ChannelLeftBridge", "ChannelLeftBridge", "RecordingFinished"]
    status, body = await ari.req("POST", "/recordings/live/ends/stop", check=False)
    assert (status, body) == (404, {"message": "Recording not found"})
    assert (await ari.req("GET", "/recordings/stored/ends", check=False))[0] == 200


async def test_10_the_client_stops_a_recording_that_already_ended_quietly(
    sim: SimulatorHandle, ari: Ari
) -> None:
    """docs/deploy-tested.md: the daemon's stop after the last member left answered 404 and was logged as
    an ARI error on every recorded call. ``stop_live_if_running`` says False and logs nothing above debug;
    ``stop_live`` still raises the 404."""
    await caller(ari, "c1")
    await ari.req("POST", "/bridges", type="mixing", bridgeId="br1")
    await ari.req("POST", "/bridges/br1/addChannel", channel="c1")
    mark = len(ari.events)
    await ari.req("POST", "/bridges/br1/record", name="2026/11/24/gone", format="wav")
    await ari.wait("RecordingStarted", since=mark)
    await ari.req("POST", "/bridges/br1/removeChannel", channel="c1")
    await ari.wait("RecordingFinished", since=mark)
    async with AriClient(sim.url, "acd", SecretStr("secret"), "acd") as client:
        with structlog.testing.capture_logs() as logs:
            assert await client.recordings.stop_live_if_running("2026/11/24/gone") is False
        assert [e for e in logs if e["log_level"] not in ("debug",)] == []
        with pytest.raises(AriNotFound):
            await client.recordings.stop_live("2026/11/24/gone")


async def test_event_filter_keeps_only_the_allowed_types_across_websockets(ari: Ari) -> None:
    """``PUT /applications/{app}/eventFilter`` as res/stasis/app.c does it: only allowed types are sent,
    the filter stays with the application when a new WebSocket replaces the old one, disallowed wins, an
    empty body resets, and a list entry without a type is refused. (``check=False``: the whole JSON body is
    the ``filter`` parameter, res_ari_applications.c ``args.filter = body``, which the shared conformance
    tool reads as undeclared parameters ``allowed``/``disallowed``.)"""
    status, app = await ari.req("PUT", "/applications/acd/eventFilter", check=False,
                                json_body={"allowed": [{"type": "StasisStart"}, {"type": "StasisEnd"}]})
    assert status == 200 and app["events_allowed"] == [{"type": "StasisStart"}, {"type": "StasisEnd"}]
    await caller(ari, "f1")
    await ari.req("DELETE", "/channels/f1")
    await ari.wait("StasisEnd", chan("f1"))
    assert {e["type"] for e in ari.events} == {"StasisStart", "StasisEnd"}
    log = await ari.sim("GET", "/events")
    assert any(e.get("filtered") and e["event"]["type"] == "ChannelDestroyed" for e in log)

    second = Ari(ari.handle, ari.session)  # the filter belongs to the app, not to the socket
    await second.connect()
    await caller(second, "f2")
    assert {e["type"] for e in second.events} == {"StasisStart"}
    assert ari.since(0, "ApplicationReplaced") == []  # not allowed either

    status, app = await second.req("PUT", "/applications/acd/eventFilter", check=False,
                                   json_body={"disallowed": [{"type": "StasisStart"}]})
    assert status == 200 and app["events_allowed"] and app["events_disallowed"] == [{"type": "StasisStart"}]
    status, body = await second.req("PUT", "/applications/acd/eventFilter", check=False,
                                    json_body={"allowed": [{}]})
    assert status == 400 and body == {"message": "Invalid format definition"}
    status, app = await second.req("PUT", "/applications/acd/eventFilter", check=False)
    assert status == 200 and app["events_allowed"] == [] and app["events_disallowed"] == []
    mark = len(second.events)
    await ari.req("POST", "/channels/f2/variable", variable="X", value="1")
    await second.wait("ChannelVarset", chan("f2"), since=mark)  # every type again
    await second.close()
