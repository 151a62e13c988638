"""Call control for agents (R13) on a connected call: hold, resume, mute, DTMF, consultation, attended and
blind transfer, conference.

How it is done over ARI (docs/decisions/engine-07-agent-call-control.md):
- The conversation's mixing bridge (the one being recorded) stays the same from the answer to the end, so
  the recording goes on across hold, consultation and conference and stays ONE file and one call.
- Hold takes the caller out of that bridge and starts music on hold on the caller's channel; resume stops
  the music and puts the caller back. One ``hold`` CDR event per hold period (its seconds) feeds
  ``calls.hold_s``.
- A consultation holds the caller, dials the target into our app (a leg like an offer's) and, once it
  answers, adds it to the bridge: the agent talks with the consulted party, the caller hears music.
  Complete (attended transfer) puts the caller back in the bridge and hangs up the first agent, who goes
  to wrap-up; cancel hangs up the consulted party and puts the caller back; conference puts the caller back
  with both.
- A blind transfer releases the agent at once (wrap-up), the caller hears music while the target rings,
  and is bridged with the target when it answers.

The session's ``parties`` list says who the caller is talking to; ``CallSession.wait_conversation`` ends
the call when the caller or every party has gone, and asks ``party_left`` / ``keeps_caller`` here first.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from acd import events as ev
from acd.ari.errors import AriError
from acd.callcontrol import (
    CallControlError,
    CallNotFound,
    CallStatus,
    ConsultState,
    ConsultStatus,
    InvalidCallState,
    ListenMode,
    ListenStatus,
    NotYourCall,
    Target,
    TargetUnavailable,
)

if TYPE_CHECKING:
    from acd.engine.engine import Engine
    from acd.engine.session import CallSession, Leg

log = structlog.get_logger(__name__)

__all__ = [
    "CallControlError", "CallController", "CallNotFound", "CallStatus", "InvalidCallState", "NotYourCall",
    "Target", "TargetUnavailable",
]


@dataclass
class _Consult:
    target: Target
    leg: Leg | None = None
    agent: str | None = None
    state: ConsultState = "ringing"
    alias: str | None = None
    """The id under which the consulted agent is on a call in the core (they are busy, not offered calls)."""
    blind: bool = False
    task: asyncio.Task[None] | None = None


@dataclass
class _Control:
    """Call control's state of one connected call."""

    held_since: float | None = None
    muted: bool = False
    conference: bool = False
    consult: _Consult | None = None
    blind: _Consult | None = None
    aliases: list[str] = field(default_factory=list)


