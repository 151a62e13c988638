"""The ACD core: queues, agents and distribution as one object with no I/O (R1, R3-R6).

Theory of operation, h11 style. Inputs are method calls that carry ``now`` (epoch seconds UTC, from the
driver's clock); outputs are lists of decisions (``acd.core.decisions``) to carry out in order. Nothing
here sleeps, reads a clock or talks to the network: the driver asks :meth:`Acd.next_deadline`, sleeps
until then (or until the next input) and calls :meth:`Acd.tick`.

Routing is event-driven, from both sides:

* a call that enters a queue is offered at once to the best free eligible agent (the queue's strategy);
* an agent who becomes free (ready, wrap-up over, phone reachable again) takes the best eligible waiting
  call across their queues: their priority for the queue first, then the caller's priority, then the
  entry time, so queues of equal priority are served fairly by age.

A call is offered to one agent at a time; an agent holds one call at a time. A missed call (ring time-out
or rejection) goes back to its place in line with its original entry time, the agent follows the queue's
no-answer policy, and the call is offered again at once, the agents who missed it last.

Agent state changes go through ``acd.core.agents`` (one table). A not_ready or logged_out asked for while
the agent is ringing or on a call is kept *pending* and applies when the call (and its wrap-up) is over;
a supervisor's ``by`` is kept with it.
"""

from __future__ import annotations

