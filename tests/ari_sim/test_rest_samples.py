"""Replay rest-samples.jsonl (286 real Asterisk 22 exchanges) against the simulator, in order.

For every request: the same status code, and a body of the same shape (the same keys). For every step with
recorded events: the same number of events of the types a client acts on. Then every event the run produced
is compared in shape with sample-events.jsonl (keys per type, nested channel/bridge/playback keys).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from acd.ari_sim import SimulatorConfig, start_simulator
from tests.ari_sim.conftest import ARI_DIR, Ari

REPLAY_SPEED = 10.0
WATCHED = {"StasisStart", "StasisEnd", "ChannelDestroyed", "PlaybackStarted", "PlaybackFinished",
           "PlaybackContinuing", "RecordingStarted", "RecordingFinished", "RecordingFailed",
           "ChannelEnteredBridge", "ChannelLeftBridge", "BridgeDestroyed", "ChannelDtmfReceived",
           "ChannelHangupRequest"}
# Where the simulator knowingly differs from the captured run.
EXPECTED_STATUS = {"originate_bad_tech": 500}  # Asterisk's false 409 (BEHAVIOUR.md 19) is not copied
# The two halves of a Local channel hang up on two threads: hangup_normal and hangup_busy captured the two
# possible interleavings of the same operation; the simulator gives hangup_normal's.
ORDER_RACES = {"hangup_busy"}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted(value)
    if isinstance(value, list):
        return ["list", _shape(value[0]) if value else None]
    return type(value).__name__


def _same_shape(theirs: Any, ours: Any) -> bool:
    if isinstance(theirs, list) and isinstance(ours, list):
        return not theirs or not ours or _shape(theirs[0]) == _shape(ours[0])
    return _shape(theirs) == _shape(ours)


def _steps() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (ARI_DIR / "rest-samples.jsonl").read_text().splitlines() if line]


@pytest.fixture
async def replay_sim(tmp_path: Path, sounds_dir: Path) -> Any:
    cfg = tmp_path / "sim.yaml"
    cfg.write_text("agents: 1\nendpoints:\n  PJSIP/agent1: {state: offline}\n")
    handle = await start_simulator(SimulatorConfig(port=0, clock=f"speed={REPLAY_SPEED:g}",
                                                   sounds=[sounds_dir], recordings=tmp_path / "rec",
                                                   config=cfg))
    yield handle
    await handle.stop()


async def test_replay_rest_samples(replay_sim: Any) -> None:
    steps = _steps()
    events_by_step = {s["step"]: s for s in steps if "events" in s}
    idmap: dict[str, str] = {}
    mismatches: list[str] = []
    async with aiohttp.ClientSession() as session:
        ari = Ari(replay_sim, session)
        await ari.connect()
        for step in steps:
            if "method" not in step:
                continue
            name = step["step"]
            path = step["path"]
            for key, value in (step.get("ids") or {}).items():
                path = path.replace("{" + key + "}", idmap.get(value, value))
            query = {k: idmap.get(v, v) if isinstance(v, str) else v for k, v in step["query"].items()}
            mark = len(ari.events)
            if name in ("bad_credentials", "no_credentials"):
                headers = {} if name == "no_credentials" else {
                    "Authorization": "Basic " + base64.b64encode(b"acd:wrong").decode()}
                async with session.request(step["method"], f"{ari.url}/ari{path}", headers=headers) as r:
                    status, body = r.status, await r.json()
                    assert r.headers.get("WWW-Authenticate") == step["headers"]["WWW-Authenticate"]
            else:
                status, body = await ari.req(step["method"], path, json_body=step["body"], **query)
            want = EXPECTED_STATUS.get(name, step["status"])
            if status != want:
                mismatches.append(f"{name}: status {status}, Asterisk {step['status']} ({body})")
            elif name in EXPECTED_STATUS:
                pass
            elif isinstance(step["response"], (dict, list)) and not _same_shape(step["response"], body):
                mismatches.append(f"{name}: body {_shape(body)} vs {_shape(step['response'])}")
            elif step["status"] >= 400 and body != step["response"]:
                mismatches.append(f"{name}: error body {body} vs {step['response']}")
            if isinstance(body, dict) and isinstance(step["response"], dict):
                for key in ("id", "name"):
                    theirs, ours = step["response"].get(key), body.get(key)
                    if isinstance(theirs, str) and isinstance(ours, str) and key == "id":
                        idmap.setdefault(theirs, ours)
            expected = events_by_step.get(name)
            if expected:
                want_counts = Counter(t for t in expected["events"] if t in WATCHED)
                try:
                    await asyncio.wait_for(_until(ari, mark, want_counts), 3.0)
                    order = [t for t in expected["events"] if t in WATCHED]
                    got_order = [e["type"] for e in ari.since(mark) if e["type"] in WATCHED][: len(order)]
                    if got_order != order and name not in ORDER_RACES:
                        mismatches.append(f"{name}: order {got_order} vs Asterisk {order}")
                except TimeoutError:
                    got = Counter(e["type"] for e in ari.since(mark) if e["type"] in WATCHED)
                    mismatches.append(f"{name}: events {dict(got)} vs Asterisk {dict(want_counts)}")
        await ari.close()
        assert ari.problems == [], ari.problems[:10]
    assert mismatches == [], "\n".join(mismatches)
    _compare_event_shapes(ari.events)


async def _until(ari: Ari, mark: int, want: Counter[str]) -> None:
    while True:
        got = Counter(e["type"] for e in ari.since(mark) if e["type"] in WATCHED)
        if all(got[t] >= n for t, n in want.items()):
            return
        ari._changed.clear()
        await ari._changed.wait()


def _compare_event_shapes(ours: list[dict[str, Any]]) -> None:
    samples: dict[str, list[dict[str, Any]]] = {}
    for line in (ARI_DIR / "sample-events.jsonl").read_text().splitlines():
        event = json.loads(line)
        samples.setdefault(event["type"], []).append(event)
    optional = {"soft", "next_media_uri", "duration", "cause"}
    compared = set()
    for event in ours:
        refs = samples.get(event["type"])
        if not refs:
            continue
        compared.add(event["type"])
        ref_keys = set(refs[0]) - optional
        assert ref_keys <= set(event) <= set(refs[0]) | optional, (event["type"], sorted(event))
        for nested in ("channel", "peer", "bridge", "playback", "recording", "endpoint"):
            if nested in event and nested in refs[0]:
                theirs, mine = set(refs[0][nested]) - optional, set(event[nested])
                allowed = set(refs[0][nested]) | optional
                assert theirs <= mine <= allowed, (event["type"], nested, sorted(mine))
    assert compared >= {"StasisStart", "StasisEnd", "ChannelDestroyed", "Dial", "ChannelVarset",
                        "PlaybackStarted", "PlaybackFinished", "PlaybackContinuing", "RecordingStarted",
                        "RecordingFinished", "ChannelEnteredBridge", "ChannelLeftBridge", "BridgeDestroyed",
                        "ChannelHangupRequest", "ChannelDtmfReceived", "ChannelStateChange",
                        "ChannelDialplan", "ChannelCallerId", "ChannelConnectedLine"}