class CallController:
    """The engine's call-control operations. Every method checks that ``agent`` (None: a supervisor or the
    system) is the agent talking on the call, and raises a ``CallControlError`` with a clear message."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._calls: dict[str, _Control] = {}
        self._aliases: dict[str, str] = {}
        self._seq = 0

    # ---- hooks for the session and the engine --------------------------------------------------------
    def call_of_alias(self, call_id: str) -> str | None:
        return self._aliases.get(call_id)

    def keeps_caller(self, session: CallSession) -> bool:
        """True while a blind transfer rings: the caller has no party but the call goes on."""
        c = self._calls.get(session.channel_id)
        return c is not None and c.blind is not None and c.blind.state == "ringing"

    async def party_left(self, session: CallSession, leg: Leg) -> None:
        """A party of the conversation hung up. The agent hanging up during an answered consultation
        completes the transfer, as Asterisk's attended transfer does."""
        c = self._calls.get(session.channel_id)
        if c is None or c.consult is None or c.consult.state != "answered" or leg.kind != "agent":
            return
        if c.consult.leg is leg:
            return
        with contextlib.suppress(CallControlError, AriError):
            await self._complete(session, c, leg, by=leg.agent_id or "agent")

    def ended(self, session: CallSession) -> None:
        """The call is over: close the hold period, hang up a consultation still under way."""
        c = self._calls.pop(session.channel_id, None)
        if c is None:
            return
        self._close_hold(session, c, agent=self._agent_of(session))
        for consult in (c.consult, c.blind):
            if consult is None:
                continue
            if consult.task is not None:
                consult.task.cancel()
            if consult.leg is not None and consult.leg not in session.parties:
                self.engine.forget_leg(consult.leg)
                self.engine.spawn(self.engine.hangup_leg(consult.leg))
                self._release_alias(consult)
        # after the release that follows (its wrap-up is booked on the caller's call through the alias)
        asyncio.get_running_loop().call_soon(self._drop_aliases, list(c.aliases))

    def _drop_aliases(self, aliases: list[str]) -> None:
        for alias in aliases:
            self._aliases.pop(alias, None)

    # ---- look-ups -------------------------------------------------------------------------------------
    def _session(self, call_id: str) -> CallSession:
        session = self.engine.registry.session(call_id)
        if session is None or session.gone.is_set():
            raise CallNotFound(f"no live call {call_id!r}")
        return session

    @staticmethod
    def agent_leg(session: CallSession) -> Leg | None:
        for p in session.parties:
            if p.kind == "agent" and not p.gone.is_set() and not p.released:
                return p
        return None

    def _agent_of(self, session: CallSession) -> str | None:
        leg = self.agent_leg(session)
        return leg.agent_id if leg is not None else None

    def agent_of_call(self, call_id: str) -> str | None:
        """The agent talking on the call now (after a transfer: the new one)."""
        session = self.engine.registry.session(call_id)
        return None if session is None else self._agent_of(session)

    def live_view(self, session: CallSession) -> dict[str, object]:
        """What the live calls list (wallboard, desk) shows of call control: the agent talking now, hold,
        consultation, conference."""
        c = self._calls.get(session.channel_id)
        consult = None if c is None else (c.consult or c.blind)
        return {
            "agent": self._agent_of(session),
            "held": c is not None and c.held_since is not None,
            "muted": c is not None and c.muted,
            "consult": None if consult is None else {"target": str(consult.target), "state": consult.state},
            "conference": c is not None and c.conference,
        }

    def _connected(self, call_id: str, agent: str | None) -> tuple[CallSession, _Control, Leg]:
        session = self._session(call_id)
        leg = self.agent_leg(session)
        if leg is None or session.bridge_id is None:
            raise InvalidCallState(f"call {call_id!r} is not connected to an agent")
        if agent is not None and leg.agent_id != agent:
            raise NotYourCall(f"call {call_id!r} is not yours")
        return session, self._calls.setdefault(call_id, _Control()), leg

    def status(self, call_id: str) -> CallStatus:
        session = self._session(call_id)
        c = self._calls.get(call_id, _Control())
        consult = c.consult or c.blind
        return CallStatus(
            call_id=call_id,
            agent=self._agent_of(session),
            held=c.held_since is not None,
            muted=c.muted,
            conference=c.conference,
            consult=None
            if consult is None
            else ConsultStatus(str(consult.target), consult.state, consult.agent),
            parties=tuple(p.channel_id for p in session.parties if not p.gone.is_set()),
        )

    # ---- hold, mute, DTMF ------------------------------------------------------------------------------
    async def hold(self, call_id: str, *, agent: str | None) -> CallStatus:
        session, c, _leg = self._connected(call_id, agent)
        if c.held_since is not None:
            raise InvalidCallState("the caller is already on hold")
        await self._hold(session, c)
        return self.status(call_id)

    async def _hold(self, session: CallSession, c: _Control) -> None:
        assert session.bridge_id is not None
        c.held_since = self.engine.clock.now()
        with contextlib.suppress(AriError):
            await self.engine.ari.bridges.remove_channel(session.bridge_id, session.channel_id)
        await session.start_moh()

    async def resume(self, call_id: str, *, agent: str | None) -> CallStatus:
        session, c, leg = self._connected(call_id, agent)
        if c.held_since is None:
            raise InvalidCallState("the caller is not on hold")
        if c.consult is not None and c.consult.state != "failed":
            raise InvalidCallState("a consultation is under way: complete, cancel or conference it first")
        c.consult = None  # a consultation that failed is over: back to the caller
        await self._unhold(session, c, leg.agent_id)
        return self.status(call_id)

    async def _unhold(self, session: CallSession, c: _Control, agent: str | None) -> None:
        assert session.bridge_id is not None
        await session.stop_moh()
        await self.engine.ari.bridges.add_channel(session.bridge_id, session.channel_id)
        self._close_hold(session, c, agent=agent)

    def _close_hold(self, session: CallSession, c: _Control, *, agent: str | None) -> None:
        if c.held_since is None:
            return
        seconds = max(0.0, self.engine.clock.now() - c.held_since)
        c.held_since = None
        session.emit(ev.Hold(agent=agent, seconds=round(seconds, 3)))

    async def mute(self, call_id: str, *, agent: str | None, on: bool) -> CallStatus:
        """Mute the agent's microphone (the caller stops hearing them), or unmute it."""
        _session, c, leg = self._connected(call_id, agent)
        if on:
            await self.engine.ari.channels.mute(leg.channel_id, "in")
        else:
            await self.engine.ari.channels.unmute(leg.channel_id, "in")
        c.muted = on
        return self.status(call_id)

    async def dtmf(self, call_id: str, digits: str, *, agent: str | None) -> CallStatus:
        """Send digits to whoever the agent talks to: the consulted party during a consultation, the
        caller otherwise (an IVR at the far end, a PIN)."""
        if not digits or any(ch not in "0123456789*#ABCD" for ch in digits) or len(digits) > 32:
            raise InvalidCallState("DTMF digits must be 1-32 of 0-9 * # A-D")
        session, c, _leg = self._connected(call_id, agent)
        to = session.channel_id
        if c.consult is not None and c.consult.leg is not None and c.consult.state == "answered":
            to = c.consult.leg.channel_id
        await self.engine.ari.channels.send_dtmf(to, digits, between=100)
        return self.status(call_id)

    # ---- hang-up ---------------------------------------------------------------------------------------
    async def hangup(self, call_id: str, *, agent: str | None) -> CallStatus:
        """The agent hangs up from the desk: their own leg is hung up, exactly as the phone's hang-up
        button would, so the rest follows the paths a phone hang-up takes (``wait_conversation``): the
        caller is hung up and the CDR says ``ended by agent``; during an answered consultation the transfer
        is completed (``party_left``), as Asterisk's attended transfer does; in a conference the call goes
        on with the other two."""
        _session, _c, leg = self._connected(call_id, agent)
        before = self.status(call_id)
        log.info("agent_hangup", call_id=call_id, agent=leg.agent_id)
        try:
            await self.engine.ari.channels.hangup(leg.channel_id, "normal")
        except AriError as exc:
            raise InvalidCallState(f"the call could not be hung up: {exc}") from exc
        return CallStatus(call_id=call_id, agent=None, held=False, muted=False, conference=before.conference,
                          consult=before.consult,
                          parties=tuple(p for p in before.parties if p != leg.channel_id))

    # ---- targets ---------------------------------------------------------------------------------------
    def _resolve(self, target: Target, *, exclude: str | None) -> tuple[str, str | None, str]:
        """(endpoint to dial, agent id or None, leg kind) for a target; TargetUnavailable if none."""
        config = self.engine.config
        agents = self.engine.acd.snapshot(self.engine.clock.now()).get("agents", {})

        def ready(agent_id: str) -> bool:
            return str(agents.get(agent_id, {}).get("state")) == "ready" and agent_id != exclude

        match target.kind:
            case "agent":
                a = config.agents.get(target.value)
                if a is None:
                    raise TargetUnavailable(f"unknown agent {target.value!r}")
                if not ready(a.id):
                    raise TargetUnavailable(f"agent {a.id!r} is not ready")
                return a.endpoint or f"PJSIP/{a.id}", a.id, "agent"
            case "queue":
                members = sorted(
                    (a.queues[target.value], a.id)
                    for a in config.agents.values()
                    if target.value in a.queues
                )
                if not members and target.value not in config.queues:
                    raise TargetUnavailable(f"unknown queue {target.value!r}")
                for _prio, agent_id in members:
                    if ready(agent_id):
                        a = config.agents[agent_id]
                        return a.endpoint or f"PJSIP/{a.id}", a.id, "agent"
                raise TargetUnavailable(f"no agent of queue {target.value!r} is ready")
            case "directory":
                for entry in self.engine.settings.directory:
                    if entry.id == target.value:
                        return entry.endpoint, None, "out"
                raise TargetUnavailable(f"no directory entry {target.value!r}")

    def _reserve(self, session: CallSession, c: _Control, consult: _Consult, queue: str) -> bool:
        """The consulted agent answered: the core puts them on a call (under an alias of this call), so
        nobody offers them another one meanwhile."""
        if consult.agent is None:
            return True
        self._seq += 1
        alias = f"{session.channel_id}~{self._seq}"
        if not self.engine.restore_call(alias, consult.agent, queue, connected_at=self.engine.clock.now()):
            return False
        consult.alias = alias
        c.aliases.append(alias)
        self._aliases[alias] = session.channel_id
        return True

    def _release_alias(self, consult: _Consult) -> None:
        """A consulted agent who talked and is no longer needed goes to wrap-up like after any call."""
        if consult.alias is not None and consult.agent is not None:
            consult.alias = None
            self.engine.call_finished(consult.agent)

    async def _dial(self, session: CallSession, c: _Control, consult: _Consult, endpoint: str,
                    kind: str) -> None:
        leg = await self.engine.originate_leg(
            session, endpoint, kind=kind, agent_id=consult.agent, timeout_s=30,
            caller_id=session.info.caller,
        )
        consult.leg = leg
        answered = await leg.answered
        queue = session.saved.queue or (session.queue or "")
        if not answered or session.gone.is_set() or not self._reserve(session, c, consult, queue):
            consult.state = "failed"
            self.engine.forget_leg(leg)
            await self.engine.hangup_leg(leg)
            return
        consult.state = "answered"

    # ---- consultation ---------------------------------------------------------------------------------
    async def consult(self, call_id: str, target: Target, *, agent: str | None) -> CallStatus:
        session, c, leg = self._connected(call_id, agent)
        if c.consult is not None and c.consult.state != "failed":
            raise InvalidCallState("a consultation is already under way")
        if c.conference:
            raise InvalidCallState("the call is a conference already")
        endpoint, target_agent, kind = self._resolve(target, exclude=leg.agent_id)
        if c.held_since is None:
            await self._hold(session, c)
        consult = _Consult(target, agent=target_agent)
        c.consult = consult
        consult.task = self.engine.spawn(self._consult(session, c, consult, endpoint, kind))
        return self.status(call_id)

    async def _consult(self, session: CallSession, c: _Control, consult: _Consult, endpoint: str,
                       kind: str) -> None:
        await self._dial(session, c, consult, endpoint, kind)
        if consult.state != "answered" or session.bridge_id is None:
            return
        assert consult.leg is not None
        await self.engine.ari.bridges.add_channel(session.bridge_id, consult.leg.channel_id)
        await consult.leg.gone.wait()
        if c.consult is consult:  # the consulted party hung up before the agent decided
            consult.state = "failed"
            self._release_alias(consult)

    def _answered_consult(self, call_id: str, agent: str | None) -> tuple[CallSession, _Control, Leg, Leg]:
        session, c, leg = self._connected(call_id, agent)
        consult = c.consult
        if consult is None:
            raise InvalidCallState("no consultation is under way")
        if consult.state != "answered" or consult.leg is None or consult.leg.gone.is_set():
            raise InvalidCallState(f"the consulted party has not answered ({consult.state})")
        return session, c, leg, consult.leg

    async def complete(self, call_id: str, *, agent: str | None) -> CallStatus:
        """Attended transfer: the caller talks with the consulted party, the agent goes to wrap-up."""
        session, c, leg, _other = self._answered_consult(call_id, agent)
        await self._complete(session, c, leg, by=leg.agent_id or "agent")
        return self.status(call_id)

    async def _complete(self, session: CallSession, c: _Control, leg: Leg, *, by: str) -> None:
        consult = c.consult
        assert consult is not None and consult.leg is not None
        other = consult.leg
        c.consult = None
        if consult.task is not None:
            consult.task.cancel()
        self._close_hold(session, c, agent=leg.agent_id)
        session.emit(ev.Transfer(kind="attended", target=str(consult.target), by=by, agent=consult.agent))
        session.parties = [other]
        self._release_agent(leg)
        session.parties_changed.set()
        await session.stop_moh()
        with contextlib.suppress(AriError):
            await self.engine.ari.bridges.add_channel(session.bridge_id or "", session.channel_id)
        await self.engine.hangup_leg(leg)
        await session.save(agent=consult.agent or "", peer=other.channel_id)

    def _release_agent(self, leg: Leg) -> None:
        """The first agent leaves the call: wrap-up now, not when the caller hangs up."""
        self.engine.forget_leg(leg)
        if leg.agent_id and not leg.released:
            leg.released = True
            self.engine.call_finished(leg.agent_id)

    async def cancel(self, call_id: str, *, agent: str | None) -> CallStatus:
        """Back to the caller: the consulted party is hung up (an agent of ours goes to wrap-up)."""
        session, c, leg = self._connected(call_id, agent)
        consult = c.consult
        if consult is None:
            raise InvalidCallState("no consultation is under way")
        c.consult = None
        if consult.task is not None:
            consult.task.cancel()
        if consult.leg is not None:
            self.engine.forget_leg(consult.leg)
            await self.engine.hangup_leg(consult.leg)
        self._release_alias(consult)
        session.emit(ev.Step(step="consult_cancelled", detail=str(consult.target)))
        await self._unhold(session, c, leg.agent_id)
        return self.status(call_id)

    async def conference(self, call_id: str, *, agent: str | None) -> CallStatus:
        """All three in the bridge; the call goes on while the caller and one party remain."""
        session, c, leg, other = self._answered_consult(call_id, agent)
        consult = c.consult
        assert consult is not None
        c.consult = None
        if consult.task is not None:
            consult.task.cancel()
        c.conference = True
        session.emit(ev.Conference(agent=leg.agent_id, target=str(consult.target), party=consult.agent))
        session.parties = [leg, other]
        session.parties_changed.set()
        await self._unhold(session, c, leg.agent_id)
        return self.status(call_id)

    # ---- blind transfer ---------------------------------------------------------------------------------
    async def blind_transfer(self, call_id: str, target: Target, *, agent: str | None) -> CallStatus:
        """The agent is released at once; the caller hears music until the target answers, then talks to
        it in the same (recorded) bridge. A target that does not answer ends the call."""
        session, c, leg = self._connected(call_id, agent)
        if c.consult is not None:
            raise InvalidCallState("a consultation is under way: complete or cancel it")
        endpoint, target_agent, kind = self._resolve(target, exclude=leg.agent_id)
        consult = _Consult(target, agent=target_agent, blind=True)
        c.blind = consult
        if c.held_since is None:
            await self._hold(session, c)
        self._close_hold(session, c, agent=leg.agent_id)
        c.held_since = self.engine.clock.now()
        session.emit(ev.Transfer(kind="blind", target=str(target), by=leg.agent_id or "agent",
                                 agent=target_agent))
        session.parties = []
        self._release_agent(leg)
        session.parties_changed.set()
        await self.engine.hangup_leg(leg)
        # A daemon restarted before the target answers finds the call "transferring" at its queue step: the
        # caller is queued again rather than dropped (the ringing target is hung up by the resync).
        await session.save(phase="transferring", agent="", peer="")
        consult.task = self.engine.spawn(self._blind(session, c, consult, endpoint, kind))
        return self.status(call_id)

    async def _blind(self, session: CallSession, c: _Control, consult: _Consult, endpoint: str,
                     kind: str) -> None:
        try:
            await self._dial(session, c, consult, endpoint, kind)
            if consult.state != "answered" or consult.leg is None or session.bridge_id is None:
                session.hangup_by = "system"
                session.emit(ev.Step(step="transfer_failed", detail=str(consult.target)))
                return
            c.held_since = None  # waiting for a blind transfer is not hold time of an agent
            await session.stop_moh()
            await self.engine.ari.bridges.add_channel(
                session.bridge_id, [session.channel_id, consult.leg.channel_id]
            )
            session.parties = [consult.leg]
            await session.save(phase="connected", agent=consult.agent or "", peer=consult.leg.channel_id)
        finally:
            c.blind = None
            session.parties_changed.set()

    # ---- supervisors' listening (acd/engine/snoop.py), for the web API's one port -------------------------
    async def listen(self, call_id: str, *, supervisor: str, endpoint: str, mode: ListenMode) -> ListenStatus:
        return await self.engine.listening.start(call_id, supervisor=supervisor, endpoint=endpoint, mode=mode)

    async def listen_mode(self, session_id: str, mode: ListenMode, *, supervisor: str | None) -> ListenStatus:
        return await self.engine.listening.set_mode(session_id, mode, supervisor=supervisor)

    async def listen_stop(self, session_id: str, *, supervisor: str | None) -> ListenStatus:
        return await self.engine.listening.stop(session_id, supervisor=supervisor)

    def listen_status(self, session_id: str, *, supervisor: str | None) -> ListenStatus:
        return self.engine.listening.status(session_id, supervisor=supervisor)

    def listen_sessions(self, *, supervisor: str | None) -> list[ListenStatus]:
        return self.engine.listening.sessions_of(supervisor)
