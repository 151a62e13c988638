"""ARI resource groups (``client.channels``, ``client.bridges``, ...): one method per operation we use.

Why by hand rather than generated: these are the calls the engine makes, with Python names, keyword
arguments and the defaults Asterisk 22 needs in practice (``formats=ulaw`` on originate, ``direction`` on
unmute, the app's own name for ``app``). Parameters travel in the query string as ARI expects; only
``variables`` goes in a JSON body. Ids are percent-encoded into the path.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol
from urllib.parse import quote

from acd.ari.errors import AriNotFound
from acd.ari.models import (
    Application,
    AsteriskInfo,
    AsteriskPing,
    Bridge,
    Channel,
    DeviceState,
    Endpoint,
    LiveRecording,
    Playback,
    StoredRecording,
    Variable,
)

Direction = Literal["in", "out", "both"]
SnoopDirection = Literal["none", "in", "out", "both"]


class Requester(Protocol):
    app: str

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool | None] | None = None,
        body: Mapping[str, Any] | None = None,
        expect: Literal["json", "bytes"] = "json",
        own_connection: bool = False,
        timeout_s: float | None = None,
        not_found_ok: bool = False,
    ) -> Any: ...


def _p(*segments: str) -> str:
    return "".join("/" + quote(str(s), safe="") for s in segments)


def _media(media: str | Sequence[str]) -> str:
    """A playlist is one comma-separated ``media`` value: Asterisk keeps only the last repeated one."""
    return media if isinstance(media, str) else ",".join(media)


def _vars(variables: Mapping[str, str] | None) -> dict[str, Any] | None:
    return {"variables": dict(variables)} if variables else None


class _Group:
    def __init__(self, client: Requester) -> None:
        self._c = client


class _MediaTarget(_Group):
    """Playing to and recording a channel or a bridge: the same operations on two resources."""

    _resource = ""

    async def play(
        self,
        target_id: str,
        media: str | Sequence[str],
        lang: str | None = None,
        playback_id: str | None = None,
        *,
        offsetms: int | None = None,
        skipms: int | None = None,
        not_found_ok: bool = False,
    ) -> Playback:
        """``not_found_ok``: a 404 (the channel hung up as the prompt started) is logged at debug only."""
        params = {"media": _media(media), "lang": lang, "playbackId": playback_id,
                  "offsetms": offsetms, "skipms": skipms}
        return Playback.model_validate(
            await self._c.request("POST", _p(self._resource, target_id, "play"), params=params,
                                  not_found_ok=not_found_ok))

    async def record(
        self,
        target_id: str,
        name: str,
        format: str = "wav",
        *,
        max_duration_s: int | None = None,
        max_silence_s: int | None = None,
        if_exists: Literal["fail", "overwrite", "append"] | None = None,
        beep: bool | None = None,
        terminate_on: str | None = None,
    ) -> LiveRecording:
        """A channel already in a bridge cannot be recorded (RecordingFailed): record the bridge."""
        params = {"name": name, "format": format, "maxDurationSeconds": max_duration_s,
                  "maxSilenceSeconds": max_silence_s, "ifExists": if_exists, "beep": beep,
                  "terminateOn": terminate_on}
        return LiveRecording.model_validate(
            await self._c.request("POST", _p(self._resource, target_id, "record"), params=params))


class Channels(_MediaTarget):
    _resource = "channels"

    async def list(self) -> builtins.list[Channel]:
        return [Channel.model_validate(c) for c in await self._c.request("GET", "/channels")]

    async def get(self, channel_id: str) -> Channel:
        return Channel.model_validate(await self._c.request("GET", _p("channels", channel_id)))

    async def originate(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | None = None,
        extension: str | None = None,
        context: str | None = None,
        priority: int | None = None,
        label: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        caller_id: str | None = None,
        timeout: int | None = None,  # noqa: ASYNC109 - ARI's ring time-out, seconds
        originator: str | None = None,
        formats: str | None = "ulaw",
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """Originate into our app (default) or into the dialplan when ``extension`` is given.

        ``formats='ulaw'`` by default: without it a Local channel is slin192 and every second of audio is
        resampled (BEHAVIOUR.md 17).
        """
        if app is None and extension is None:
            app = self._c.app
        params = {
            "endpoint": endpoint, "app": app, "appArgs": app_args, "extension": extension, "context": context,
            "priority": priority, "label": label, "channelId": channel_id, "otherChannelId": other_channel_id,
            "callerId": caller_id, "timeout": timeout, "originator": originator, "formats": formats,
        }
        data = await self._c.request("POST", "/channels", params=params, body=_vars(variables),
                                     own_connection=True)
        return Channel.model_validate(data)

    async def create(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | None = "ulaw",
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """Create a channel without dialling it (StasisStart comes at once); then ``dial``."""
        params = {
            "endpoint": endpoint, "app": app or self._c.app, "appArgs": app_args, "channelId": channel_id,
            "otherChannelId": other_channel_id, "originator": originator, "formats": formats,
        }
        data = await self._c.request("POST", "/channels/create", params=params, body=_vars(variables),
                                     own_connection=True)
        return Channel.model_validate(data)

    async def dial(
        self, channel_id: str, caller: str | None = None, timeout: int | None = None  # noqa: ASYNC109
    ) -> None:
        """Dial a created channel; ``timeout`` is the ring time-out in seconds (none sends no NOANSWER)."""
        await self._c.request("POST", _p("channels", channel_id, "dial"),
                              params={"caller": caller, "timeout": timeout})

    async def hangup(
        self, channel_id: str, reason: str | None = "normal", *, reason_code: int | None = None,
        not_found_ok: bool = False,
    ) -> None:
        """Hang up with a reason name, or with a Q.850 ``reason_code`` (Asterisk refuses both at once).
        ``not_found_ok``: the channel may be gone already (a busy phone Asterisk removed): debug only."""
        if reason_code is not None:
            reason = None
        await self._c.request("DELETE", _p("channels", channel_id),
                              params={"reason": reason, "reason_code": reason_code},
                              not_found_ok=not_found_ok)

    async def answer(self, channel_id: str) -> None:
        await self._c.request("POST", _p("channels", channel_id, "answer"))

    async def ring(self, channel_id: str) -> None:
        await self._c.request("POST", _p("channels", channel_id, "ring"))

    async def ring_stop(self, channel_id: str) -> None:
        await self._c.request("DELETE", _p("channels", channel_id, "ring"))

    async def progress(self, channel_id: str) -> None:
        await self._c.request("POST", _p("channels", channel_id, "progress"))

    async def snoop(
        self,
        channel_id: str,
        spy: SnoopDirection | None = None,
        whisper: SnoopDirection | None = None,
        app: str | None = None,
        snoop_id: str | None = None,
        *,
        app_args: str | None = None,
    ) -> Channel:
        """A Snoop channel on ``channel_id`` that enters our app: listen = ``spy='both'``, whisper =
        ``whisper='out'``; give at least one (Asterisk's default for both is none)."""
        params = {"spy": spy, "whisper": whisper, "app": app or self._c.app, "appArgs": app_args,
                  "snoopId": snoop_id}
        return Channel.model_validate(
            await self._c.request("POST", _p("channels", channel_id, "snoop"), params=params))

    async def send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        before: int | None = None,
        between: int | None = None,
        duration: int | None = None,
        after: int | None = None,
    ) -> None:
        params = {"dtmf": dtmf, "before": before, "between": between, "duration": duration, "after": after}
        await self._c.request("POST", _p("channels", channel_id, "dtmf"), params=params)

    async def hold(self, channel_id: str) -> None:
        await self._c.request("POST", _p("channels", channel_id, "hold"))

    async def unhold(self, channel_id: str) -> None:
        await self._c.request("DELETE", _p("channels", channel_id, "hold"))

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        await self._c.request("POST", _p("channels", channel_id, "moh"), params={"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        await self._c.request("DELETE", _p("channels", channel_id, "moh"))

    async def start_silence(self, channel_id: str) -> None:
        await self._c.request("POST", _p("channels", channel_id, "silence"))

    async def stop_silence(self, channel_id: str) -> None:
        await self._c.request("DELETE", _p("channels", channel_id, "silence"))

    async def mute(self, channel_id: str, direction: Direction = "both") -> None:
        await self._c.request("POST", _p("channels", channel_id, "mute"), params={"direction": direction})

    async def unmute(self, channel_id: str, direction: Direction = "both") -> None:
        """Always sends ``direction``: Asterisk 22 answers 400 without it (BEHAVIOUR.md 12)."""
        await self._c.request("DELETE", _p("channels", channel_id, "mute"), params={"direction": direction})

    async def get_var(self, channel_id: str, variable: str) -> str:
        data = await self._c.request("GET", _p("channels", channel_id, "variable"),
                                     params={"variable": variable})
        return Variable.model_validate(data).value

    async def set_var(self, channel_id: str, variable: str, value: str | None) -> None:
        await self._c.request("POST", _p("channels", channel_id, "variable"),
                              params={"variable": variable, "value": value})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        params = {"context": context, "extension": extension, "priority": priority, "label": label}
        await self._c.request("POST", _p("channels", channel_id, "continue"), params=params)

    async def redirect(self, channel_id: str, endpoint: str) -> None:
        await self._c.request("POST", _p("channels", channel_id, "redirect"), params={"endpoint": endpoint})

    async def move(self, channel_id: str, app: str, app_args: str | None = None) -> None:
        await self._c.request("POST", _p("channels", channel_id, "move"),
                              params={"app": app, "appArgs": app_args})


class Bridges(_MediaTarget):
    _resource = "bridges"

    async def list(self) -> builtins.list[Bridge]:
        return [Bridge.model_validate(b) for b in await self._c.request("GET", "/bridges")]

    async def get(self, bridge_id: str) -> Bridge:
        return Bridge.model_validate(await self._c.request("GET", _p("bridges", bridge_id)))

    async def create(
        self, type: str = "mixing", bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        """``type`` is comma-separated flags: mixing, holding, dtmf_events, proxy_media, video_sfu, ..."""
        params = {"type": type, "bridgeId": bridge_id, "name": name}
        return Bridge.model_validate(await self._c.request("POST", "/bridges", params=params))

    async def destroy(self, bridge_id: str) -> None:
        await self._c.request("DELETE", _p("bridges", bridge_id))

    async def add_channel(
        self,
        bridge_id: str,
        channel: str | Sequence[str],
        *,
        role: str | None = None,
        absorb_dtmf: bool | None = None,
        mute: bool | None = None,
        inhibit_connected_line_updates: bool | None = None,
    ) -> None:
        params = {"channel": _media(channel), "role": role, "absorbDTMF": absorb_dtmf, "mute": mute,
                  "inhibitConnectedLineUpdates": inhibit_connected_line_updates}
        await self._c.request("POST", _p("bridges", bridge_id, "addChannel"), params=params)

    async def remove_channel(self, bridge_id: str, channel: str | Sequence[str]) -> None:
        await self._c.request("POST", _p("bridges", bridge_id, "removeChannel"),
                              params={"channel": _media(channel)})

    async def start_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        await self._c.request("POST", _p("bridges", bridge_id, "moh"), params={"mohClass": moh_class})

    async def stop_moh(self, bridge_id: str) -> None:
        await self._c.request("DELETE", _p("bridges", bridge_id, "moh"))


class Playbacks(_Group):
    async def get(self, playback_id: str) -> Playback:
        return Playback.model_validate(await self._c.request("GET", _p("playbacks", playback_id)))

    async def stop(self, playback_id: str) -> None:
        await self._c.request("DELETE", _p("playbacks", playback_id))

    async def control(
        self, playback_id: str, operation: Literal["restart", "pause", "unpause", "reverse", "forward"]
    ) -> None:
        await self._c.request("POST", _p("playbacks", playback_id, "control"),
                              params={"operation": operation})


class Recordings(_Group):
    async def get_live(self, name: str) -> LiveRecording:
        return LiveRecording.model_validate(await self._c.request("GET", _p("recordings", "live", name)))

    async def stop_live(self, name: str) -> None:
        """Stop and keep the file."""
        await self._c.request("POST", _p("recordings", "live", name, "stop"))

    async def stop_live_if_running(self, name: str) -> bool:
        """Stop and keep the file; False, quietly, when it has already ended (404): Asterisk ends a bridge
        recording when the last channel leaves the bridge, so a stop at the end of a call often races it."""
        try:
            await self._c.request("POST", _p("recordings", "live", name, "stop"), not_found_ok=True)
        except AriNotFound:
            return False
        return True

    async def cancel_live(self, name: str) -> None:
        """Stop and discard the file."""
        await self._c.request("DELETE", _p("recordings", "live", name))

    async def pause_live(self, name: str) -> None:
        await self._c.request("POST", _p("recordings", "live", name, "pause"))

    async def unpause_live(self, name: str) -> None:
        await self._c.request("DELETE", _p("recordings", "live", name, "pause"))

    async def mute_live(self, name: str) -> None:
        await self._c.request("POST", _p("recordings", "live", name, "mute"))

    async def unmute_live(self, name: str) -> None:
        await self._c.request("DELETE", _p("recordings", "live", name, "mute"))

    async def list_stored(self) -> builtins.list[StoredRecording]:
        data = await self._c.request("GET", "/recordings/stored")
        return [StoredRecording.model_validate(r) for r in data]

    async def get_stored(self, name: str) -> StoredRecording:
        return StoredRecording.model_validate(await self._c.request("GET", _p("recordings", "stored", name)))

    async def delete_stored(self, name: str) -> None:
        await self._c.request("DELETE", _p("recordings", "stored", name))

    async def copy_stored(self, name: str, destination: str) -> StoredRecording:
        data = await self._c.request("POST", _p("recordings", "stored", name, "copy"),
                                     params={"destinationRecordingName": destination})
        return StoredRecording.model_validate(data)

    async def stored_file(self, name: str, *, timeout_s: float = 120) -> bytes:
        """The recording's file as stored by Asterisk (e.g. a WAV), for copying into our archive.

        A longer time-out than commands get: an hour-long WAV is ~60 MB.
        """
        data: bytes = await self._c.request("GET", _p("recordings", "stored", name, "file"), expect="bytes",
                                            timeout_s=timeout_s)
        return data


class Endpoints(_Group):
    async def list(self) -> builtins.list[Endpoint]:
        return [Endpoint.model_validate(e) for e in await self._c.request("GET", "/endpoints")]

    async def list_by_tech(self, tech: str) -> builtins.list[Endpoint]:
        return [Endpoint.model_validate(e) for e in await self._c.request("GET", _p("endpoints", tech))]

    async def get(self, tech: str, resource: str | None = None) -> Endpoint:
        """``get("PJSIP", "agent1")`` or ``get("PJSIP/agent1")``."""
        if resource is None:
            tech, _, resource = tech.partition("/")
        return Endpoint.model_validate(await self._c.request("GET", _p("endpoints", tech, resource)))


class Asterisk(_Group):
    async def info(self, only: str | None = None) -> AsteriskInfo:
        """``only``: comma-separated build, system, config, status."""
        data = await self._c.request("GET", "/asterisk/info", params={"only": only})
        return AsteriskInfo.model_validate(data)

    async def ping(self) -> AsteriskPing:
        return AsteriskPing.model_validate(await self._c.request("GET", "/asterisk/ping"))

    async def get_global_var(self, variable: str) -> str:
        data = await self._c.request("GET", "/asterisk/variable", params={"variable": variable})
        return Variable.model_validate(data).value

    async def set_global_var(self, variable: str, value: str | None) -> None:
        await self._c.request("POST", "/asterisk/variable", params={"variable": variable, "value": value})


class Applications(_Group):
    async def list(self) -> builtins.list[Application]:
        return [Application.model_validate(a) for a in await self._c.request("GET", "/applications")]

    async def get(self, name: str | None = None) -> Application:
        """Our app by default; lists what it is subscribed to (channels, bridges, endpoints)."""
        data = await self._c.request("GET", _p("applications", name or self._c.app))
        return Application.model_validate(data)

    async def subscribe(self, event_source: str | Sequence[str], name: str | None = None) -> Application:
        """``event_source``: ``channel:ID``, ``bridge:ID``, ``endpoint:TECH/RES``, ``deviceState:NAME``."""
        data = await self._c.request("POST", _p("applications", name or self._c.app, "subscription"),
                                     params={"eventSource": _media(event_source)})
        return Application.model_validate(data)

    async def unsubscribe(self, event_source: str | Sequence[str], name: str | None = None) -> Application:
        data = await self._c.request("DELETE", _p("applications", name or self._c.app, "subscription"),
                                     params={"eventSource": _media(event_source)})
        return Application.model_validate(data)

    async def filter(self, allowed: Sequence[str], name: str | None = None) -> Application:
        """Only these event types reach the app's WebSocket (``PUT .../eventFilter``, Asterisk >= 16.3): the
        events nobody reads are then neither serialised by Asterisk nor parsed by the daemon. An empty list
        lets every type through again."""
        data = await self._c.request("PUT", _p("applications", name or self._c.app, "eventFilter"),
                                     body={"allowed": [{"type": t} for t in allowed]})
        return Application.model_validate(data)


class DeviceStates(_Group):
    async def list(self) -> builtins.list[DeviceState]:
        return [DeviceState.model_validate(d) for d in await self._c.request("GET", "/deviceStates")]

    async def get(self, name: str) -> DeviceState:
        return DeviceState.model_validate(await self._c.request("GET", _p("deviceStates", name)))

    async def update(self, name: str, state: str) -> None:
        """Only ``Stasis:NAME`` devices can be set; ``state`` e.g. NOT_INUSE, INUSE, BUSY, UNAVAILABLE."""
        await self._c.request("PUT", _p("deviceStates", name), params={"deviceState": state})

    async def delete(self, name: str) -> None:
        await self._c.request("DELETE", _p("deviceStates", name))
