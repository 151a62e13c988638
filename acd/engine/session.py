"""One caller in Stasis: the ``CallControl`` a scenario drives, carried out over ARI.

A session owns the caller's channel and waits for the events that concern it (playbacks, DTMF,
recordings, the hang-up). Every wait also watches ``gone``: once the caller has hung up, whatever the
scenario awaits raises ``CallerHungUp``. The queue part (music on hold, announcements, offers to agents,
the bridge) is split between this class and the engine, which owns the ACD core and the agent legs.

Per-call facts a restarted daemon needs are written on the channel as variables (``ACD_*``), so that
``resync`` can rebuild the session from Asterisk alone (wazo-calld does the same).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from acd.ari.errors import AriError, AriNotFound
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

log = structlog.get_logger(__name__)
T = TypeVar("T")
STATE_VAR = "ACD_STATE"


def encode_state(values: dict[str, str]) -> str:
    """``k=v;k=v``: the values are ids, numbers, queue names and epoch times, never ';' or '='."""
    return ";".join(f"{k}={v.replace(';', ',').replace('=', ':')}" for k, v in values.items())


def decode_state(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and key:
            out[key] = value
    return out


@dataclass
class Leg:
    """A channel the daemon dialled for this call: an agent's phone, or an external number."""

    channel_id: str
    call_id: str
    kind: str  # "agent" | "out"
    agent_id: str | None = None
    answered: asyncio.Future[bool] | None = None
    """Resolves True when the leg enters Stasis (answered), False when it failed; its ``result`` says why."""
    result: str = ""
    gone: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self.answered = asyncio.get_running_loop().create_future()
        self.gone = asyncio.Event()

    def fail(self, result: str) -> None:
        assert self.answered is not None and self.gone is not None
        self.result = self.result or result
        if not self.answered.done():
            self.answered.set_result(False)
        self.gone.set()


