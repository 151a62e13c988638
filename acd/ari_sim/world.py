"""The fake Asterisk's behaviour: channel life cycles, Stasis, dialling, bridges, hang-ups and their events.

Every rule here copies an observation of Asterisk 22.10.1 (``../shared/asterisk-ari/BEHAVIOUR.md``, item
numbers in comments, and ``rest-samples.jsonl``), not what a client would find convenient. Media (playbacks,
recordings) is in ``media.py``; simulated people (callers, agents' phones) in ``parties.py``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from acd.ari_sim.audio import audio_paths
from acd.ari_sim.called import CalledParties
from acd.ari_sim.dialplan import Dialplan
from acd.ari_sim.hub import EventHub
from acd.ari_sim.model import CAUSE_TXT, Bridge, Channel, Endpoint
from acd.clock import Clock


class AriError(Exception):
    """An ARI error answer: status and Asterisk's body (``{"message": ...}`` or ``{"error": ...}``)."""

    def __init__(self, status: int, message: str, key: str = "message") -> None:
        super().__init__(message)
        self.status = status
        self.body = {key: message}


def alloc_failed() -> AriError:
    # ast_ari_response_alloc_failed() (res/ari.c): the one ARI error whose body uses "error".
    return AriError(500, "Allocation failed", key="error")


NOT_IN_STASIS = "Channel not in Stasis application"
INVALID_STATE = "Channel in invalid state"


