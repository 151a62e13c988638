"""Calls the agents place: click-to-call and callback dialling (R25, issue 15), the agent's phone first.

The path of one call (docs/outbound.md, "Click-to-call and callback dialling"):

1. **Reserve the agent.** The ACD core puts the agent on a call at once (its restore path, as for a
   consulted agent), so no inbound caller is offered to them while their phone rings; the agent state log
   gets an ``on_call`` row with the reason ``outbound``. A not-ready agent goes back to not ready after it.
2. **The agent's phone** is originated into our app (``appArgs = outcall,<call id>,<agent>``). That channel
   is the call: its id is the CDR's ``calls.id``, and its ``ACD_STATE`` (``role=call;direction=outbound``)
   is set by the originate itself, so a daemon restarted at any moment finds it (engine-01).
3. On the agent's answer (StasisStart), the agent hears ringing and **the number is originated** through
   the trunk (``outbound.trunk`` in acd.yaml) with the service's caller id, as an ``out`` leg.
4. On its answer: **the same conversation path as an inbound call** (``CallSession.converse``): bridge,
   recording of the bridge (R14), wait for either side to hang up, release (the agent goes to wrap-up for
   the queue's ``wrapup_s``; the topic is set as for inbound calls).
5. What Asterisk reports for an unanswered number becomes a typed ``DialOutcome``: ``Dial.dialstatus``
   BUSY/CONGESTION/CHANUNAVAIL, and the ``ChannelDestroyed`` cause (17 busy, 19 no answer, 1 unallocated
   number, ...), BEHAVIOUR.md 5 and 7. The CDR row has ``direction = outbound`` and the outcome.

Preview campaigns (acd/engine/campaign_preview.py) place their calls through this same path
(``Outbound.dial(..., campaign=CampaignCall(...))``): the campaign's trunk, caller id and ring time, the
attempt in ``ACD_STATE`` (so a restarted daemon adopts a connected preview call as any other), and the end
goes to the preview dialer instead of ``on_done`` (docs/decisions/outbound-08-agent-first-calls.md).

Reuse (campaigns): ``originate_external`` places one external leg for any session and ``leg_outcome``
reads its result; ``CallSession.converse`` bridges and records it. A customer-first dialer originates the
customer with ``originate_external`` from a session of its own and offers the answered call to an agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import structlog

from acd import events as ev
from acd.ari.errors import AriError, AriNotFound
from acd.engine.session import CallSession, Leg
from acd.engine.state import STATE_VAR, SavedState
from acd.events import AgentEvent
from outbound.config import DiallingRules
from outbound.dialrules import DialCheck, check_number
from routing.control import CallerHungUp, CallInfo

if TYPE_CHECKING:
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)

DialOutcome = Literal[
    "reached", "no_answer", "busy", "congestion", "unavailable", "invalid_number",
    "agent_no_answer", "agent_busy", "agent_unreachable", "cancelled", "failed",
]
"""How an outbound attempt ended. ``reached``: the number answered and was bridged with the agent;
``no_answer`` .. ``invalid_number``: the number did not answer (Asterisk's report); ``agent_*``: the agent's
own phone did not answer, was busy, or could not be called; ``cancelled``: the agent hung up while the
number rang; ``failed``: anything else (an error, the daemon stopped before the end)."""

NOT_REACHED_BY_CAUSE: dict[int, DialOutcome] = {
    1: "invalid_number",  # unallocated number (SIP 404)
    3: "unavailable",  # no route to destination
    17: "busy",
    18: "no_answer",  # no user responding
    19: "no_answer",  # user alerting, no answer: the ring time-out (BEHAVIOUR.md 5)
    20: "unavailable",  # subscriber absent
    21: "busy",  # call rejected (a declined mobile)
    22: "invalid_number",  # number changed
    27: "unavailable",  # destination out of order
    28: "invalid_number",  # invalid number format
    34: "congestion",  # no circuit available
    38: "congestion",  # network out of order
    41: "congestion",  # temporary failure
    42: "congestion",  # switching equipment congestion
}
NOT_REACHED_BY_DIALSTATUS: dict[str, DialOutcome] = {
    "BUSY": "busy", "CONGESTION": "congestion", "CHANUNAVAIL": "unavailable", "NOANSWER": "no_answer",
}
CAUSE_WAIT_S = 2.0
"""A failed Dial: how long (virtual) the channel's ChannelDestroyed is awaited for its cause."""


class OutboundRefused(ValueError):
    """The call cannot be placed; the message is for the agent (shown by the desktop as is)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CampaignCall:
    """A preview campaign's contact, dialled agent-first: what differs from a click-to-call."""

    campaign: str
    attempt: int
    """The ``campaign_attempts`` row; its outcome is written when the call ends."""
    contact: int
    endpoint: str
    """The campaign's dial string for the contact (``dialing.trunk``)."""
    caller_id: str | None
    """The campaign's caller id, E.164, shown to the contact and written as the CDR's ``caller``."""
    ring_s: float
    queue: str


@dataclass(frozen=True)
class OutboundRequest:
    """One agent-first call to place."""

    agent_id: str
    number: str
    """Canonical (routing.numbers), already checked against the dialling rules."""
    endpoint: str
    """What Asterisk dials for the number (``PJSIP/7011234567@trunk``)."""
    agent_endpoint: str
    caller_id: str | None
    """Shown to the called party: the service's number."""
    queue: str | None
    """The queue whose wrap-up follows the call (the ACD core's accounting)."""
    callback_id: str | None = None
    source: Literal["click", "callback", "campaign"] = "click"
    agent_ring_s: float = 30.0
    number_ring_s: float = 45.0
    campaign: CampaignCall | None = None


@dataclass(frozen=True)
class OutboundDone:
    """The end of an outbound call, for whoever waits for it (the callbacks' outcomes)."""

    call_id: str
    agent_id: str
    number: str
    outcome: DialOutcome
    callback_id: str | None
    source: str
    campaign: CampaignCall | None = None
    connected_at: float | None = None
    """When the number was bridged with the agent (``reached`` only)."""


OnDone = Callable[[OutboundDone], Coroutine[Any, Any, None]]


def leg_outcome(leg: Leg) -> DialOutcome:
    """What became of an external leg that never answered: the hang-up cause when Asterisk gave one (it
    tells an unallocated number from an unreachable one), else the Dial status, else the engine's reading
    of the end (``Leg.result``)."""
    if leg.cause is not None and leg.cause in NOT_REACHED_BY_CAUSE:
        return NOT_REACHED_BY_CAUSE[leg.cause]
    if leg.dialstatus in NOT_REACHED_BY_DIALSTATUS:
        return NOT_REACHED_BY_DIALSTATUS[leg.dialstatus]
    return {"busy": "busy", "no_answer": "no_answer", "unreachable": "unavailable",
            "cancelled": "cancelled"}.get(leg.result, "failed")  # type: ignore[return-value]


async def originate_external(
    session: CallSession, endpoint: str, *, caller_id: str | None, ring_s: float
) -> Leg:
    """Dial an external number for ``session`` into our app (an ``out`` leg: StasisStart = answered). The
    returned leg's ``answered`` resolves True on the answer, False on a failure (``leg_outcome`` says
    which). Reusable by any dialer: the leg belongs to ``session`` and ends with it."""
    return await session.engine.originate_leg(
        session, endpoint, kind="out", timeout_s=ring_s, caller_id=caller_id
    )


class OutboundCall(CallSession):
    """An agent-first outbound call. The session's channel is the agent's phone; the called number is its
    one ``out`` leg; the conversation path is the inbound one."""

    def __init__(self, engine: Engine, request: OutboundRequest, *, channel_id: str,
                 resume: SavedState | None = None) -> None:
        info = CallInfo(call_id=channel_id, caller=request.number, caller_name="", dialled=request.number,
                        language="")
        super().__init__(engine, info, resume=resume)
        self.request = request
        self.own_agent = request.agent_id
        self.agent_answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.outcome: DialOutcome = "failed"
        self.agent_released = False
        self.back_to: tuple[str, str | None] = ("ready", None)
        """The agent's state before the call (ready, or not_ready with its reason): restored after it."""

    # ---- the conversation path, with the agent as the call's own channel ---------------------------
    async def _bridge(self, leg: Leg, *, queue: str | None, record: bool) -> None:
        bridge = await self.ari.bridges.create("mixing", bridge_id=self.engine.new_id("br"))
        self.bridge_id = bridge.id
        self.registry.add_bridge(bridge.id, self)
        recording = self.engine.recording_name(self) if record else None
        connected = self.now()
        await self.save(phase="connected", bridge=bridge.id, peer=leg.channel_id, recording=recording or "",
                        connected=connected)
        self.engine.emit_milestone(
            self.channel_id, ev.Connected(queue=None, agent=self.request.agent_id, bridge=bridge.id),
            connected,
        )
        await self.ari.bridges.add_channel(bridge.id, [self.channel_id, leg.channel_id])
        if recording is not None:
            await self.record_bridge(bridge.id, recording, self.request.agent_id)

    def _release(self, leg: Leg, *, stopping: bool) -> None:
        super()._release(leg, stopping=stopping)
        if not stopping and self.engine.accepting:
            self.release_agent(connected=True)

    def release_agent(self, *, connected: bool) -> None:
        """The agent's part is over: after a conversation, wrap-up as after an inbound call; after an attempt
        that never connected, straight back to the state before it (no wrap-up for a ring)."""
        if self.agent_released:
            return
        self.agent_released = True
        engine, agent = self.engine, self.request.agent_id
        if not connected:
            with contextlib.suppress(ValueError, KeyError):
                engine.set_agent_state(agent, "ready", None, None)  # cancels the pending not-ready
        engine.call_finished(agent)
        if not connected:
            state, reason = self.back_to
            with contextlib.suppress(ValueError, KeyError):
                engine.set_agent_state(agent, state, reason, None)

    # ---- placing the call --------------------------------------------------------------------------
    async def place(self) -> DialOutcome:
        r = self.request
        try:
            await self.ari.channels.originate(
                r.agent_endpoint,
                app=self.engine.settings.ari.app,
                app_args=f"outcall,{self.channel_id},{r.agent_id}",
                channel_id=self.channel_id,
                caller_id=f'"{r.number}" <{r.number}>',
                timeout=max(1, math.ceil(r.agent_ring_s)),
                variables={STATE_VAR: self.saved.encode()},
            )
        except AriError as exc:
            self.log().warning("outbound_agent_originate_failed", error=str(exc))
            return "agent_unreachable"
        try:
            if not await self._until(asyncio.shield(self.agent_answered), r.agent_ring_s + 10):
                return "agent_no_answer"
        except TimeoutError:
            return "agent_no_answer"
        except CallerHungUp:
            return "agent_busy" if self.hangup_cause in (17, 21) else "agent_no_answer"
        now = self.now()
        self.engine.emit_milestone(self.channel_id, ev.Answered(), now)
        await self.save(phase="dialling", answered=now)
        with contextlib.suppress(AriError):
            await self.ari.channels.ring(self.channel_id)  # the agent hears the number ring
        leg = await originate_external(self, r.endpoint, caller_id=r.caller_id, ring_s=r.number_ring_s)
        try:
            answered = await self._until(asyncio.shield(leg.answered))
        except CallerHungUp:
            self.hangup_by = "agent"
            leg.fail("cancelled")
            self.engine.forget_leg(leg)
            await self.engine.hangup_leg(leg)
            return "cancelled"
        if not answered:
            if leg.dialstatus and leg.cause is None:  # the cause comes with ChannelDestroyed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(leg.ended.wait(), self.engine.clock.real_seconds(CAUSE_WAIT_S))
            self.hangup_by = "system"
            return leg_outcome(leg)
        with contextlib.suppress(AriError):
            await self.ari.channels.ring_stop(self.channel_id)
        self.outcome = "reached"
        await self.converse(leg, queue=None, record=True)
        return "reached"

    async def run(self, *, adopted: bool = False) -> None:
        """The whole call, or (``adopted``) the conversation a previous daemon connected."""
        outcome: DialOutcome = "failed"
        try:
            if adopted and self.resume is not None:
                outcome = await self._adopted(self.resume)
            else:
                outcome = await self.place()
        except CallerHungUp:
            outcome = self.outcome
        except asyncio.CancelledError:
            raise  # the daemon stops: the call stays in Asterisk for the next one (R27)
        except Exception:
            self.log().exception("outbound_call_failed")
        if not self.engine.accepting:
            return
        self.outcome = outcome
        await self._finish(outcome)

    async def _adopted(self, s: SavedState) -> DialOutcome:
        """A conversation connected by a previous daemon: the same wait and release as a live one."""
        if s.arrived:
            self.engine.emit_milestone(self.channel_id, self._arrived_fact(), s.arrived)
        if s.connected:
            self.engine.emit_milestone(
                self.channel_id, ev.Connected(queue=None, agent=s.agent, bridge=s.bridge), s.connected
            )
        leg = self.engine.adopt_leg(self, s.peer, kind="out", agent_id=None)
        try:
            await self.ari.channels.get(leg.channel_id)
        except AriNotFound:
            leg.fail("gone")
        await self.adopt_conversation(leg, s)
        return "reached"

    def _arrived_fact(self) -> ev.Arrived:
        """The CDR row's start: ``caller`` is the service's number as the called party sees it, ``dialled``
        the number called (docs/outbound.md, "What the CDR says")."""
        o = self.engine.settings.outbound
        c = self.request.campaign
        caller = (c.caller_id or o.caller_id) if c is not None else o.caller_id
        return ev.Arrived(direction="outbound", dialled=self.request.number, caller=caller,
                          caller_name=o.caller_name, channel=self.request.agent_endpoint,
                          linked_id=self.request.callback_id or self.channel_id)

    async def _finish(self, outcome: DialOutcome) -> None:
        if not self.gone.is_set():
            await self.hangup()
        for leg in list(self.legs.values()):
            self.engine.forget_leg(leg)
            await self.engine.hangup_leg(leg)
        self.release_agent(connected=outcome == "reached")
        self.emit(ev.Step(step="outbound_result", detail=outcome))
        if self.hangup_by == "caller":  # the session's channel is the agent's phone
            self.hangup_by = "agent"
        elif self.hangup_by in (None, "other"):
            self.hangup_by = "called" if outcome == "reached" else "system"
        self.engine.finish_call(self)
        log.info("outbound_call_ended", call_id=self.channel_id, agent=self.request.agent_id,
                 outcome=outcome, callback=self.request.callback_id)
        self.engine.outbound.done(OutboundDone(
            self.channel_id, self.request.agent_id, self.request.number, outcome, self.request.callback_id,
            self.request.source, self.request.campaign,
            self.saved.connected if outcome == "reached" else None))


class Outbound:
    """The engine's outbound desk: checks, reserves the agent, starts ``OutboundCall``s, and tells
    ``on_done`` (set by the daemon: the callbacks' outcomes) how each ended. Implements the web's
    ``acd.web.outbound.OutboundPort``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.on_done: OnDone | None = None

    def rules(self) -> DiallingRules:
        o = self.engine.settings.outbound
        return DiallingRules(allowed_prefixes=list(o.allowed_prefixes),
                             refused_prefixes=list(o.refused_prefixes))

    def check(self, number: str) -> DialCheck:
        return check_number(number, self.rules())

    def _queue_of(self, agent_id: str) -> str | None:
        configured = self.engine.settings.outbound.queue
        if configured:
            return configured
        agent = self.engine.config.agents.get(agent_id)
        if agent is None or not agent.queues:
            return None
        return min(agent.queues.items(), key=lambda kv: kv[1])[0]

    async def dial(self, agent_id: str, number: str, *, callback_id: str | None = None,
                   source: Literal["click", "callback"] = "click",
                   campaign: CampaignCall | None = None) -> str:
        """Place an agent-first call; returns its call id at once (the phone rings). ``OutboundRefused``
        with a message for the agent when it cannot be placed. ``campaign``: a preview campaign's contact
        (its number was normalised at import and is dialled through the campaign's trunk and caller id)."""
        engine = self.engine
        if not engine.accepting:
            raise OutboundRefused("the daemon is stopping", 503)
        agent = engine.config.agents.get(agent_id)
        if agent is None:
            raise OutboundRefused(f"unknown agent {agent_id!r}", 404)
        o = engine.settings.outbound
        if campaign is not None:
            request = OutboundRequest(
                agent_id=agent_id, number=number, endpoint=campaign.endpoint,
                agent_endpoint=agent.endpoint or f"PJSIP/{agent.id}", caller_id=campaign.caller_id,
                queue=campaign.queue, source="campaign", agent_ring_s=o.agent_ring_s,
                number_ring_s=campaign.ring_s, campaign=campaign)
        else:
            verdict = self.check(number)
            if not verdict.ok or verdict.number is None:
                raise OutboundRefused(f"this number may not be dialled: {verdict.reason}", 422)
            request = OutboundRequest(
                agent_id=agent_id, number=verdict.number, endpoint=o.dial_string(verdict.number),
                agent_endpoint=agent.endpoint or f"PJSIP/{agent.id}", caller_id=o.caller_id_header(),
                queue=self._queue_of(agent_id), callback_id=callback_id, source=source,
                agent_ring_s=o.agent_ring_s, number_ring_s=o.number_ring_s)
        call = OutboundCall(engine, request, channel_id=engine.new_id("oc"))
        self._reserve(call)
        engine.registry.add_session(call)
        call.arrived_at = engine.clock.now()
        call.saved = SavedState(role="call", phase="dialling", direction="outbound", dialled=request.number,
                                agent=agent_id, arrived=call.arrived_at, callback=callback_id or "",
                                queue=request.queue or "",
                                campaign=campaign.campaign if campaign else "",
                                attempt=campaign.attempt if campaign else 0,
                                contact=campaign.contact if campaign else 0)
        engine.metrics.calls.inc()
        engine.emit_milestone(call.channel_id, call._arrived_fact(), call.arrived_at)
        detail = source if callback_id is None else f"{source} {callback_id}"
        call.emit(ev.Step(step="outbound", detail=request.source if campaign else detail))
        if campaign is not None:
            call.emit(ev.Step(step="campaign", detail=campaign.campaign))
        call.task = engine.spawn(call.run(), f"outbound-{call.channel_id}")
        log.info("outbound_call", call_id=call.channel_id, agent=agent_id, number=request.number,
                 source=source, callback=callback_id)
        return call.channel_id

    def _reserve(self, call: OutboundCall) -> None:
        """The agent is on this call for the ACD core from now on (no inbound offer while their phone
        rings). Refused unless the agent is ready, not ready, or in wrap-up."""
        engine, agent = self.engine, call.request.agent_id
        now = engine.clock.now()
        view: dict[str, Any] = engine.acd.snapshot(now).get("agents", {}).get(agent, {})
        state = str(view.get("state", "logged_out"))
        reason = view.get("reason")
        if state == "logged_out":
            raise OutboundRefused("log in first: a logged-out agent cannot place calls")
        if state in ("ringing", "on_call"):
            raise OutboundRefused("you are on a call already")
        if view.get("reachable") is False:
            raise OutboundRefused("your phone is not registered: the call cannot ring it")
        if state == "wrap_up":  # the wrap-up ends here; the core has no path from wrap-up to a call
            engine.set_agent_state(agent, "not_ready", "outbound", None)
            state, reason = "ready", None
        call.back_to = (state, str(reason) if state == "not_ready" and reason else None)
        if not engine.restore_call(call.channel_id, agent, call.request.queue or "", connected_at=now):
            raise OutboundRefused("the ACD refused to reserve you for this call; try again")
        engine.metrics.agent_state(agent, "on_call")
        engine.writer.emit(AgentEvent(agent_id=agent, state="on_call", at=now, previous=state,
                                      reason="outbound", by=None, call_id=call.channel_id))
        if call.back_to[0] == "not_ready":  # back to not ready after the wrap-up (the core's pending)
            with contextlib.suppress(ValueError, KeyError):
                engine.set_agent_state(agent, "not_ready", call.back_to[1], None)

    def answered(self, channel_id: str) -> bool:
        """StasisStart of an agent's phone originated for an outbound call; False if no call waits for it."""
        session = self.engine.registry.session(channel_id)
        if not isinstance(session, OutboundCall):
            return False
        if not session.agent_answered.done():
            session.agent_answered.set_result(True)
        return True

    def adopt(self, channel_id: str, s: SavedState) -> bool:
        """After a restart: an outbound call a previous daemon placed. A connected one is followed to its
        end; one still ringing (the agent's phone or the number) is hung up, its CDR row ended."""
        engine = self.engine
        o = engine.settings.outbound
        agent = engine.config.agents.get(s.agent)
        campaign = self._campaign_of(s)
        request = OutboundRequest(
            agent_id=s.agent, number=s.dialled,
            endpoint=campaign.endpoint if campaign else o.dial_string(s.dialled),
            agent_endpoint=(agent.endpoint or f"PJSIP/{agent.id}") if agent else "",
            caller_id=campaign.caller_id if campaign else o.caller_id_header(), queue=s.queue or None,
            callback_id=s.callback or None,
            source="campaign" if campaign else "callback" if s.callback else "click", campaign=campaign)
        call = OutboundCall(engine, request, channel_id=channel_id, resume=s)
        call.arrived_at = s.arrived or engine.clock.now()
        engine.registry.add_session(call)
        if s.phase == "connected" and s.peer and s.agent and agent is not None:
            if not engine.restore_call(channel_id, s.agent, s.queue, connected_at=s.connected):
                log.warning("outbound_not_adopted", call_id=channel_id)
            log.info("adopting_outbound_call", call_id=channel_id, agent=s.agent)
            call.task = engine.spawn(call.run(adopted=True), f"outbound-{channel_id}")
            return True
        call.agent_released = True  # the core never had this agent on it (restarted)
        call.task = engine.spawn(call._finish("failed"), f"outbound-{channel_id}")
        return False

    def _campaign_of(self, s: SavedState) -> CampaignCall | None:
        """A preview campaign's call, from its ``ACD_STATE`` (after a restart)."""
        if not s.campaign:
            return None
        campaigns = self.engine.campaigns
        preview = campaigns.previews.get(s.campaign) if campaigns is not None else None
        if preview is None:
            return CampaignCall(s.campaign, s.attempt, s.contact, "", None, 0.0, s.queue)
        return preview.call_for(s.attempt, s.contact, s.dialled)

    def done(self, result: OutboundDone) -> None:
        campaigns = self.engine.campaigns
        if result.campaign is not None:
            preview = campaigns.previews.get(result.campaign.campaign) if campaigns is not None else None
            if preview is not None:
                self.engine.spawn(preview.finished(result), f"preview-done-{result.call_id}")
            else:
                log.warning("preview_call_without_campaign", call_id=result.call_id,
                            campaign=result.campaign.campaign)
            return
        if self.on_done is not None:
            self.engine.spawn(self.on_done(result), f"outbound-done-{result.call_id}")
