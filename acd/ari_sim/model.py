"""The state a fake Asterisk keeps: channels, bridges, playbacks, live recordings, endpoints.

Plain data with the JSON shapes of Asterisk 22's api-docs (``../shared/asterisk-ari/api-docs``). Behaviour
lives in ``world.py``; this module only knows how each object looks on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Q.931 causes as Asterisk names them (main/causes.c, ast_cause2str).
CAUSE_TXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format (incomplete number)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
}

# DELETE /channels/{id}?reason=... (res/ari/resource_channels.c, ast_ari_channels_hangup).
HANGUP_REASONS: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}


def ari_time(epoch: float) -> str:
    """Asterisk's timestamp form: ``2026-11-22T21:59:35.660+0000``."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


@dataclass
class Channel:
    id: str
    name: str
    state: str
    created: float
    caller_name: str = ""
    caller_number: str = ""
    connected_name: str = ""
    connected_number: str = ""
    context: str = "default"
    exten: str = "s"
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    language: str = "en"
    protocol_id: str = ""
    tech: str = "Local"
    resource: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    sip_headers: dict[str, str] = field(default_factory=dict)
    """Headers the INVITE of an originated PJSIP channel carries (``PJSIP_HEADER(add,...)`` variables)."""
    in_stasis: bool = False
    stasis_app: str = ""
    stasis_args: list[str] = field(default_factory=list)
    bridge_id: str | None = None
    peer_id: str | None = None
    """The other half of a Local channel."""
    dialing: bool = False
    dial_timeout_s: float = 30.0
    hangup_cause: int = 16
    has_audio: bool = False
    """Whether recordings of this channel get sound (a simulated party talks; a Local channel is silent)."""
    snoop_of: str | None = None
    spy: str = "none"
    """A snoop channel's directions (``none|in|out|both``): see acd/ari_sim/audio.py for who hears whom."""
    whisper: str = "none"
    recording: str | None = None
    moh: bool = False
    silence: bool = False
    held: bool = False
    muted: set[str] = field(default_factory=set)
    gone: bool = False
    pending_app: str = ""
    """App the channel enters once answered (originate), with ``pending_args``."""
    pending_args: list[str] = field(default_factory=list)
    called_talk_s: float | None = None
    """A called party on the trunk (``Endpoint.called``): it hangs up after this long once bridged."""
    dialed_by_app: str = ""
    dial_caller: str | None = None
    """``POST /dial?caller=<id>``: that channel appears as ``caller`` in this channel's Dial events."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": self.connected_name, "number": self.connected_number},
            "accountcode": "",
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": self.priority,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": ari_time(self.created),
            "language": self.language,
        }


@dataclass
class Bridge:
    id: str
    bridge_type: str
    name: str
    created: float
    channels: list[str] = field(default_factory=list)
    extra_members: int = 0
    """Recorder/Announcer pseudo-channels in the bridge (they turn a simple_bridge into softmix)."""
    moh: bool = False
    subscribed: bool = False
    """BridgeDestroyed is sent only after an explicit subscription or a member hung up inside (item 10)."""
    member_hung_up: bool = False
    recording: str | None = None

    @property
    def technology(self) -> str:
        if self.bridge_type == "holding":
            return "holding_bridge"
        return "softmix" if self.extra_members > 0 or len(self.channels) > 2 else "simple_bridge"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "technology": self.technology,
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": ari_time(self.created),
            "video_mode": "talker" if self.bridge_type != "holding" else "none",
        }


@dataclass
class Playback:
    id: str
    media: list[str]
    target_uri: str
    language: str
    state: str = "queued"
    index: int = 0
    position_s: float = 0.0
    """Seconds already played of the current item."""
    started_at: float | None = None
    """Virtual time at which the current item (re)started playing from ``position_s``."""
    duration_s: float | None = None
    """Length of the current item; None plays forever (unknown scheme, tone)."""
    skipms: int = 3000

    @property
    def media_uri(self) -> str:
        return self.media[self.index]

    @property
    def target_channel(self) -> str | None:
        return self.target_uri.split(":", 1)[1] if self.target_uri.startswith("channel:") else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "media_uri": self.media_uri}
        if self.index + 1 < len(self.media):
            out["next_media_uri"] = self.media[self.index + 1]
        out.update({"target_uri": self.target_uri, "language": self.language, "state": self.state})
        return out


@dataclass
class Recording:
    name: str
    format: str
    target_uri: str
    started: float
    state: str = "queued"
    audio: bool = False
    max_duration_s: float = 0.0
    duration: int | None = None
    cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "format": self.format,
            "state": self.state,
            "target_uri": self.target_uri,
        }
        if self.duration is not None:
            out["duration"] = self.duration
        if self.cause is not None:
            out["cause"] = self.cause
        return out


CALLED_BEHAVIOURS = ("answer", "no_answer", "busy", "congestion", "unavailable", "invalid")
"""What a called party on the trunk does: ``unavailable`` is CHANUNAVAIL with cause 20 (subscriber absent),
``invalid`` CHANUNAVAIL with cause 1 (unallocated number, a SIP 404 from the provider)."""


@dataclass(frozen=True)
class CalledParty:
    """One number dialled out through a trunk endpoint, as the simulator plays it."""

    behaviour: str = "answer"
    answer_after_s: float = 3.0
    talk_s: float = 20.0

    def to_json(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour, "answer_after_s": self.answer_after_s, "talk_s": self.talk_s}


@dataclass
class Endpoint:
    technology: str
    resource: str
    state: str = "online"
    behaviour: str = "answer"
    answer_after_s: float = 2.0
    talk_s: float = 30.0
    hangup: str = "caller"
    name: str = ""
    called: dict[str, CalledParty] = field(default_factory=dict)
    """A trunk's called parties by dialled number (``PJSIP/<number>@trunk``); the others follow
    ``answer_probability`` and the endpoint's own behaviour."""
    answer_probability: float = 1.0
    """A number not in ``called`` answers with this probability, else rings out (no answer)."""

    @property
    def key(self) -> str:
        return f"{self.technology}/{self.resource}"

    def to_json(self, channel_ids: list[str]) -> dict[str, Any]:
        return {
            "technology": self.technology,
            "resource": self.resource,
            "state": self.state,
            "channel_ids": channel_ids,
        }

    def settings(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "behaviour": self.behaviour,
            "answer_after_s": self.answer_after_s,
            "talk_s": self.talk_s,
            "hangup": self.hangup,
            "called": {n: c.to_json() for n, c in self.called.items()},
            "answer_probability": self.answer_probability,
        }


@dataclass
class App:
    name: str
    channel_ids: set[str] = field(default_factory=set)
    bridge_ids: set[str] = field(default_factory=set)
    endpoint_ids: set[str] = field(default_factory=set)
    device_names: set[str] = field(default_factory=set)
    events_allowed: list[dict[str, Any]] = field(default_factory=list)
    events_disallowed: list[dict[str, Any]] = field(default_factory=list)
    """``PUT /applications/{app}/eventFilter``: kept with the app across WebSockets, as in Asterisk."""

    def allows(self, kind: str) -> bool:
        """res/stasis/app.c ``stasis_app_event_allowed``: a disallowed type never goes out; an empty allowed
        list lets every other type through."""
        if any(f.get("type") == kind for f in self.events_disallowed):
            return False
        return not self.events_allowed or any(f.get("type") == kind for f in self.events_allowed)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "channel_ids": sorted(self.channel_ids),
            "bridge_ids": sorted(self.bridge_ids),
            "endpoint_ids": sorted(self.endpoint_ids),
            "device_names": sorted(self.device_names),
            "events_allowed": list(self.events_allowed),
            "events_disallowed": list(self.events_disallowed),
        }
