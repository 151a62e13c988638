"""One caller in Stasis: the ``CallControl`` a scenario drives over ARI, and everything of the call.

A ``CallSession`` owns its call: the caller's channel, the legs dialled for it (agent phones, external
numbers), its playbacks and recordings, its bridge and its wait in a queue (``QueueWait``). It registers each
ARI id it creates in the engine's ``Registry`` so that events come back to it, and drops them when done.

Every wait also watches ``gone``: once the caller has hung up, whatever the scenario awaits raises
``CallerHungUp``.

One conversation path, ``converse``: stop what the caller hears, the recording notice (R10), the bridge, its
recording (R14), the wait until one side hangs up, the release (the agent goes to wrap-up). A live offer, a
transfer out and a call adopted after a restart all go through it; the adopted call only skips what is
already done (the bridge exists, the recording runs).

Where the call is (``SavedState``) is written on the channel at every change of phase, so a daemon started
after this one finds it there (docs/decisions/engine-01-restart-resume.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from acd import events as ev
from acd.ari.errors import AriError, AriNotFound
from acd.engine.state import STATE_VAR, SavedState, decode_state, encode_state
from acd.events import CallFact
from routing.control import (
    CallControl,
    CallerHungUp,
    CallInfo,
    DialResult,
    HoldSpec,
    QueueResult,
    RecordResult,
)

if TYPE_CHECKING:
    from acd.engine.engine import Engine

__all__ = ["STATE_VAR", "CallSession", "Leg", "QueueWait", "decode_state", "encode_state"]

log = structlog.get_logger(__name__)
T = TypeVar("T")

EMPTY_MESSAGE_S = 2.0
"""A voicemail shorter than this (Asterisk's duration, trailing silence already cut by ``maxSilenceSeconds``)
is a caller who said nothing: not a message, no callback (docs/decisions/engine-11-empty-voicemail.md)."""


@dataclass
class Leg:
    """A channel the daemon dialled for a call: an agent's phone, or an external number."""

    channel_id: str
    call_id: str
    kind: str  # "agent" | "out"
    agent_id: str | None = None
    answered: asyncio.Future[bool] = field(init=False)
    """Resolves True when the leg enters Stasis (answered), False when it failed; ``result`` says why."""
    result: str = ""
    dialstatus: str = ""
    """Asterisk's ``Dial.dialstatus`` when the leg failed with one (BUSY, CONGESTION, CHANUNAVAIL)."""
    cause: int | None = None
    """ChannelDestroyed's cause when the leg ended before its answer (17 busy, 19 no answer, ...)."""
    gone: asyncio.Event = field(init=False)
    ended: asyncio.Event = field(init=False)
    """Asterisk reported the channel destroyed (``cause`` is known then)."""
    released: bool = False
    """The agent of this leg has been sent to wrap-up (a transfer released them before the call ended)."""

    def __post_init__(self) -> None:
        self.answered = asyncio.get_running_loop().create_future()
        self.gone = asyncio.Event()
        self.ended = asyncio.Event()

    def fail(self, result: str) -> None:
        self.result = self.result or result
        if not self.answered.done():
            self.answered.set_result(False)
        self.gone.set()


@dataclass
class QueueWait:
    """The caller's wait in one queue: what it hears, how it ends (``result``), what is under way."""

    queue: str
    hold: HoldSpec
    entered_at: float
    result: asyncio.Future[QueueResult]
    announcing: str | None = None
    """The playback id of an announcement being played."""
    connecting: bool = False
    """An agent answered: no more announcements, the conversation path has the caller."""

    def open(self) -> bool:
        return not self.result.done()


class CallSession(CallControl):
    def __init__(
        self, engine: Engine, info: CallInfo, channel_name: str = "", *, resume: SavedState | None = None
    ) -> None:
        self.engine = engine
        self.ari = engine.ari
        self.registry = engine.registry
        self.info = info
        self.channel_id = info.call_id
        self.channel_name = channel_name
        self.gone = asyncio.Event()
        self.hangup_by: str | None = None
        self.hangup_cause: int | None = None
        self.gone_at: float | None = None
        """When the caller hung up, by Asterisk's event timestamp."""
        self.end_estimated = False
        """The end happened during a WebSocket gap: ``gone_at`` is the last moment Asterisk was heard from."""
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()
        self._playbacks: dict[str, asyncio.Future[str]] = {}
        self._recordings: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.wait: QueueWait | None = None
        self.moh_on = False
        self.legs: dict[str, Leg] = {}
        self.bridge_id: str | None = None
        self.task: asyncio.Task[Any] | None = None
        self.ended_emitted = False
        self.arrived_at = 0.0
        self.recording_count = 0
        self.call_recording: str | None = None
        """The name of the bridge recording running for the conversation, until its end is known."""
        self.notice: asyncio.Task[Any] | None = None
        """The recording notice, started while the agent's phone rings (``start_notice``)."""
        self.rings_held = 0
        """Offers whose ring is held back until the notice is nearly over (acd/engine/ring_ahead.py)."""
        self.saved = resume or SavedState()
        """What is written in ACD_STATE on the channel."""
        self.resume = resume
        """What a previous daemon wrote, for a call adopted after a restart (consumed as it is used)."""
        self.parties: list[Leg] = []
        """Who the caller is talking to: the leg that answered, then whoever call control put in the call
        instead (a transfer) or besides (a conference); acd/engine/call_control.py."""
        self.parties_changed = asyncio.Event()
        self.own_agent: str | None = None
        """An outbound call (acd/engine/outbound_call.py): the agent whose phone is this call's channel."""
        self.only_agents: frozenset[str] | None = None
        """Only these agents may be offered the call (an outbound campaign's ``agents``, acd/core)."""
        self._answered_at: float | None = None
        """Set when ``claim`` answered the channel, until the scenario's ``answer()`` emits its milestone."""
        self.offering = 0
        """Offers of this caller to agents under way (counted by ``Engine.apply`` as the core makes them)."""
        self.stasis_at: float | None = None
        """``time.monotonic()`` as the engine dispatched the StasisStart (None for an adopted call)."""

    # ---- plumbing -------------------------------------------------------------------------------
    def now(self) -> float:
        return self.engine.clock.now()

    def emit(self, fact: CallFact) -> None:
        self.engine.emit_call(self.channel_id, fact)

    def log(self) -> Any:
        return log.bind(call_id=self.channel_id)

    @property
    def queue(self) -> str | None:
        """The queue the caller waits in, or None."""
        return self.wait.queue if self.wait is not None and self.wait.open() else None

    async def _until(self, aw: Awaitable[T], timeout_s: float | None = None) -> T:
        """Await ``aw`` unless the caller hangs up first (CallerHungUp) or the virtual time-out passes
        (TimeoutError)."""
        fut = asyncio.ensure_future(aw)
        gone = asyncio.ensure_future(self.gone.wait())
        try:
            timeout = None if timeout_s is None else self.engine.clock.real_seconds(timeout_s)
            done, _ = await asyncio.wait({fut, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if fut in done:
                return fut.result()
            if gone in done:
                raise CallerHungUp(self.channel_id)
            raise TimeoutError
        finally:
            gone.cancel()
            if not fut.done():
                fut.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fut

    async def _ari(self, aw: Awaitable[T]) -> T:
        """An ARI command on the caller's channel: a 404 means the caller has gone."""
        try:
            return await aw
        except AriNotFound as exc:
            self.gone.set()
            raise CallerHungUp(self.channel_id) from exc

    async def save(self, **changes: object) -> None:
        """Write where the call is now on the channel itself, in ONE variable (``ACD_STATE``): one request per
        change of phase, and a crash can never leave half of a change written."""
        self.saved = self.saved.with_(**changes)
        try:
            await self.ari.channels.set_var(self.channel_id, STATE_VAR, self.saved.encode())
        except AriError as exc:
            if not isinstance(exc, AriNotFound):
                self.log().warning("set_var_failed", error=str(exc))

    async def claim(self, *, answer: bool = False, **state: object) -> bool:
        """The first ``save`` of a new call: False on a 404 (Asterisk does not have the channel). With
        ``answer`` the channel is answered first and the answer's time goes into the same write; the
        scenario's ``answer()`` then sends nothing (its milestone is emitted then, after ``arrived``)."""
        if self.stasis_at is not None:  # the daemon's own set-up time (acd_call_setup_seconds)
            self.engine.metrics.call_setup.observe(time.monotonic() - self.stasis_at)
        if answer:
            try:
                await self.ari.channels.answer(self.channel_id)
            except AriNotFound:
                return False
            except AriError as exc:  # the scenario's answer() tries again
                self.log().warning("answer_failed", error=str(exc))
            else:
                self._answered_at = self.now()
                state["answered"] = self._answered_at
        self.saved = self.saved.with_(**state)
        try:
            await self.ari.channels.set_var(self.channel_id, STATE_VAR, self.saved.encode())
        except AriNotFound:
            return False
        except AriError as exc:
            self.log().warning("set_var_failed", error=str(exc))
        return True

    # ---- CallControl ----------------------------------------------------------------------------
    async def answer(self) -> None:
        if self._answered_at is not None:  # answered by ``claim``, and the time written with it
            answered, self._answered_at = self._answered_at, None
            self.engine.emit_milestone(self.channel_id, ev.Answered(), answered)
            return
        await self._ari(self.ari.channels.answer(self.channel_id))
        now = self.now()
        self.engine.emit_milestone(self.channel_id, ev.Answered(), now)
        await self.save(answered=now)

    async def _start_playback(self, media: list[str]) -> tuple[str, asyncio.Future[str]]:
        playback_id = self.engine.new_id("pb")
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._playbacks[playback_id] = fut
        self.registry.add_playback(playback_id, self)
        try:
            await self._ari(
                self.ari.channels.play(
                    self.channel_id, media, lang=self.info.language, playback_id=playback_id,
                    not_found_ok=True,  # the caller hung up as the prompt started: not worth an info line
                )
            )
        except AriError as exc:
            self._playbacks.pop(playback_id, None)
            self.registry.drop_playback(playback_id)
            self.log().warning("play_failed", media=media, error=str(exc))
            fut = asyncio.get_running_loop().create_future()
            fut.set_result("failed")
        return playback_id, fut

    def playback_finished(self, playback_id: str, state: str) -> None:
        fut = self._playbacks.pop(playback_id, None)
        self.registry.drop_playback(playback_id)
        if fut is not None and not fut.done():
            fut.set_result(state)

    async def stop_playback(self, playback_id: str) -> None:
        with contextlib.suppress(AriError):
            await self.ari.playbacks.stop(playback_id)

    async def play(self, media: list[str], *, stop_on_dtmf: bool = False) -> str | None:
        if not media:
            return None
        if stop_on_dtmf and not self.dtmf.empty():
            return self.dtmf.get_nowait()
        playback_id, done = await self._start_playback(media)
        if not stop_on_dtmf:
            await self._until(done)
            return None
        digit = asyncio.ensure_future(self.dtmf.get())
        try:
            finished = await self._until(asyncio.wait({done, digit}, return_when=asyncio.FIRST_COMPLETED))
            if digit in finished[0]:
                await self.stop_playback(playback_id)
                return digit.result()
            return None
        finally:
            if not digit.done():
                digit.cancel()

    async def collect_digits(
        self, media: list[str], *, max_digits: int, timeout_s: float, terminator: str = "#"
    ) -> str:
        digits = ""
        first = await self.play(media, stop_on_dtmf=True)
        if first is not None:
            if first == terminator:
                return digits
            digits += first
        while len(digits) < max_digits:
            try:
                d = await self._until(self.dtmf.get(), timeout_s)
            except TimeoutError:
                break
            if d == terminator:
                break
            digits += d
        return digits

    def clear_dtmf(self) -> None:
        while not self.dtmf.empty():
            self.dtmf.get_nowait()

    # ---- the queue --------------------------------------------------------------------------------
    async def enqueue(self, queue: str, *, priority: int = 0, hold: HoldSpec = HoldSpec()) -> QueueResult:
        entered = self.now()
        resume, self.resume = self.resume, None
        if resume is not None and resume.phase == "queued" and resume.queue == queue and resume.entered:
            entered, priority = resume.entered, resume.priority  # the caller keeps its place (R27)
        wait = QueueWait(queue, hold, entered, asyncio.get_running_loop().create_future())
        self.wait = wait
        await self.save(
            phase="queued",
            queue=queue,
            entered=entered,
            priority=priority,
            lang=self.info.language,
            step=self.info.step,
        )
        self.engine.enqueue(self, queue, priority=priority, entered_at=entered)
        if not self.offering:  # an agent free at once: the notice or the music starts as the phone rings
            await self.start_moh()
        watcher = None
        if hold.callback_key is not None and wait.open():  # "keep my place" (acd/engine/keep_place.py)
            watcher = self.engine.spawn(self.engine.kept.watch(self, wait, hold.callback_key))
        # after the core has placed the caller, so queue_log's ENTERQUEUE carries the real position
        position = self.engine.acd.position(self.channel_id) or 1
        self.engine.emit_milestone(
            self.channel_id, ev.Queued(queue=queue, priority=priority, position=position), entered
        )
        try:
            result = await self._until(wait.result)
        finally:
            if not wait.result.done():
                wait.result.cancel()
            if watcher is not None:
                watcher.cancel()
        if result.outcome == "overflow":
            await self.save(phase="ivr", queue="", entered=None, priority=0)
        return result

    def overflowed(self, result: QueueResult) -> None:
        """The core gave the call back: stop what the caller hears, hand the result to the scenario."""
        wait = self.wait
        if wait is None or not wait.open():
            return
        if wait.announcing:
            self.engine.spawn(self.stop_playback(wait.announcing))
        self.engine.spawn(self.stop_moh())
        wait.result.set_result(result)

    def abandoned(self) -> bool:
        """The caller hung up while waiting (not while being connected): True if the core must hear it."""
        wait = self.wait
        return wait is not None and wait.open() and not wait.connecting

    async def start_moh(self) -> None:
        if self.moh_on or self.gone.is_set():
            return
        self.moh_on = True
        moh_class = self.wait.hold.moh_class if self.wait is not None else "default"
        try:
            await self._ari(self.ari.channels.start_moh(self.channel_id, moh_class))
        except AriError as exc:
            self.log().warning("moh_failed", error=str(exc))

    async def stop_moh(self) -> None:
        if not self.moh_on:
            return
        self.moh_on = False
        with contextlib.suppress(AriError):
            await self.ari.channels.stop_moh(self.channel_id)

    async def announce(self, media: list[str]) -> None:
        """Play a hold announcement over the music; an offer being answered stops it (DESIGN: stop an
        announcement in progress the moment an agent is free)."""
        wait = self.wait
        if wait is None or wait.announcing or not media or not self.waiting():
            return
        await self.stop_moh()
        if not self.waiting():
            return
        playback_id, done = await self._start_playback(media)
        wait.announcing = playback_id
        try:
            await self._until(done)
        except CallerHungUp:
            return
        finally:
            wait.announcing = None
        if self.waiting():
            await self.start_moh()

    def start_notice(self) -> None:
        """An agent's phone starts ringing: the caller hears the recording notice (R10) now, so that the
        agent, once they answer, is bridged without dead air (issue 11 §5). Played once per call; after it
        (or without one) the caller hears the music until the answer: a caller offered as they entered the
        queue had none yet (``enqueue``)."""
        wait = self.wait
        if wait is None or not self.waiting():
            return
        if self.notice is not None or not wait.hold.recording_notice:
            if not self.moh_on and not wait.announcing and (self.notice is None or self.notice.done()):
                self.engine.spawn(self._music_while_waiting())
            return
        self.notice = self.engine.spawn(self._play_notice(wait, list(wait.hold.recording_notice)))

    def hold_music_if_idle(self) -> None:
        """An offer ended without a conversation: a caller still waiting, with no other phone ringing for
        them and nothing playing, hears the music again (it was not started for an offer made at once)."""
        wait = self.wait
        if (
            wait is None
            or not self.waiting()
            or self.offering
            or self.ringing()
            or self.moh_on
            or wait.announcing
            or (self.notice is not None and not self.notice.done())
        ):
            return
        self.engine.spawn(self._music_while_waiting())

    async def _music_while_waiting(self) -> None:
        if self.waiting():  # checked again as the task runs: an answer in between wins
            await self.start_moh()

    async def _play_notice(self, wait: QueueWait, media: list[str]) -> None:
        if wait.announcing:
            await self.stop_playback(wait.announcing)
        await self.stop_moh()
        started = self.engine.clock.now()
        _playback, done = await self._start_playback(media)
        if await self._until(done) == "done":  # heard to its end: its length, for ring_ahead
            self.engine.ring_ahead.notice_played(self.info.language, self.engine.clock.now() - started)
        if self.waiting():  # still ringing, or the offer failed: music until an agent answers
            await self.start_moh()

    async def notice_before_bridge(self, media: list[str]) -> None:
        """The agent answered: the notice has been heard (or is finishing) while the phone rang; if it was
        not started (an answer faster than the ringing), it is played now."""
        if self.notice is None:
            self.notice = self.engine.spawn(self.play(media))
        await self._until(asyncio.shield(self.notice))

    def ringing(self) -> bool:
        """An agent's phone rings for this caller: no announcement is started (it would be cut in a few
        milliseconds by the answer, issue 11 §5)."""
        return self.rings_held > 0 or any(leg.kind == "agent" and not leg.answered.done()
                                          for leg in self.legs.values())

    def waiting(self) -> bool:
        """Still in a queue, not being connected, not gone: announcements make sense only then."""
        return (
            self.wait is not None and self.wait.open() and not self.wait.connecting and not self.gone.is_set()
        )

    # ---- the conversation path -----------------------------------------------------------------------
    async def converse(self, leg: Leg, *, queue: str | None, record: bool) -> None:
        """The far end answered (an agent, or an external number): stop what the caller hears, tell them
        the call is recorded (R10), bridge, record the bridge (R14), wait for the end of the conversation,
        release.

        The notice comes from the queue's hold spec, as the scenario set it; a call adopted after a restart
        that was already talking goes through ``adopt_conversation`` instead and skips what is done."""
        wait = self.wait
        stopping = False
        try:
            if wait is not None and wait.announcing:
                await self.stop_playback(wait.announcing)
            await self.stop_moh()
            if queue is not None and wait is not None and wait.hold.recording_notice:
                await self.notice_before_bridge(list(wait.hold.recording_notice))
            if queue is not None:
                self.emit(ev.LeftQueue(queue=queue, reason="connected"))
            await self._bridge(leg, queue=queue, record=record)
            await self.wait_conversation(leg)
        except CallerHungUp:
            await self.engine.hangup_leg(leg)
        except asyncio.CancelledError:
            stopping = True  # the daemon stops: the conversation goes on for the next one (R27)
            raise
        finally:
            self._release(leg, stopping=stopping)

    async def adopt_conversation(self, leg: Leg, saved: SavedState) -> None:
        """A conversation a previous daemon connected: finish what it may not have done (the bridge with both
        channels, its recording), then the same wait and release as a live one."""
        stopping = False
        try:
            if not leg.gone.is_set():
                await self._ensure_bridged(leg, saved)
            await self.wait_conversation(leg)
        except asyncio.CancelledError:
            stopping = True
            raise
        finally:
            self._release(leg, stopping=stopping)

    def _release(self, leg: Leg, *, stopping: bool) -> None:
        """The conversation is over: the agent goes to wrap-up, the bridge goes. Not when the daemon stops:
        a stop is not the end of a call (the next daemon adopts it)."""
        parties = [p for p in self.parties if p is not leg] + [leg]
        for p in parties:
            self.engine.forget_leg(p)
        if stopping or not self.engine.accepting:
            return
        self.engine.control.ended(self)
        if self.bridge_id is not None:
            self.engine.spawn(self.end_bridge(self.bridge_id))
            self.registry.drop_bridge(self.bridge_id)
        for p in parties:
            if p.agent_id and not p.released:
                p.released = True
                self.engine.call_finished(p.agent_id)
        last = parties[-1] if not self.parties else self.parties[-1]
        if self.wait is not None and self.wait.open():
            self.wait.result.set_result(QueueResult("completed", agent=last.agent_id))

    async def _bridge(self, leg: Leg, *, queue: str | None, record: bool) -> None:
        bridge = await self.ari.bridges.create("mixing", bridge_id=self.engine.new_id("br"))
        self.bridge_id = bridge.id
        self.registry.add_bridge(bridge.id, self)
        recording = self.engine.recording_name(self) if record else None
        connected = self.now()
        # Written before the bridge has members: a daemon killed from here on finds the whole connection on
        # the channel and finishes it (adopt_conversation).
        await self.save(
            phase="connected",
            agent=leg.agent_id or "",
            bridge=bridge.id,
            peer=leg.channel_id,
            recording=recording or "",
            connected=connected,
            queue=queue or "",
        )
        if leg.kind == "agent":
            self.engine.emit_milestone(
                self.channel_id, ev.Connected(queue=queue, agent=leg.agent_id, bridge=bridge.id), connected
            )
        await self.ari.bridges.add_channel(bridge.id, [self.channel_id, leg.channel_id])
        if recording is not None:
            await self.record_bridge(bridge.id, recording, leg.agent_id)

    async def _ensure_bridged(self, leg: Leg, saved: SavedState) -> None:
        bridge_id = saved.bridge or self.engine.new_id("br")
        try:
            bridge = await self.ari.bridges.get(bridge_id)
            members = set(bridge.channels)
        except AriNotFound:
            await self.ari.bridges.create("mixing", bridge_id=bridge_id)
            members = set()
        self.bridge_id = bridge_id
        self.registry.add_bridge(bridge_id, self)
        missing = [c for c in (self.channel_id, leg.channel_id) if c not in members]
        if self.channel_id in missing:  # on hold at the restart: back with the agent, without the music
            with contextlib.suppress(AriError):
                await self.ari.channels.stop_moh(self.channel_id)
        if missing:
            with contextlib.suppress(AriError):
                await self.ari.bridges.add_channel(bridge_id, missing)
        if not saved.recording:
            return
        self.recording_count = max(self.recording_count, 1)  # a recording made again gets a new name
        try:
            await self.ari.recordings.get_live(saved.recording)
        except AriNotFound:
            await self.record_bridge(bridge_id, self.engine.recording_name(self), leg.agent_id)
        except AriError:  # unknown: treat it as running, so that its end is stopped and awaited too
            self._expect_recording_end(saved.recording)
        else:
            self._expect_recording_end(saved.recording)

    async def record_bridge(self, bridge_id: str, name: str, agent: str | None) -> None:
        fmt = self.engine.settings.recording.format
        self._expect_recording_end(name)
        try:
            await self.ari.bridges.record(bridge_id, name, fmt, if_exists="overwrite", beep=False)
            self.emit(ev.RecordingStarted(recording=name, path=f"{name}.{fmt}", kind="call"))
            self.engine.recording_started(self, name, kind="call", agent=agent)
        except AriError as exc:
            self.registry.drop_recording(name)
            self._recordings.pop(name, None)
            self.call_recording = None
            self.emit(ev.RecordingFailed(recording=name, reason=str(exc)))
            self.engine.metrics.recording_failures.inc()

    def _expect_recording_end(self, name: str) -> None:
        """The bridge recording ``name`` runs: its end (RecordingFinished/Failed) resolves a future that
        ``end_bridge`` waits for."""
        self.call_recording = name
        self.registry.add_recording(name, self)
        self._recordings.setdefault(name, asyncio.get_running_loop().create_future())

    async def end_bridge(self, bridge_id: str) -> None:
        """The conversation is over: stop its recording, wait (bounded) until Asterisk reports its end, and
        only then destroy the bridge. A bridge destroyed while recorded loses RecordingFinished (issue 11
        §3); an end still not reported is reconciled from Asterisk's stored recordings."""
        name, self.call_recording = self.call_recording, None
        if name is not None:
            await self.engine.finish_recording(self, name, self._recordings.get(name))
        await self.engine.destroy_bridge(bridge_id)

    async def wait_conversation(self, leg: Leg) -> None:
        """Until the caller hangs up or every party they talk to has; then hang up the rest. Call control
        (hold, transfer, conference) changes ``parties`` meanwhile and sets ``parties_changed``."""
        if leg not in self.parties:
            self.parties = [leg]
        control = self.engine.control
        while True:
            live = [p for p in self.parties if not p.gone.is_set()]
            if not live and not control.keeps_caller(self):
                break
            self.parties_changed.clear()
            waits = [
                asyncio.ensure_future(self.gone.wait()),
                asyncio.ensure_future(self.parties_changed.wait()),
            ]
            waits += [asyncio.ensure_future(p.gone.wait()) for p in live]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            if self.gone.is_set():
                break
            for p in live:
                if p.gone.is_set():
                    await control.party_left(self, p)
        if not self.gone.is_set():
            self.hangup_by = self.hangup_by or ("agent" if leg.kind == "agent" else "other")
            await self.hangup()
        else:
            for p in self.parties:
                await self.engine.hangup_leg(p)

    # ---- voicemail, transfer, hang-up ---------------------------------------------------------------
    async def record_message(self, name: str, *, max_s: float, beep: bool = True) -> RecordResult:
        """The scenario's ``name`` is only a label: the message is filed in the dated layout of
        docs/recording.md (``YYYY/MM/DD/<call id>-voicemail``), and ``RecordResult.name`` says where."""
        name = self.engine.voicemail_name(self)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._recordings[name] = fut
        self.registry.add_recording(name, self)
        fmt = self.engine.settings.recording.format
        await self.save(phase="voicemail", recording=name)
        await self._ari(
            self.ari.channels.record(
                self.channel_id,
                name,
                fmt,
                max_duration_s=int(max_s),
                max_silence_s=5,
                if_exists="overwrite",
                beep=beep,
                terminate_on="#",
            )
        )
        self.emit(ev.RecordingStarted(recording=name, path=f"{name}.{fmt}", kind="voicemail"))
        self.engine.recording_started(self, name, kind="voicemail", agent=None)
        return await self.message_recorded(name, max_s=max_s)

    async def message_recorded(self, name: str, *, max_s: float) -> RecordResult:
        """A voicemail normally ends with the caller hanging up: wait for the recording, not the caller."""
        fut = self._recordings.get(name)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._recordings[name] = fut
            self.registry.add_recording(name, self)
        try:
            info = await asyncio.wait_for(asyncio.shield(fut), self.engine.clock.real_seconds(max_s + 10))
        except TimeoutError:
            info = {"duration": 0, "state": "timeout"}
        path = self.engine.recording_path(name, self.engine.settings.recording.format)
        duration = float(info.get("duration") or 0)
        # Only an end Asterisk reported says how long the message is (a time-out knows nothing).
        empty = info.get("state") == "done" and duration < EMPTY_MESSAGE_S
        return RecordResult(
            name=name, path=str(path) if path.exists() else None, duration_s=duration, empty=empty
        )

    def recording_done(self, name: str, info: dict[str, Any]) -> None:
        fut = self._recordings.pop(name, None)
        self.registry.drop_recording(name)
        if fut is not None and not fut.done():
            fut.set_result(info)

    async def dial_out(self, endpoint: str, *, timeout_s: float, caller_id: str | None = None) -> DialResult:
        await self.save(phase="transferring", step=self.info.step)
        leg = await self.engine.originate_leg(
            self, endpoint, kind="out", timeout_s=timeout_s, caller_id=caller_id or self.info.caller
        )
        answered = await self._until(asyncio.shield(leg.answered))
        if not answered:
            await self.save(phase="ivr")
            outcome = {"busy": "busy", "no_answer": "no_answer"}.get(leg.result, "failed")
            return DialResult(outcome)  # type: ignore[arg-type]
        await self.converse(leg, queue=None, record=False)
        return DialResult("answered")

    async def hangup(self, reason: str = "normal") -> None:
        self.hangup_by = self.hangup_by or "system"
        with contextlib.suppress(AriError):
            await self.ari.channels.hangup(self.channel_id, reason)
        self.gone.set()
