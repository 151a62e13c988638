"""Supervisors' listening (R23) through ARI snoop on the agent's channel: listen, whisper, barge.

One listening session = one call to the supervisor's phone, kept while the supervisor switches modes:
- listen: a snoop on the agent's channel with ``spy=both, whisper=none`` in a small mixing bridge with the
  supervisor: they hear the agent and the caller, nobody hears them;
- whisper: a new snoop with ``spy=both, whisper=out`` replaces the first in that bridge (made before the old
  one is hung up, so the supervisor hears no gap): only the agent hears the supervisor;
- barge: the supervisor's channel moves into the call's own bridge (a three-way call, recorded with it);
  the snoop is hung up. Going back to listen or whisper moves the channel back and snoops again.
Every period in one mode is a ``listen`` CDR event when it ends, and a row of ``listen_audit`` (who, whom,
which call, mode, from, to). The agent is not told (it is a quality tool).

A session ends when the supervisor hangs up, when they stop it (API), when the agent leaves the call (a
transfer: the snoop's target is gone) or when the call ends. Sessions do not survive a restart of the
daemon: their channels are legs nobody names and are hung up by the resync (docs/call-control.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from acd import events as ev
from acd.ari.errors import AriError
from acd.callcontrol import (
    CallNotFound,
    InvalidCallState,
    ListenMode,
    ListenNotFound,
    ListenState,
    ListenStatus,
)

if TYPE_CHECKING:
    from acd.engine.engine import Engine
    from acd.engine.session import CallSession, Leg

log = structlog.get_logger(__name__)

@dataclass
class _Listen:
    id: str
    call: CallSession
    supervisor: str
    agent_leg: Leg
    mode: ListenMode
    since: float
    leg: Leg | None = None
    snoop: str | None = None
    bridge: str | None = None
    state: ListenState = "ringing"
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class Listening:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: dict[str, _Listen] = {}

    def _status(self, s: _Listen) -> ListenStatus:
        return ListenStatus(s.id, s.call.channel_id, s.supervisor, s.agent_leg.agent_id, s.mode, s.state)

    def get(self, session_id: str) -> ListenStatus:
        s = self._sessions.get(session_id)
        if s is None:
            raise ListenNotFound(f"no listening session {session_id!r}")
        return self._status(s)

    def sessions(self) -> list[ListenStatus]:
        return [self._status(s) for s in self._sessions.values()]

    def status(self, session_id: str, *, supervisor: str | None) -> ListenStatus:
        """A session of ``supervisor`` (any, for None): the wallboard follows its phone ringing, then on."""
        return self._status(self._own(session_id, supervisor))

    def sessions_of(self, supervisor: str | None) -> list[ListenStatus]:
        return [self._status(s) for s in self._sessions.values()
                if supervisor is None or s.supervisor == supervisor]

    async def start(self, call_id: str, *, supervisor: str, endpoint: str, mode: ListenMode) -> ListenStatus:
        """Call the supervisor's phone; once they answer, they listen in ``mode``."""
        call = self.engine.registry.session(call_id)
        if call is None or call.gone.is_set():
            raise CallNotFound(f"no live call {call_id!r}")
        agent_leg = self.engine.control.agent_leg(call)
        if agent_leg is None or call.bridge_id is None:
            raise InvalidCallState(f"call {call_id!r} is not connected to an agent")
        s = _Listen(self.engine.new_id("listen"), call, supervisor, agent_leg, mode, self.engine.clock.now())
        self._sessions[s.id] = s
        s.task = self.engine.spawn(self._run(s, endpoint), f"listen-{s.id}")
        return self._status(s)

    async def set_mode(self, session_id: str, mode: ListenMode, *, supervisor: str | None) -> ListenStatus:
        s = self._own(session_id, supervisor)
        async with s.lock:
            if s.state == "ended":
                raise InvalidCallState("the listening session has ended")
            if mode != s.mode:
                if s.state == "active":
                    self._audit(s)
                    await self._apply(s, mode)
                s.mode = mode
        return self._status(s)

    async def stop(self, session_id: str, *, supervisor: str | None) -> ListenStatus:
        s = self._own(session_id, supervisor)
        s.stop.set()
        if s.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(s.task)
        return self._status(s)

    def _own(self, session_id: str, supervisor: str | None) -> _Listen:
        s = self._sessions.get(session_id)
        if s is None or (supervisor is not None and s.supervisor != supervisor):
            raise ListenNotFound(f"no listening session {session_id!r}")
        return s

    # ---- the session's life ------------------------------------------------------------------------------
    async def _run(self, s: _Listen, endpoint: str) -> None:
        try:
            s.leg = await self.engine.originate_leg(
                s.call, endpoint, kind="out", timeout_s=30, caller_id=s.call.info.caller
            )
            answered = asyncio.ensure_future(asyncio.shield(s.leg.answered))
            await self._first(s, answered)
            if not (answered.done() and answered.result()) or self._over(s):
                return
            async with s.lock:
                s.state = "active"
                s.since = self.engine.clock.now()
                await self._apply(s, s.mode, first=True)
            await self._first(s, asyncio.ensure_future(s.leg.gone.wait()))
        finally:
            await self._end(s)

    def _over(self, s: _Listen) -> bool:
        return s.stop.is_set() or s.call.gone.is_set() or s.agent_leg.gone.is_set() or s.agent_leg.released

    async def _first(self, s: _Listen, main: asyncio.Future[Any]) -> None:
        """Until ``main`` completes or the session must end (stop, the caller or the agent gone)."""
        waits: list[asyncio.Future[Any]] = [
            main,
            asyncio.ensure_future(s.stop.wait()),
            asyncio.ensure_future(s.call.gone.wait()),
            asyncio.ensure_future(s.agent_leg.gone.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits[1:]:
                w.cancel()
            if not main.done():
                main.cancel()

    async def _apply(self, s: _Listen, mode: ListenMode, *, first: bool = False) -> None:
        """Put the supervisor's channel where ``mode`` wants it, with no gap in what they hear."""
        assert s.leg is not None
        ari = self.engine.ari
        sup = s.leg.channel_id
        call_bridge = s.call.bridge_id or ""
        old_snoop, s.snoop = s.snoop, None
        if mode == "barge":
            if s.bridge is not None:
                with contextlib.suppress(AriError):
                    await ari.bridges.remove_channel(s.bridge, sup)
            await ari.bridges.add_channel(call_bridge, sup)
        else:
            if s.bridge is None:
                s.bridge = (await ari.bridges.create("mixing", bridge_id=self.engine.new_id("lbr"))).id
            snoop_id = self.engine.new_id("snoop")
            await ari.channels.snoop(
                s.agent_leg.channel_id,
                spy="both",
                whisper="out" if mode == "whisper" else "none",
                app=self.engine.settings.ari.app,
                app_args="snoop",
                snoop_id=snoop_id,
            )
            s.snoop = snoop_id
            await ari.bridges.add_channel(s.bridge, snoop_id)
            if first or s.mode == "barge":
                if not first:
                    with contextlib.suppress(AriError):
                        await ari.bridges.remove_channel(call_bridge, sup)
                await ari.bridges.add_channel(s.bridge, sup)
        if old_snoop is not None:
            with contextlib.suppress(AriError):
                await ari.channels.hangup(old_snoop, "normal")
        s.since = self.engine.clock.now()

    def _audit(self, s: _Listen) -> None:
        """One period in one mode, for listen_audit (R23)."""
        self.engine.emit_call(
            s.call.channel_id,
            ev.Listen(
                session=s.id,
                supervisor=s.supervisor,
                agent=s.agent_leg.agent_id,
                mode=s.mode,
                since=round(s.since, 3),
            ),
        )

    async def _end(self, s: _Listen) -> None:
        if s.state == "ended":
            return
        was_active = s.state == "active"
        s.state = "ended"
        if was_active:
            self._audit(s)
        ari = self.engine.ari
        with contextlib.suppress(AriError):
            if s.snoop is not None:
                await ari.channels.hangup(s.snoop, "normal")
        if s.leg is not None:
            self.engine.forget_leg(s.leg)
            await self.engine.hangup_leg(s.leg)
        if s.bridge is not None:
            await self.engine.destroy_bridge(s.bridge)
        self._sessions.pop(s.id, None)
