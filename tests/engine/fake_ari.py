"""A fake ARI client for engine unit tests: it records every command, keeps channel variables, and lets the
test decide when (and in which order) Asterisk's events arrive, as ``engine.dispatch`` of typed events.

Playbacks finish by themselves on the next loop turn unless their media is listed in ``held``; the test can
finish them later with ``finish_playback``. ``gate`` holds ``bridges.add_channel`` until the test opens it,
to put an event in the middle of the bridging.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from acd.ari import models
from acd.ari.errors import AriNotFound

STAMP = "2026-11-24T10:00:00.000+0500"


def channel(cid: str, name: str = "", *, number: str = "77011234567", exten: str = "500") -> models.Channel:
    return models.Channel.model_validate(
        {
            "id": cid,
            "protocol_id": "",
            "name": name or f"PJSIP/trunk-{cid}",
            "state": "Up",
            "caller": {"name": "", "number": number},
            "connected": {"name": "", "number": ""},
            "accountcode": "",
            "dialplan": {
                "context": "from-trunk",
                "exten": exten,
                "priority": 1,
                "app_name": "Stasis",
                "app_data": "acd",
            },
            "creationtime": STAMP,
            "language": "en",
        }
    )


def stasis_start(cid: str, args: list[str], name: str = "") -> models.StasisStart:
    return models.StasisStart(application="acd", timestamp=STAMP, args=args, channel=channel(cid, name))


def destroyed(cid: str, cause: int = 16) -> models.ChannelDestroyed:
    return models.ChannelDestroyed.model_validate(
        {
            "type": "ChannelDestroyed",
            "application": "acd",
            "timestamp": STAMP,
            "cause": cause,
            "cause_txt": "Normal Clearing",
            "channel": channel(cid).model_dump(),
        }
    )


def dial(peer: str, dialstatus: str) -> models.Dial:
    return models.Dial(application="acd", timestamp=STAMP, peer=channel(peer), dialstatus=dialstatus)


@dataclass
class Bridge:
    id: str
    channels: list[str] = field(default_factory=list)


class _Part:
    def __init__(self, ari: FakeAri) -> None:
        self.ari = ari


class _Channels(_Part):
    async def originate(self, endpoint: str, **kw: Any) -> Any:
        cid = kw["channel_id"]
        self.ari.log("originate", endpoint, cid)
        self.ari.alive.add(cid)
        for k, v in (kw.get("variables") or {}).items():
            self.ari.vars[(cid, k)] = v
        return models.Channel.model_validate(channel(cid, f"PJSIP/{endpoint}").model_dump())

    async def hangup(self, cid: str, reason: str = "normal", *, not_found_ok: bool = False) -> None:
        self.ari.log("hangup", cid)
        if cid not in self.ari.alive:
            raise AriNotFound(404, "Channel not found")
        self.ari.alive.discard(cid)

    async def set_var(self, cid: str, name: str, value: str) -> None:
        if cid not in self.ari.alive:
            raise AriNotFound(404, "Channel not found")
        self.ari.vars[(cid, name)] = value

    async def get_var(self, cid: str, name: str) -> str:
        if (cid, name) not in self.ari.vars:
            raise AriNotFound(404, "Provided variable was not found")
        return self.ari.vars[(cid, name)]

    async def get(self, cid: str) -> models.Channel:
        if cid not in self.ari.alive:
            raise AriNotFound(404, "Channel not found")
        return channel(cid)

    async def list(self) -> list[models.Channel]:
        return [channel(c, self.ari.names.get(c, "")) for c in self.ari.alive]

    async def answer(self, cid: str) -> None:
        self.ari.log("answer", cid)

    async def ring(self, cid: str) -> None:
        self.ari.log("ring", cid)

    async def ring_stop(self, cid: str) -> None:
        self.ari.log("ring_stop", cid)

    async def play(
        self, cid: str, media: builtins.list[str], *, lang: str = "", playback_id: str = "",
        not_found_ok: bool = False,
    ) -> None:
        self.ari.log("play", cid, *media)
        self.ari.playing[playback_id] = [*media]
        if not any(h in m for m in media for h in self.ari.held):
            asyncio.get_running_loop().call_soon(self.ari.finish_playback, playback_id)

    async def start_moh(self, cid: str, moh_class: str = "default") -> None:
        self.ari.log("moh", cid, moh_class)

    async def stop_moh(self, cid: str) -> None:
        self.ari.log("moh_stop", cid)

    async def record(self, cid: str, name: str, fmt: str, **kw: Any) -> None:
        self.ari.log("record", cid, name)

    async def mute(self, cid: str, direction: str = "both") -> None:
        self.ari.log("mute", cid, direction)

    async def unmute(self, cid: str, direction: str = "both") -> None:
        self.ari.log("unmute", cid, direction)

    async def send_dtmf(self, cid: str, dtmf: str, **kw: Any) -> None:
        self.ari.log("dtmf", cid, dtmf)

    async def snoop(self, cid: str, spy: str = "none", whisper: str = "none", app: str = "",
                    snoop_id: str = "", **kw: Any) -> models.Channel:
        self.ari.log("snoop", cid, spy, whisper, snoop_id)
        self.ari.alive.add(snoop_id)
        return channel(snoop_id, f"Snoop/{cid}-00000001")


class _Bridges(_Part):
    async def create(self, kind: str, bridge_id: str = "") -> Bridge:
        self.ari.log("bridge", bridge_id)
        self.ari.bridges_[bridge_id] = Bridge(bridge_id)
        return self.ari.bridges_[bridge_id]

    async def get(self, bridge_id: str) -> Bridge:
        if bridge_id not in self.ari.bridges_:
            raise AriNotFound(404, "Bridge not found")
        return self.ari.bridges_[bridge_id]

    async def add_channel(self, bridge_id: str, channels: list[str] | str) -> None:
        await self.ari.gate.wait()
        channels = [channels] if isinstance(channels, str) else channels
        self.ari.log("add", bridge_id, *channels)
        self.ari.bridges_[bridge_id].channels += channels

    async def remove_channel(self, bridge_id: str, channels: list[str] | str) -> None:
        channels = [channels] if isinstance(channels, str) else channels
        self.ari.log("remove", bridge_id, *channels)
        members = self.ari.bridges_[bridge_id].channels
        self.ari.bridges_[bridge_id].channels = [c for c in members if c not in channels]

    async def record(self, bridge_id: str, name: str, fmt: str, **kw: Any) -> None:
        self.ari.log("record_bridge", bridge_id, name)
        self.ari.live_recordings.add(name)

    async def destroy(self, bridge_id: str) -> None:
        self.ari.log("destroy", bridge_id)
        self.ari.bridges_.pop(bridge_id, None)
        for name in [n for n in self.ari.bridge_recordings(bridge_id) if n in self.ari.live_recordings]:
            # as Asterisk: the file is stored, RecordingFinished never reaches the app (issue 11 §3)
            self.ari.live_recordings.discard(name)
            self.ari.stored.add(name)


class _Playbacks(_Part):
    async def stop(self, playback_id: str) -> None:
        self.ari.log("stop", playback_id)
        asyncio.get_running_loop().call_soon(self.ari.finish_playback, playback_id)

    async def get(self, playback_id: str) -> None:
        if playback_id not in self.ari.playing:
            raise AriNotFound(404, "Playback not found")


class _Recordings(_Part):
    async def get_live(self, name: str) -> None:
        if name not in self.ari.live_recordings:
            raise AriNotFound(404, "Recording not found")

    async def stop_live_if_running(self, name: str) -> bool:
        try:
            await self.stop_live(name)
        except AriNotFound:
            return False
        return True

    async def stop_live(self, name: str) -> None:
        self.ari.log("stop_recording", name)
        if name not in self.ari.live_recordings:
            raise AriNotFound(404, "Recording not found")
        self.ari.live_recordings.discard(name)
        self.ari.stored.add(name)
        if not self.ari.lose_recording_ends:
            asyncio.get_running_loop().call_soon(self.ari.finish_recording, name)

    async def get_stored(self, name: str) -> None:
        self.ari.log("get_stored", name)
        if name not in self.ari.stored:
            raise AriNotFound(404, "Recording not found")


@dataclass
class _App:
    channel_ids: list[str]


class _Applications(_Part):
    async def get(self, name: str) -> _App:
        return _App(sorted(self.ari.alive))


class _Endpoints(_Part):
    async def list(self) -> list[Any]:
        return []


class FakeAri:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.vars: dict[tuple[str, str], str] = {}
        self.alive: set[str] = set()
        self.playing: dict[str, list[str]] = {}
        self.held: set[str] = set()
        self.bridges_: dict[str, Bridge] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.dispatch: Callable[[models.Event], None] | None = None
        self.changed = asyncio.Event()
        self.channels = _Channels(self)
        self.bridges = _Bridges(self)
        self.playbacks = _Playbacks(self)
        self.recordings = _Recordings(self)
        self.endpoints = _Endpoints(self)
        self.applications = _Applications(self)
        self.names: dict[str, str] = {}
        self.live_recordings: set[str] = set()
        self.stored: set[str] = set()
        self.lose_recording_ends = False
        """True: a stopped recording's RecordingFinished never arrives (the bridge was destroyed first)."""

    def log(self, *call: str) -> None:
        self.calls.append(call)
        self.changed.set()

    def finish_playback(self, playback_id: str) -> None:
        if self.playing.pop(playback_id, None) is None or self.dispatch is None:
            return
        pb = models.Playback(id=playback_id, media_uri="", target_uri="", state="done")
        self.dispatch(models.PlaybackFinished(application="acd", timestamp=STAMP, playback=pb))

    def bridge_recordings(self, bridge_id: str) -> list[str]:
        return [c[2] for c in self.calls if c[0] == "record_bridge" and c[1] == bridge_id]

    def finish_recording(self, name: str) -> None:
        if self.dispatch is None:
            return
        rec = models.LiveRecording(name=name, format="wav", state="done", target_uri="", duration=3)
        self.dispatch(models.RecordingFinished(application="acd", timestamp=STAMP, recording=rec))

    def of(self, kind: str) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[0] == kind]

    async def until(self, check: Callable[[], object], what: str, timeout_s: float = 5.0) -> Any:
        """Wait (on the fake's own changes, no polling sleeps) until ``check()`` holds."""

        async def loop() -> Any:
            while True:
                value = check()
                if value:
                    return value
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.05)

        try:
            return await asyncio.wait_for(loop(), timeout_s)
        except TimeoutError:
            raise AssertionError(f"timed out: {what}; ARI calls: {self.calls}") from None
