"""The engine: ARI events in, the ACD core's decisions out, one scenario task per call.

Theory of operation
- Every caller channel that enters Stasis becomes a ``CallSession`` and a task running its number's
  scenario (``routing.interpreter``). The scenario calls ``enqueue``; from there the ACD core decides.
- The core is pure: each input (a call queued, an agent answering, a timer) returns decisions, which
  ``apply`` turns into ARI commands and CDR events. One timer task sleeps until the core's next deadline.
- Legs are the channels the daemon dials: an agent's phone for an offer, or an external number. They are
  originated into our app with ``appArgs = "<kind>,<call id>,<agent id>"``: StasisStart means answered.
- Outbound calls the agents place (click-to-call, callbacks) are sessions too, whose channel is the agent's
  phone (``appArgs = "outcall,..."``, acd/engine/outbound_call.py); the number is their ``out`` leg.
- Nothing here blocks on the database: CDR records go to the writer's queue.

The engine is a dispatcher: typed ARI events are matched to the session or leg that owns the id they name
(``Registry``), and the core's decisions, a closed union, are matched exhaustively. The core is called
through its typed methods (``decide``); a refusal stops the path that asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import math
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, Protocol, assert_never

import structlog

from acd import events as ev
from acd.ari import models
from acd.ari.client import AriClient
from acd.ari.errors import AriError, AriNotFound
from acd.ari.models import parse_ari_time
from acd.clock import Clock
from acd.configset import ConfigSet
from acd.core import (
    Acd,
    AgentStateChanged,
    Announce,
    AssignCallback,
    CallQueued,
    CancelOffer,
    Decision,
    Offer,
    Overflow,
    RingNoAnswer,
)
from acd.core.prediction import WaitEstimate, announce_minutes
from acd.engine.agent_states import QUEUE_CHOICE_BY, skip_reason
from acd.engine.call_control import CallController
from acd.engine.campaign import Campaigns
from acd.engine.keep_place import KeptPlaces
from acd.engine.orphans import OrphanSweep
from acd.engine.outbound_call import Outbound
from acd.engine.registry import RecordingOwner, Registry
from acd.engine.ring_ahead import RingAhead
from acd.engine.session import CallSession, Leg
from acd.engine.snoop import Listening
from acd.engine.state import STATE_VAR, SavedState
from acd.events import AgentEvent, CallEvent, CallFact, CdrRecord, fact_kind
from acd.metrics import Metrics
from acd.settings import Settings
from ivr.announcements import position_and_wait
from recording.layout import recording_name
from routing.control import CallerHungUp, CallInfo, QueueResult
from routing.interpreter import run_scenario

log = structlog.get_logger(__name__)

OWN_PREFIX = "acd-"
"""Every id the daemon gives a channel, bridge or playback starts with this."""
ACD_CALL_HEADER = "X-ACD-Call"
"""SIP header of an offer to an agent: the call id, so the browser softphone rings for the desktop's offer."""

EVENT_TYPES = frozenset({
    "StasisStart", "StasisEnd", "ChannelHangupRequest", "ChannelDestroyed", "Dial", "ChannelDtmfReceived",
    "PlaybackFinished", "RecordingFinished", "RecordingFailed", "EndpointStateChange",
})
"""The ARI events ``Engine.dispatch`` acts on, and so the only ones the daemon asks Asterisk for (its app's
eventFilter): a call brings about 35 events, 13 of them of these types, and every event costs both
Asterisk and the daemon (docs/benchmarks.md). tests/engine/test_event_types.py checks that each ``case``
of the dispatchers is in this set."""

UNKNOWN_CHANNEL_WAIT_S = 2.0
"""A StasisStart whose channel 404s: how long (virtual) its hang-up is awaited before it is ignored."""
RECORDING_END_WAIT_S = 5.0
"""How long (virtual seconds) a stopped recording's end is awaited before its bridge is destroyed anyway."""


class CdrSink(Protocol):
    """What the engine needs of the CDR writer: a call that never blocks and never raises."""

    def emit(self, record: CdrRecord) -> None: ...


class RecordingRows(Protocol):
    """What the engine needs of ``RecordingIndex`` (the ``recordings`` table): calls that never block."""

    def started(
        self, name: str, at: float, *, call_id: str, fmt: str, kind: str, agent: str | None
    ) -> None: ...

    def finished(self, name: str, at: float) -> None: ...

    def failed(self, name: str, at: float, reason: str) -> None: ...

    def missing(self, name: str, at: float, reason: str) -> None: ...


HANGUP_RESULTS = {
    0: "unreachable",  # Asterisk 22: a Local leg whose extension does not exist (docs/deploy-tested.md)
    17: "busy",
    19: "no_answer",
    18: "no_answer",
    21: "busy",
    20: "unreachable",
    3: "unreachable",
}


