"""The campaign dialer: a running outbound campaign in the daemon (progressive and predictive modes).

Theory of operation
- One ``CampaignDialer`` per campaign file that is not paused. On a steady tick (and whenever one of its
  calls changes) it builds the pacer's ``Snapshot`` from the ACD core (agents of the campaign's queue: free,
  busy since when; inbound callers waiting for them; the trunk's other calls) and asks the pure pacer
  (``outbound.pacing``) how many lines to place. Nothing is dialled outside the calling window.
- Customer first: each contact is originated to the trunk (``dialing.endpoint``) with the campaign's caller
  id and ``appArgs = campaign,<name>``. Until it is answered the channel is a *line* of this dialer: its
  ``Dial`` result and ``ChannelDestroyed`` cause decide the outcome (BUSY / cause 17 busy, CONGESTION / 34
  congestion, CHANUNAVAIL / 20, 1, 3, 27 unreachable, a ring time-out / 19 no answer: BEHAVIOUR.md 4-5).
- Answered (StasisStart): the channel becomes a call of the engine, ``direction = outbound`` in the CDR,
  and waits in the campaign's queue with a priority below every inbound caller's, so the core offers an
  agent inbound callers first. The core's offer rings the agent; the conversation is bridged and recorded
  (R14) as any inbound call. If no agent has been offered the call ``drop_after_s`` after the answer, it
  is taken out of the queue, hears the drop message in the contact's language and is recorded ``dropped``.
- Every attempt is a ``campaign_attempts`` row; the contact's fate after it (closed, or due again at the
  next open moment of the window) is ``outbound.attempts.after_attempt`` (outbound/campaign_store.py).

Restart (R27, docs/decisions/outbound-06-campaign-restart.md): each line carries its ``ACD_STATE``
(``campaign``, ``attempt``, ``contact``; phase ``dialling``, then ``queued`` and ``connected`` as the call's
phases are written): a successor daemon's resync hands such channels to ``adopt`` (a line still ringing is
followed to its Dial result, an answered call waits for an agent again with its entry time, a conversation
is followed to its end), and only then closes the attempts whose channel is gone (``recover_lost``).

Preview mode is not dialled here: the agent's phone first, then the contact, through the daemon's one
agent-first path (acd/engine/campaign_preview.py over acd/engine/outbound_call.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from acd import events as ev
from acd.ari import models
from acd.ari.errors import AriError
from acd.engine.session import CallSession
from acd.engine.state import STATE_VAR, SavedState
from outbound import campaign_store as store
from outbound.config import Campaign, Outcome
from outbound.pacing import Pacer, PacingSettings, Snapshot
from routing.control import CallerHungUp, CallInfo, HoldSpec, QueueResult

if TYPE_CHECKING:
    from acd.engine.campaign_preview import PreviewDialer
    from acd.engine.engine import Engine

log = structlog.get_logger(__name__)

TICK_S = 1.0
"""Virtual seconds between two looks at the campaign when nothing happens."""
IDLE_S = 15.0
"""No contact was due: the next look at the database is this much later (virtual seconds), not every tick
(a campaign without contacts, or all waiting for their retry, costs one query per 15 s)."""
LOST_LINE_S = 20.0
"""A line whose end Asterisk never reported this long after its ring time-out is given up as no answer."""
DROP_MEDIA = ("sound:acd/outbound_drop",)

DIAL_RESULTS: dict[str, Outcome] = {"BUSY": "busy", "CONGESTION": "congestion", "CHANUNAVAIL": "unreachable"}
CAUSE_RESULTS: dict[int, Outcome] = {17: "busy", 21: "busy", 18: "no_answer", 19: "no_answer",
                                     34: "congestion", 38: "congestion", 42: "congestion", 41: "congestion",
                                     1: "unreachable", 3: "unreachable", 20: "unreachable", 27: "unreachable",
                                     28: "unreachable"}


def e164(number: str) -> str:
    """A canonical number (routing.numbers) as the caller id the trunk sends: +77272581500."""
    return number if number.startswith("+") else f"+7{number}"


def line_outcome(dialstatus: str, cause: int | None) -> Outcome:
    """How an unanswered line ended: the Dial result when Asterisk gave one, else the hang-up cause."""
    if dialstatus in DIAL_RESULTS:
        return DIAL_RESULTS[dialstatus]
    return CAUSE_RESULTS.get(cause or 0, "no_answer")


@dataclass
class Line:
    """One attempt of one contact, from the originate to its end."""

    channel_id: str
    contact: store.DueContact
    attempt_id: int
    dialled_at: float
    dialstatus: str = ""
    answered_at: float | None = None
    agent: str | None = None
    session: CallSession | None = None
    ended: bool = False

    def state(self, campaign: str) -> SavedState:
        """What the line's channel says about it (``ACD_STATE``), for a daemon started after this one."""
        c = self.contact
        return SavedState(phase="dialling", campaign=campaign, attempt=self.attempt_id, contact=c.id,
                          dialled=c.phone, lang=c.language, arrived=self.dialled_at)


