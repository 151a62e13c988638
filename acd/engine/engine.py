"""The engine: ARI events in, the ACD core's decisions out, one scenario task per call.

Theory of operation
- Every caller channel that enters Stasis becomes a ``CallSession`` and a task running its number's
  scenario (``routing.interpreter``). The scenario calls ``enqueue``; from there the ACD core decides.
- The core is pure: each input (a call queued, an agent answering, a timer) returns decisions, which
  ``apply`` turns into ARI commands and CDR events. One timer task sleeps until the core's next deadline.
- Legs are the channels the daemon dials: an agent's phone for an offer, or an external number. They are
  originated into our app with ``appArgs = "<kind>,<call id>,<agent id>"``: StasisStart means answered.
- Nothing here blocks on the database: CDR records go to the writer's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Protocol

import structlog

from acd.ari import models
from acd.ari.client import AriClient
from acd.ari.errors import AriError
from acd.ari.models import parse_ari_time
from acd.clock import Clock
from acd.configset import ConfigSet
from acd.core import (
    Acd,
    AgentStateChanged,
    Announce,
    CallQueued,
    CancelOffer,
    Decision,
    Offer,
    Overflow,
    RingNoAnswer,
)
from acd.core.prediction import WaitEstimate, announce_minutes
from acd.engine.session import STATE_VAR, CallSession, Leg, encode_state
from acd.events import AgentEvent, CallEvent, CdrRecord
from acd.metrics import Metrics
from acd.settings import Settings
from ivr.announcements import position_and_wait
from routing.control import CallerHungUp, CallInfo, QueueResult

log = structlog.get_logger(__name__)


class CdrSink(Protocol):
    """What the engine needs of the CDR writer: a call that never blocks and never raises."""

    def emit(self, record: CdrRecord) -> None: ...


HANGUP_RESULTS = {
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
        self.sessions: dict[str, CallSession] = {}
        self.legs: dict[str, Leg] = {}
        self.offers: dict[tuple[str, str], Leg] = {}
        self.playbacks: dict[str, CallSession] = {}
        self.recordings: dict[str, CallSession] = {}
        self.accepting = True
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}{int(clock.now()) % 100000:05d}"
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.Task[None] | None = None
        self._wrapups: dict[str, tuple[str, float]] = {}
        self._rejections: dict[tuple[str, str], str] = {}
        self.recorder: Any = None
        """``RecordingIndex`` (rows of the recordings table), set by the daemon."""

    # ---- helpers ---------------------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        return f"acd-{kind}-{self._prefix}-{next(self._ids)}"

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
        kind: str,
        data: dict[str, Any],
        *,
        at: float | None = None,
        event_id: str | None = None,
    ) -> None:
        """A CDR event. Milestones get a deterministic ``event_id`` (``<call>/<kind>/<time>``): a daemon
        that adopts the call after a crash emits them again from the channel's variables, and the
        writer's unique key keeps whichever copy arrived first (R27: a SIGKILL may lose the last batch)."""
        when = self.clock.now() if at is None else at
        extra = {} if event_id is None else {"event_id": event_id}
        self.writer.emit(CallEvent(call_id=call_id, kind=kind, at=when, data=data, **extra))

    def emit_milestone(self, call_id: str, kind: str, at: float, data: dict[str, Any]) -> None:
        self.emit_call(call_id, kind, data, at=at, event_id=f"{call_id}/{kind}/{at:.3f}")

    def recording_path(self, name: str, fmt: str) -> Path:
        return self.settings.paths.recordings / f"{name}.{fmt}"

    def recording_name(self, session: CallSession) -> str:
        """recordings/YYYY/MM/DD/<call id> by the call's local date (docs/recording.md); a call's second
        conversation (after a transfer, or a re-offer) gets a suffix, as names are unique."""
        from recording.layout import recording_name

        session.recording_count += 1
        suffix = "" if session.recording_count == 1 else str(session.recording_count)
        return recording_name(session.channel_id, self.clock.now(), self.settings.tz, suffix=suffix)

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._timer = asyncio.create_task(self._timer_loop(), name="acd-timers")

    async def stop(self) -> None:
        """Stop taking calls; calls in progress stay in Asterisk for the next daemon to resync."""
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
    def core(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Call the core and carry out its decisions; a refusal is logged, never fatal to the call."""
        try:
            decisions = getattr(self.acd, method)(*args, **kwargs)
        except (KeyError, ValueError) as exc:
            log.warning("core_refused", method=method, args=args, error=str(exc))
            return
        self.apply(decisions)

    def enqueue(self, session: CallSession, queue: str, *, priority: int, entered_at: float) -> None:
        self.core(
            "enqueue",
            session.channel_id,
            queue,
            self.clock.now(),
            priority=priority,
            language=session.info.language,
            entered_at=entered_at,
        )

    def apply(self, decisions: list[Decision]) -> None:
        for d in decisions:
            if isinstance(d, Offer):
                self.spawn(self._offer(d), f"offer-{d.call_id}-{d.agent_id}")
            elif isinstance(d, CancelOffer):
                leg = self.offers.pop((d.call_id, d.agent_id), None)
                if leg is not None and leg.answered is not None and not leg.answered.done():
                    leg.fail("cancelled")
                    self.spawn(self._hangup_leg(leg))
            elif isinstance(d, RingNoAnswer):
                reason = self._rejections.pop((d.call_id, d.agent_id), "no_answer")
                self.emit_call(
                    d.call_id,
                    "ring_no_answer",
                    {"queue": d.queue, "agent": d.agent_id, "reason": reason},
                )
            elif isinstance(d, Overflow):
                self._overflow(d)
            elif isinstance(d, Announce | CallQueued):
                self._announce(d.call_id, d.position, d.estimate)
            elif isinstance(d, AgentStateChanged):
                self._wrapup_accounting(d)
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
                self.metrics.agent_state(d.agent_id, d.state)
        self._wake.set()

    def _wrapup_accounting(self, d: AgentStateChanged) -> None:
        """The CDR counts wrap-up per call (R17 "Заверш."): from entering wrap-up to leaving it."""
        if d.state == "wrap_up" and d.call_id:
            self._wrapups[d.agent_id] = (d.call_id, d.at)
        elif d.previous == "wrap_up" and d.agent_id in self._wrapups:
            call_id, since = self._wrapups.pop(d.agent_id)
            self.emit_call(call_id, "wrapup_ended", {"agent": d.agent_id, "seconds": round(d.at - since, 3)})

    def _overflow(self, d: Overflow) -> None:
        session = self.sessions.get(d.call_id)
        if session is None or session.queue_result is None or session.queue_result.done():
            return
        session.emit("overflow", queue=d.queue, target=d.target, reason=d.reason)
        session.emit("left_queue", queue=d.queue, reason="overflow")
        if session.announcing:
            self.spawn(session.stop_playback(session.announcing))
        self.spawn(session.stop_moh())
        session.queue_result.set_result(QueueResult("overflow", target=d.target, reason=d.reason))

    def _announce(self, call_id: str, position: int, estimate: WaitEstimate) -> None:
        session = self.sessions.get(call_id)
        if session is None or session.queue is None or session.connecting:
            return
        minutes = announce_minutes(estimate)
        media = list(
            position_and_wait(
                session.info.language,
                position if session.hold.announce_position else None,
                minutes if session.hold.announce_wait else None,
            )
        )
        media += list(session.hold.periodic_media)
        session.emit("announced", position=position, expected_s=round(estimate.expected_s, 1))
        self.spawn(session.announce(media))

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
    ) -> Leg:
        leg = Leg(self.new_id(kind), session.channel_id, kind, agent_id)
        self.legs[leg.channel_id] = leg
        session.legs[leg.channel_id] = leg
        try:
            await self.ari.channels.originate(
                endpoint,
                app=self.settings.ari.app,
                app_args=f"{kind},{session.channel_id},{agent_id or ''}",
                channel_id=leg.channel_id,
                caller_id=caller_id,
                timeout=max(1, math.ceil(timeout_s)),
                variables={
                    STATE_VAR: encode_state(
                        {"role": kind, "call": session.channel_id, "agent": agent_id or ""}
                    )
                },
            )
        except AriError as exc:
            log.warning("originate_failed", call_id=session.channel_id, endpoint=endpoint, error=str(exc))
            leg.fail("unreachable" if exc.status in (400, 404, 500) else "failed")
            self._forget_leg(leg)
        return leg

    def _forget_leg(self, leg: Leg) -> None:
        self.legs.pop(leg.channel_id, None)
        session = self.sessions.get(leg.call_id)
        if session is not None:
            session.legs.pop(leg.channel_id, None)

    async def _hangup_leg(self, leg: Leg) -> None:
        with contextlib.suppress(AriError):
            await self.ari.channels.hangup(leg.channel_id, "normal")

    async def _offer(self, d: Offer) -> None:
        session = self.sessions.get(d.call_id)
        agent = self.config.agents.get(d.agent_id)
        if session is None or agent is None:
            self.core("offer_rejected", d.call_id, d.agent_id, self.clock.now(), reason="failed")
            return
        session.emit("offered", queue=d.queue, agent=d.agent_id)
        leg = await self.originate_leg(
            session,
            agent.endpoint or f"PJSIP/{agent.id}",
            kind="agent",
            agent_id=d.agent_id,
            timeout_s=d.ring_timeout_s + 5,
            caller_id=session.info.caller,
        )
        self.offers[(d.call_id, d.agent_id)] = leg
        assert leg.answered is not None
        answered = await leg.answered
        self.offers.pop((d.call_id, d.agent_id), None)
        if not answered:
            if leg.result != "cancelled":
                reason = leg.result if leg.result in ("busy", "unreachable", "no_answer") else "failed"
                self._rejections[(d.call_id, d.agent_id)] = reason  # for the RingNoAnswer that follows
                self.core("offer_rejected", d.call_id, d.agent_id, self.clock.now(), reason=reason)
                self._rejections.pop((d.call_id, d.agent_id), None)
            return
        if session.gone.is_set() or session.queue_result is None or session.queue_result.done():
            await self._hangup_leg(leg)
            return
        session.connecting = True
        self.core("offer_accepted", d.call_id, d.agent_id, self.clock.now())
        await self.connect(session, leg, d.queue)

    async def connect(self, session: CallSession, leg: Leg, queue: str) -> None:
        """The agent answered: stop what the caller hears, tell them the call is recorded (R10), bridge,
        record the bridge (R14), and wait for the end of the conversation."""
        try:
            if session.announcing:
                await session.stop_playback(session.announcing)
            await session.stop_moh()
            if session.hold.recording_notice:
                await session.play(list(session.hold.recording_notice))
            session.emit("left_queue", queue=queue, reason="connected")
            await self.bridge_and_wait(session, leg, record=True, queue=queue)
        except CallerHungUp:
            await self._hangup_leg(leg)
        finally:
            if leg.agent_id:
                self.core("call_finished", leg.agent_id, self.clock.now())
            self._forget_leg(leg)
            if session.queue_result is not None and not session.queue_result.done():
                session.queue_result.set_result(QueueResult("completed", agent=leg.agent_id))

    async def bridge_and_wait(
        self, session: CallSession, leg: Leg, *, record: bool, queue: str | None = None
    ) -> None:
        bridge = await self.ari.bridges.create("mixing", bridge_id=self.new_id("br"))
        session.bridge_id = bridge.id
        try:
            recording = self.recording_name(session) if record else None
            if leg.kind == "agent":
                # Written before the bridge exists for Asterisk's callers: a daemon killed from here on
                # finds the whole connection on the channel and finishes it (resync.ensure_bridged).
                connected = self.clock.now()
                await session.set_vars(
                    state="connected",
                    agent=leg.agent_id or "",
                    bridge=bridge.id,
                    agent_channel=leg.channel_id,
                    recording=recording or "",
                    connected=f"{connected:.3f}",
                )
                self.emit_milestone(
                    session.channel_id,
                    "connected",
                    connected,
                    {"queue": queue, "agent": leg.agent_id, "bridge": bridge.id},
                )
            await self.ari.bridges.add_channel(bridge.id, [session.channel_id, leg.channel_id])
            if recording is not None:
                await self._record_bridge(session, bridge.id, recording, leg.agent_id)
            await self.wait_conversation(session, leg)
        finally:
            if self.accepting:  # a stopping daemon leaves the conversation to its successor (R27)
                with contextlib.suppress(AriError):
                    await self.ari.bridges.destroy(bridge.id)

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

    async def _record_bridge(
        self, session: CallSession, bridge_id: str, name: str, agent: str | None
    ) -> None:
        fmt = self.settings.recording.format
        self.recordings[name] = session
        try:
            await self.ari.bridges.record(bridge_id, name, fmt, if_exists="overwrite", beep=False)
            session.emit("recording_started", recording=name, path=f"{name}.{fmt}", kind="call")
            self.recording_started(session, name, kind="call", agent=agent)
        except AriError as exc:
            self.recordings.pop(name, None)
            session.emit("recording_failed", recording=name, reason=str(exc))
            self.metrics.recording_failures.inc()

    async def wait_conversation(self, session: CallSession, leg: Leg) -> None:
        """Until one side hangs up; then hang up the other."""
        assert leg.gone is not None
        caller = asyncio.ensure_future(session.gone.wait())
        other = asyncio.ensure_future(leg.gone.wait())
        try:
            await asyncio.wait({caller, other}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            caller.cancel()
            other.cancel()
        if not session.gone.is_set():
            session.hangup_by = "agent" if leg.kind == "agent" else "other"
            await session.hangup()
        else:
            await self._hangup_leg(leg)

    # ---- ARI events ------------------------------------------------------------------------------
    async def on_event(self, event: Any) -> None:
        kind = event.type
        handler = getattr(self, f"_on_{kind}", None)
        self.metrics.events.labels(kind).inc()
        if handler is not None:
            try:
                handler(event)
            except Exception:
                log.exception("event_handler_failed", type=kind)

    def _on_StasisStart(self, ev: models.StasisStart) -> None:  # noqa: N802 - ARI's event names
        args = list(ev.args or [])
        channel = ev.channel
        if args and args[0] in ("agent", "out"):
            leg = self.legs.get(channel.id)
            if leg is None:
                # A leg of a previous daemon, or one we already gave up on: not ours to keep.
                self.spawn(self.ari.channels.hangup(channel.id, "normal"))
                return
            if leg.answered is not None and not leg.answered.done():
                leg.answered.set_result(True)
            return
        if args and args[0] == "snoop":
            return
        if channel.id in self.sessions:
            return
        if not self.accepting:
            return
        # extensions.conf runs Stasis(acd,inbound,${EXTEN}): the dialled number is the second argument.
        dialled = args[1] if len(args) > 1 and args[0] == "inbound" else None
        self.start_call(channel, dialled=dialled)

    def start_call(
        self,
        channel: Any,
        *,
        dialled: str | None = None,
        language: str | None = None,
        resume: dict[str, str] | None = None,
    ) -> None:
        dialled = dialled or (channel.dialplan.exten if channel.dialplan else "")
        info = CallInfo(
            call_id=channel.id,
            caller=channel.caller.number,
            caller_name=channel.caller.name,
            dialled=dialled,
            language=language or "",
        )
        session = CallSession(self, info, channel.name)
        self.sessions[channel.id] = session
        self.metrics.calls.inc()
        arrived = float(resume["arrived"]) if resume and resume.get("arrived") else self.clock.now()
        session.arrived_at = arrived
        self.emit_milestone(
            channel.id,
            "arrived",
            arrived,
            {
                "direction": "inbound",
                "dialled": dialled,
                "caller": info.caller,
                "caller_name": info.caller_name,
                "channel": channel.name,
                "linked_id": channel.id,
            },
        )
        session.task = self.spawn(self._run_call(session, resume), f"call-{channel.id}")

    async def _run_call(self, session: CallSession, resume: dict[str, str] | None) -> None:
        from acd.engine.resync import resume_call
        from routing.interpreter import run_scenario

        bound = log.bind(call_id=session.channel_id)
        try:
            if resume is not None:
                await resume_call(self, session, resume)
            else:
                loaded = self.config.scenario_for(session.info.dialled)
                if loaded is None:
                    bound.warning("no_scenario", dialled=session.info.dialled)
                    session.emit("step", step="no_scenario", detail=session.info.dialled)
                    await session.hangup("unallocated")
                else:
                    session.emit("scenario", name=loaded.name, version=loaded.version)
                    await session.set_vars(
                        scenario=loaded.name,
                        dialled=session.info.dialled,
                        arrived=f"{session.arrived_at:.3f}",
                    )
                    outcome = await run_scenario(session, loaded, self.config)
                    bound.info("scenario_done", outcome=outcome)
        except CallerHungUp:
            pass
        except Exception:
            bound.exception("scenario_failed")
        finally:
            if self.accepting:  # a stopping daemon leaves the call in Asterisk for its successor (R27)
                if not session.gone.is_set():
                    await session.hangup()
                self.finish_call(session)

    def finish_call(self, session: CallSession) -> None:
        if session.ended_emitted:
            return
        session.ended_emitted = True
        self.emit_call(
            session.channel_id,
            "ended",
            {"by": session.hangup_by or "caller", "cause": session.hangup_cause},
            at=session.gone_at,
        )
        self.sessions.pop(session.channel_id, None)

    def event_time(self, ev: Any) -> float:
        """When Asterisk says it happened: a busy daemon may handle a hang-up later than it happened, and
        the CDR's waits must not grow with the daemon's load."""
        try:
            return min(parse_ari_time(ev.timestamp).timestamp(), self.clock.now())
        except (AttributeError, TypeError, ValueError):
            return self.clock.now()

    def _caller_gone(self, session: CallSession, cause: int | None, at: float | None = None) -> None:
        if session.hangup_cause is None and cause is not None:
            session.hangup_cause = cause
        if session.gone_at is None and at is not None:
            session.gone_at = at
        if session.gone.is_set() and session.hangup_by:
            return
        session.hangup_by = session.hangup_by or "caller"
        session.gone.set()
        if (
            session.queue is not None
            and not session.connecting
            and session.queue_result is not None
            and not session.queue_result.done()
        ):
            self.emit_call(
                session.channel_id,
                "left_queue",
                {"queue": session.queue, "reason": "abandoned"},
                at=session.gone_at,
            )
            self.core("remove_call", session.channel_id, self.clock.now(), reason="abandoned")

    def _leg_gone(self, leg: Leg, cause: int | None) -> None:
        result = HANGUP_RESULTS.get(cause or 0, "failed")
        leg.fail(result)
        self._forget_leg(leg)

    def _on_StasisEnd(self, ev: models.StasisEnd) -> None:  # noqa: N802
        cid = ev.channel.id
        if (session := self.sessions.get(cid)) is not None:
            self._caller_gone(session, None, self.event_time(ev))
        elif (leg := self.legs.get(cid)) is not None:
            self._leg_gone(leg, None)

    def _on_ChannelHangupRequest(self, ev: models.ChannelHangupRequest) -> None:  # noqa: N802
        session = self.sessions.get(ev.channel.id)
        if session is not None and session.gone_at is None and not session.gone.is_set():
            session.gone_at = self.event_time(ev)  # the caller hung up: this is when
        if session is not None and session.hangup_cause is None and not getattr(ev, "soft", False):
            session.hangup_cause = ev.cause

    def _on_ChannelDestroyed(self, ev: models.ChannelDestroyed) -> None:  # noqa: N802
        cid = ev.channel.id
        if (session := self.sessions.get(cid)) is not None:
            session.hangup_cause = ev.cause
            self._caller_gone(session, ev.cause, self.event_time(ev))
        elif (leg := self.legs.get(cid)) is not None:
            self._leg_gone(leg, ev.cause)

    def _on_Dial(self, ev: models.Dial) -> None:  # noqa: N802
        peer = getattr(ev, "peer", None)
        leg = self.legs.get(peer.id) if peer is not None else None
        if leg is None:
            return
        status = ev.dialstatus
        if status in ("BUSY", "CONGESTION", "CHANUNAVAIL"):
            # The channel stays in Stasis (BEHAVIOUR.md 5): ours to hang up.
            leg.fail("busy" if status == "BUSY" else "unreachable")
            self._forget_leg(leg)
            self.spawn(self._hangup_leg(leg))

    def _on_ChannelDtmfReceived(self, ev: models.ChannelDtmfReceived) -> None:  # noqa: N802
        session = self.sessions.get(ev.channel.id)
        if session is not None:
            session.dtmf.put_nowait(ev.digit)

    def _on_PlaybackFinished(self, ev: models.PlaybackFinished) -> None:  # noqa: N802
        pb = ev.playback
        session = self.playbacks.get(pb.id)
        if session is not None:
            session.playback_finished(pb.id, pb.state)

    def _on_RecordingFinished(self, ev: models.RecordingFinished) -> None:  # noqa: N802
        self._recording_ended(ev.recording, failed=False)

    def _on_RecordingFailed(self, ev: models.RecordingFailed) -> None:  # noqa: N802
        self._recording_ended(ev.recording, failed=True)

    def _recording_ended(self, rec: Any, *, failed: bool) -> None:
        session = self.recordings.pop(rec.name, None)
        call_id = session.channel_id if session else None
        info = {"duration": getattr(rec, "duration", None) or 0, "state": rec.state}
        if self.recorder is not None:  # a recording of an earlier process too: its row is found by name
            if failed:
                self.recorder.failed(rec.name, self.clock.now(), str(getattr(rec, "cause", None) or "failed"))
            else:
                self.recorder.finished(rec.name, self.clock.now())
        if call_id:
            if failed:
                self.metrics.recording_failures.inc()
                self.emit_call(
                    call_id,
                    "recording_failed",
                    {"recording": rec.name, "reason": getattr(rec, "cause", None) or "failed"},
                )
            else:
                self.emit_call(
                    call_id, "recording_finished", {"recording": rec.name, "duration_s": info["duration"]}
                )
        if session is not None:
            session.recording_done(rec.name, info)

    def _on_EndpointStateChange(self, ev: models.EndpointStateChange) -> None:  # noqa: N802
        ep = ev.endpoint
        self.endpoint_state(f"{ep.technology}/{ep.resource}", ep.state)

    def endpoint_state(self, endpoint: str, state: str | None) -> None:
        for agent in self.config.agents.values():
            if agent.endpoint == endpoint:
                self.core("set_agent_reachable", agent.id, state == "online", self.clock.now())

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
                self.core(
                    "set_agent_reachable", agent.id, states[agent.endpoint] == "online", self.clock.now()
                )

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
            }
            for s in self.sessions.values()
        ]
        return snap

    def set_agent_state(self, agent_id: str, state: str, reason: str | None, by: str | None) -> None:
        if agent_id not in self.config.agents:
            raise ValueError(f"unknown agent {agent_id!r}")
        decisions = self.acd.set_agent_state(agent_id, state, self.clock.now(), reason=reason, by=by)
        self.apply(decisions)

    def set_topic(self, call_id: str, topic: str, comment: str | None, by: str | None) -> None:
        self.emit_call(call_id, "topic", {"topic": topic, "comment": comment, "by": by})

    def agent_of_call(self, call_id: str) -> str | None:
        """The agent ringing for, talking on, or in wrap-up after ``call_id`` (R22: the topic is typed in
        during wrap-up, after the caller has gone)."""
        for leg in self.legs.values():
            if leg.call_id == call_id and leg.agent_id:
                return leg.agent_id
        for agent, (wrapped_call, _since) in self._wrapups.items():
            if wrapped_call == call_id:
                return agent
        return None