class Engine:
    def __init__(
        self,
        *,
        settings: Settings,
        config: ConfigSet,
        ari: AriClient,
        clock: Clock,
        writer: CdrSink,
        acd: Acd,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.config = config
        self.ari = ari
        self.clock = clock
        self.writer = writer
        self.acd = acd
        self.metrics = metrics
        self.registry = Registry()
        self.offers: dict[tuple[str, str], Leg] = {}
        self.held_rings: dict[tuple[str, str], asyncio.Event] = {}
        """Offers whose ring is held back (``ring_ahead``); set when the core cancels one meanwhile."""
        self.ring_ahead = RingAhead()
        self.accepting = True
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}{int(clock.now()) % 100000:05d}"
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.Task[None] | None = None
        self._wrapups: dict[str, tuple[str, float]] = {}
        self._wrapup_queues: dict[str, str | None] = {}
        """call id -> the queue of the call being wrapped up (its ``topic_required``)."""
        self._topics: set[str] = set()
        """Calls in wrap-up (or on a call) whose agent has set a topic: a required topic is checked here."""
        self._reachable: dict[str, bool] = {}
        self._quiet_agents: set[str] = set()
        """Agents whose state is being restored at start: no row in agent_state_log (nothing changed)."""
        self.campaigns: Campaigns | None = None
        """Running outbound campaigns (acd/engine/campaign.py): their lines' events are theirs."""
        self.recorder: RecordingRows | None = None
        self.last_event_at: float | None = None
        """When the last ARI event arrived: after a WebSocket gap, a channel found gone ended after it."""
        """``RecordingIndex`` (rows of the recordings table), set by the daemon."""
        self.control = CallController(self)
        """Agents' call control (acd/engine/call_control.py)."""
        self.listening = Listening(self)
        """Supervisors' listen / whisper / barge (acd/engine/snoop.py)."""
        self.orphans = OrphanSweep(self)
        """Closes calls that ended while no daemon listened (acd/engine/orphans.py)."""
        self.kept = KeptPlaces(self)
        """Callers who pressed the key to keep their place (acd/engine/keep_place.py)."""
        self.outbound = Outbound(self)
        """Agent-first outbound calls: click-to-call, callbacks (acd/engine/outbound_call.py)."""

    # ---- helpers ---------------------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        """Ids of everything the daemon creates in Asterisk start with ``acd-``: a channel with such an id is
        never taken for an inbound call (issue 12, item 4)."""
        return f"{OWN_PREFIX}{kind}-{self._prefix}-{next(self._ids)}"

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        task = asyncio.create_task(self._guard(coro), name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        except (CallerHungUp, asyncio.CancelledError):
            return None
        except Exception:
            log.exception("task_failed")
            return None

    def emit_call(
        self,
        call_id: str,
        fact: CallFact,
        *,
        at: float | None = None,
        event_id: str | None = None,
    ) -> None:
        """A CDR event. Milestones get a deterministic ``event_id`` (``<call>/<kind>/<time>``): a daemon
        that adopts the call after a crash emits them again from the channel's variables, and the
        writer's unique key keeps whichever copy arrived first (R27: a SIGKILL may lose the last batch)."""
        when = self.clock.now() if at is None else at
        self.writer.emit(CallEvent.of(call_id, fact, when, event_id))

    def emit_milestone(self, call_id: str, fact: CallFact, at: float) -> None:
        self.emit_call(call_id, fact, at=at, event_id=f"{call_id}/{fact_kind(fact)}/{at:.3f}")

    def recording_path(self, name: str, fmt: str) -> Path:
        return self.settings.paths.recordings / f"{name}.{fmt}"

    def recording_name(self, session: CallSession) -> str:
        """recordings/YYYY/MM/DD/<call id> by the call's local date (docs/recording.md); a call's second
        conversation (after a transfer, or a re-offer) gets a suffix, as names are unique."""
        session.recording_count += 1
        suffix = "" if session.recording_count == 1 else str(session.recording_count)
        return recording_name(session.channel_id, self.clock.now(), self.settings.tz, suffix=suffix)

    def voicemail_name(self, session: CallSession) -> str:
        """recordings/YYYY/MM/DD/<call id>-voicemail (docs/recording.md), by the call's local date."""
        return recording_name(session.channel_id, self.clock.now(), self.settings.tz, suffix="voicemail")

    def recording_started(self, session: CallSession, name: str, *, kind: str, agent: str | None) -> None:
        if self.recorder is not None:
            self.recorder.started(
                name,
                self.clock.now(),
                call_id=session.channel_id,
                fmt=self.settings.recording.format,
                kind=kind,
                agent=agent,
            )

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._timer = asyncio.create_task(self._timer_loop(), name="acd-timers")

    async def stop(self) -> None:
        """Stop taking calls; calls in progress stay in Asterisk for the next daemon to resync. The tasks
        are cancelled, and a cancelled conversation is not an ended one: no wrap-up, no ``ended``."""
        self.accepting = False
        if self._timer:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _timer_loop(self) -> None:
        while True:
            deadline = self.acd.next_deadline()
            self._wake.clear()
            timeout = None if deadline is None else self.clock.real_seconds(deadline - self.clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            try:
                self.apply(self.acd.tick(self.clock.now()))
            except Exception:
                log.exception("tick_failed")

    # ---- the ACD core ----------------------------------------------------------------------------
    def decide(self, what: str, decisions: Callable[[], list[Decision]]) -> bool:
        """Ask the core (``decisions`` calls one of its typed methods) and carry out its answer. False when
        the core refused (the input no longer fits its state, e.g. an answer after the offer timed out): the
        caller of ``decide`` must then stop its own path, never carry on as if it had been accepted."""
        try:
            out = decisions()
        except (KeyError, ValueError) as exc:
            log.warning("core_refused", what=what, error=str(exc))
            return False
        self.apply(out)
        return True

    def enqueue(self, session: CallSession, queue: str, *, priority: int, entered_at: float) -> None:
        now = self.clock.now()
        self.decide(
            "enqueue",
            lambda: self.acd.enqueue(
                session.channel_id,
                queue,
                now,
                priority=priority,
                language=session.info.language,
                entered_at=entered_at,
                agents=session.only_agents,
            ),
        )

    def restore_call(self, call_id: str, agent_id: str, queue: str, *, connected_at: float | None) -> bool:
        """After a restart: ``agent_id`` is talking on ``call_id`` since ``connected_at``."""
        now = self.clock.now()
        try:
            self.acd.restore_call(call_id, agent_id, queue, now, connected_at=connected_at or now)
        except (KeyError, ValueError) as exc:
            log.warning("core_refused", what="restore_call", call_id=call_id, error=str(exc))
            return False
        self._wake.set()
        return True

    def call_finished(self, agent_id: str) -> None:
        now = self.clock.now()
        self.decide("call_finished", lambda: self.acd.call_finished(agent_id, now))

    def apply(self, decisions: list[Decision]) -> None:
        offered = {d.call_id for d in decisions if isinstance(d, Offer)}
        for d in decisions:
            match d:
                case Offer():
                    if (offered_session := self.registry.session(d.call_id)) is not None:
                        offered_session.offering += 1  # before the task runs: enqueue reads it at once
                    self.spawn(self._offer(d), f"offer-{d.call_id}-{d.agent_id}")
                case CancelOffer():
                    if (held := self.held_rings.get((d.call_id, d.agent_id))) is not None:
                        held.set()
                    leg = self.offers.pop((d.call_id, d.agent_id), None)
                    if leg is not None and not leg.answered.done():
                        leg.fail("cancelled")
                        self.spawn(self.hangup_leg(leg))
                case RingNoAnswer():
                    reason = "no_answer" if d.reason == "timeout" else d.reason
                    self.emit_call(d.call_id, ev.RingNoAnswer(queue=d.queue, agent=d.agent_id, reason=reason))
                case Overflow():
                    self._overflow(d)
                case Announce() | CallQueued():
                    if d.call_id not in offered:  # about to be offered: an announcement would be cut
                        self._announce(d.call_id, d.position, d.estimate)
                case AgentStateChanged():
                    self._agent_changed(d)
                case AssignCallback():
                    self.kept.assigned(d)
                case _:
                    assert_never(d)
        self._wake.set()

    def _agent_changed(self, d: AgentStateChanged) -> None:
        if d.call_id and (real := self.control.call_of_alias(d.call_id)) is not None:
            d = dataclasses.replace(d, call_id=real)  # a consulted agent's call is the caller's call
        self._wrapup_accounting(d)
        self.metrics.agent_state(d.agent_id, d.state)
        if d.agent_id in self._quiet_agents:
            return
        log.info("agent_state", agent=d.agent_id, state=d.state, previous=d.previous, reason=d.reason)
        self.writer.emit(
            AgentEvent(
                agent_id=d.agent_id,
                state=d.state,
                at=d.at,
                previous=d.previous,
                reason=d.reason,
                by=d.by,
                call_id=d.call_id,
            )
        )

    def _wrapup_accounting(self, d: AgentStateChanged) -> None:
        """The CDR counts wrap-up per call (R17 "Заверш."): from entering wrap-up to leaving it."""
        if d.state == "wrap_up" and d.call_id:
            self._wrapups[d.agent_id] = (d.call_id, d.at)
            self._wrapup_queues[d.call_id] = self.acd.call_queue_of(d.agent_id)
        elif d.previous == "wrap_up" and d.agent_id in self._wrapups:
            call_id, since = self._wrapups.pop(d.agent_id)
            missing = call_id not in self._topics and self._topic_required(call_id)
            if not any(c == call_id for c, _ in self._wrapups.values()):  # a transfer: two wrap-ups
                self._topics.discard(call_id)
                self._wrapup_queues.pop(call_id, None)
            self.emit_call(call_id, ev.WrapupEnded(agent=d.agent_id, seconds=round(d.at - since, 3),
                                                   topic_missing=missing))

    def _topic_required(self, call_id: str) -> bool:
        """Whether the queue of the call being wrapped up requires a topic."""
        config = self.config.queues.get(self._wrapup_queues.get(call_id) or "")
        return config is not None and config.topic_required

    def _overflow(self, d: Overflow) -> None:
        session = self.registry.session(d.call_id)
        if session is None or session.wait is None or not session.wait.open():
            return
        session.emit(ev.Overflow(queue=d.queue, target=d.target, reason=d.reason))
        session.emit(ev.LeftQueue(queue=d.queue, reason="overflow"))
        session.overflowed(QueueResult("overflow", target=d.target, reason=d.reason))

    def _announce(self, call_id: str, position: int, estimate: WaitEstimate) -> None:
        session = self.registry.session(call_id)
        if session is None or session.wait is None or not session.waiting() or session.ringing():
            return
        hold = session.wait.hold
        minutes = announce_minutes(estimate)
        media = list(
            position_and_wait(
                session.info.language,
                position if hold.announce_position else None,
                minutes if hold.announce_wait else None,
            )
        )
        media += list(hold.periodic_media)
        session.emit(ev.Announced(position=position, expected_s=round(estimate.expected_s, 1)))
        self.spawn(session.announce(media))

    # ---- agents' states ---------------------------------------------------------------------------
    def restore_agent_state(
        self, agent_id: str, state: str, reason: str | None, *, ended_wrapup: tuple[str, float] | None = None
    ) -> None:
        """At start, before any call: the agent's state as the previous daemon left it (from the
        agent_state_log). Not a change of state, so no row is written for it, except for a wrap-up
        (``ended_wrapup``: its call and start), which the restart ends: a ``ready`` row closes the wrap-up
        row and the call gets its ``wrapup_ended`` (else its ``wrapup_s`` stays 0 and the row open)."""
        self._quiet_agents.add(agent_id)
        try:
            now = self.clock.now()
            self.decide(
                "restore_agent_state", lambda: self.acd.set_agent_state(agent_id, state, now, reason=reason)
            )
        finally:
            self._quiet_agents.discard(agent_id)
        if ended_wrapup is not None:
            call_id, since = ended_wrapup
            self.writer.emit(
                AgentEvent(agent_id=agent_id, state=state, at=now, previous="wrap_up", reason="restart",
                           call_id=call_id)
            )
            seconds = round(max(0.0, now - since), 3)
            self.emit_call(call_id, ev.WrapupEnded(agent=agent_id, seconds=seconds), at=now)

    def move_call(self, call_id: str, queue: str, *, to_head: bool, by: str) -> None:
        """A supervisor moves a waiting caller (R23, ``Acd.move_call``); ValueError when refused. The CDR
        sees it as leaving one queue and entering the other, as an overflow would be seen."""
        session = self.registry.session(call_id)
        if session is None or session.wait is None or not session.waiting():
            raise ValueError(f"call {call_id!r} is not waiting in a queue")
        old = session.wait.queue
        out = self.acd.move_call(call_id, queue, self.clock.now(), to_head=to_head)
        if queue != old:
            session.emit(ev.LeftQueue(queue=old, reason="moved"))  # who moved it: supervisor_audit
            session.wait.queue = queue
            session.emit(ev.Queued(queue=queue, priority=0))
        self.apply(out)

    def set_agent_state(self, agent_id: str, state: str, reason: str | None, by: str | None) -> None:
        if agent_id not in self.config.agents:
            raise ValueError(f"unknown agent {agent_id!r}")
        wrapping = self._wrapups.get(agent_id)
        if by is None and wrapping is not None and wrapping[0] not in self._topics \
                and self._topic_required(wrapping[0]):
            # the agent may not end wrap-up early without a topic; a supervisor may (docs/decisions/web-08)
            raise ValueError("choose the call's topic first: this queue requires one")
        self.apply(self.acd.set_agent_state(agent_id, state, self.clock.now(), reason=reason, by=by))

    def set_agent_queues(self, agent_id: str, queues: list[str], by: str | None) -> None:
        """The queues the agent works today (the desktop's choice at sign-in): the core's membership
        follows; logged (who chose what). ValueError with a user-facing message when refused."""
        if agent_id not in self.config.agents:
            raise ValueError(f"unknown agent {agent_id!r}")
        now = self.clock.now()
        out = self.acd.set_agent_queues(agent_id, queues, now)
        agent = self.acd.snapshot(now).get("agents", {}).get(agent_id, {})
        skipped = [str(q) for q in agent.get("skipped") or []]
        log.info("agent_queues", agent=agent_id, queues=agent.get("queues"), skipped=skipped, by=by)
        reason = skip_reason(skipped)
        if reason is None:
            log.warning("agent_queues_not_kept", agent=agent_id, why="too many queue names for the log row")
        else:  # kept with the agent's states: a restart restores it (acd.engine.agent_states)
            state = str(agent.get("state") or "logged_out")
            self.writer.emit(AgentEvent(agent_id=agent_id, state=state, at=now, previous=state, reason=reason,
                                        by=QUEUE_CHOICE_BY))
        self.apply(out)

    def restore_queue_choice(self, agent_id: str, skipped: frozenset[str]) -> None:
        """At start: the queues the agent left out before the restart (no row: nothing changed). A queue
        no longer optional or no longer the agent's is simply worked again."""
        config = self.config.agents.get(agent_id)
        if config is None or not skipped:
            return
        optional = {q for q in skipped if (c := self.config.queues.get(q)) is not None and c.optional}
        wanted = [q for q in config.queues if q not in optional]
        self.decide("restore_queue_choice", lambda: self.acd.set_agent_queues(agent_id, wanted,
                                                                              self.clock.now()))

    def extend_wrapup(self, agent_id: str) -> float:
        """More time in wrap-up (the queue's ``wrapup_extend_s``, once per call): the new end.
        ValueError when refused."""
        due = self.acd.extend_wrapup(agent_id, self.clock.now())
        log.info("wrapup_extended", agent=agent_id, until=due)
        self._wake.set()  # the timer task sleeps until the core's next deadline: it moved
        return due

    def endpoint_state(self, endpoint: str, state: str | None) -> None:
        for agent in self.config.agents.values():
            if agent.endpoint == endpoint:
                self._reachability(agent.id, state == "online")

    def _reachability(self, agent_id: str, reachable: bool) -> None:
        """A phone registered or lost: logged, and stored with the agent's states in agent_state_log (a row
        with the unchanged state and the reason ``phone_reachable``/``phone_unreachable``)."""
        before = self._reachable.get(agent_id)
        self._reachable[agent_id] = reachable
        now = self.clock.now()
        self.decide("set_agent_reachable", lambda: self.acd.set_agent_reachable(agent_id, reachable, now))
        if before is None or before == reachable:
            return  # the first look at the phone, or no change
        log.info("agent_reachability", agent=agent_id, reachable=reachable)
        state = str(self.acd.snapshot(now).get("agents", {}).get(agent_id, {}).get("state", "logged_out"))
        self.writer.emit(
            AgentEvent(
                agent_id=agent_id,
                state=state,
                at=now,
                previous=state,
                reason="phone_reachable" if reachable else "phone_unreachable",
                by="endpoint",
            )
        )

    async def poll_endpoints(self) -> None:
        """Agents are available only while their phone is registered (DESIGN.md)."""
        try:
            endpoints = await self.ari.endpoints.list()
        except AriError as exc:
            log.warning("endpoints_poll_failed", error=str(exc))
            return
        states = {f"{e.technology}/{e.resource}": e.state for e in endpoints}
        for agent in self.config.agents.values():
            if agent.endpoint in states:
                self._reachability(agent.id, states[agent.endpoint] == "online")

    # ---- offers and legs --------------------------------------------------------------------------
    async def originate_leg(
        self,
        session: CallSession,
        endpoint: str,
        *,
        kind: str,
        timeout_s: float,
        agent_id: str | None = None,
        caller_id: str | None = None,
        sip_headers: Mapping[str, str] | None = None,
    ) -> Leg:
        """Dial ``endpoint`` into our app for ``session``. ``sip_headers`` are added to the INVITE through
        ``PJSIP_HEADER(add,...)`` and only to a PJSIP endpoint: the function exists only on PJSIP channels
        (on a Local channel Asterisk logs an error and ignores it)."""
        leg = Leg(self.new_id(kind), session.channel_id, kind, agent_id)
        self.registry.add_leg(leg)
        session.legs[leg.channel_id] = leg
        saved = SavedState(
            role="agent" if kind == "agent" else "out", call=session.channel_id, agent=agent_id or ""
        )
        variables = {STATE_VAR: saved.encode()}
        if sip_headers and endpoint.upper().startswith("PJSIP/"):
            variables.update({f"PJSIP_HEADER(add,{name})": value for name, value in sip_headers.items()})
        try:
            await self.ari.channels.originate(
                endpoint,
                app=self.settings.ari.app,
                app_args=f"{kind},{session.channel_id},{agent_id or ''}",
                channel_id=leg.channel_id,
                caller_id=caller_id,
                timeout=max(1, math.ceil(timeout_s)),
                variables=variables,
            )
        except AriError as exc:
            log.warning("originate_failed", call_id=session.channel_id, endpoint=endpoint, error=str(exc))
            leg.fail("unreachable" if exc.status in (400, 404, 500) else "failed")
            self.forget_leg(leg)
        return leg

    def adopt_leg(self, session: CallSession, channel_id: str, *, kind: str, agent_id: str | None) -> Leg:
        """A leg a previous daemon dialled and connected: answered already."""
        leg = Leg(channel_id, session.channel_id, kind, agent_id)
        leg.answered.set_result(True)
        self.registry.add_leg(leg)
        session.legs[leg.channel_id] = leg
        return leg

    def forget_leg(self, leg: Leg) -> None:
        self.registry.drop_leg(leg)
        session = self.registry.session(leg.call_id)
        if session is not None:
            session.legs.pop(leg.channel_id, None)

    async def hangup_leg(self, leg: Leg) -> None:
        with contextlib.suppress(AriError):
            await self.ari.channels.hangup(leg.channel_id, "normal", not_found_ok=True)

    async def finish_recording(
        self, session: RecordingOwner, name: str, ended: asyncio.Future[dict[str, Any]] | None
    ) -> None:
        """Stop a call's bridge recording and wait (at most ``RECORDING_END_WAIT_S``) for Asterisk to report
        its end; if it does not, ask Asterisk whether it stored the file (``reconcile_recording``), so no
        row stays ``recording`` after its call ended (issue 11 §3)."""
        if ended is None or ended.done():
            return  # its end was reported already
        # 404: it ended already (Asterisk ends a bridge recording when the last channel leaves, so this is
        # the usual race at the end of a call): its RecordingFinished is on its way, or lost.
        with contextlib.suppress(AriError):
            await self.ari.recordings.stop_live_if_running(name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(ended), self.clock.real_seconds(RECORDING_END_WAIT_S))
            return
        await self.reconcile_recording(session, name)

    async def reconcile_recording(self, session: RecordingOwner | None, name: str) -> None:
        """A recording whose end Asterisk never reported: a stored recording means it finished (the file is
        measured), none means it is missing. Either way its row leaves ``recording``."""
        now = self.clock.now()
        try:
            await self.ari.recordings.get_stored(name)
        except AriNotFound:
            log.warning("recording_end_lost", recording=name, stored=False)
            if self.recorder is not None:
                self.recorder.missing(name, now, "no end reported and no stored recording in Asterisk")
            info: dict[str, Any] = {"duration": 0, "state": "missing"}
            if session is not None:
                self.emit_call(session.channel_id, ev.RecordingFailed(recording=name, reason="missing"))
        except AriError as exc:  # Asterisk does not answer: the file reconciliation finishes the row later
            log.warning("recording_reconcile_failed", recording=name, error=str(exc)[:300])
            info = {"duration": 0, "state": "unknown"}
        else:
            log.warning("recording_end_lost", recording=name, stored=True)
            if self.recorder is not None:
                self.recorder.finished(name, now)
            info = {"duration": 0, "state": "done"}
            if session is not None:
                self.emit_call(session.channel_id, ev.RecordingFinished(recording=name, duration_s=None))
        self.registry.drop_recording(name)
        if session is not None:
            session.recording_done(name, info)

    async def destroy_bridge(self, bridge_id: str) -> None:
        with contextlib.suppress(AriError):
            await self.ari.bridges.destroy(bridge_id)

    async def _offer(self, d: Offer) -> None:
        session = self.registry.session(d.call_id)
        try:
            await self._offer_agent(d, session)
        finally:
            if session is not None:
                session.offering -= 1
                session.hold_music_if_idle()  # the offer failed and nothing else rings: music again

    async def _offer_agent(self, d: Offer, session: CallSession | None) -> None:
        agent = self.config.agents.get(d.agent_id)
        if session is None or agent is None:
            now = self.clock.now()
            self.decide(
                "offer_rejected", lambda: self.acd.offer_rejected(d.call_id, d.agent_id, now, reason="failed")
            )
            return
        session.emit(ev.Offered(queue=d.queue, agent=d.agent_id))
        held_s = await self._hold_ring(d, session)
        if held_s is None:
            return  # the core withdrew the offer while the ring was held back
        dialled_at = self.clock.now()
        leg = await self.originate_leg(
            session,
            agent.endpoint or f"PJSIP/{agent.id}",
            kind="agent",
            agent_id=d.agent_id,
            timeout_s=max(1.0, d.ring_timeout_s + 5 - held_s),
            caller_id=session.info.caller,
            sip_headers={ACD_CALL_HEADER: session.channel_id},  # the browser softphone knows its offer by it
        )
        self.offers[(d.call_id, d.agent_id)] = leg
        if not leg.answered.done():
            session.start_notice()  # while the phone rings (issue 11 §5); else the music
        answered = await leg.answered
        self.offers.pop((d.call_id, d.agent_id), None)
        if not answered:
            if leg.result != "cancelled":
                reason = leg.result if leg.result in ("busy", "unreachable", "no_answer") else "failed"
                now = self.clock.now()
                self.decide(
                    "offer_rejected",
                    lambda: self.acd.offer_rejected(d.call_id, d.agent_id, now, reason=reason),
                )
            return
        self.ring_ahead.answered(d.agent_id, self.clock.now() - dialled_at)
        wait = session.wait
        if session.gone.is_set() or wait is None or not wait.open():
            self.forget_leg(leg)
            await self.hangup_leg(leg)
            return
        now = self.clock.now()
        if not self.decide("offer_accepted", lambda: self.acd.offer_accepted(d.call_id, d.agent_id, now)):
            # The core no longer holds this offer (it timed out, the call was re-offered): one truth, the
            # core's. The late answer is hung up; the caller goes on waiting (issue 12, item 1).
            self.forget_leg(leg)
            await self.hangup_leg(leg)
            return
        wait.connecting = True
        await session.converse(leg, queue=d.queue, record=True)

    async def _hold_ring(self, d: Offer, session: CallSession) -> float | None:
        """Start the recording notice and hold the agent's ring back until the agent's usual answer would
        come as it ends (acd/engine/ring_ahead.py, issue 11 §5): seconds held, or None if the core cancelled
        the offer meanwhile (the caller left, the agent logged out). The ring time-out counts from the
        offer, so the phone rings that much less."""
        wait = session.wait
        if session.notice is not None or wait is None or not wait.hold.recording_notice \
                or not session.waiting():
            return 0.0
        held_s = self.ring_ahead.hold_s(d.agent_id, session.info.language)
        if held_s <= 0:
            return 0.0
        key = (d.call_id, d.agent_id)
        cancelled = self.held_rings[key] = asyncio.Event()
        session.rings_held += 1
        session.start_notice()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cancelled.wait(), self.clock.real_seconds(held_s))
        finally:
            session.rings_held -= 1
            self.held_rings.pop(key, None)
        return None if cancelled.is_set() else held_s

    # ---- ARI events: one dispatcher --------------------------------------------------------------
    async def on_event(self, event: Any) -> None:
        self.last_event_at = self.clock.now()
        self.metrics.events.labels(event.type).inc()
        try:
            self.dispatch(event)
        except Exception:
            log.exception("event_handler_failed", type=event.type)

    def dispatch(self, event: models.Event) -> None:
        """Route one typed ARI event to the session or leg that owns what it names."""
        if self.campaigns is not None and self.campaigns.on_event(event):
            return  # a campaign's line, dialled and not answered yet
        match event:
            case models.StasisStart():
                self._stasis_start(event)
            case models.StasisEnd():
                self._channel_gone(event.channel.id, None, self.event_time(event))
            case models.ChannelHangupRequest():
                session = self.registry.session(event.channel.id)
                if session is not None:
                    if session.gone_at is None and not session.gone.is_set():
                        session.gone_at = self.event_time(event)  # the caller hung up: this is when
                    if session.hangup_cause is None and not event.soft:
                        session.hangup_cause = event.cause
            case models.ChannelDestroyed():
                self._channel_gone(event.channel.id, event.cause, self.event_time(event))
            case models.Dial():
                self._dial(event)
            case models.ChannelDtmfReceived():
                if (session := self.registry.session(event.channel.id)) is not None:
                    session.dtmf.put_nowait(event.digit)
            case models.PlaybackFinished():
                if (owner := self.registry.playback_owner(event.playback.id)) is not None:
                    owner.playback_finished(event.playback.id, event.playback.state)
            case models.RecordingFinished():
                self._recording_ended(event.recording, failed=False)
            case models.RecordingFailed():
                self._recording_ended(event.recording, failed=True)
            case models.EndpointStateChange():
                ep = event.endpoint
                self.endpoint_state(f"{ep.technology}/{ep.resource}", ep.state)
            case _:
                pass  # an event that changes nothing the daemon keeps

    def _stasis_start(self, ev: models.StasisStart) -> None:
        args = list(ev.args or [])
        channel = ev.channel
        if args and args[0] in ("agent", "out"):
            leg = self.registry.leg(channel.id)
            if leg is None:
                # A leg of a previous daemon, or one we already gave up on: not ours to keep.
                self.spawn(self.ari.channels.hangup(channel.id, "normal"))
                return
            if not leg.answered.done():
                leg.answered.set_result(True)
            return
        if args and args[0] == "snoop":
            return
        if args and args[0] == "outcall":  # an agent answered their phone for an outbound call
            if not self.outbound.answered(channel.id):
                self.spawn(self.ari.channels.hangup(channel.id, "normal"))
            return
        if self.registry.knows_channel(channel.id) or channel.id.startswith(OWN_PREFIX) or not self.accepting:
            return  # a channel the daemon made is never a new inbound call
        # extensions.conf runs Stasis(acd,inbound,${EXTEN}): the dialled number is the second argument.
        dialled = args[1] if len(args) > 1 and args[0] == "inbound" else None
        self.start_call(channel, dialled=dialled).stasis_at = time.monotonic()

    def _dial(self, ev: models.Dial) -> None:
        leg = self.registry.leg(ev.peer.id) if ev.peer is not None else None
        if leg is None:
            return
        if ev.dialstatus in ("BUSY", "CONGESTION", "CHANUNAVAIL"):
            # The channel stays in Stasis (BEHAVIOUR.md 5): ours to hang up.
            leg.dialstatus = ev.dialstatus
            leg.fail("busy" if ev.dialstatus == "BUSY" else "unreachable")
            if leg.kind != "out":  # an external leg is kept until destroyed: its cause tells more
                self.forget_leg(leg)
            self.spawn(self.hangup_leg(leg))

    def _channel_gone(self, channel_id: str, cause: int | None, at: float) -> None:
        if (session := self.registry.session(channel_id)) is not None:
            if cause is not None:
                session.hangup_cause = cause
            self.caller_gone(session, cause, at)
        elif (leg := self.registry.leg(channel_id)) is not None:
            self.leg_gone(leg, cause)

    def caller_gone(self, session: CallSession, cause: int | None, at: float | None = None) -> None:
        if session.hangup_cause is None and cause is not None:
            session.hangup_cause = cause
        if session.gone_at is None and at is not None:
            session.gone_at = at
        if session.gone.is_set() and session.hangup_by:
            return
        session.hangup_by = session.hangup_by or "caller"
        session.gone.set()
        if session.abandoned():
            assert session.wait is not None
            left = ev.LeftQueue(queue=session.wait.queue, reason="abandoned")
            self.emit_call(session.channel_id, left, at=session.gone_at)
            now = self.clock.now()
            self.decide(
                "remove_call", lambda: self.acd.remove_call(session.channel_id, now, reason="abandoned")
            )

    def gone_during_gap(self, session: CallSession, cause: int | None = 16) -> None:
        """Resync found the caller (or the agent talking to them) gone: the end happened while no event was
        heard, after the last one. That moment is the end, marked estimated (issue 12 item 7): the moment
        of the resync would count the whole gap as talk."""
        if session.gone_at is None and not session.gone.is_set():
            session.gone_at = self.last_event_at
            session.end_estimated = self.last_event_at is not None

    def leg_gone(self, leg: Leg, cause: int | None) -> None:
        if leg.cause is None and not (leg.answered.done() and leg.answered.result()):
            leg.cause = cause
        # Cause 0 ("Unknown") before an answer: Asterisk never reached the phone (a Local channel whose
        # extension does not exist goes with cause 0 and no Dial). No cause at all stays "failed".
        leg.fail(HANGUP_RESULTS.get(cause, "failed") if cause is not None else "failed")
        leg.ended.set()
        self.forget_leg(leg)

    def _recording_ended(self, rec: models.LiveRecording, *, failed: bool) -> None:
        session = self.registry.recording_owner(rec.name)
        self.registry.drop_recording(rec.name)
        info = {"duration": rec.duration or 0, "state": rec.state}
        cause = str(getattr(rec, "cause", None) or "failed")
        if self.recorder is not None:  # a recording of an earlier process too: its row is found by name
            if failed:
                self.recorder.failed(rec.name, self.clock.now(), cause)
            else:
                self.recorder.finished(rec.name, self.clock.now())
        if session is None:
            return
        if failed:
            self.metrics.recording_failures.inc()
            self.emit_call(session.channel_id, ev.RecordingFailed(recording=rec.name, reason=cause))
        else:
            done = ev.RecordingFinished(recording=rec.name, duration_s=float(rec.duration or 0))
            self.emit_call(session.channel_id, done)
        session.recording_done(rec.name, info)

    def event_time(self, ev: models.Event) -> float:
        """When Asterisk says it happened: a busy daemon may handle a hang-up later than it happened, and
        the CDR's waits must not grow with the daemon's load."""
        try:
            return min(parse_ari_time(ev.timestamp).timestamp(), self.clock.now())
        except (AttributeError, TypeError, ValueError):
            return self.clock.now()

    # ---- calls ------------------------------------------------------------------------------------
    def start_call(
        self,
        channel: models.Channel,
        *,
        dialled: str | None = None,
        language: str | None = None,
        resume: SavedState | None = None,
    ) -> CallSession:
        dialled = dialled or (channel.dialplan.exten if channel.dialplan else "")
        info = CallInfo(
            call_id=channel.id,
            caller=channel.caller.number if channel.caller else "",
            caller_name=channel.caller.name if channel.caller else "",
            dialled=dialled,
            language=language or "",
        )
        session = CallSession(self, info, channel.name, resume=resume)
        self.registry.add_session(session)
        session.arrived_at = resume.arrived if resume is not None and resume.arrived else self.clock.now()
        if resume is not None:  # listed by Asterisk a moment ago: it exists
            self._arrived(session)
        session.task = self.spawn(self._run_call(session), f"call-{channel.id}")
        return session

    def _arrived(self, session: CallSession) -> None:
        """The call exists in Asterisk: its CDR row starts here."""
        self.metrics.calls.inc()
        info = session.info
        self.emit_milestone(
            session.channel_id,
            ev.Arrived(
                direction="inbound",
                dialled=info.dialled,
                caller=info.caller,
                caller_name=info.caller_name,
                channel=session.channel_name,
                linked_id=session.channel_id,
            ),
            session.arrived_at,
        )

    async def _claim(self, session: CallSession, scenario: str, *, answer: bool) -> bool:
        """Write the call's first ``ACD_STATE``; a 404 means Asterisk does not have the channel (a duplicate
        or forged StasisStart, issue 12 item 6): no CDR row, unless its hang-up is reported soon after (a
        caller gone within the first request is a real, very short call). With ``answer`` (a scenario will
        run, and every scenario answers first) the channel is answered first and the state is written once,
        with the answer's time: one ``set_var`` a call less; the answer's 404 means the same."""
        if await session.claim(
            answer=answer,  # every scenario answers first (routing.interpreter): one state write less
            role="call", phase="ivr", scenario=scenario, dialled=session.info.dialled,
            arrived=session.arrived_at,
        ):
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.gone.wait(), self.clock.real_seconds(UNKNOWN_CHANNEL_WAIT_S))
        return session.gone.is_set()

    async def _run_call(self, session: CallSession) -> None:
        from acd.engine.resync import resume_call

        bound = log.bind(call_id=session.channel_id)
        try:
            if session.resume is not None:
                await resume_call(self, session, session.resume)
            else:
                loaded = self.config.scenario_for(session.info.dialled)
                claimed = await self._claim(
                    session, loaded.name if loaded is not None else "", answer=loaded is not None
                )
                if not claimed:
                    bound.info("stasis_start_unknown_channel")
                    session.ended_emitted = True  # nothing was written: nothing to end
                    self.registry.drop_session(session)
                    return
                self._arrived(session)
                if loaded is None:
                    bound.warning("no_scenario", dialled=session.info.dialled)
                    session.emit(ev.Step(step="no_scenario", detail=session.info.dialled))
                    await session.hangup("unallocated")
                else:
                    session.emit(ev.Scenario(name=loaded.name, version=loaded.version))
                    outcome = await run_scenario(session, loaded, self.config)
                    bound.info("scenario_done", outcome=outcome)
        except CallerHungUp:
            pass
        except asyncio.CancelledError:
            raise  # the daemon stops: the call stays in Asterisk for its successor (R27)
        except Exception:
            bound.exception("scenario_failed")
        if self.accepting:
            if not session.gone.is_set():
                await session.hangup()
            self.finish_call(session)

    def finish_call(self, session: CallSession) -> None:
        if session.ended_emitted:
            return
        session.ended_emitted = True
        ended = ev.Ended(by=session.hangup_by or "caller", cause=session.hangup_cause,
                         end_estimated=session.end_estimated)
        self.emit_call(session.channel_id, ended, at=session.gone_at)
        self.registry.drop_session(session)

    # ---- what the web API needs (acd.web.ports.EnginePort) ----------------------------------------
    def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = self.acd.snapshot(self.clock.now())
        snap["calls"] = [
            {
                "id": s.channel_id,
                "caller": s.info.caller,
                "dialled": s.info.dialled,
                "language": s.info.language,
                "queue": s.queue,
                **self.control.live_view(s),
                **({"agent": s.own_agent, "direction": "outbound"} if s.own_agent else {}),
            }
            for s in self.registry.sessions()
        ]
        return snap

    def set_topic(self, call_id: str, topic: str, comment: str | None, by: str | None,
                  result: str | None = None) -> None:
        self._topics.add(call_id)
        self.emit_call(call_id, ev.Topic(topic=topic, comment=comment, by=by, result=result))

    def agent_of_call(self, call_id: str) -> str | None:
        """The agent ringing for, talking on, or in wrap-up after ``call_id`` (R22: the topic is typed in
        during wrap-up, after the caller has gone)."""
        session = self.registry.session(call_id)
        if session is not None and session.own_agent:
            return session.own_agent
        for leg in self.registry.legs():
            if leg.call_id == call_id and leg.agent_id:
                return leg.agent_id
        for agent, (wrapped_call, _since) in self._wrapups.items():
            if wrapped_call == call_id:
                return agent
        return None
