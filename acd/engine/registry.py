"""Who owns what: ARI ids (channels, playbacks, recordings, bridges) -> the call session they belong to.

ARI events name a channel, a playback, a recording or a bridge; the engine asks this registry whose it is and
hands the event to that owner. Sessions add and drop their own ids through these methods only, so nothing
else reaches into another object's dictionaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from acd.engine.session import CallSession, Leg


class RecordingOwner(Protocol):
    """Whoever awaits a recording's end: a live call, or a call closed after it ended unseen
    (acd/engine/orphans.py)."""

    @property
    def channel_id(self) -> str: ...

    def recording_done(self, name: str, info: dict[str, Any]) -> None: ...


class Registry:
    def __init__(self) -> None:
        self._sessions: dict[str, CallSession] = {}
        self._legs: dict[str, Leg] = {}
        self._playbacks: dict[str, CallSession] = {}
        self._recordings: dict[str, RecordingOwner] = {}
        self._bridges: dict[str, CallSession] = {}

    # ---- calls ---------------------------------------------------------------------------------------
    def add_session(self, session: CallSession) -> None:
        self._sessions[session.channel_id] = session

    def session(self, channel_id: str) -> CallSession | None:
        return self._sessions.get(channel_id)

    def drop_session(self, session: CallSession) -> None:
        if self._sessions.get(session.channel_id) is session:
            del self._sessions[session.channel_id]

    def sessions(self) -> list[CallSession]:
        return list(self._sessions.values())

    # ---- legs (channels the daemon dialled) -----------------------------------------------------------
    def add_leg(self, leg: Leg) -> None:
        self._legs[leg.channel_id] = leg

    def leg(self, channel_id: str) -> Leg | None:
        return self._legs.get(channel_id)

    def drop_leg(self, leg: Leg) -> None:
        if self._legs.get(leg.channel_id) is leg:
            del self._legs[leg.channel_id]

    def legs(self) -> Iterator[Leg]:
        return iter(list(self._legs.values()))

    def knows_channel(self, channel_id: str) -> bool:
        return channel_id in self._sessions or channel_id in self._legs

    # ---- media -----------------------------------------------------------------------------------------
    def add_playback(self, playback_id: str, owner: CallSession) -> None:
        self._playbacks[playback_id] = owner

    def playback_owner(self, playback_id: str) -> CallSession | None:
        return self._playbacks.get(playback_id)

    def drop_playback(self, playback_id: str) -> None:
        self._playbacks.pop(playback_id, None)

    def playbacks(self) -> list[tuple[str, CallSession]]:
        return list(self._playbacks.items())

    def add_recording(self, name: str, owner: RecordingOwner) -> None:
        self._recordings[name] = owner

    def recording_owner(self, name: str) -> RecordingOwner | None:
        return self._recordings.get(name)

    def drop_recording(self, name: str) -> None:
        self._recordings.pop(name, None)

    def recordings(self) -> list[tuple[str, RecordingOwner]]:
        return list(self._recordings.items())

    def add_bridge(self, bridge_id: str, owner: CallSession) -> None:
        self._bridges[bridge_id] = owner

    def bridge_owner(self, bridge_id: str) -> CallSession | None:
        return self._bridges.get(bridge_id)

    def drop_bridge(self, bridge_id: str) -> None:
        self._bridges.pop(bridge_id, None)
