"""Playbacks and recordings with real timing: a prompt lasts as long as its file, a recording writes a file.

Rules copied from Asterisk (BEHAVIOUR.md 8, 14, 19 and res/stasis_app_playback.c): one queue of playbacks per
target; a missing sound answers 201 then finishes ``failed``; an unknown scheme starts and never finishes; a
playlist sends PlaybackContinuing between items; a stopped playback ends ``done``; unpausing sends
PlaybackStarted again. File lookup follows main/file.c (fileexists_core): ``<lang>/<name>``, then ``en``,
then no language directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acd.ari_sim import wav
from acd.ari_sim.model import Bridge, Channel, Playback, Recording
from acd.ari_sim.world import World

RECORD_FORMATS = {"wav", "wav16", "gsm", "ulaw", "alaw", "sln", "slin", "g722", "g729", "wav49", "ilbc", "au"}
SCHEMES = {"sound", "recording", "number", "digits", "characters", "tone"}
_BYTES_PER_S = {".ulaw": 8000, ".alaw": 8000, ".sln": 16000, ".slin": 16000, ".gsm": 1650, ".g722": 8000}
DIGIT_S = 0.6
"""Length assumed for a digit or number word when its sound file is not installed."""


class Media:
    def __init__(self, world: World, sounds: list[Path], recordings: Path) -> None:
        self.world = world
        self.sounds = sounds
        self.recordings = recordings
        self.playbacks: dict[str, Playback] = {}
        self.queues: dict[str, list[str]] = {}
        self.live: dict[str, Recording] = {}
        self.on_playback_started: list[Callable[[Playback], None]] = []
        world.on_hangup_request.append(self._channel_gone)
        world.is_recording = lambda ch: ch.recording is not None and ch.recording in self.live
        world.stop_bridge_media = self._bridge_gone
        world.on_bridge_change.append(self._bridge_changed)

    # ---- files ------------------------------------------------------------------------------------
    def find_sound(self, name: str, lang: str) -> Path | None:
        langs = [lang, "en", ""] if lang and lang != "en" else ["en", ""]
        for base in self.sounds:
            for lg in langs:
                for ext in (".wav", ".sln", ".ulaw", ".alaw", ".gsm", ".g722"):
                    p = (base / lg / f"{name}{ext}") if lg else (base / f"{name}{ext}")
                    if p.is_file():
                        return p
        return None

    @staticmethod
    def file_seconds(path: Path) -> float | None:
        if path.suffix == ".wav":
            return wav.duration_s(path)
        rate = _BYTES_PER_S.get(path.suffix)
        return path.stat().st_size / rate if rate else None

    def stored_path(self, name: str) -> Path | None:
        if ".." in name.split("/") or name.startswith("/"):
            return None
        for p in sorted(self.recordings.glob(f"{name}.*")):
            if p.is_file() and p.suffix.lstrip(".") in RECORD_FORMATS:
                return p
        return None

    def stored(self) -> list[dict[str, str]]:
        out = []
        if self.recordings.is_dir():
            for p in sorted(self.recordings.rglob("*")):
                if p.is_file() and p.suffix.lstrip(".") in RECORD_FORMATS:
                    rel = p.relative_to(self.recordings).with_suffix("")
                    out.append({"name": rel.as_posix(), "format": p.suffix.lstrip(".")})
        return out

    def item_seconds(self, uri: str, lang: str) -> float | None | str:
        """Seconds of one media item; None = plays forever; "missing" = file not found."""
        scheme, _, rest = uri.partition(":")
        if scheme not in SCHEMES:
            return None  # bogus:x starts and never finishes (item 8)
        if scheme == "tone":
            return None
        if scheme == "sound":
            path = self.find_sound(rest, lang)
            secs = self.file_seconds(path) if path else None
            return "missing" if secs is None else secs
        if scheme == "recording":
            path = self.stored_path(rest)
            secs = self.file_seconds(path) if path else None
            return "missing" if secs is None else secs
        parts = list(rest) if scheme in ("digits", "characters") else [rest]
        total = 0.0
        for part in parts:
            path = self.find_sound(f"digits/{part}", lang)
            secs = self.file_seconds(path) if path else None
            total += secs if secs is not None else DIGIT_S
        return total

    # ---- playbacks --------------------------------------------------------------------------------
    def _listeners_for(self, target_uri: str) -> list[str]:
        kind, _, tid = target_uri.partition(":")
        apps: list[str] = []
        if kind == "channel":
            ch = self.world.channels.get(tid)
            if ch is not None:
                apps = [a for a, _ in self.world._listeners(ch)]
        elif kind == "bridge":
            br = self.world.bridges.get(tid)
            chans = self.world.channels
            members = [chans[c] for c in (br.channels if br else []) if c in chans]
            for app in self.world.hub.apps.values():
                if tid in app.bridge_ids or any(m.id in app.channel_ids for m in members):
                    apps.append(app.name)
            if not apps:
                apps = list(self.world.hub.apps)
        return apps

    def _emit(self, kind: str, key: str, obj: dict[str, Any], target_uri: str) -> None:
        for app in self._listeners_for(target_uri):
            self.world.hub.send(app, {"type": kind, key: obj})

    def play(self, target_uri: str, media: list[str], lang: str, playback_id: str, skipms: int) -> Playback:
        pb = Playback(id=playback_id, media=media, target_uri=target_uri, language=lang, skipms=skipms)
        self.playbacks[pb.id] = pb
        queue = self.queues.setdefault(target_uri, [])
        queue.append(pb.id)
        if len(queue) == 1:
            asyncio.get_running_loop().call_soon(self._start, pb)
        return pb

    def _start(self, pb: Playback) -> None:
        if pb.id not in self.playbacks:
            return
        secs = self.item_seconds(pb.media_uri, pb.language)
        pb.state, pb.position_s, pb.started_at = "playing", 0.0, self.world.clock.now()
        pb.duration_s = None if secs == "missing" else secs  # type: ignore[assignment]
        self._emit("PlaybackStarted", "playback", pb.to_json(), pb.target_uri)
        for hook in self.on_playback_started:
            hook(pb)
        if secs == "missing":
            self.world.later("pb:" + pb.id, 0.0, self._finish, pb, "failed")
        else:
            self._arm(pb)

    def _arm(self, pb: Playback) -> None:
        self.world.cancel_timers("pb:" + pb.id)
        if pb.duration_s is not None:
            self.world.later("pb:" + pb.id, max(0.0, pb.duration_s - pb.position_s), self._item_done, pb)

    def _item_done(self, pb: Playback) -> None:
        if pb.index + 1 < len(pb.media):
            pb.state = "continuing"
            self._emit("PlaybackContinuing", "playback", pb.to_json(), pb.target_uri)
            pb.index += 1
            self._start(pb)
        else:
            self._finish(pb, "done")

    def _finish(self, pb: Playback, state: str, *, start_next: bool = True) -> None:
        if self.playbacks.pop(pb.id, None) is None:
            return
        self.world.cancel_timers("pb:" + pb.id)
        pb.state = state
        self._emit("PlaybackFinished", "playback", pb.to_json(), pb.target_uri)
        queue = self.queues.get(pb.target_uri, [])
        if pb.id in queue:
            queue.remove(pb.id)
        if start_next and queue:
            self._start(self.playbacks[queue[0]])
        elif not queue:
            self.queues.pop(pb.target_uri, None)

    def _elapsed(self, pb: Playback) -> float:
        if pb.state != "playing" or pb.started_at is None:
            return pb.position_s
        return pb.position_s + (self.world.clock.now() - pb.started_at)

    def stop(self, pb: Playback) -> None:
        self._finish(pb, "done")

    def control(self, pb: Playback, operation: str) -> None:
        """pause/unpause/restart/forward/reverse (res/stasis_app_playback.c playback_control)."""
        if pb.state == "queued":
            from acd.ari_sim.world import AriError

            raise AriError(409, f"Can only {operation} while media is playing")
        now = self.world.clock.now()
        if operation == "pause":
            if pb.state == "playing":
                pb.position_s = self._elapsed(pb)
                pb.state = "paused"
                self.world.cancel_timers("pb:" + pb.id)
        elif operation == "unpause":
            if pb.state == "paused":
                pb.state, pb.started_at = "playing", now
                self._emit("PlaybackStarted", "playback", pb.to_json(), pb.target_uri)
                self._arm(pb)
        else:
            pos = self._elapsed(pb)
            if operation == "restart":
                pos = 0.0
            elif operation == "forward":
                pos += pb.skipms / 1000
            else:
                pos = max(0.0, pos - pb.skipms / 1000)
            pb.position_s, pb.started_at = pos, now
            if pb.state == "playing":
                self._arm(pb)

    def _drop_target(self, target_uri: str) -> None:
        for pid in list(self.queues.get(target_uri, [])):
            pb = self.playbacks.get(pid)
            if pb is not None:
                if pb.state in ("playing", "paused", "continuing"):
                    self._finish(pb, "done", start_next=False)
                else:
                    self.playbacks.pop(pid, None)
        self.queues.pop(target_uri, None)
        # A bridge deleted while it is recorded: the recorder leaves after the bridge (and the app's
        # subscription to it) are gone, so Asterisk writes the file but the app never hears
        # RecordingFinished (issue 11 §3; the captured ``bridge_delete`` step has none). The stored
        # recording exists. A channel recording ends while its channel is still there: it is reported.
        report = not target_uri.startswith("bridge:")
        for rec in [r for r in self.live.values() if r.target_uri == target_uri]:
            self.stop_recording(rec.name, report=report)

    def _channel_gone(self, ch: Channel) -> None:
        self._drop_target(f"channel:{ch.id}")

    def _bridge_gone(self, br: Bridge) -> None:
        self._drop_target(f"bridge:{br.id}")

    def _bridge_changed(self, br: Bridge) -> None:
        """The last channel left a recorded bridge: Asterisk 22.10.1 ends the recording there and reports it
        (RecordingFinished right after that ChannelLeftBridge, before the app deletes the bridge;
        tests/ari_sim/fixtures/bridge-recording-ends-with-the-last-member.jsonl). A stop the app sends
        after that answers 404 "Recording not found"."""
        if br.channels or br.id not in self.world.bridges:
            return
        target = f"bridge:{br.id}"
        for rec in [r for r in self.live.values() if r.target_uri == target and r.state == "recording"]:
            self.stop_recording(rec.name)

    # ---- recordings -------------------------------------------------------------------------------
    def record(self, target_uri: str, name: str, fmt: str, max_duration_s: float,
               fail_cause: str | None = None) -> Recording:
        rec = Recording(name=name, format=fmt, target_uri=target_uri, started=self.world.clock.now(),
                        max_duration_s=max_duration_s)
        self.live[name] = rec
        asyncio.get_running_loop().call_soon(self._rec_start, rec, fail_cause)
        return rec

    def _rec_start(self, rec: Recording, fail_cause: str | None) -> None:
        if self.live.get(rec.name) is not rec:
            return
        if fail_cause:
            del self.live[rec.name]
            rec.state, rec.cause = "failed", fail_cause
            self._emit("RecordingFailed", "recording", rec.to_json(), rec.target_uri)
            return
        rec.state, rec.started = "recording", self.world.clock.now()
        self._emit("RecordingStarted", "recording", rec.to_json(), rec.target_uri)
        if rec.max_duration_s > 0:
            self.world.later("rec:" + rec.name, rec.max_duration_s, self.stop_recording, rec.name)

    def _has_audio(self, target_uri: str) -> bool:
        kind, _, tid = target_uri.partition(":")
        if kind == "bridge":
            return True  # softmix mixes frames continuously, so a bridge recording has real length
        ch = self.world.channels.get(tid)
        if ch is not None and ch.snoop_of:
            ch = self.world.channels.get(ch.snoop_of)
        return bool(ch and ch.has_audio)

    def stop_recording(self, name: str, *, cancel: bool = False, report: bool = True) -> None:
        rec = self.live.pop(name, None)
        if rec is None:
            return
        self.world.cancel_timers("rec:" + name)
        elapsed = self.world.clock.now() - rec.started
        if rec.max_duration_s > 0:
            elapsed = min(elapsed, rec.max_duration_s)
        audio = self._has_audio(rec.target_uri)
        seconds = elapsed if audio else 0.0  # no audio: duration 0, 44-byte WAV (item 14)
        path = self.recordings / f"{name}.{rec.format}"
        if cancel:
            path.unlink(missing_ok=True)
        elif rec.format in ("wav", "wav16"):
            wav.write_wav(path, seconds, tone=True)
        else:
            wav.write_raw(path, seconds, rec.format, tone=True)
        rec.state, rec.duration = "done", int(seconds)
        if report:
            self._emit("RecordingFinished", "recording", rec.to_json(), rec.target_uri)
        self._release_target(rec)

    def _release_target(self, rec: Recording) -> None:
        kind, _, tid = rec.target_uri.partition(":")
        if kind == "channel":
            ch = self.world.channels.get(tid)
            if ch is not None and ch.recording == rec.name:
                ch.recording = None
        else:
            br = self.world.bridges.get(tid)
            if br is not None and br.recording == rec.name:
                br.recording = None
                br.extra_members = max(0, br.extra_members - 1)
                self.world.bridgepeer_noise(br)
