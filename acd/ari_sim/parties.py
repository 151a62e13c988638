"""Simulated people: callers on the trunk and agents' phones (PJSIP endpoints).

A caller's patience counts from entering Stasis and stops for good once it is bridged with another channel;
then it talks ``talk_s`` and hangs up (unless the agent's phone is set to hang up first). Scripted DTMF is
either timed (``dtmf: [[at_s, digits]]``) or tied to a prompt (``dtmf_on: {"prompt-substring": digits}``) so
tests need no timing. An agent's phone answers, refuses or never answers as its endpoint is configured.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from acd.ari_sim.dialing import Dialer
from acd.ari_sim.dialplan import Route
from acd.ari_sim.media import Media
from acd.ari_sim.model import Bridge, Channel, Endpoint, Playback
from acd.ari_sim.world import World

DIGIT_GAP_S = 0.25
log = logging.getLogger("acd.ari_sim")


@dataclass
class Caller:
    id: str
    number: str
    caller: str
    name: str
    language: str
    patience_s: float
    talk_s: float
    dtmf: list[tuple[float, str]]
    dtmf_on: dict[str, str]
    state: str = "ringing"
    created_at: float = 0.0
    stasis_at: float | None = None
    bridged_at: float | None = None
    ended_at: float | None = None
    end: str | None = None
    fallback: str | None = None
    pressed_for: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {k: (sorted(v) if isinstance(v, set) else v) for k, v in self.__dict__.items()}


class Parties:
    def __init__(self, world: World, dialer: Dialer, media: Media, defaults: dict[str, Any]) -> None:
        self.world = world
        self.dialer = dialer
        self.media = media
        self.defaults = defaults
        self.callers: dict[str, Caller] = {}
        self.agent_legs: dict[str, Endpoint] = {}
        self._talking: set[str] = set()
        self._bridge_of: dict[str, str] = {}
        """Party channel -> the bridge it was last seen in, so a bridge change looks at its parties only."""
        world.on_stasis_start.append(self._stasis_started)
        world.on_answered.append(self._answered)
        world.on_bridge_change.append(self._bridge_changed)
        world.on_destroy.append(self._gone)
        media.on_playback_started.append(self._playback_started)

    # ---- callers ----------------------------------------------------------------------------------
    def new_call(self, spec: dict[str, Any]) -> Caller:
        """POST /_sim/calls: an inbound trunk channel (state Ring) that runs ``[acd-inbound]``."""
        w = self.world
        number = str(spec.get("number") or "193")
        trunk = w.dialplan.trunk
        dtmf = [(float(at), str(d)) for at, d in spec.get("dtmf") or []]
        ch = w.new_channel(
            tech="PJSIP", resource=trunk, name=f"PJSIP/{trunk}-{w.seq('PJSIP')}", state="Ring",
            caller_name=str(spec.get("name") or ""), caller_number=str(spec.get("caller") or ""),
            context=w.dialplan.inbound_context, exten=number, priority=1,
            # "silent": a caller who says nothing; a recording of them is 0 s and a 44-byte WAV, as Asterisk
            # 22 records a silent Local caller ("No audio available", docs/deploy-tested.md)
            language=str(spec.get("language") or "en"), has_audio=not spec.get("silent"),
            protocol_id=f"{uuid.uuid4().hex[:12]}@127.0.0.1",
        )
        c = Caller(id=ch.id, number=number, caller=ch.caller_number, name=ch.caller_name,
                   language=ch.language,
                   patience_s=float(spec.get("patience_s", self.defaults["patience_s"])),
                   talk_s=float(spec.get("talk_s", self.defaults["talk_s"])), dtmf=dtmf,
                   dtmf_on={str(k): str(v) for k, v in (spec.get("dtmf_on") or {}).items()},
                   created_at=w.clock.now())
        self.callers[ch.id] = c
        route = w.dialplan.route(number)
        ch.priority = 2
        if not w.enter_stasis(ch, route.app, route.stasis_args(number), varset=False):
            self._fallback(ch, c, route)
        return c

    def _fallback(self, ch: Channel, c: Caller, route: Route) -> None:
        """STASISSTATUS=FAILED: what extensions.conf does next (an apology + VoiceMail, or a plain Queue)."""
        w = self.world
        c.state, c.fallback = "fallback", route.fallback
        entry = {"channel": ch.id, "number": c.number, "caller": c.caller, "fallback": route.fallback,
                 "at": w.clock.now()}
        if route.fallback == "voicemail":
            entry |= self._fallback_voicemail(ch, c, route)
        elif route.fallback == "queue":
            ch.app_name, ch.app_data = "Queue", route.fallback_queue
            entry["queue"] = route.fallback_queue
            w.later(ch.id, c.patience_s, self._end, ch, "patience")
        else:
            w.later(ch.id, 0.0, self._end, ch, "hangup")
        w.fallbacks.append(entry)

    def _fallback_voicemail(self, ch: Channel, c: Caller, route: Route) -> dict[str, Any]:
        """Answer(), Playback(apology), VoiceMail(box,s), Hangup(), failing as Asterisk does: a missing sound
        is a warning and no sound (PLAYBACKSTATUS=FAILED), an unknown mailbox ends the call at once
        (VMSTATUS=FAILED). ``warnings`` carries Asterisk's own log lines."""
        w = self.world
        ch.state = "Up"
        warnings: list[str] = []
        path = self.media.find_sound(route.apology, ch.language)
        apology_s = (self.media.file_seconds(path) or 0.0) if path is not None else 0.0
        ch.variables["PLAYBACKSTATUS"] = "SUCCESS" if path is not None else "FAILED"
        if path is None:
            warnings += [f"File {route.apology} does not exist in any format",
                         f"Playback failed on {ch.name} for {route.apology}"]
        found = w.dialplan.has_mailbox(route.voicemail_box)
        ch.app_name, ch.app_data = "VoiceMail", f"{route.voicemail_box},s"
        out: dict[str, Any] = {"apology": route.apology, "apology_played": path is not None,
                               "apology_s": apology_s, "mailbox": route.voicemail_box, "mailbox_found": found}
        if found:
            message_s = min(c.talk_s, float(self.defaults["voicemail_s"]))
            ch.variables["VMSTATUS"] = "SUCCESS"
            out["message_s"] = message_s
            w.later(ch.id, apology_s + message_s, self._end, ch, "voicemail_left")
        else:
            box = route.voicemail_box.partition("@")[0]
            warnings.append(f"No entry in voicemail config file for '{box}'")
            ch.variables["VMSTATUS"] = "FAILED"
            w.later(ch.id, apology_s, self._end, ch, "voicemail_failed")
        for line in warnings:
            log.warning("%s", line)
        out["warnings"] = warnings
        return out

    def _stasis_started(self, ch: Channel) -> None:
        c = self.callers.get(ch.id)
        if c is None:
            return
        c.state, c.stasis_at = "waiting", self.world.clock.now()
        self.world.later(ch.id + ":patience", c.patience_s, self._patience_out, ch)
        for at, digits in c.dtmf:
            self.world.later(ch.id, at, self.press, ch, digits)

    def press(self, ch: Channel, digits: str) -> None:
        """The caller presses keys: ChannelDtmfReceived per digit, a quarter second apart."""
        for i, d in enumerate(digits):
            self.world.later(ch.id, i * DIGIT_GAP_S, self.dialer.receive_dtmf, ch, d, 100)

    def _playback_started(self, pb: Playback) -> None:
        cid = pb.target_channel
        c = self.callers.get(cid or "")
        ch = self.world.channels.get(cid or "")
        if c is None or ch is None:
            return
        for needle, digits in c.dtmf_on.items():
            key = f"{pb.id}#{pb.index}#{needle}"
            if needle in pb.media_uri and key not in c.pressed_for:
                c.pressed_for.add(key)
                self.world.later(ch.id, 0.3, self.press, ch, digits)

    def _patience_out(self, ch: Channel) -> None:
        c = self.callers.get(ch.id)
        if c is not None and c.bridged_at is None:
            self._end(ch, "patience")

    def _end(self, ch: Channel, why: str) -> None:
        c = self.callers.get(ch.id)
        if c is not None and c.end is None:
            c.end = why
        self.world.hangup(ch, 16, remote=True)

    def hangup(self, channel_id: str, why: str = "control") -> bool:
        ch = self.world.channels.get(channel_id)
        if ch is None:
            return False
        self._end(ch, why)
        return True

    # ---- agents' phones ---------------------------------------------------------------------------
    def _answered(self, ch: Channel) -> None:
        if ch.tech == "PJSIP" and ch.id not in self.callers:
            ep = self.world.endpoints.get(f"PJSIP/{ch.resource}")
            if ep is not None:
                ch.has_audio = True
                if ch.called_talk_s is not None:  # a called party on the trunk: it ends the conversation
                    self.agent_legs[ch.id] = Endpoint(ep.technology, ep.resource, ep.state, "answer",
                                                      0.0, ch.called_talk_s, "agent")
                    return
                self.agent_legs[ch.id] = Endpoint(ep.technology, ep.resource, ep.state, ep.behaviour,
                                                  ep.answer_after_s, ep.talk_s, ep.hangup)

    # ---- both: talking in a bridge ----------------------------------------------------------------
    def _others(self, br: Bridge, ch_id: str) -> list[Channel]:
        return [self.world.channels[c] for c in br.channels
                if c != ch_id and c in self.world.channels and not self.world.channels[c].snoop_of]

    def _bridge_changed(self, br: Bridge) -> None:
        w = self.world
        candidates = [c for c in br.channels if c in self.callers or c in self.agent_legs]
        candidates += [c for c, b in self._bridge_of.items() if b == br.id and c not in candidates]
        for cid in candidates:
            ch = w.channels.get(cid)
            if ch is None or ch.gone:
                continue
            if ch.bridge_id == br.id:
                self._bridge_of[cid] = br.id
            others = self._others(br, cid) if ch.bridge_id == br.id else []
            c = self.callers.get(cid)
            talking = ch.bridge_id == br.id and bool(others)
            if c is not None:
                if talking and c.bridged_at is None:
                    c.state, c.bridged_at = "talking", w.clock.now()
                    w.cancel_timers(cid + ":patience")
                    agent_hangs_up = any(self.agent_legs.get(o.id, Endpoint("", "")).hangup == "agent"
                                         for o in others if o.id in self.agent_legs)
                    if not agent_hangs_up:
                        w.later(cid + ":talk", c.talk_s, self._end, ch, "talk_done")
                elif talking and c.state == "alone":  # back from hold: the rest of the conversation
                    c.state = "talking"
                    w.cancel_timers(cid + ":talk")
                    rest = max(1.0, c.talk_s - (w.clock.now() - (c.bridged_at or w.clock.now())))
                    w.later(cid + ":talk", rest, self._end, ch, "talk_done")
                elif not talking and c.bridged_at is not None and c.state == "talking":
                    c.state = "alone"
                    w.cancel_timers(cid + ":talk")
                    w.later(cid + ":talk", float(self.defaults["linger_s"]), self._alone, ch)
            elif cid in self.agent_legs:
                ep = self.agent_legs[cid]
                if talking and ep.hangup == "agent" and cid not in self._talking:
                    self._talking.add(cid)
                    w.later(cid + ":talk", ep.talk_s, self._agent_hangs_up, ch)

    def _alone(self, ch: Channel) -> None:
        """Nobody to talk to: a caller hears silence and hangs up, but one hearing music on hold (the agent
        put them on hold, a transfer rings) waits, as people do."""
        if ch.moh and not ch.gone:
            self.world.later(ch.id + ":talk", float(self.defaults["linger_s"]), self._alone, ch)
            return
        self._end(ch, "alone")

    def _agent_hangs_up(self, ch: Channel) -> None:
        self.world.hangup(ch, 16, remote=True)

    def _gone(self, ch: Channel) -> None:
        self._talking.discard(ch.id)
        self._bridge_of.pop(ch.id, None)
        for suffix in (":patience", ":talk"):
            self.world.cancel_timers(ch.id + suffix)
        self.agent_legs.pop(ch.id, None)
        c = self.callers.get(ch.id)
        if c is not None:
            c.ended_at = self.world.clock.now()
            c.end = c.end or "app"
            c.state = "gone"

    def snapshot(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.callers.values()]