import random as _random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from acd.core.agents import (
    LOGGED_IN_STATES,
    SERVING_STATES,
    Agent,
    AgentEvent,
    AgentState,
    local_day,
    next_local_midnight,
)
from acd.core.config import AgentConfig, QueueConfig
from acd.core.decisions import (
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
from acd.core.eligibility import eligible, next_relax_at, requirements, stage_at
from acd.core.free_agents import FreeAgents
from acd.core.prediction import (
    DEFAULT_ESTIMATOR,
    QueueHistory,
    QueueStatistics,
    QueueView,
    WaitEstimate,
    estimate,
)
from acd.core.queues import Call, CallState, WaitingQueue
from acd.core.timers import Timer, TimerKind, Timers

__all__ = ["Acd", "AcdError"]

_STATE_REQUESTS = ("logged_out", "ready", "not_ready")
_BUSY = frozenset({AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP})


REAL_REASONS = frozenset({"busy", "unreachable"})
"""Offer failures that become the agent's not-ready reason themselves, instead of the no-answer policy's."""


class AcdError(ValueError):
    """An input the core cannot accept: unknown agent or queue, a duplicate call, an offer answered by the
    wrong agent or after it was cancelled. The core's state is unchanged when it is raised."""


@dataclass
class _DayFigures:
    """A queue's figures since local midnight, for the wallboard (reports compute their own from the CDR)."""

    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    overflowed: int = 0


class Acd:
    """The ACD core. See the module docstring and docs/acd-core.md."""

    def __init__(
        self,
        queues: list[QueueConfig],
        agents: list[AgentConfig],
        *,
        tz: str = "Asia/Almaty",
        now: float,
        estimator: str | None = None,
        seed: int = 0,
    ) -> None:
        self._tz = ZoneInfo(tz)
        self._estimator = estimator or DEFAULT_ESTIMATOR
        self._rng = _random.Random(seed)
        self._now = now
        self._day = local_day(now, self._tz)
        self._agents: dict[str, Agent] = {}
        self._queues: dict[str, QueueConfig] = {}
        self._retired: dict[str, QueueConfig] = {}
        self._waiting: dict[str, WaitingQueue] = {}
        self._members: dict[str, dict[str, int]] = {}
        self._stats: dict[str, QueueStatistics] = {}
        self._les: dict[str, float | None] = {}
        self._figures: dict[str, _DayFigures] = {}
        self._calls: dict[str, Call] = {}
        self._free = FreeAgents(self._agents)
        self._timers = Timers()
        self._seq = 0
        self._offer_seq = 0
        self._roster_version = 0
        self._free_epoch = 0
        """Bumped whenever an agent becomes free: a call nobody free could take may now be taken."""
        self._nobody_fits: dict[tuple[str, str | None, int], int] = {}
        """(queue, language, stage) -> free epoch at which no free agent fitted: skip the same search."""
        self._count_cache: dict[tuple[str, str | None, int, bool], tuple[int, int]] = {}
        self._requirements_cache: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
        self._install(queues, agents)
        self._timers.add(next_local_midnight(now, self._tz), TimerKind.MIDNIGHT)

    # ------------------------------------------------------------------ configuration

    def _install(self, queues: list[QueueConfig], agents: list[AgentConfig]) -> None:
        names = [q.name for q in queues]
        if len(set(names)) != len(names):
            raise AcdError(f"duplicate queue names in {names}")
        ids = [a.id for a in agents]
        if len(set(ids)) != len(ids):
            raise AcdError(f"duplicate agent ids in {ids}")
        self._queues = {q.name: q for q in queues}
        for q in queues:
            self._retired.pop(q.name, None)
            self._waiting.setdefault(q.name, WaitingQueue(q.name))
            self._stats.setdefault(q.name, QueueStatistics())
            self._les.setdefault(q.name, None)
            self._figures.setdefault(q.name, _DayFigures())
        for config in agents:
            agent = self._agents.get(config.id)
            if agent is None:
                self._agents[config.id] = Agent(config=config, day=self._day, since=self._now)
            else:
                agent.config = config
                agent.skills = config.all_skills
                agent.removed = False
                optional = {q.name for q in queues if q.optional}
                agent.skipped = frozenset(q for q in agent.skipped if q in optional)
        self._rebuild_indexes()

    def _rebuild_indexes(self) -> None:
        self._members = {name: {} for name in self._queues}
        for agent in self._agents.values():
            if agent.removed:
                continue
            for queue, prio in agent.queues.items():
                if queue in self._members:
                    self._members[queue][agent.id] = prio
        self._free.reset(self._queues)
        for agent in self._agents.values():
            self._reindex(agent)
        self._roster_changed()

    def _queue_config(self, name: str) -> QueueConfig:
        config = self._queues.get(name) or self._retired.get(name)
        if config is None:
            raise AcdError(f"unknown queue {name!r}")
        return config

    def _agent(self, agent_id: str) -> Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise AcdError(f"unknown agent {agent_id!r}")
        return agent

    def _agent_queues(self, agent: Agent) -> list[QueueConfig]:
        return [self._queues[q] for q in agent.queues if q in self._queues]

    # ------------------------------------------------------------------ indexes and caches

    def _roster_changed(self) -> None:
        """Who is logged in, on a break or reachable changed: server counts must be recomputed."""
        self._roster_version += 1

    def _reindex(self, agent: Agent) -> None:
        """The agent may have become or stopped being free: refresh the free-agent index."""
        agent.free_version += 1
        if agent.free:
            self._free_epoch += 1
            agent.random_token = self._rng.random()
            self._free.push(agent, self._agent_queues(agent))

    def _stage(self, queue: QueueConfig, call: Call, now: float) -> int:
        return stage_at(queue, call.entered_at, now)

    def _fits(self, agent: Agent, queue: QueueConfig, language: str | None, stage: int) -> bool:
        key = (queue.name, stage)
        required = self._requirements_cache.get(key)
        if required is None:
            required = self._requirements_cache[key] = requirements(queue, stage)
        return eligible(agent, queue, language, required)

    def _count(self, queue: QueueConfig, language: str | None, stage: int, serving: bool) -> int:
        """Agents of ``queue`` who could take a call in ``language`` at ``stage``.

        ``serving``: ready, ringing, on a call or in wrap-up and reachable (the estimate's servers);
        otherwise every logged-in agent (who could *ever* serve: breaks included).
        """
        key = (queue.name, language if queue.language_skill else None, stage, serving)
        cached = self._count_cache.get(key)
        if cached is not None and cached[0] == self._roster_version:
            return cached[1]
        states = SERVING_STATES if serving else LOGGED_IN_STATES
        count = 0
        for agent_id in self._members.get(queue.name, {}):
            agent = self._agents.get(agent_id)
            if agent is None or agent.state not in states or agent.removed:
                continue
            if serving and not agent.reachable:
                continue
            if self._fits(agent, queue, language, stage):
                count += 1
        self._count_cache[key] = (self._roster_version, count)
        return count

    # ------------------------------------------------------------------ time

    def _advance(self, now: float) -> None:
        """Inputs carry time; a new local day resets the day's figures even if nobody ticked at midnight."""
        self._now = max(self._now, now)
        day = local_day(now, self._tz)
        if day > self._day:
            self._new_day(day)

    def _new_day(self, day: Any) -> None:
        self._day = day
        for agent in self._agents.values():
            agent.roll_day(day)
            self._reindex(agent)  # least_talked_today keys changed
        for name in self._figures:
            self._figures[name] = _DayFigures()

    def next_deadline(self) -> float | None:
        """The earliest pending timer: the driver calls :meth:`tick` then (or at its next input)."""
        while (timer := self._timers.peek()) is not None and not self._timer_live(timer):
            self._timers.pop()
        return timer.at if timer is not None else None

    def tick(self, now: float) -> list[Decision]:
        """Process every timer due at or before ``now``, in time order."""
        out: list[Decision] = []
        while (timer := self._timers.peek()) is not None and timer.at <= now:
            self._timers.pop()
            if self._timer_live(timer):
                self._advance(timer.at)
                out += self._fire(timer, timer.at)
        self._advance(now)
        return out

    def _timer_live(self, timer: Timer) -> bool:
        kind = timer.kind
        if kind is TimerKind.MIDNIGHT:
            return True
        if kind is TimerKind.HELD:
            held = self._agents.get(timer.target)
            return held is not None and held.held_for is not None and held.held_until == timer.version
        if kind is TimerKind.WRAPUP:
            agent = self._agents.get(timer.target)
            return (agent is not None and agent.state is AgentState.WRAP_UP and agent.since == timer.version
                    and agent.wrapup_due == timer.at)
        call = self._calls.get(timer.target)
        if call is None:
            return False
        if kind is TimerKind.RING:
            return call.state is CallState.RINGING and call.offer_version == timer.version
        # Other call timers carry the call's arrival number: a reused call id does not inherit them.
        return call.seq == timer.version and call.state in (CallState.WAITING, CallState.RINGING)

    def _fire(self, timer: Timer, now: float) -> list[Decision]:
        kind = timer.kind
        if kind is TimerKind.MIDNIGHT:
            self._timers.add(next_local_midnight(now, self._tz), TimerKind.MIDNIGHT)
            return []
        if kind is TimerKind.WRAPUP:
            return self._wrapup_over(self._agents[timer.target], now)
        if kind is TimerKind.HELD:
            return self._end_hold(self._agents[timer.target], now)
        call = self._calls[timer.target]
        queue = self._queue_config(call.queue)
        if kind is TimerKind.RING:
            return self._ring_failed(call, now, "timeout")
        if kind is TimerKind.MAX_WAIT:
            if call.virtual:
                return []  # the caller is gone, asked to be called back: the place is kept, never overflowed
            if call.state is CallState.RINGING:
                call.max_wait_due = True
                return []
            return self._overflow(call, now, "max_wait")
        if kind is TimerKind.ANNOUNCE:
            out: list[Decision] = []
            if call.virtual:
                return out  # nobody on the line to hear it
            if call.state is CallState.WAITING:
                out.append(self._announce(call, now))
            if queue.announce_every_s is not None:
                self._timers.add(now + queue.announce_every_s, TimerKind.ANNOUNCE, call.id, call.seq)
            return out
        # RELAX: the call asks less now; a free agent may fit.
        at = next_relax_at(queue, call.entered_at, now)
        if at is not None:
            self._timers.add(at, TimerKind.RELAX, call.id, call.seq)
        if call.state is CallState.WAITING:
            return self._dispatch_call(call, now)
        return []

    # ------------------------------------------------------------------ calls

    def enqueue(
        self,
        call_id: str,
        queue: str,
        now: float,
        *,
        priority: int = 0,
        language: str | None = None,
        entered_at: float | None = None,
        agents: frozenset[str] | None = None,
    ) -> list[Decision]:
        """A caller enters ``queue`` (higher ``priority`` first); ``entered_at`` keeps an earlier entry time
        (e.g. a call overflowed from another queue keeps its age). ``agents``: only these agents may be
        offered the call (an outbound campaign's own agents), on top of the queue's skills and language."""
        if call_id in self._calls:
            raise AcdError(f"call {call_id!r} is already in the core")
        config = self._queues.get(queue)
        if config is None:
            raise AcdError(f"unknown queue {queue!r}")
        self._advance(now)
        self._seq += 1
        call = Call(
            id=call_id,
            queue=queue,
            priority=priority,
            language=language,
            entered_at=now if entered_at is None else entered_at,
            seq=self._seq,
            agents=agents,
        )
        self._calls[call_id] = call
        self._waiting[queue].add(call)
        self._figures[queue].offered += 1
        out: list[Decision] = [self._queued(call, now)]
        if config.when_empty == "overflow" and not self._could_ever_serve(config, call.language):
            return out + self._overflow(call, now, "no_agents")
        if config.max_wait_s is not None:
            self._timers.add(call.entered_at + config.max_wait_s, TimerKind.MAX_WAIT, call_id, call.seq)
        if config.announce_every_s is not None:
            self._timers.add(now + config.announce_every_s, TimerKind.ANNOUNCE, call_id, call.seq)
        relax_at = next_relax_at(config, call.entered_at, now)
        if relax_at is not None:
            self._timers.add(relax_at, TimerKind.RELAX, call_id, call.seq)
        return out + self._dispatch_call(call, now)

    def keep_place(self, call_id: str, now: float, *, hold_s: float) -> list[Decision]:
        """"Keep my place": the waiting caller asked to be called back and hangs up. The entry stays where
        it is (its entry time, priority, language and the queue's skills), so later callers do not pass it,
        but it is never rung: when an agent would have been offered it, that agent gets an
        ``AssignCallback`` instead and is held from inbound offers for ``hold_s`` (or until ``end_hold``).
        Refused (AcdError) unless the call is waiting: a phone ringing for it decides first."""
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.WAITING or call.virtual:
            state = "unknown" if call is None else ("virtual" if call.virtual else call.state.value)
            raise AcdError(f"call {call_id!r} is not waiting in a queue (call is {state})")
        if hold_s <= 0:
            raise AcdError(f"hold_s must be positive, not {hold_s!r}")
        self._advance(now)
        call.virtual = True
        call.hold_s = hold_s
        return []

    def restore_kept_place(
        self,
        call_id: str,
        queue: str,
        now: float,
        *,
        entered_at: float,
        hold_s: float,
        priority: int = 0,
        language: str | None = None,
    ) -> list[Decision]:
        """After a restart: a kept place the previous daemon left (read from the CDR) goes back to its place
        in ``queue`` (its original entry time and priority), virtual as ``keep_place`` left it, and is
        dispatched at once: a free agent it fits gets ``AssignCallback``. Not counted as offered again (the
        day's figures come from the CDR). AcdError for an unknown queue or a call already in the core."""
        if call_id in self._calls:
            raise AcdError(f"call {call_id!r} is already in the core")
        config = self._queues.get(queue)
        if config is None:
            raise AcdError(f"unknown queue {queue!r}")
        if hold_s <= 0:
            raise AcdError(f"hold_s must be positive, not {hold_s!r}")
        self._advance(now)
        self._seq += 1
        call = Call(id=call_id, queue=queue, priority=priority, language=language, entered_at=entered_at,
                    seq=self._seq, virtual=True, hold_s=hold_s)
        self._calls[call_id] = call
        self._waiting[queue].add(call)
        relax_at = next_relax_at(config, call.entered_at, now)
        if relax_at is not None:
            self._timers.add(relax_at, TimerKind.RELAX, call_id, call.seq)
        return self._dispatch_call(call, now)

    def end_hold(self, agent_id: str, now: float) -> list[Decision]:
        """The held agent acted on the callback (or gave it up): inbound offers may come again."""
        agent = self._agent(agent_id)
        self._advance(now)
        return self._end_hold(agent, now)

    def remove_call(self, call_id: str, now: float, reason: str = "abandoned") -> list[Decision]:
        """The caller left while waiting or ringing (hung up, transferred by the scenario, ...).

        Unknown or already connected calls are ignored: a hang-up may race with the core's own decisions.
        """
        call = self._calls.get(call_id)
        if call is None or call.state not in (CallState.WAITING, CallState.RINGING):
            return []
        self._advance(now)
        out: list[Decision] = []
        if call.state is CallState.WAITING:
            self._waiting[call.queue].remove(call)
        else:
            agent = self._agents[call.agent_id or ""]
            out.append(CancelOffer(call.id, agent.id, reason))
            out += self._release_ringing(agent, call, now, missed=False)
        self._end_call(call, reason)
        figures = self._figures.get(call.queue)
        if figures is not None:
            figures.abandoned += 1
        stats = self._stats.get(call.queue)
        if stats is not None:
            stats.wait_ended(now - call.entered_at, reason == "abandoned", now)
        return out + self._dispatch_agents_released(out, now)

    def move_call(self, call_id: str, queue: str, now: float, *, to_head: bool = False) -> list[Decision]:
        """A supervisor moves a waiting caller (R23): to another ``queue`` and/or to the head of its line.

        The caller keeps its arrival time (its wait on the wallboard and in the CDR goes on), so a move
        to another queue is counted like an overflow in the old queue's figures and offered in the new
        one's; the old queue's timers (max wait, announcements, relaxation) die with the old arrival
        number and the new queue's start. ``to_head`` raises the caller's priority just above the current
        head's, so it is served next and later higher-priority callers still go first. A ringing caller is
        refused (the offer decides first); the returned decisions start with the new ``CallQueued``.
        """
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.WAITING:
            raise AcdError(f"call {call_id!r} is not waiting in a queue")
        target = self._queues.get(queue)
        if target is None:
            raise AcdError(f"unknown queue {queue!r}")
        if queue == call.queue and not to_head:
            return []
        self._advance(now)
        self._waiting[call.queue].remove(call)
        if queue != call.queue:
            old = self._figures.get(call.queue)
            if old is not None:
                old.overflowed += 1
            stats = self._stats.get(call.queue)
            if stats is not None:
                stats.wait_ended(now - call.entered_at, False, now)
            self._figures[queue].offered += 1
            call.queue = queue
            call.missed.clear()
            call.max_wait_due = False
        if to_head:
            head = self._waiting[queue].head()
            if head is not None:
                call.priority = max(call.priority, head.priority + 1)
        self._seq += 1
        call.seq = self._seq  # old timers carry the old number: they no longer fire for this call
        self._waiting[queue].add(call)
        if target.max_wait_s is not None:
            due = max(now, call.entered_at + target.max_wait_s)
            self._timers.add(due, TimerKind.MAX_WAIT, call_id, call.seq)
        if target.announce_every_s is not None:
            self._timers.add(now + target.announce_every_s, TimerKind.ANNOUNCE, call_id, call.seq)
        relax_at = next_relax_at(target, call.entered_at, now)
        if relax_at is not None:
            self._timers.add(relax_at, TimerKind.RELAX, call_id, call.seq)
        return [self._queued(call, now), *self._dispatch_call(call, now)]

    def offer_accepted(self, call_id: str, agent_id: str, now: float) -> list[Decision]:
        """The agent answered: they are on the call; the call has left the queue (connected)."""
        call = self._ringing(call_id, agent_id)
        agent = self._agent(agent_id)
        self._advance(now)
        out: list[Decision] = [agent.fire(AgentEvent.ANSWER, now, call_id=call.id)]
        agent.connected_at = now
        agent.call_queue = call.queue
        call.state = CallState.CONNECTED
        call.outcome = "connected"
        waited = now - call.entered_at
        queue = self._queue_config(call.queue)
        self._les[call.queue] = waited
        if call.queue in self._stats:
            self._stats[call.queue].wait_ended(waited, False, now)
        figures = self._figures.get(call.queue)
        if figures is not None:
            figures.answered += 1
            figures.answered_in_sl += waited <= queue.sl_threshold_s
        return out

    def offer_rejected(
        self, call_id: str, agent_id: str, now: float, reason: str = "no_answer"
    ) -> list[Decision]:
        """The offer failed (no answer, busy, unreachable, failed): ring-no-answer (R5)."""
        call = self._ringing(call_id, agent_id)
        self._advance(now)
        return self._ring_failed(call, now, reason)

    def call_finished(self, agent_id: str, now: float) -> list[Decision]:
        """The conversation is over: the agent goes to wrap-up for the queue's ``wrapup_s``."""
        agent = self._agent(agent_id)
        if agent.state is not AgentState.ON_CALL or agent.call_id is None:
            raise AcdError(f"agent {agent_id!r} is not on a call (state {agent.state.value!r})")
        self._advance(now)
        call = self._calls.pop(agent.call_id, None)
        connected_at = agent.connected_at if agent.connected_at is not None else now
        queue = self._queues.get(agent.call_queue or "") or self._retired.get(agent.call_queue or "")
        agent.add_talk(connected_at, now, self._tz)
        if queue is not None and queue.name in self._stats:
            self._stats[queue.name].service_completed(now - connected_at, now)
        if call is not None:
            call.state = CallState.ENDED
        out: list[Decision] = [agent.fire(AgentEvent.HANG_UP, now, call_id=agent.call_id)]
        wrapup = queue.wrapup_s if queue is not None else 0.0
        if wrapup <= 0:
            return out + self._wrapup_over(agent, now)
        agent.wrapup_due, agent.wrapup_extended = now + wrapup, False
        self._timers.add(agent.wrapup_due, TimerKind.WRAPUP, agent.id, agent.since)
        return out

    def extend_wrapup(self, agent_id: str, now: float) -> float:
        """The agent asks for more time in wrap-up: the queue's ``wrapup_extend_s`` is added to the end,
        once per call. Returns the new end; AcdError when the queue does not allow it or it was used."""
        agent = self._agent(agent_id)
        self._advance(now)
        if agent.state is not AgentState.WRAP_UP or agent.wrapup_due is None:
            raise AcdError(f"agent {agent_id!r} is not in wrap-up")
        queue = self._queues.get(agent.call_queue or "") or self._retired.get(agent.call_queue or "")
        extra = queue.wrapup_extend_s if queue is not None else 0.0
        if extra <= 0:
            raise AcdError("this queue does not allow more wrap-up time")
        if agent.wrapup_extended:
            raise AcdError("more time was already given for this call")
        agent.wrapup_due += extra
        agent.wrapup_extended = True
        self._timers.add(agent.wrapup_due, TimerKind.WRAPUP, agent.id, agent.since)
        return agent.wrapup_due

    def restore_call(
        self, call_id: str, agent_id: str, queue: str, now: float, *, connected_at: float
    ) -> None:
        """After a restart: ``agent_id`` is talking on ``call_id`` (from ``queue``) since ``connected_at``."""
        agent = self._agent(agent_id)
        if call_id in self._calls:
            raise AcdError(f"call {call_id!r} is already in the core")
        self._advance(now)
        self._seq += 1
        call = Call(call_id, queue, 0, None, connected_at, self._seq, CallState.CONNECTED, agent_id)
        call.outcome = "connected"
        self._calls[call_id] = call
        agent.fire(AgentEvent.RESTORE, now, call_id=call_id)
        agent.connected_at = connected_at
        agent.call_queue = queue
        self._reindex(agent)
        self._roster_changed()

    def holds(self, call_id: str) -> bool:
        """The call is the core's (waiting, offered or connected): False before its enqueue and after it."""
        return call_id in self._calls

    def position(self, call_id: str) -> int | None:
        """1-based position among the waiting callers of the call's queue; None unless waiting."""
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.WAITING:
            return None
        return self._waiting[call.queue].position(call)

    def estimate(self, call_id: str, now: float) -> WaitEstimate | None:
        """Expected remaining wait of a waiting caller; None unless waiting."""
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.WAITING:
            return None
        return self._estimate(call, now)

    def seed_statistics(self, queue: str, history: QueueHistory) -> None:
        """Start ``queue``'s wait statistics from its history in the CDR (the daemon, at start), so that
        the first callers hear waits measured on this queue rather than a generic prior. Unknown queues
        are ignored (the history may name a queue since removed from the configuration)."""
        stats = self._stats.get(queue)
        if stats is not None:
            stats.seed(history)

    # ------------------------------------------------------------------ agents

    def set_agent_state(
        self, agent_id: str, state: str, now: float, *, reason: str | None = None, by: str | None = None
    ) -> list[Decision]:
        """Log in/out, ready, not ready with a reason; ``by`` names a supervisor forcing it (R4).

        While the agent is ringing or on a call, not_ready and logged_out are kept pending and apply after
        the call and its wrap-up; ready then cancels the pending request. In wrap-up every request applies
        at once (ready ends wrap-up early).
        """
        if state not in _STATE_REQUESTS:
            raise AcdError(f"state must be one of {_STATE_REQUESTS}, not {state!r}")
        agent = self._agent(agent_id)
        if agent.removed and state != "logged_out":
            raise AcdError(f"agent {agent_id!r} was removed from the configuration")
        self._advance(now)
        was_held = agent.held_for is not None
        self._end_hold(agent, now, dispatch=False)  # any request of the agent ends a callback hold
        target = AgentState(state)
        if agent.state in (AgentState.RINGING, AgentState.ON_CALL):
            agent.pending = None if target is AgentState.READY else (target, reason, by)
            return []
        if agent.state is target and (target is not AgentState.NOT_READY or agent.reason == reason):
            return self._dispatch_agent(agent, now) if was_held else []
        event = {
            AgentState.READY: AgentEvent.GO_READY,
            AgentState.NOT_READY: AgentEvent.GO_NOT_READY,
            AgentState.LOGGED_OUT: AgentEvent.LOG_OUT,
        }[target]
        return self._change(agent, event, now, reason=reason, by=by)

    def set_agent_queues(self, agent_id: str, queues: Iterable[str], now: float) -> list[Decision]:
        """The queues the agent works today (chosen at sign-in): of their configured queues, only those
        marked ``optional`` may be left out; every other one stays whatever is asked. The membership
        follows at once (an agent who adds a queue may be offered one of its callers now; callers nobody
        could serve any more overflow as after a log-out). Forgotten at log-out."""
        agent = self._agent(agent_id)
        self._advance(now)
        wanted = set(queues)
        unknown = sorted(wanted - set(agent.config.queues))
        if unknown:
            raise AcdError(f"agent {agent_id!r} does not serve queue {unknown[0]!r}")
        skipped = frozenset(q for q in agent.config.queues if q not in wanted)
        fixed = sorted(q for q in skipped if (c := self._queues.get(q)) is not None and not c.optional)
        if fixed:
            raise AcdError(f"queue {fixed[0]!r} is not optional: every agent of it works it")
        if agent.config.queues and len(skipped) == len(agent.config.queues):
            raise AcdError("choose at least one queue")
        if skipped == agent.skipped:
            return []
        left = [self._queues[q] for q in skipped - agent.skipped if q in self._queues]
        agent.skipped = skipped
        self._membership(agent)
        out: list[Decision] = []
        if agent.state is not AgentState.LOGGED_OUT:
            out += self._overflow_unservable_in(left, now)
        return out + self._dispatch_agent(agent, now)

    def _membership(self, agent: Agent) -> None:
        """The agent's queues changed: the member tables, the counts and the free index follow."""
        for name, members in self._members.items():
            prio = agent.queues.get(name)
            if prio is None or agent.removed:
                members.pop(agent.id, None)
            else:
                members[agent.id] = prio
        self._count_cache.clear()
        self._nobody_fits.clear()
        self._roster_changed()
        self._reindex(agent)

    def call_queue_of(self, agent_id: str) -> str | None:
        """The queue of the call the agent is ringing for, talking on or wrapping up (None: no call)."""
        agent = self._agents.get(agent_id)
        return agent.call_queue if agent is not None else None

    def set_agent_reachable(self, agent_id: str, reachable: bool, now: float) -> list[Decision]:
        """The agent's phone went offline/online; an offline phone is never offered a call."""
        agent = self._agent(agent_id)
        self._advance(now)
        if agent.reachable == reachable:
            return []
        agent.reachable = reachable
        self._roster_changed()
        if not reachable and agent.state is AgentState.RINGING and agent.call_id is not None:
            return self._ring_failed(self._calls[agent.call_id], now, "unreachable")
        self._reindex(agent)
        return self._dispatch_agent(agent, now)

    def set_agent_totals(self, agent_id: str, talk_s: float, calls: int) -> None:
        """Today's talk seconds and calls, rebuilt from the CDR at start-up (restart keeps fairness)."""
        agent = self._agent(agent_id)
        agent.roll_day(self._day)
        agent.talk_today_s = float(talk_s)
        agent.calls_today = int(calls)
        self._reindex(agent)

    def count_unseen_call(self, agent_id: str, connected_at: float, ended_at: float) -> None:
        """A conversation of this agent that ended while no daemon listened (closed from the CDR after a
        restart): it counts in today's talk and calls as a seen one would, without a change of state."""
        agent = self._agent(agent_id)
        agent.add_talk(connected_at, max(connected_at, ended_at), self._tz)
        self._reindex(agent)

    def seed_day_figures(self, queue: str, *, offered: int, answered: int, answered_in_sl: int,
                         abandoned: int, overflowed: int) -> None:
        """Today's figures of ``queue`` as the CDR has them, at start-up (a restart must not zero the
        wallboard). Adds to what the core counted since it started; an unknown queue is ignored (the CDR may
        name a queue since removed)."""
        figures = self._figures.get(queue)
        if figures is None:
            return
        figures.offered += offered
        figures.answered += answered
        figures.answered_in_sl += answered_in_sl
        figures.abandoned += abandoned
        figures.overflowed += overflowed

    # ------------------------------------------------------------------ routing

    def _dispatch_call(self, call: Call, now: float, *, skip: str | None = None) -> list[Decision]:
        """Offer a waiting call to the best free eligible agent of its queue, if any (not ``skip``)."""
        queue = self._queues.get(call.queue)
        if queue is None:
            return []
        stage = self._stage(queue, call, now)
        language = call.language if queue.language_skill else None
        memo = (queue.name, language, stage)
        only = call.agents
        # a call restricted to some agents says nothing about who fits the others: no memo either way
        if skip is None and only is None and self._nobody_fits.get(memo) == self._free_epoch:
            return []  # nobody new is free since the same search found no one
        agent = self._free.best(
            call.queue,
            lambda a: a.id != skip
            and (only is None or a.id in only)
            and self._fits(a, queue, call.language, stage),
            call.missed,
        )
        if agent is None:
            if skip is None and only is None:
                self._nobody_fits[memo] = self._free_epoch
            return []
        return self._offer(call, agent, queue, now)

    def _dispatch_agent(self, agent: Agent, now: float) -> list[Decision]:
        """A free agent takes the best eligible waiting call across their queues."""
        if not agent.free:
            return []
        found = self._best_call(agent, now)
        if found is None:
            return []
        call, queue = found
        return self._offer(call, agent, queue, now)

    def _dispatch_agents_released(self, decisions: Iterable[Decision], now: float) -> list[Decision]:
        """After decisions that may have freed agents (a cancelled ring), let those agents take a call."""
        out: list[Decision] = []
        for decision in list(decisions):
            if isinstance(decision, AgentStateChanged) and decision.state == AgentState.READY.value:
                agent = self._agents.get(decision.agent_id)
                if agent is not None:
                    out += self._dispatch_agent(agent, now)
        return out

    def _best_call(self, agent: Agent, now: float) -> tuple[Call, QueueConfig] | None:
        tiers: dict[int, list[QueueConfig]] = {}
        for name, prio in agent.queues.items():
            queue = self._queues.get(name)
            if queue is not None and len(self._waiting[name]):
                tiers.setdefault(prio, []).append(queue)
        fallback: tuple[Call, QueueConfig] | None = None
        for prio in sorted(tiers):
            best: tuple[Call, QueueConfig] | None = None
            for queue in tiers[prio]:
                found, missed = self._best_in_queue(agent, queue, now)
                if found is not None and (best is None or found.key < best[0].key):
                    best = (found, queue)
                if missed is not None and fallback is None:
                    fallback = (missed, queue)
            if best is not None:
                return best
        return fallback

    def _best_in_queue(self, agent: Agent, queue: QueueConfig, now: float) -> tuple[Call | None, Call | None]:
        """The first call in serving order this agent may take, and the first they already missed."""
        waiting = self._waiting[queue.name]
        best: Call | None = None
        missed: Call | None = None
        for language in waiting.languages():
            if queue.language_skill and language is not None and f"lang:{language}" not in agent.skills:
                continue
            found = None
            for start in waiting.run_heads(language):
                for call in waiting.run_calls(language, start):
                    if not self._fits(agent, queue, language, self._stage(queue, call, now)):
                        break  # the rest of the run waited less: relaxed no further
                    if call.agents is not None and agent.id not in call.agents:
                        continue  # a campaign call of other agents: the ones behind it may fit
                    if agent.id in call.missed:
                        if missed is None or call.key < missed.key:
                            missed = call
                        continue
                    found = call
                    break
                if found is not None:
                    break
            if found is not None and (best is None or found.key < best.key):
                best = found
        return best, missed

    def _offer(self, call: Call, agent: Agent, queue: QueueConfig, now: float) -> list[Decision]:
        if call.virtual:
            return self._assign_callback(call, agent, now)
        self._waiting[call.queue].remove(call)
        call.state = CallState.RINGING
        call.agent_id = agent.id
        call.offer_version += 1
        self._offer_seq += 1
        agent.last_offer_seq[queue.name] = self._offer_seq
        changed = agent.fire(AgentEvent.OFFER, now, call_id=call.id)
        agent.call_queue = call.queue
        self._reindex(agent)
        self._timers.add(now + queue.ring_timeout_s, TimerKind.RING, call.id, call.offer_version)
        return [changed, Offer(call.id, agent.id, queue.name, queue.ring_timeout_s)]

    def _assign_callback(self, call: Call, agent: Agent, now: float) -> list[Decision]:
        """A kept place reached ``agent``: the entry leaves the queue (its wait ends as a served one would:
        the caller did not give up), the agent is held for its callback."""
        self._waiting[call.queue].remove(call)
        self._end_call(call, "callback")
        stats = self._stats.get(call.queue)
        if stats is not None:
            stats.wait_ended(now - call.entered_at, False, now)
        agent.held_for = call.id
        agent.held_until = now + call.hold_s
        self._reindex(agent)
        self._timers.add(agent.held_until, TimerKind.HELD, agent.id, agent.held_until)
        return [AssignCallback(call.id, agent.id, call.queue, call.language, call.entered_at, call.hold_s)]

    def _end_hold(self, agent: Agent, now: float, *, dispatch: bool = True) -> list[Decision]:
        if agent.held_for is None:
            return []
        agent.held_for = agent.held_until = None
        self._reindex(agent)
        return self._dispatch_agent(agent, now) if dispatch else []

    def _ringing(self, call_id: str, agent_id: str) -> Call:
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.RINGING or call.agent_id != agent_id:
            state = "unknown" if call is None else call.state.value
            raise AcdError(f"call {call_id!r} is not ringing agent {agent_id!r} (call is {state})")
        return call

    def _ring_failed(self, call: Call, now: float, reason: str) -> list[Decision]:
        """Ring-no-answer (R5): the call goes back to its place; the agent follows the no-answer policy."""
        agent = self._agents[call.agent_id or ""]
        queue = self._queue_config(call.queue)
        out: list[Decision] = [
            RingNoAnswer(call.id, agent.id, call.queue, reason),
            CancelOffer(call.id, agent.id, reason),
        ]
        out += self._release_ringing(agent, call, now, missed=True, why=reason)
        call.missed.add(agent.id)
        call.state = CallState.WAITING
        call.agent_id = None
        if call.queue not in self._queues:
            self._waiting.setdefault(call.queue, WaitingQueue(call.queue)).add(call)
            return out + self._overflow(call, now, "queue_removed")
        self._waiting[call.queue].add(call)
        if call.max_wait_due:
            out += self._overflow(call, now, "max_wait")
        elif queue.when_empty == "overflow" and not self._could_ever_serve(queue, call.language):
            out += self._overflow(call, now, "no_agents")
        else:
            # Others first; the agent who just missed it takes it back only when nothing else is waiting.
            out += self._dispatch_call(call, now, skip=agent.id)
        return out + self._dispatch_agent(agent, now)

    def _release_ringing(
        self, agent: Agent, call: Call, now: float, *, missed: bool, why: str = "no_answer"
    ) -> list[Decision]:
        # The follow-up routing is the caller's: the call must be back in line first.
        """The agent stops ringing: pending request, removal, no-answer policy, or simply ready again."""
        queue = self._queues.get(call.queue) or self._retired.get(call.queue)
        if agent.removed:
            return self._change(agent, AgentEvent.LOG_OUT, now, call_id=call.id, dispatch=False)
        if agent.pending is not None:
            state, reason, by = agent.pending
            agent.pending = None
            event = AgentEvent.LOG_OUT if state is AgentState.LOGGED_OUT else AgentEvent.NO_ANSWER
            return self._change(agent, event, now, reason=reason, by=by, call_id=call.id, dispatch=False)
        if missed and queue is not None and queue.no_answer.state == "not_ready":
            # A busy or unreachable phone is not a missed call: the agent's state says what happened.
            reason = why if why in REAL_REASONS else queue.no_answer.reason
            return self._change(
                agent, AgentEvent.NO_ANSWER, now, reason=reason, call_id=call.id, dispatch=False
            )
        return self._change(agent, AgentEvent.RING_ENDED, now, call_id=call.id, dispatch=False)

    def _wrapup_over(self, agent: Agent, now: float) -> list[Decision]:
        if agent.removed:
            return self._change(agent, AgentEvent.LOG_OUT, now)
        if agent.pending is not None:
            state, reason, by = agent.pending
            agent.pending = None
            event = AgentEvent.LOG_OUT if state is AgentState.LOGGED_OUT else AgentEvent.GO_NOT_READY
            return self._change(agent, event, now, reason=reason, by=by)
        return self._change(agent, AgentEvent.WRAPUP_DONE, now)

    def _change(
        self,
        agent: Agent,
        event: AgentEvent,
        now: float,
        *,
        reason: str | None = None,
        by: str | None = None,
        call_id: str | None = None,
        dispatch: bool = True,
    ) -> list[Decision]:
        """Fire ``event`` on ``agent`` and follow up: indexes, overflow when the last agent left, routing."""
        before = agent.state
        out: list[Decision] = [agent.fire(event, now, reason=reason, by=by, call_id=call_id)]
        after = agent.state
        if {before, after} & {AgentState.LOGGED_OUT, AgentState.NOT_READY} or before is after:
            self._roster_changed()
        self._reindex(agent)
        if after is AgentState.LOGGED_OUT:
            if agent.skipped:  # the queue choice is for one sign-in: the next one chooses again
                agent.skipped = frozenset()
                self._membership(agent)
            if agent.removed:
                self._forget(agent)
            out += self._overflow_unservable(agent, now)
        if dispatch:
            out += self._dispatch_agent(agent, now)
        return out

    def _forget(self, agent: Agent) -> None:
        """A removed agent is logged out: drop them from every table."""
        del self._agents[agent.id]
        for members in self._members.values():
            members.pop(agent.id, None)
        self._roster_changed()

    # ------------------------------------------------------------------ overflow

    def _could_ever_serve(self, queue: QueueConfig, language: str | None) -> bool:
        return self._count(queue, language, len(queue.relax), serving=False) > 0

    def _overflow_unservable(self, agent: Agent, now: float) -> list[Decision]:
        """An agent logged out: callers nobody logged in could ever serve now overflow (no_agents)."""
        return self._overflow_unservable_in(self._agent_queues(agent), now)

    def _overflow_unservable_in(self, queues: list[QueueConfig], now: float) -> list[Decision]:
        out: list[Decision] = []
        for queue in queues:
            if queue.when_empty != "overflow":
                continue
            waiting = self._waiting[queue.name]
            for language in waiting.languages():
                if not self._could_ever_serve(queue, language):
                    for call in waiting.bucket_calls(language):
                        if not call.virtual:  # a kept place waits for the next agent who can serve it
                            out += self._overflow(call, now, "no_agents")
        return out

    def _overflow(self, call: Call, now: float, reason: str) -> list[Decision]:
        """The call leaves its queue for the queue's overflow target; the driver carries it out (R6)."""
        queue = self._queues.get(call.queue) or self._retired.get(call.queue)
        self._waiting[call.queue].remove(call)
        self._end_call(call, "overflow")
        target = queue.overflow if queue is not None else None
        if queue is not None and queue.overflow_queue not in (None, *self._queues):
            target = None  # the target queue is gone (a reload): the scenario's next step decides
        figures = self._figures.get(call.queue)
        if figures is not None:
            figures.overflowed += 1
        stats = self._stats.get(call.queue)
        if stats is not None:
            stats.wait_ended(now - call.entered_at, False, now)
        return [Overflow(call.id, call.queue, target, reason)]

    def _end_call(self, call: Call, outcome: str) -> None:
        if call.outcome is not None:
            raise AssertionError(f"call {call.id} already ended ({call.outcome})")
        call.outcome = outcome
        call.state = CallState.ENDED
        call.agent_id = None
        del self._calls[call.id]

    # ------------------------------------------------------------------ estimates and snapshot

    def _estimator_of(self, queue: QueueConfig) -> str:
        return queue.estimator or self._estimator

    def _queued(self, call: Call, now: float) -> CallQueued:
        position = self._waiting[call.queue].position(call)
        return CallQueued(call.id, call.queue, position, self._estimate(call, now))

    def _announce(self, call: Call, now: float) -> Announce:
        position = self._waiting[call.queue].position(call)
        return Announce(call.id, call.queue, position, self._estimate(call, now))

    def _estimate(self, call: Call, now: float) -> WaitEstimate:
        queue = self._queue_config(call.queue)
        waiting = self._waiting[call.queue]
        if queue.language_skill:
            ahead = self._effective_ahead(queue, call, now)
            head = waiting.bucket_head(call.language)
        else:
            ahead = waiting.position(call) - 1
            head = waiting.head()
        view = QueueView(
            ahead=ahead,
            servers=self._count(queue, call.language, self._stage(queue, call, now), serving=True),
            elapsed_s=max(0.0, now - call.entered_at),
            hol_elapsed_s=max(0.0, now - (head.entered_at if head is not None else call.entered_at)),
            les_wait_s=self._les.get(call.queue),
        )
        return estimate(view, self._stats[call.queue], self._estimator_of(queue))

    def _effective_ahead(self, queue: QueueConfig, call: Call, now: float) -> int:
        """Callers ahead who compete for this caller's agents: all of its own language, and of each other
        language the share its agents serve too. With bilingual agents a Russian caller ahead delays a
        Kazakh one as much as a Kazakh caller does; with separate teams not at all."""
        waiting = self._waiting[call.queue]
        ahead = float(waiting.ahead_in_bucket(call))
        stage = self._stage(queue, call, now)
        for other in waiting.languages():
            if other == call.language:
                continue
            n_other = waiting.ahead_in_language(call, other)
            if not n_other:
                continue
            servers_other = self._count(queue, other, stage, serving=True)
            if servers_other:
                ahead += n_other * self._count_shared(queue, call.language, other, stage) / servers_other
        return round(ahead)

    def _count_shared(self, queue: QueueConfig, language: str | None, other: str | None, stage: int) -> int:
        """Serving agents of ``queue`` who could take a call in either language (cached per roster)."""
        key = (queue.name, f"{language}|{other}", stage, True)
        cached = self._count_cache.get(key)
        if cached is not None and cached[0] == self._roster_version:
            return cached[1]
        count = 0
        for agent_id in self._members.get(queue.name, {}):
            agent = self._agents.get(agent_id)
            if agent is None or agent.state not in SERVING_STATES or agent.removed or not agent.reachable:
                continue
            if self._fits(agent, queue, language, stage) and self._fits(agent, queue, other, stage):
                count += 1
        self._count_cache[key] = (self._roster_version, count)
        return count

    def _new_caller_estimate(self, queue: QueueConfig, now: float) -> WaitEstimate:
        waiting = self._waiting[queue.name]
        head = waiting.head()
        view = QueueView(
            ahead=len(waiting),
            servers=self._count(queue, None, 0, serving=True),
            elapsed_s=0.0,
            hol_elapsed_s=max(0.0, now - head.entered_at) if head is not None else 0.0,
            les_wait_s=self._les.get(queue.name),
        )
        return estimate(view, self._stats[queue.name], self._estimator_of(queue))

    def snapshot(self, now: float) -> dict[str, Any]:
        """JSON-able state for the wallboard and /metrics: per queue and per agent."""
        queues: dict[str, Any] = {}
        for name, queue in self._queues.items():
            waiting = self._waiting[name]
            head = waiting.head()
            members = [a for a in map(self._agents.get, self._members.get(name, {})) if a is not None]
            ewt = self._new_caller_estimate(queue, now)
            figures = self._figures[name]
            ended = figures.answered + figures.abandoned + figures.overflowed
            queues[name] = {
                "waiting": len(waiting),
                "kept_places": sum(1 for c in waiting.calls() if c.virtual),
                "ringing": sum(1 for a in members if a.state is AgentState.RINGING and a.call_queue == name),
                "longest_wait_s": max(0.0, now - head.entered_at) if head is not None else 0.0,
                "ewt_s": ewt.expected_s,
                "ewt_low_s": ewt.low_s,
                "ewt_high_s": ewt.high_s,
                "ewt_known": ewt.known,
                "agents_logged_in": sum(1 for a in members if a.state is not AgentState.LOGGED_OUT),
                "agents_ready": sum(1 for a in members if a.free),
                "agents_busy": sum(1 for a in members if a.state in _BUSY),
                "offered_today": figures.offered,
                "answered_today": figures.answered,
                "abandoned_today": figures.abandoned,
                "overflowed_today": figures.overflowed,
                "sl_pct": 100.0 * figures.answered_in_sl / ended if ended else None,
            }
        agents: dict[str, Any] = {}
        for agent in self._agents.values():
            agents[agent.id] = {
                "name": agent.config.name,
                "state": agent.state.value,
                "reason": agent.reason,
                "since": agent.since,
                "reachable": agent.reachable,
                "talk_today_s": agent.talk_today_s,
                "calls_today": agent.calls_today,
                "call_id": agent.call_id,
                "queue": agent.call_queue,
                "pending": agent.pending[0].value if agent.pending else None,
                "held_for_callback": agent.held_for,
                "queues": sorted(agent.queues, key=lambda q: (agent.queues[q], q)),
                "skipped": sorted(agent.skipped),
                "wrapup_due": agent.wrapup_due if agent.state is AgentState.WRAP_UP else None,
                "wrapup_extended": agent.wrapup_extended,
            }
        return {"at": now, "queues": queues, "agents": agents}

    # ------------------------------------------------------------------ reload

    def reconfigure(self, queues: list[QueueConfig], agents: list[AgentConfig], now: float) -> list[Decision]:
        """Hot reload: calls in flight keep going; removed agents are logged out once they hold no call;
        callers waiting in a removed queue overflow (reason ``queue_removed``)."""
        self._advance(now)
        out: list[Decision] = []
        old = dict(self._queues)
        keep_ids = {a.id for a in agents}
        self._requirements_cache.clear()
        self._nobody_fits.clear()
        self._install(queues, agents)
        for name, config in old.items():
            if name not in self._queues:
                self._retired[name] = config
        self._count_cache.clear()
        for name in list(self._retired):
            waiting = self._waiting.get(name)
            if waiting is not None:
                for call in waiting.calls():
                    out += self._overflow(call, now, "queue_removed")
            if not any(c.queue == name for c in self._calls.values()):
                self._retired.pop(name)
                self._waiting.pop(name, None)
                self._stats.pop(name, None)
                self._figures.pop(name, None)
                self._les.pop(name, None)
        for agent in list(self._agents.values()):
            if agent.id in keep_ids:
                continue
            agent.removed = True
            self._reindex(agent)
            if agent.state in (AgentState.RINGING, AgentState.ON_CALL):
                continue
            if agent.state is AgentState.LOGGED_OUT:
                self._forget(agent)
            else:
                out += self._change(agent, AgentEvent.LOG_OUT, now, dispatch=False)
        self._rebuild_indexes()
        for queue in queues:
            if queue.when_empty == "overflow":
                waiting = self._waiting[queue.name]
                for language in waiting.languages():
                    if not self._could_ever_serve(queue, language):
                        for call in waiting.bucket_calls(language):
                            out += self._overflow(call, now, "no_agents")
        for agent in sorted(self._agents.values(), key=lambda a: a.idle_since):
            out += self._dispatch_agent(agent, now)
        return out
