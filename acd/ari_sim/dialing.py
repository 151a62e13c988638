"""Making channels: originate, create + dial, Local ``;1``/``;2`` halves, snoops, answer and continue.

Event orders are those of rest-samples.jsonl (``originate_caller``, ``originate_inbound``, ``create_agent``,
``dial_agent``, ``answer_ringing_inbound``, ``snoop``, ``continue_*``) and BEHAVIOUR.md 3-5, 13, 16.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from typing import Any

from acd.ari_sim.model import Channel
from acd.ari_sim.world import INVALID_STATE, AriError, World, alloc_failed

FORMATS = {
    "ulaw", "alaw", "gsm", "g722", "g729", "slin", "slin16", "slin48", "slin192", "opus", "ilbc", "g726",
}
log = logging.getLogger("acd.ari_sim")
_CALLERID = re.compile(r'^\s*(?:"?([^"<]*?)"?\s*)?<([^>]*)>\s*$')


def parse_callerid(value: str | None) -> tuple[str, str]:
    """``"Ivan" <79990001122>`` -> (Ivan, 79990001122); a bare number is a number."""
    if not value:
        return "", ""
    m = _CALLERID.match(value)
    if m:
        return (m.group(1) or "").strip(), m.group(2).strip()
    return "", value.strip()


class Dialer:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = random.Random(15)
        """Called parties' answer probability: seeded, so a run repeats."""

    # ---- validation shared by originate and create -------------------------------------------------
    def _validate(self, p: dict[str, Any], *, need_app: bool) -> tuple[str, str]:
        endpoint = p.get("endpoint")
        if not endpoint:
            raise AriError(400, "Endpoint must be specified")
        if need_app and not p.get("app") and not p.get("extension"):
            raise AriError(400, "Application or extension must be specified")
        tech, sep, resource = str(endpoint).partition("/")
        if not sep or not resource:
            raise AriError(400, "Invalid endpoint specified")
        for fmt in filter(None, str(p.get("formats") or "").split(",")):
            if fmt not in FORMATS:
                raise AriError(400, f"Provided format ({fmt}) was not found")
        self.world.check_new_id(p.get("channelId"))
        self.world.check_new_id(p.get("otherChannelId"))
        if tech not in ("Local", "PJSIP"):
            raise alloc_failed()  # ast_request() of an unknown technology fails: 500 Allocation failed
        return tech, resource

    def _pjsip_endpoint(self, resource: str) -> str:
        """``agent1`` or ``77011234567@trunk`` -> the endpoint name; unknown or offline fails like Asterisk.

        For an endpoint without a contact, res_pjsip.c ast_sip_create_dialog_uac() fails ("Could not create
        dialog to invalid URI '<endpoint>'. Is endpoint registered and reachable?") and chan_pjsip.c request()
        logs "Failed to create outgoing session to endpoint"; ast_request() returns no channel, so ARI's
        originate/create answer 500 "Allocation failed" (resource_channels.c: ast_dial_prerun() failure ->
        ast_ari_response_alloc_failed()), with no channel and no event.
        """
        name = resource.split("@", 1)[1] if "@" in resource else resource
        ep = self.world.endpoints.get(f"PJSIP/{name}")
        if ep is None or ep.state != "online":
            raise alloc_failed()
        return name

    def _local_pair(self, p: dict[str, Any], resource: str) -> tuple[Channel, Channel]:
        w = self.world
        target = resource.split("/", 1)[0]
        exten, _, context = target.partition("@")
        context = context or "default"
        seq = w.seq("Local")
        cname, cnum = parse_callerid(p.get("callerId"))
        one = w.new_channel(tech="Local", resource=target, name=f"Local/{target}-{seq};1", state="Down",
                            channel_id=p.get("channelId"), caller_name=cname, caller_number=cnum,
                            connected_name=cname, connected_number=cnum, context=context, exten=exten)
        two = w.new_channel(tech="Local", resource=target, name=f"Local/{target}-{seq};2", state="Ring",
                            channel_id=p.get("otherChannelId"), caller_name=cname, caller_number=cnum,
                            connected_name=cname, connected_number=cnum, context=context, exten=exten)
        one.peer_id, two.peer_id = two.id, one.id
        return one, two

    def _apply_variables(self, chans: list[Channel],
                         variables: dict[str, Any] | None) -> list[tuple[str, str]]:
        out = []
        for name, value in (variables or {}).items():
            value = str(value)
            if name == "CALLERID(name)":
                for c in chans:
                    c.caller_name = value
                chans[0].connected_name = ""
            elif name == "CALLERID(num)":
                for c in chans:
                    c.caller_number = value
            elif name.startswith("PJSIP_HEADER(add,") and name.endswith(")"):
                # A dialplan function, not a variable: on a PJSIP channel it adds the header to the
                # INVITE; on any other channel Asterisk logs "This function requires a PJSIP channel"
                # and the originate goes on without it.
                for c in chans:
                    if c.tech == "PJSIP":
                        c.sip_headers[name[len("PJSIP_HEADER(add,"):-1]] = value
            else:
                for c in chans:
                    c.variables[name] = value
                out.append((name, value))
        return out

    # ---- originate --------------------------------------------------------------------------------
    def originate(self, p: dict[str, Any]) -> Channel:
        tech, resource = self._validate(p, need_app=True)
        w = self.world
        app = str(p.get("app") or "")
        args = [a for a in str(p.get("appArgs") or "").split(",") if a] if p.get("appArgs") else []
        timeout = float(p.get("timeout") or 30)
        if tech == "PJSIP":
            epname = self._pjsip_endpoint(resource)
            cname, cnum = parse_callerid(p.get("callerId"))
            ch = w.new_channel(tech="PJSIP", resource=epname, name=f"PJSIP/{epname}-{w.seq('PJSIP')}",
                               state="Down", channel_id=p.get("channelId"), caller_name=cname,
                               caller_number=cnum, app_name="AppDial2", app_data="(Outgoing Line)")
            self._apply_variables([ch], p.get("variables"))
            ch.pending_app, ch.pending_args, ch.dialed_by_app = app, args, app
            w.subscribe(app, ch)
            ep = w.endpoints[f"PJSIP/{epname}"]
            behaviour, answer_after = ep.behaviour, ep.answer_after_s
            number = resource.split("@", 1)[0] if "@" in resource else ""
            called = ep.called.get(number) if number else None
            if called is not None:
                behaviour, answer_after = called.behaviour, called.answer_after_s
                ch.called_talk_s = called.talk_s
            elif w.called.enabled and number and epname == w.dialplan.trunk:
                behaviour, answer_after, ch.called_talk_s = w.called.draw(number, w.clock.now())
            elif number and ep.answer_probability < 1.0 and self.rng.random() >= ep.answer_probability:
                behaviour = "no_answer"
            asyncio.get_running_loop().call_soon(
                w.ring_outcome, ch, behaviour, answer_after, timeout, resource)
            return ch
        one, two = self._local_pair(p, resource)
        one.app_name, one.app_data = "AppDial2", "(Outgoing Line)"
        sets = self._apply_variables([one, two], p.get("variables"))
        one.pending_app, one.pending_args, one.dialed_by_app = app, args, app
        w.subscribe(app, one)
        w.subscribe(app, two)  # item 3: originate subscribes the app to both halves
        has_cid = bool(p.get("callerId"))
        asyncio.get_running_loop().call_soon(self._run_local, one, two, timeout, has_cid, sets)
        return one

    def _run_local(self, one: Channel, two: Channel, timeout: float, callerid: bool,
                   sets: list[tuple[str, str]]) -> None:
        """The ``;2`` half runs its context, ``;1`` follows (samples ``originate_caller``, ``_inbound``)."""
        w = self.world
        if one.gone or two.gone:
            return
        for name, value in sets:
            w.varset(two, name, value)
        if callerid:
            w.emit_channel(two, "ChannelCallerId", caller_presentation=0,
                           caller_presentation_txt="Presentation Allowed, Not Screened")
            w.emit_channel(two, "ChannelConnectedLine")
        if not w.dialplan.local_exists(two.context, two.exten):
            self._no_such_extension(one, two)
            return
        ctx = w.dialplan.local(two.context)
        dialstring = f"{two.exten}@{two.context}"
        if ctx.kind in ("busy", "congestion", "noanswer", "ring"):
            behaviour = {"noanswer": "no_answer", "ring": "answer"}.get(ctx.kind, ctx.kind)
            self._dialplan(two, "NoOp", f"{two.context} {two.exten}")
            w.ring_outcome(one, behaviour, ctx.answer_after_s, timeout, dialstring,
                           on_answer=lambda: self._local_answer(one, two))
            return
        w.emit_dial(one, "", dialstring)
        self._dialplan(two, "NoOp", f"{two.context} {two.exten}")
        if ctx.kind == "stasis":
            self._dialplan(two, "Stasis", w.dialplan.default_route.app)
            two.priority = 2
            if not w.enter_stasis(two, w.dialplan.default_route.app, []):
                w.hangup(two, 16, remote=True)
            return
        self._dialplan(two, "Answer", "")
        two.priority = 2
        self._local_answer(one, two)

    def _no_such_extension(self, one: Channel, two: Channel) -> None:
        """Asterisk 22.10.1 (tests/ari_sim/fixtures/local-no-such-extension.jsonl): originate answered 200,
        core_local.c logs "No such extension/context", and both halves go at once, ``;2`` first, with
        ChannelDestroyed cause 0 and nothing else: no Dial, no ChannelHangupRequest, no StasisStart."""
        w = self.world
        log.warning("No such extension/context %s@%s while calling Local channel", two.exten, two.context)
        for ch in (two, one):
            w.vanish(ch)

    def _local_answer(self, one: Channel, two: Channel) -> None:
        w = self.world
        if two.state != "Up":
            w.set_state(two, "Up")
        w.answered(one, "")

    def _dialplan(self, ch: Channel, app: str, data: str) -> None:
        ch.app_name, ch.app_data = app, data
        self.world.emit_channel(ch, "ChannelDialplan", dialplan_app=app, dialplan_app_data=data)

    # ---- create + dial ----------------------------------------------------------------------------
    def create(self, p: dict[str, Any]) -> dict[str, Any]:
        tech, resource = self._validate(p, need_app=False)
        w = self.world
        app = str(p.get("app") or "")
        args = [a for a in str(p.get("appArgs") or "").split(",") if a] if p.get("appArgs") else []
        if tech == "PJSIP":
            epname = self._pjsip_endpoint(resource)
            ch = w.new_channel(tech="PJSIP", resource=epname, name=f"PJSIP/{epname}-{w.seq('PJSIP')}",
                               state="Down", channel_id=p.get("channelId"))
            ch.variables["ACD_DIALSTRING"] = resource
        else:
            ch, two = self._local_pair(p, resource)
            two.state = "Down"
        self._apply_variables([ch], p.get("variables"))
        snapshot = ch.to_json()
        if not app:
            # create without app: the channel has nowhere to go and is gone at once (``create_no_app``).
            w.hangup(ch, 16, remote=True)
            return snapshot
        w.subscribe(app, ch)
        ch.dialed_by_app = app
        asyncio.get_running_loop().call_soon(self._created_enter, ch, app, args)
        return snapshot

    def _created_enter(self, ch: Channel, app: str, args: list[str]) -> None:
        if ch.gone:
            return
        if ch.tech == "Local":
            self.world.emit_channel(ch, "ChannelDialplan", dialplan_app="", dialplan_app_data="")
        if not self.world.enter_stasis(ch, app, args):
            self.world.hangup(ch, 16, remote=True)

    def dial(self, ch: Channel, timeout: float) -> None:
        """POST /channels/{id}/dial of a created channel (item 4, 5)."""
        w = self.world
        if ch.state != "Down" or ch.dialing:
            raise AriError(409, "Channel is not in the 'Down' state")
        timeout = timeout if timeout > 0 else 30.0
        if ch.tech == "PJSIP":
            ep = w.endpoints.get(f"PJSIP/{ch.resource}")
            if ep is None or ep.state != "online":
                w.later(ch.id, 0.0, w._dial_failed, ch, "CHANUNAVAIL", 20)
                return
            w.ring_outcome(ch, ep.behaviour, ep.answer_after_s, timeout, "")
            return
        two = w.channels.get(ch.peer_id or "")
        ctx = w.dialplan.local(ch.context)
        behaviour = {"noanswer": "no_answer", "ring": "answer", "stasis": "no_answer"}.get(ctx.kind, ctx.kind)
        after = ctx.answer_after_s
        w.ring_outcome(ch, behaviour, after, timeout, "",
                       on_answer=(lambda: self._local_answer(ch, two)) if two else None)

    # ---- answer, ring, progress -------------------------------------------------------------------
    def answer(self, ch: Channel) -> None:
        w = self.world
        if ch.state in ("Down", "Ringing"):
            raise AriError(412, INVALID_STATE)
        if ch.state == "Up":
            return  # item 13: 204, nothing happens
        peer = w.channels.get(ch.peer_id or "")
        if peer is not None and not peer.gone and peer.state != "Up":
            w.answered(peer, "")  # ;1 goes Up and enters its app first (``answer_ringing_inbound``)
        w.set_state(ch, "Up")

    def indicate(self, ch: Channel, what: str) -> None:
        peer = self.world.channels.get(ch.peer_id or "")
        if peer is None or peer.gone or peer.state == "Up":
            return
        if what == "ring":
            self.world.set_state(peer, "Ringing")
            self.world.emit_dial(peer, "RINGING")
        elif what == "progress":
            self.world.emit_dial(peer, "PROGRESS")

    # ---- DTMF -------------------------------------------------------------------------------------
    def send_dtmf(self, ch: Channel, digits: str, between_ms: int, duration_ms: int) -> None:
        """Digits sent to a Local half are received by the other half (rest-samples ``dtmf``)."""
        peer = self.world.channels.get(ch.peer_id or "")
        if peer is None:
            return
        for i, d in enumerate(digits):
            self.world.later(peer.id, i * (between_ms + duration_ms) / 1000, self.receive_dtmf, peer, d,
                             duration_ms)

    def receive_dtmf(self, ch: Channel, digit: str, duration_ms: int = 100) -> None:
        if not ch.gone:
            self.world.emit_channel(ch, "ChannelDtmfReceived", digit=digit, duration_ms=duration_ms)

    # ---- snoop ------------------------------------------------------------------------------------
    def snoop(self, target: Channel, p: dict[str, Any]) -> Channel:
        """Works on any channel, in Stasis or not (item 16, 19)."""
        w = self.world
        spy, whisper = str(p.get("spy") or "none"), str(p.get("whisper") or "none")
        for value, what in ((spy, "spy"), (whisper, "whisper")):
            if value not in ("none", "both", "out", "in"):
                raise AriError(400, f"Invalid direction specified for {what}")
        app = p.get("app")
        if not app:
            raise AriError(400, "Application name is required")
        if spy == "none" and whisper == "none":
            raise AriError(400, "Direction must be specified for at least spy or whisper")
        sid = p.get("snoopId")
        if sid and sid in w.channels:
            raise AriError(500, "Snoop channel could not be created")
        args = [a for a in str(p.get("appArgs") or "").split(",") if a] if p.get("appArgs") else []
        ch = w.new_channel(tech="Snoop", resource=target.id, name=f"Snoop/{target.id}-{w.seq('Snoop')}",
                           state="Up", channel_id=sid, snoop_of=target.id)
        ch.spy, ch.whisper = spy, whisper
        asyncio.get_running_loop().call_soon(self._snoop_enter, ch, str(app), args)
        return ch

    def _snoop_enter(self, ch: Channel, app: str, args: list[str]) -> None:
        if not ch.gone and not self.world.enter_stasis(ch, app, args, varset=False):
            self.world.hangup(ch, 16, remote=True)

    # ---- continue ---------------------------------------------------------------------------------
    def continue_(self, ch: Channel, context: str | None, exten: str | None, priority: int | None,
                  label: str | None) -> None:
        w = self.world
        if label:
            raise AriError(404, "Requested label can not be found")
        w.leave_stasis(ch)
        ctx = context or ch.context
        inbound = ch.tech == "PJSIP" and ch.stasis_args[:1] == ["inbound"]
        if not context and (inbound or w.dialplan.local(ch.context).kind == "stasis"):
            # [acd-inbound]: Stasis() returned with STASISSTATUS=SUCCESS; the next priority is Hangup()
            # (rest-samples ``continue_default``).
            self._dialplan(ch, "Hangup", "")
            w.hangup(ch, 16, remote=True, dialplan=True)
            return
        ch.context, ch.exten = ctx, exten or ch.exten
        ch.priority = max(1, priority or ch.priority + 1)
        for app, data in (("NoOp", f"{ctx} {ch.exten}"), ("Answer", ""), ("Wait", "3600")):
            self._dialplan(ch, app, data)
        ch.priority = 3