class World:
    def __init__(self, clock: Clock, hub: EventHub, dialplan: Dialplan, endpoints: list[Endpoint]) -> None:
        self.clock = clock
        self.hub = hub
        self.dialplan = dialplan
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.endpoints: dict[str, Endpoint] = {e.key: e for e in endpoints}
        self.global_vars: dict[str, str] = {}
        self.called = CalledParties()
        """People behind the trunk's numbers (acd/ari_sim/called.py), off until the control API sets them."""
        self.fallbacks: list[dict[str, Any]] = []
        self._uid = itertools.count(1)
        self._name_seq: dict[str, itertools.count[int]] = {}
        self._timers: dict[str, list[asyncio.TimerHandle]] = {}
        # Hooks set by media.py / parties.py so that this module does not import them.
        self.on_destroy: list[Callable[[Channel], None]] = []
        self.on_hangup_request: list[Callable[[Channel], None]] = []
        self.on_bridge_change: list[Callable[[Bridge], None]] = []
        self.on_answered: list[Callable[[Channel], None]] = []
        self.on_stasis_start: list[Callable[[Channel], None]] = []
        self.is_recording: Callable[[Channel], bool] = lambda ch: False
        self.stop_bridge_media: Callable[[Bridge], None] = lambda b: None

    # ---- timers -----------------------------------------------------------------------------------
    def later(self, key: str, virtual_s: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        """Run ``fn`` after virtual seconds; timers are grouped by owner ``key`` so they die with it."""
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.clock.real_seconds(virtual_s), fn, *args)
        self._timers.setdefault(key, []).append(handle)
        return handle

    def cancel_timers(self, key: str) -> None:
        for h in self._timers.pop(key, []):
            h.cancel()

    def cancel_all(self) -> None:
        for key in list(self._timers):
            self.cancel_timers(key)

    # ---- ids and names ----------------------------------------------------------------------------
    def uniqueid(self) -> str:
        """Asterisk's ``<epoch>.<n>`` channel ids (e.g. ``1795387353.2``)."""
        return f"{int(self.clock.now())}.{next(self._uid)}"

    def seq(self, family: str) -> str:
        counter = self._name_seq.setdefault(family, itertools.count(0))
        return f"{next(counter):08x}"

    # ---- lookups ----------------------------------------------------------------------------------
    def channel(self, channel_id: str, *, stasis: bool = False,
                missing: str = "Channel not found") -> Channel:
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            raise AriError(404, missing)
        if stasis and not ch.in_stasis:
            raise AriError(409, NOT_IN_STASIS)
        return ch

    def bridge(self, bridge_id: str) -> Bridge:
        br = self.bridges.get(bridge_id)
        if br is None:
            raise AriError(404, "Bridge not found")
        return br

    def endpoint_of(self, ch: Channel) -> str | None:
        if ch.tech == "PJSIP":
            return f"PJSIP/{ch.resource}"
        return None

    # ---- events -----------------------------------------------------------------------------------
    def _listeners(self, ch: Channel) -> list[tuple[str, int]]:
        """Apps that see this channel's events, and how many times (item 9: endpoint subscription doubles)."""
        out = []
        ep = self.endpoint_of(ch)
        for app in self.hub.apps.values():
            n = int(ch.id in app.channel_ids or app.name in self.hub.subscribe_all)
            if ep is not None and (ep in app.endpoint_ids or ch.tech in app.endpoint_ids):
                n += 1
            if n:
                out.append((app.name, n))
        return out

    def emit_channel(self, ch: Channel, kind: str, **fields: Any) -> None:
        event = {"type": kind, **fields, "channel": ch.to_json()}
        for app, n in self._listeners(ch):
            self.hub.send(app, event, n)

    def emit_bridge(self, br: Bridge, ch: Channel, kind: str) -> None:
        event = {"type": kind, "bridge": br.to_json(), "channel": ch.to_json()}
        listeners = dict(self._listeners(ch))
        for subscriber in self.hub.apps.values():
            if br.id in subscriber.bridge_ids and subscriber.name not in listeners:
                listeners[subscriber.name] = 1
        for name, n in listeners.items():
            self.hub.send(name, event, n)

    def emit_dial(self, ch: Channel, status: str, dialstring: str = "") -> None:
        event: dict[str, Any] = {"type": "Dial", "dialstatus": status, "forward": "",
                                 "dialstring": dialstring, "peer": ch.to_json()}
        caller = self.channels.get(ch.dial_caller or "")
        if caller is not None:
            event["caller"] = caller.to_json()
        for app, n in self._listeners(ch):
            self.hub.send(app, event, n)

    def varset(self, ch: Channel, name: str, value: str) -> None:
        self.emit_channel(ch, "ChannelVarset", variable=name, value=value)

    def subscribe(self, app: str, ch: Channel) -> None:
        if app in self.hub.apps:
            self.hub.apps[app].channel_ids.add(ch.id)

    # ---- channel creation -------------------------------------------------------------------------
    def new_channel(self, *, tech: str, resource: str, name: str, state: str, channel_id: str | None = None,
                    **attrs: Any) -> Channel:
        cid = channel_id or self.uniqueid()
        ch = Channel(id=cid, name=name, state=state, created=self.clock.now(), tech=tech, resource=resource,
                     **attrs)
        self.channels[cid] = ch
        return ch

    def check_new_id(self, channel_id: str | None) -> None:
        if channel_id and channel_id in self.channels and not self.channels[channel_id].gone:
            raise AriError(409, "Channel with given unique ID already exists")

    def set_state(self, ch: Channel, state: str) -> None:
        if ch.state != state and not ch.gone:
            ch.state = state
            self.emit_channel(ch, "ChannelStateChange")

    # ---- Stasis -----------------------------------------------------------------------------------
    def enter_stasis(self, ch: Channel, app: str, args: list[str], *, varset: bool = True) -> bool:
        """``Stasis(app,args)``: fails at once when the app has no WebSocket (item 2)."""
        if not self.hub.active(app):
            ch.variables["STASISSTATUS"] = "FAILED"
            return False
        ch.app_name, ch.app_data = "Stasis", ",".join([app, *args])
        self.subscribe(app, ch)
        ch.in_stasis, ch.stasis_app, ch.stasis_args = True, app, list(args)
        ch.variables["STASISSTATUS"] = ""
        if varset:
            self.varset(ch, "STASISSTATUS", "")  # item 11: constant noise
        self.emit_channel(ch, "StasisStart", args=list(args))
        for hook in self.on_stasis_start:
            hook(ch)
        return True

    def leave_stasis(self, ch: Channel) -> None:
        if not ch.in_stasis:
            return
        ch.in_stasis = False
        self.emit_channel(ch, "StasisEnd")
        ch.variables["STASISSTATUS"] = "SUCCESS"
        if not ch.snoop_of:
            self.varset(ch, "STASISSTATUS", "SUCCESS")

    # ---- answering and dialling -------------------------------------------------------------------
    def answered(self, ch: Channel, dialstring: str = "") -> None:
        """An outgoing leg answers: state Up, Dial ANSWER, then the app it was originated into (item 4)."""
        if ch.gone:
            return
        ch.dialing = False
        self.cancel_timers(ch.id + ":ring")
        self.set_state(ch, "Up")
        self.emit_dial(ch, "ANSWER", dialstring)
        if ch.pending_app:
            app, args = ch.pending_app, ch.pending_args
            ch.pending_app = ""
            if not self.enter_stasis(ch, app, args):
                self.hangup(ch, 16, remote=True)
                return
        for hook in self.on_answered:
            hook(ch)

    def ring_outcome(self, ch: Channel, behaviour: str, answer_after_s: float, timeout_s: float,
                     dialstring: str, on_answer: Callable[[], None] | None = None) -> None:
        """Dial an outgoing leg: the Dial events of rest-samples ``dial_agent`` and BEHAVIOUR.md 5."""
        ch.dialing = True
        self.emit_dial(ch, "", dialstring)
        if behaviour in ("busy", "congestion", "unavailable", "invalid"):
            status, cause = {"busy": ("BUSY", 17), "congestion": ("CONGESTION", 34),
                             "unavailable": ("CHANUNAVAIL", 20), "invalid": ("CHANUNAVAIL", 1)}[behaviour]
            self.later(ch.id + ":ring", 0.5, self._dial_failed, ch, status, cause)
            return
        self.set_state(ch, "Ringing")
        self.emit_dial(ch, "RINGING")
        if timeout_s > 0 and (behaviour == "no_answer" or answer_after_s >= timeout_s):
            self.later(ch.id + ":ring", timeout_s, self._ring_timeout, ch)
        elif behaviour != "no_answer":
            self.later(ch.id + ":ring", answer_after_s, on_answer or (lambda: self.answered(ch)))

    def _dial_failed(self, ch: Channel, status: str, cause: int) -> None:
        """BUSY/CONGESTION: a channel in Stasis stays alive for the app to hang up (item 5)."""
        ch.dialing = False
        ch.hangup_cause = cause
        self.emit_dial(ch, status)
        if not ch.in_stasis:
            self.hangup(ch, cause, remote=True)

    def _ring_timeout(self, ch: Channel) -> None:
        """No answer: no ``Dial NOANSWER``; ChannelHangupRequest, StasisEnd, ChannelDestroyed 19 (item 5)."""
        ch.dialing = False
        self.hangup(ch, 19, remote=True)

    # ---- hang-up ----------------------------------------------------------------------------------
    def hangup(self, ch: Channel, cause: int, *, remote: bool = False, from_peer: bool = False,
               dialplan: bool = False) -> None:
        """Tear a channel down with Asterisk's event order (rest-samples ``hangup_*``, items 7 and 10).

        ``remote``: the far end (or the dialplan) hung up: ChannelHangupRequest carries the cause.
        Otherwise it is an ARI DELETE: ChannelHangupRequest says cause 32 (soft), ChannelDestroyed the
        real cause. ``dialplan``: the channel ran ``Hangup()`` (soft request; a Local peer gets one request).
        """
        if ch.gone:
            return
        if dialplan:
            self.emit_channel(ch, "ChannelHangupRequest", cause=cause, soft=True)
        elif remote:
            self.emit_channel(ch, "ChannelHangupRequest", cause=cause)
        else:
            self.emit_channel(ch, "ChannelHangupRequest", cause=32, soft=True)
        ch.gone = True
        for hook in self.on_hangup_request:
            hook(ch)
        self.cancel_timers(ch.id)
        self.cancel_timers(ch.id + ":ring")
        if ch.bridge_id and ch.bridge_id in self.bridges:
            br = self.bridges[ch.bridge_id]
            br.member_hung_up = True
            self._leave_bridge(br, ch, noise=False)
        if ch.in_stasis:
            ch.in_stasis = False
            self.emit_channel(ch, "StasisEnd")
            if not ch.snoop_of:
                self.varset(ch, "STASISSTATUS", "SUCCESS")
        peer = self.channels.get(ch.peer_id) if ch.peer_id else None
        if peer is not None and not peer.gone and not from_peer:
            # Local: the other half gets the cause, then a soft request (item 7: ";2 gets two").
            self.emit_channel(peer, "ChannelHangupRequest", cause=cause)
        for snoop in [c for c in self.channels.values() if c.snoop_of == ch.id and not c.gone]:
            self.hangup(snoop, 16, remote=True)
        if not ch.snoop_of or remote:
            # A snoop channel deleted through ARI sends no ChannelDestroyed (item 19).
            self.emit_channel(ch, "ChannelDestroyed", cause=cause, cause_txt=CAUSE_TXT.get(cause, "Unknown"))
        for hook in self.on_destroy:
            hook(ch)
        del self.channels[ch.id]
        for app in self.hub.apps.values():
            app.channel_ids.discard(ch.id)
        if peer is not None and not peer.gone and not from_peer:
            if not dialplan:
                self.emit_channel(peer, "ChannelHangupRequest", cause=16, soft=True)
            self._destroy_peer(peer, cause)

    def vanish(self, ch: Channel, cause: int = 0) -> None:
        """A channel that never ran: only ChannelDestroyed (a Local channel whose extension is missing)."""
        if ch.gone:
            return
        ch.gone = True
        self.cancel_timers(ch.id)
        self.cancel_timers(ch.id + ":ring")
        self.emit_channel(ch, "ChannelDestroyed", cause=cause, cause_txt=CAUSE_TXT.get(cause, "Unknown"))
        for hook in self.on_destroy:
            hook(ch)
        del self.channels[ch.id]
        for app in self.hub.apps.values():
            app.channel_ids.discard(ch.id)

    def _destroy_peer(self, peer: Channel, cause: int) -> None:
        if peer.bridge_id and peer.bridge_id in self.bridges:
            self._leave_bridge(self.bridges[peer.bridge_id], peer, noise=False)
        if peer.in_stasis:
            peer.in_stasis = False
            self.emit_channel(peer, "StasisEnd")
            self.varset(peer, "STASISSTATUS", "SUCCESS")
        peer.gone = True
        self.cancel_timers(peer.id)
        self.cancel_timers(peer.id + ":ring")
        for hook in self.on_hangup_request:
            hook(peer)
        self.emit_channel(peer, "ChannelDestroyed", cause=cause, cause_txt=CAUSE_TXT.get(cause, "Unknown"))
        for hook in self.on_destroy:
            hook(peer)
        self.channels.pop(peer.id, None)
        for app in self.hub.apps.values():
            app.channel_ids.discard(peer.id)

    # ---- bridges ----------------------------------------------------------------------------------
    def _peer_names(self, br: Bridge, ch: Channel) -> str:
        return ",".join(self.channels[c].name for c in br.channels if c != ch.id and c in self.channels)

    def bridgepeer_noise(self, br: Bridge, extra: str = "") -> None:
        """BRIDGEPEER ChannelVarset on every member whenever membership changes (item 11)."""
        if len(br.channels) + (1 if extra else 0) < 2 or br.bridge_type == "holding":
            return
        for cid in br.channels:
            ch = self.channels.get(cid)
            if ch is not None:
                names = self._peer_names(br, ch)
                value = ",".join(filter(None, [names, extra]))
                ch.variables["BRIDGEPEER"] = value
                self.varset(ch, "BRIDGEPEER", value)

    def join_bridge(self, br: Bridge, ch: Channel) -> None:
        if ch.bridge_id == br.id:
            self.varset(ch, "BRIDGEPEER", "")
            br.channels.remove(ch.id)
            ch.bridge_id = None
            self.emit_bridge(br, ch, "ChannelLeftBridge")
        elif ch.bridge_id and ch.bridge_id in self.bridges:
            self._leave_bridge(self.bridges[ch.bridge_id], ch, noise=True)
        br.channels.append(ch.id)
        ch.bridge_id = br.id
        self.emit_bridge(br, ch, "ChannelEnteredBridge")
        self.bridgepeer_noise(br)
        if len(br.channels) == 2 and br.bridge_type != "holding":
            a, b = (self.channels[c] for c in br.channels)
            a.connected_name, a.connected_number = b.caller_name, b.caller_number
            b.connected_name, b.connected_number = a.caller_name, a.caller_number
            self.emit_channel(b, "ChannelConnectedLine")
            self.emit_channel(a, "ChannelConnectedLine")
        for hook in self.on_bridge_change:
            hook(br)

    def _leave_bridge(self, br: Bridge, ch: Channel, *, noise: bool) -> None:
        if ch.id not in br.channels:
            return
        if noise and br.bridge_type != "holding" and len(br.channels) > 1:
            self.varset(ch, "BRIDGEPEER", "")
        br.channels.remove(ch.id)
        ch.bridge_id = None
        ch.variables.pop("BRIDGEPEER", None)
        self.emit_bridge(br, ch, "ChannelLeftBridge")
        if noise:
            self.bridgepeer_noise(br)
        for hook in self.on_bridge_change:
            hook(br)

    def leave_bridge(self, br: Bridge, ch: Channel) -> None:
        self._leave_bridge(br, ch, noise=True)

    def create_bridge(self, bridge_id: str | None, type_: str | None, name: str) -> Bridge:
        kinds = [t.strip() for t in (type_ or "mixing").split(",") if t.strip()]
        known = {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label"}
        bid = bridge_id or _uuid()
        if bid in self.bridges:
            raise AriError(409, f"Bridge with id '{bid}' already exists")
        if any(k not in known for k in kinds):
            raise AriError(500, f"Unable to create bridge. Possible duplicate bridge id '{bid}'")
        br = Bridge(id=bid, bridge_type="holding" if "holding" in kinds else "mixing", name=name,
                    created=self.clock.now())
        self.bridges[bid] = br
        return br  # no BridgeCreated for ARI-created bridges (item 10)

    def destroy_bridge(self, br: Bridge) -> None:
        self.stop_bridge_media(br)
        members = [self.channels[c] for c in br.channels if c in self.channels]
        if len(members) > 1:
            for ch in members:
                self.varset(ch, "BRIDGEPEER", "")
        for ch in members:
            br.channels.remove(ch.id)
            ch.bridge_id = None
            self.emit_bridge(br, ch, "ChannelLeftBridge")
        del self.bridges[br.id]
        if br.subscribed or br.member_hung_up:
            event = {"type": "BridgeDestroyed", "bridge": br.to_json()}
            for app in self.hub.apps.values():
                self.hub.send(app.name, event)
        for app in self.hub.apps.values():
            app.bridge_ids.discard(br.id)
        for hook in self.on_bridge_change:
            hook(br)

    # ---- endpoints --------------------------------------------------------------------------------
    def endpoint_channels(self, key: str) -> list[str]:
        return [c.id for c in self.channels.values() if self.endpoint_of(c) == key and not c.gone]

    def endpoint_json(self, ep: Endpoint) -> dict[str, Any]:
        return ep.to_json(self.endpoint_channels(ep.key))

    def emit_endpoint(self, ep: Endpoint, kind: str, *, to_subscribe_all: bool = True, **fields: Any) -> None:
        """``to_subscribe_all=False``: only apps subscribed to the endpoint (or its technology) get it.
        Asterisk 22.10.1 sends ``EndpointStateChange`` of a PJSIP registration that way: a ``subscribeAll``
        app gets only ``PeerStatusChange`` and ``ContactStatusChange`` (ari_sim fixtures pjsip-*register*)."""
        event = {"type": kind, "endpoint": self.endpoint_json(ep), **fields}
        for app in self.hub.apps.values():
            subscribed = ep.key in app.endpoint_ids or ep.technology in app.endpoint_ids
            if subscribed or (to_subscribe_all and app.name in self.hub.subscribe_all):
                self.hub.send(app.name, event)

    def snapshot(self) -> dict[str, Any]:
        hears = audio_paths(self.channels.values(), self.bridges.values())
        return {
            "channels": [
                {**c.to_json(), "in_stasis": c.in_stasis, "bridge": c.bridge_id,
                 "variables": dict(c.variables), "sip_headers": dict(c.sip_headers),
                 "held": c.held, "moh": c.moh, "muted": sorted(c.muted),
                 "snoop": None if c.snoop_of is None
                 else {"of": c.snoop_of, "spy": c.spy, "whisper": c.whisper},
                 "hears": hears.get(c.id, [])}
                for c in self.channels.values()
            ],
            "bridges": [b.to_json() for b in self.bridges.values()],
            "endpoints": [{**self.endpoint_json(e), **e.settings()} for e in self.endpoints.values()],
            "applications": [a.to_json() | {"active": self.hub.active(a.name)}
                             for a in self.hub.apps.values()],
            "fallbacks": list(self.fallbacks),
        }


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())
