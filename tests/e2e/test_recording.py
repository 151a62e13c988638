"""Recording end to end (issue 5; R10, R14, R28): the caller hears that the call is recorded before the
recording starts, the conversation is recorded and linked to its CDR row, and it can be found and
downloaded by those allowed to, with every access audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.harness import TOKENS, Harness


async def _events(h: Harness) -> list[dict[str, Any]]:
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        data = await r.json()
    return [e.get("event", e) for e in data]


async def _answered_call(h: Harness) -> tuple[str, dict[str, Any]]:
    for i in range(1, 9):
        await h.endpoint(f"agent{i}", state="offline")
    await h.endpoint("agent3", state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await h.start_daemon()
    call = await h.call("193", "77017778899", language="ru", talk_s=12,
                        dtmf_on={"language_menu": "2", "main_menu": "1"})
    await h.wait_gone(call)
    row = await h.call_row(call)
    assert h.daemon is not None
    await h.daemon.recorder.drain()
    return call, row


async def test_notice_is_played_to_the_caller_before_the_bridge_recording_starts(harness: Harness) -> None:
    call, row = await _answered_call(harness)
    assert row["agent"] == "agent3" and row["recording"]
    events = await _events(harness)
    notice = next(i for i, e in enumerate(events) if e.get("type") == "PlaybackStarted"
                  and "recording_notice" in e["playback"]["media_uri"]
                  and e["playback"]["target_uri"] == f"channel:{call}")
    notice_done = next(i for i, e in enumerate(events) if e.get("type") == "PlaybackFinished"
                       and "recording_notice" in e["playback"]["media_uri"] and i > notice)
    recording = next(i for i, e in enumerate(events) if e.get("type") == "RecordingStarted"
                     and e["recording"]["name"] == row["recording"])
    assert notice < notice_done < recording  # R10: told first, then recorded
    assert events[recording]["recording"]["target_uri"].startswith("bridge:")  # the bridge, both voices


async def test_recording_is_found_and_downloaded_by_those_allowed_and_audited(harness: Harness) -> None:
    call, row = await _answered_call(harness)
    status, body = await harness.api_get(f"/api/recordings?call={call}", who="supervisor")
    assert status == 200 and body["count"] == 1
    rec = body["recordings"][0]
    wav = harness.tmp / "recordings" / f"{row['recording']}.wav"
    headers = {"Authorization": f"Bearer {TOKENS['supervisor']}", "Range": "bytes=0-43"}
    async with harness.http.get(f"{harness.api}{rec['audio_url']}", headers=headers) as r:
        assert r.status == 206
        assert await r.read() == wav.read_bytes()[:44]  # the WAV header of the real file
    # the agent who took the call finds it; another agent does not
    status, body = await harness.api_get(f"/api/recordings?call={call}", who="agent3")
    assert status == 200 and body["count"] == 1
    status, body = await harness.api_get(f"/api/recordings?call={call}", who="agent5")
    assert status == 200 and body["count"] == 0
    status, _ = await harness.api_get(f"/api/recordings/{rec['id']}", who="agent5")
    assert status == 404
    audit = await harness.rows("SELECT user_name, action FROM recording_access_log ORDER BY id")
    assert {"user_name": "supervisor", "action": "download"} in audit or \
        {"user_name": "supervisor", "action": "listen"} in audit


async def test_no_recording_stays_recording_after_its_call_ended(harness: Harness) -> None:
    """Issue 11 §3: the bridge was destroyed right after the call, so Asterisk never reported the
    recording's end (the simulator drops RecordingFinished for a bridge deleted while recorded) and the rows
    stayed `recording` forever. The engine stops the recording and awaits its end before the delete."""
    call, row = await _answered_call(harness)
    [rec] = await harness.rows("SELECT name, status, size_bytes FROM recordings WHERE call_id = :id", id=call)
    assert rec["status"] == "done" and rec["size_bytes"] > 44
    row = await harness.call_row(call)
    assert row["recording_status"] == "done"
    assert row["end_estimated"] in (False, 0)


async def test_the_agent_answers_after_the_notice_started_and_joins_after_it_ended(harness: Harness) -> None:
    """Issue 11 §5: the notice plays while the agent's phone rings (no dead air for the agent): it starts
    before the agent's answer (the leg's StasisStart), and the agent enters the bridge after it ended."""
    call, row = await _answered_call(harness)
    events = await _events(harness)

    def first(pred: Callable[[dict[str, Any]], bool]) -> int:
        return next(i for i, e in enumerate(events) if pred(e))

    notice = first(lambda e: e.get("type") == "PlaybackStarted"
                   and "recording_notice" in e["playback"]["media_uri"])
    notice_done = first(lambda e: e.get("type") == "PlaybackFinished"
                        and "recording_notice" in e["playback"]["media_uri"])
    answer = first(lambda e: e.get("type") == "StasisStart" and (e.get("args") or [""])[0] == "agent")
    agent_leg = events[answer]["channel"]["id"]
    joined = first(lambda e: e.get("type") == "ChannelEnteredBridge" and e["channel"]["id"] == agent_leg)
    assert notice < answer  # the notice started while the phone rang
    assert notice_done < joined  # nobody is bridged over it