def _connected(line: Line) -> bool:
    wait = line.session.wait if line.session is not None else None
    return wait is not None and wait.connecting


class CampaignDialer:
    def __init__(self, engine: Engine, db: AsyncEngine, campaign: Campaign, do_not_call: set[str]) -> None:
        self.engine = engine
        self.db = db
        self.campaign = campaign
        self.dnc = do_not_call
        d = campaign.dialing
        self.pacer = Pacer(PacingSettings(mode=d.mode, drop_rate_target=d.drop_rate_target,
                                          max_lines_per_agent=d.max_lines_per_agent,
                                          trunk_channels=d.trunk_channels, drop_after_s=d.drop_after_s))
        self.lines: dict[str, Line] = {}
        """Dialled, not answered yet (events of these channels are the dialer's)."""
        self.calls: dict[str, Line] = {}
        """Answered: calls of the engine until they end."""
        self.cid = 0
        self.starting: dict[int, float] = {}
        """Contacts whose attempt is being written and originated (contact id -> since): lines already."""
        self._wake = asyncio.Event()
        self._idle_until = 0.0
        self.resynced = asyncio.Event()
        """Set after the first resync of the process: the lines a previous daemon left are adopted."""
        self.retired = False
        """The campaign's file was removed (a reload): no new line; its calls in progress are followed."""

    @property
    def clock(self) -> float:
        return self.engine.clock.now()

    def reconfigure(self, campaign: Campaign, do_not_call: set[str]) -> None:
        """A reload changed the campaign's file: the window, pacing, pause and lists apply from the next
        decision; lines ringing and calls in progress go on (the pacer keeps what it measured)."""
        self.campaign = campaign
        self.dnc = do_not_call
        d = campaign.dialing
        self.pacer.settings = PacingSettings(mode=d.mode, drop_rate_target=d.drop_rate_target,
                                             max_lines_per_agent=d.max_lines_per_agent,
                                             trunk_channels=d.trunk_channels, drop_after_s=d.drop_after_s)
        self.retired = False
        self._idle_until = 0.0
        self._wake.set()

    # ---- the loop ---------------------------------------------------------------------------------
    async def run(self) -> None:
        now = self.clock
        self.cid = await store.campaign_id(self.db, self.campaign, now)
        await self.resynced.wait()  # the lines Asterisk still holds are this dialer's again (adopt)
        followed = {line.attempt_id for line in [*self.lines.values(), *self.calls.values()]}
        if (n := await store.recover_lost(self.db, self.campaign, self.cid, self.clock, followed)):
            log.warning("campaign_recovered_attempts", campaign=self.campaign.name, attempts=n)
        log.info("campaign_started", campaign=self.campaign.name, mode=self.campaign.dialing.mode)
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("campaign_step_failed", campaign=self.campaign.name)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.engine.clock.real_seconds(TICK_S))

    async def step(self) -> None:
        now = self.clock
        self._give_up_lost_lines(now)
        d = self.campaign.dialing
        if d.mode == "preview" or d.paused or self.retired or not self.engine.accepting:
            return  # paused (or no longer dialled): nothing new; the lines and calls are followed still
        if not self.campaign.in_window(now) or now < self._idle_until:
            return
        decision = self.pacer.decide(now, self.snapshot(now))
        if decision.dial <= 0:
            return
        busy = {line.contact.id for line in [*self.lines.values(), *self.calls.values()]} | set(self.starting)
        contacts = await store.due_contacts(self.db, self.cid, now, decision.dial, busy)
        if not contacts:
            self._idle_until = now + IDLE_S
        for contact in contacts:
            if contact.phone in self.dnc:
                await store.mark_do_not_call(self.db, contact.id)
                log.info("campaign_do_not_call", campaign=self.campaign.name, contact=contact.id)
                continue
            self.starting[contact.id] = self.clock  # counted as ringing until its line exists
            self.engine.spawn(self.dial(contact), f"campaign-dial-{contact.id}")

    def snapshot(self, now: float) -> Snapshot:
        """The pacer's view: the campaign's agents, the inbound callers waiting for them, the trunk."""
        core = self.engine.acd.snapshot(now)
        agents = core.get("agents", {})
        ids = [a.id for a in self.engine.config.agents.values() if self.campaign.queue in a.queues
               and (not self.campaign.agents or a.id in self.campaign.agents)]
        ready = [a for a in ids
                 if agents.get(a, {}).get("state") == "ready" and agents[a].get("reachable", True)]
        busy = [float(agents[a].get("since") or now) for a in ids
                if agents.get(a, {}).get("state") in ("ringing", "on_call", "wrap_up")]
        queues = {q for a in ids for q in self.engine.config.agents[a].queues}
        # answered and waiting for an agent: in the queue, or still on its way there (its enqueue waits for
        # an ARI request: a free agent counted meanwhile was dialled for twice)
        queued_ours = sum(1 for line in self.calls.values() if self.engine.acd.position(line.channel_id))
        waiting_ours = queued_ours + sum(
            1 for line in self.calls.values()
            if not self.engine.acd.holds(line.channel_id) and not _connected(line))
        inbound_waiting = sum(int(core.get("queues", {}).get(q, {}).get("waiting", 0)) for q in queues)
        inbound_waiting -= queued_ours
        # every call of the daemon holds a trunk channel (inbound callers, this campaign's conversations);
        # the pacer counts the lines ringing and the answered calls waiting for an agent itself
        trunk_in_use = max(0, len(list(self.engine.registry.sessions())) - waiting_ours)
        ringing = [line.dialled_at for line in self.lines.values()] + list(self.starting.values())
        return Snapshot(ready_agents=len(ready), busy_since=tuple(busy), lines_ringing=len(ringing),
                        ringing_since=tuple(ringing),
                        answered_waiting=waiting_ours, inbound_waiting=max(0, inbound_waiting),
                        trunk_in_use=trunk_in_use)

    def _give_up_lost_lines(self, now: float) -> None:
        limit = self.campaign.dialing.ring_timeout_s + LOST_LINE_S
        for line in [x for x in self.lines.values() if now - x.dialled_at > limit]:
            log.warning("campaign_line_lost", campaign=self.campaign.name, channel=line.channel_id)
            self.engine.spawn(self._hangup(line.channel_id))
            self._line_ended(line, "no_answer", now)

    async def _hangup(self, channel_id: str) -> None:
        with contextlib.suppress(AriError):
            await self.engine.ari.channels.hangup(channel_id, "normal")

    async def dial(self, contact: store.DueContact) -> None:
        """Originate one contact through the trunk (customer first), with the campaign's caller id."""
        try:
            await self._dial(contact)
        finally:
            self.starting.pop(contact.id, None)

    async def _dial(self, contact: store.DueContact) -> None:
        now = self.clock
        if not self.campaign.in_window(now):
            return
        channel_id = self.engine.new_id("camp")
        attempt = await store.start_attempt(self.db, self.cid, contact, mode=self.campaign.dialing.mode,
                                            call_id=channel_id, now=now)
        if not self.campaign.in_window(self.clock):  # the window closed while the row was written
            await store.cancel_attempt(self.db, attempt, contact.id)
            return
        line = Line(channel_id, contact, attempt, self.clock)
        self.lines[channel_id] = line  # before the request: its events may come before the answer
        d = self.campaign.dialing
        try:
            await self.engine.ari.channels.originate(
                d.dial_string(contact.phone), app=self.engine.settings.ari.app,
                app_args=f"campaign,{self.campaign.name}", channel_id=channel_id,
                caller_id=e164(self.campaign.caller_id),
                timeout=max(1, math.ceil(d.ring_timeout_s)),
                variables={STATE_VAR: line.state(self.campaign.name).encode()})
        except AriError as exc:  # the trunk refused (500 Allocation failed: no route, trunk down)
            log.warning("campaign_originate_failed", campaign=self.campaign.name, error=str(exc)[:200])
            if channel_id in self.lines:
                self._line_ended(line, "congestion", self.clock)

    # ---- after a restart ----------------------------------------------------------------------------
    async def adopt(self, channel: models.Channel, s: SavedState) -> None:
        """A channel of this campaign a previous daemon left in Asterisk (``ACD_STATE`` says which attempt
        and contact): a line still ringing is followed to its end; one answered (up, or queued: the offer
        to an agent died with that daemon) waits for an agent again with its entry time; a conversation is
        followed to its end. Its attempt goes on: no new attempt, the contact is not called again."""
        if channel.id in self.lines or channel.id in self.calls or not s.attempt:
            return
        contact = await store.contact(self.db, s.contact)
        if contact is None:
            return
        line = Line(channel.id, contact, s.attempt, s.arrived or self.clock)
        log.info("campaign_line_adopted", campaign=self.campaign.name, channel=channel.id, phase=s.phase)
        if s.phase == "dialling" and channel.state != "Up":
            self.lines[channel.id] = line  # its Dial result and end come as for a live line
        else:
            self._answered(line, channel, s if s.phase in ("queued", "connected") else None)
        self._wake.set()

    # ---- ARI events of the lines ------------------------------------------------------------------
    def on_event(self, event: models.Event) -> bool:
        """Events of a line not answered yet: True when the dialer took the event."""
        match event:
            case models.StasisStart() if event.channel.id in self.lines:
                self._answered(self.lines.pop(event.channel.id), event.channel)
                return True
            case models.Dial() if event.peer is not None and event.peer.id in self.lines:
                if event.dialstatus:
                    self.lines[event.peer.id].dialstatus = event.dialstatus
                return True
            case models.ChannelDestroyed() if event.channel.id in self.lines:
                line = self.lines[event.channel.id]
                self._line_ended(line, line_outcome(line.dialstatus, event.cause), self.clock)
                return True
            case models.ChannelHangupRequest() | models.ChannelStateChange() | models.ChannelVarset() \
                    if getattr(getattr(event, "channel", None), "id", None) in self.lines:
                return True
        return False

    def _line_ended(self, line: Line, outcome: Outcome, now: float) -> None:
        self.lines.pop(line.channel_id, None)
        if line.ended:
            return
        line.ended = True
        self.pacer.on_result(now, outcome, now - line.dialled_at)
        self.engine.spawn(store.finish_attempt(self.db, self.campaign, line.attempt_id, line.contact.id,
                                               outcome, now=now))
        self._wake.set()

    # ---- answered calls ---------------------------------------------------------------------------
    def _answered(self, line: Line, channel: models.Channel, resume: SavedState | None = None) -> None:
        e = self.engine
        now = self.clock
        line.answered_at = resume.answered if resume is not None and resume.answered else now
        c = line.contact
        info = CallInfo(call_id=channel.id, caller=c.phone, caller_name=c.name, dialled=c.phone,
                        language=c.language or "")
        session = CallSession(e, info, channel.name, resume=resume)
        # the call's phases (queued, connected) are written with the line's keys: a successor adopts it
        session.saved = (resume or line.state(self.campaign.name)).with_(answered=line.answered_at)
        session.only_agents = frozenset(self.campaign.agents) if self.campaign.agents else None
        e.registry.add_session(session)
        session.arrived_at = line.answered_at
        line.session = session
        self.calls[channel.id] = line
        if resume is not None and resume.phase == "connected" and resume.peer:
            call = self._adopted_conversation(line, session, resume)
        else:
            call = self._call(line, session, adopted=resume is not None)
        session.task = e.spawn(call, f"campaign-{channel.id}")

    async def _call(self, line: Line, session: CallSession, *, adopted: bool = False) -> None:
        e, d = self.engine, self.campaign.dialing
        assert line.answered_at is not None
        e.metrics.calls.inc()
        self._milestones(session, line)
        e.emit_milestone(session.channel_id, ev.Answered(), line.answered_at)
        if not adopted:  # an adopted call keeps its one entry, time and priority (session.enqueue)
            session.emit(ev.Step(step="campaign", detail=self.campaign.name))
        outcome: Outcome = "dropped"
        hold = HoldSpec(announce_every_s=None, announce_position=False, announce_wait=False)
        queued = asyncio.ensure_future(session.enqueue(self.campaign.queue, priority=d.priority, hold=hold))
        deadline = line.answered_at + d.drop_after_s
        if adopted:  # the restart took its time: the call gets its full wait for an agent again
            deadline = max(deadline, self.clock + d.drop_after_s)
        try:
            if await self._connected_in_time(session, queued, deadline):
                self.pacer.on_result(self.clock, "answered", line.answered_at - line.dialled_at)
                with contextlib.suppress(CallerHungUp):  # the contact hanging up ends the conversation
                    await queued
            else:
                self.pacer.on_result(self.clock, "dropped", line.answered_at - line.dialled_at)
                await self._drop(session, queued)
        except CallerHungUp:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("campaign_call_failed", call_id=session.channel_id)
        finally:
            if not queued.done():
                queued.cancel()
        if session.wait is not None and session.wait.connecting:  # an agent answered: a conversation
            outcome = "answered"
            line.agent = next((p.agent_id for p in session.parties if p.agent_id), None) \
                or e.agent_of_call(session.channel_id)
            self.pacer.on_handled(self.clock, self.clock - line.answered_at)
        await self._finish(line, session, outcome)

    async def _adopted_conversation(self, line: Line, session: CallSession, s: SavedState) -> None:
        """A conversation a previous daemon connected: followed to its end as a live one (the agent goes
        to wrap-up, the recording completes), then the attempt ends ``answered``."""
        from acd.ari.errors import AriNotFound

        e = self.engine
        assert line.answered_at is not None
        e.metrics.calls.inc()
        self._milestones(session, line)
        e.emit_milestone(session.channel_id, ev.Answered(), line.answered_at)
        if s.entered and s.queue:
            e.emit_milestone(session.channel_id, ev.Queued(queue=s.queue, priority=s.priority), s.entered)
        if s.connected and s.agent:
            e.emit_milestone(session.channel_id,
                             ev.Connected(queue=s.queue or None, agent=s.agent, bridge=s.bridge), s.connected)
        line.agent = s.agent or None
        leg = e.adopt_leg(session, s.peer, kind="agent" if s.agent else "out", agent_id=s.agent or None)
        try:
            await e.ari.channels.get(leg.channel_id)
        except AriNotFound:
            leg.fail("gone")
        except AriError:
            pass
        with contextlib.suppress(CallerHungUp):
            await session.adopt_conversation(leg, s)
        self.pacer.on_handled(self.clock, self.clock - line.answered_at)
        await self._finish(line, session, "answered")

    def _milestones(self, session: CallSession, line: Line) -> None:
        assert line.answered_at is not None
        self.engine.emit_milestone(session.channel_id, ev.Arrived(
            direction="outbound", dialled=line.contact.phone, caller=line.contact.phone,
            caller_name=line.contact.name, channel=session.channel_name, linked_id=session.channel_id),
            line.answered_at)

    async def _finish(self, line: Line, session: CallSession, outcome: Outcome) -> None:
        e = self.engine
        if e.accepting:
            if not session.gone.is_set():
                await session.hangup()
            e.finish_call(session)
        self.calls.pop(session.channel_id, None)
        if line.agent:
            await store.set_agent(self.db, line.attempt_id, line.agent, line.answered_at)
        await store.finish_attempt(self.db, self.campaign, line.attempt_id, line.contact.id, outcome,
                                   now=self.clock, answered_at=line.answered_at)
        self._wake.set()

    async def _connected_in_time(self, session: CallSession, queued: asyncio.Future[QueueResult],
                                 deadline: float) -> bool:
        """True when an agent answers for the call; False when it waited ``drop_after_s`` with no agent
        offered, first after the answer, and again after an offer that failed (the agent did not answer:
        the core puts the call back in the waiting line)."""
        clock = self.engine.clock
        while True:
            if not await self._offered_in_time(session, queued, deadline):
                return False
            while not queued.done():
                if session.wait is not None and session.wait.connecting:
                    return True
                if self.engine.acd.position(session.channel_id) is not None:
                    break  # the offer failed: waiting again
                await asyncio.wait([queued], timeout=clock.real_seconds(0.25))
            else:
                return queued.exception() is None and queued.result().outcome == "completed"
            deadline = clock.now() + self.campaign.dialing.drop_after_s

    async def _offered_in_time(self, session: CallSession, queued: asyncio.Future[QueueResult],
                               deadline: float) -> bool:
        """True once the core has taken the call out of the waiting line (an agent rings or talks) before
        ``deadline``; False when it still waits then (or the called party hung up first)."""
        clock = self.engine.clock
        waited = False  # the core has had the call in its waiting line
        while True:
            if queued.done():
                return queued.exception() is None and queued.result().outcome == "completed"
            wait = session.wait
            if wait is not None:
                if self.engine.acd.position(session.channel_id) is not None:
                    waited = True
                elif waited or wait.connecting or session.ringing():
                    return True  # out of the waiting line: an agent is being offered the call
            if session.gone.is_set():
                return False
            left = deadline - clock.now()
            if left <= 0:
                return False
            await asyncio.wait([queued], timeout=clock.real_seconds(min(left, 0.25)))

    async def _drop(self, session: CallSession, queued: asyncio.Future[QueueResult]) -> None:
        """No agent in time: out of the queue, the short message in the contact's language, hang up."""
        e = self.engine
        now = self.clock
        if session.wait is not None and session.wait.open():
            e.decide("remove_call", lambda: e.acd.remove_call(session.channel_id, now, reason="dropped"))
            session.emit(ev.LeftQueue(queue=self.campaign.queue, reason="overflow"))
            session.overflowed(QueueResult("overflow", reason="campaign_drop"))
        with contextlib.suppress(CallerHungUp, asyncio.CancelledError):
            await queued
        if not session.gone.is_set():
            session.hangup_by = "system"
            await session.play(list(DROP_MEDIA))