class CallSession(CallControl):
    def __init__(self, engine: Engine, info: CallInfo, channel_name: str = "") -> None:
        self.engine = engine
        self.ari = engine.ari
        self.info = info
        self.channel_id = info.call_id
        self.channel_name = channel_name
        self.gone = asyncio.Event()
        self.hangup_by: str | None = None
        self.hangup_cause: int | None = None
        self.gone_at: float | None = None
        """When the caller hung up, by Asterisk's event timestamp."""
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()
        self.playbacks: dict[str, asyncio.Future[str]] = {}
        self.recordings: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # queue state
        self.queue: str | None = None
        self.hold = HoldSpec()
        self.queue_result: asyncio.Future[QueueResult] | None = None
        self.connecting = False
        self.moh_on = False
        self.announcing: str | None = None
        self.legs: dict[str, Leg] = {}
        self.bridge_id: str | None = None
        self.task: asyncio.Task[Any] | None = None
        self.ended_emitted = False
        self.arrived_at = 0.0
        self.recording_count = 0
        self.saved: dict[str, str] = {}
        """What is written in ACD_STATE on the channel."""

    # ---- plumbing -------------------------------------------------------------------------------
    def now(self) -> float:
        return self.engine.clock.now()

    def emit(self, kind: str, /, **data: object) -> None:
        self.engine.emit_call(self.channel_id, kind, data)

    def log(self) -> Any:
        return log.bind(call_id=self.channel_id)

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

    async def set_vars(self, **values: object) -> None:
        """Keep what a restarted daemon needs on the channel itself, in ONE variable (``ACD_STATE``,
        ``k=v;k=v``): one request per change, and a crash can never leave half of a change written."""
        self.saved.update({k: str(v) for k, v in values.items()})
        try:
            await self.ari.channels.set_var(self.channel_id, STATE_VAR, encode_state(self.saved))
        except AriError as exc:
            if not isinstance(exc, AriNotFound):
                self.log().warning("set_var_failed", error=str(exc))

    # ---- CallControl ----------------------------------------------------------------------------
    async def answer(self) -> None:
        await self._ari(self.ari.channels.answer(self.channel_id))
        now = self.now()
        self.engine.emit_milestone(self.channel_id, "answered", now, {})
        await self.set_vars(answered=f"{now:.3f}")

    def _lang(self) -> str:
        return self.info.language

    async def _start_playback(self, media: list[str]) -> tuple[str, asyncio.Future[str]]:
        playback_id = self.engine.new_id("pb")
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.playbacks[playback_id] = fut
        self.engine.playbacks[playback_id] = self
        try:
            await self._ari(
                self.ari.channels.play(self.channel_id, media, lang=self._lang(), playback_id=playback_id)
            )
        except AriError as exc:
            self._forget_playback(playback_id)
            self.log().warning("play_failed", media=media, error=str(exc))
            fut = asyncio.get_running_loop().create_future()
            fut.set_result("failed")
        return playback_id, fut

    def _forget_playback(self, playback_id: str) -> None:
        self.playbacks.pop(playback_id, None)
        self.engine.playbacks.pop(playback_id, None)

    def playback_finished(self, playback_id: str, state: str) -> None:
        fut = self.playbacks.pop(playback_id, None)
        self.engine.playbacks.pop(playback_id, None)
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

    async def enqueue(self, queue: str, *, priority: int = 0, hold: HoldSpec = HoldSpec()) -> QueueResult:
        self.queue, self.hold = queue, hold
        self.queue_result = asyncio.get_running_loop().create_future()
        entered = self.now()
        await self.set_vars(
            state="queued", queue=queue, entered=f"{entered:.3f}", priority=priority, lang=self.info.language
        )
        await self.start_moh()
        self.engine.enqueue(self, queue, priority=priority, entered_at=entered)
        # after the core has placed the caller, so queue_log's ENTERQUEUE carries the real position
        position = self.engine.acd.position(self.channel_id) or 1
        self.engine.emit_milestone(
            self.channel_id, "queued", entered, {"queue": queue, "priority": priority, "position": position}
        )
        try:
            return await self._until(self.queue_result)
        finally:
            self.queue = None

    async def start_moh(self) -> None:
        if self.moh_on or self.gone.is_set():
            return
        self.moh_on = True
        try:
            await self._ari(self.ari.channels.start_moh(self.channel_id, self.hold.moh_class))
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
        if self.announcing or not media or not self.waiting():
            return
        await self.stop_moh()
        if not self.waiting():
            return
        playback_id, done = await self._start_playback(media)
        self.announcing = playback_id
        try:
            await self._until(done)
        except CallerHungUp:
            return
        finally:
            self.announcing = None
        if not self.connecting and self.queue is not None:
            await self.start_moh()

    def waiting(self) -> bool:
        """Still in a queue, not being connected, not gone: announcements make sense only then."""
        return (
            self.queue_result is not None
            and not self.queue_result.done()
            and not self.connecting
            and not self.gone.is_set()
        )

    async def record_message(self, name: str, *, max_s: float, beep: bool = True) -> RecordResult:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.recordings[name] = fut
        self.engine.recordings[name] = self
        fmt = self.engine.settings.recording.format
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
        self.emit("recording_started", recording=name, path=f"{name}.{fmt}", kind="voicemail")
        self.engine.recording_started(self, name, kind="voicemail", agent=None)
        # A voicemail normally ends with the caller hanging up: wait for the recording, not for the caller.
        try:
            info = await asyncio.wait_for(asyncio.shield(fut), self.engine.clock.real_seconds(max_s + 10))
        except TimeoutError:
            info = {"duration": 0, "state": "timeout"}
        path = self.engine.recording_path(name, fmt)
        return RecordResult(
            name=name, path=str(path) if path.exists() else None, duration_s=float(info.get("duration") or 0)
        )

    def recording_done(self, name: str, info: dict[str, Any]) -> None:
        fut = self.recordings.pop(name, None)
        self.engine.recordings.pop(name, None)
        if fut is not None and not fut.done():
            fut.set_result(info)

    async def dial_out(self, endpoint: str, *, timeout_s: float, caller_id: str | None = None) -> DialResult:
        leg = await self.engine.originate_leg(
            self, endpoint, kind="out", timeout_s=timeout_s, caller_id=caller_id or self.info.caller
        )
        assert leg.answered is not None
        answered = await self._until(asyncio.shield(leg.answered))
        if not answered:
            outcome = {"busy": "busy", "no_answer": "no_answer"}.get(leg.result, "failed")
            return DialResult(outcome)  # type: ignore[arg-type]
        await self.stop_moh()
        await self.engine.bridge_and_wait(self, leg, record=False)
        return DialResult("answered")

    async def hangup(self, reason: str = "normal") -> None:
        self.hangup_by = self.hangup_by or "system"
        with contextlib.suppress(AriError):
            await self.ari.channels.hangup(self.channel_id, reason)
        self.gone.set()