@dataclass
class Campaigns:
    """Every running dialer of the daemon; the engine asks it first about each ARI event."""

    dialers: dict[str, CampaignDialer]
    previews: dict[str, PreviewDialer] = field(default_factory=dict)
    """Preview campaigns (acd/engine/campaign_preview.py): their calls are the engine's agent-first outbound
    calls (acd/engine/outbound_call.py), which tell them how each ended."""
    on_reload: Callable[[], None] | None = None
    """Set by the daemon's wiring (acd/web/campaigns.py): applies the campaign files after a config reload."""
    connected: bool = False

    def on_event(self, event: models.Event) -> bool:
        return any(d.on_event(event) for d in self.dialers.values())

    def restore(self, engine: Engine, states: dict[str, SavedState]) -> None:
        """Resync, before any waiting caller is adopted: the core learns which agents talk on a campaign
        call (as ``restore_call`` does for inbound conversations)."""
        for cid, s in states.items():
            if s.phase == "connected" and s.agent and s.peer and s.campaign in self.dialers:
                engine.restore_call(cid, s.agent, s.queue, connected_at=s.connected)

    async def adopt(self, channels: dict[str, models.Channel], states: dict[str, SavedState]) -> None:
        """Resync: hand each campaign channel to its dialer; a campaign no longer dialled leaves it alone
        (logged): its attempt is closed from the CDR like a lost one."""
        for cid, s in states.items():
            dialer = self.dialers.get(s.campaign)
            if dialer is None:
                log.warning("campaign_line_not_adopted", channel=cid, campaign=s.campaign)
                continue
            try:
                await dialer.adopt(channels[cid], s)
            except Exception:
                log.exception("campaign_adopt_failed", channel=cid)

    def resynced(self) -> None:
        """The first resync is done: dialers may close the attempts nobody adopted, then dial."""
        self.connected = True
        for d in self.dialers.values():
            d.resynced.set()
        for p in self.previews.values():
            p.resynced.set()

    def add(self, dialer: CampaignDialer) -> None:
        """A campaign that a reload started: it adopts nothing (this process followed every line)."""
        self.dialers[dialer.campaign.name] = dialer
        if self.connected:
            dialer.resynced.set()
        dialer.engine.spawn(dialer.run(), f"campaign-{dialer.campaign.name}")
