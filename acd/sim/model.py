"""The traffic simulation proper: the real ACD core driven in virtual time by simulated callers and agents.

The core is the same object the daemon drives (``acd.core.Acd``): the simulation feeds it arrivals,
answers, hang-ups, breaks and ticks, and carries out its decisions, so a what-if run measures the
strategies and estimators that production uses, not a model of them.

Simulated people:
- a caller arrives (``CallSpec``), waits with a patience of their own, and hangs up when it runs out unless
  connected before; once connected, talks for ``talk_s``;
- an agent logs in at the start of their shift, answers an offered call after ``answer_delay_s``, takes
  breaks and logs out at the end of the shift. Breaks and log-outs requested while the agent is ringing
  or on a call wait until that call is over (the core refuses them then, as a real agent could not).

Scoring wait predictions: every caller the core queued without an immediate offer is scored at entry: the
core's own estimate (``core``) and the five estimators computed here on the same view. An abandoner's
would-have-been wait ends when an agent is offered a caller who arrived after them, or an agent becomes
ready with nobody waiting (the "shadow" rule of ``acd.sim.fifo``).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, assert_never

from acd.core import Acd, AgentConfig, QueueConfig
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
from acd.core.prediction import ESTIMATORS, QueueStatistics, QueueView
from acd.sim.scheduler import Handle, Scheduler
from acd.sim.scoring import Accuracy, Scorer
from acd.sim.traffic import HOUR

ENGAGED = frozenset({"ringing", "on_call"})
"""Agent states in which the core refuses a break or a log-out."""


@dataclass(frozen=True)
class CallSpec:
    """One simulated caller: when, where, in which language, how long they talk and how long they wait."""

    at: float
    queue: str
    talk_s: float
    patience_s: float
    language: str | None = None


@dataclass(frozen=True)
class Shift:
    """An agent's presence: logged in ``[start, end)``, not ready during each ``(from, to)`` break."""

    agent_id: str
    start: float
    end: float
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass
class _Call:
    spec: CallSpec
    id: str
    queued_at: float | None = None
    connected_at: float | None = None
    outcome: str | None = None
    patience: Handle | None = None
    offers: dict[str, Handle] = field(default_factory=dict)
    """Pending answers by agent id (the simulated agent picks up after a delay)."""


@dataclass
class _AgentStat:
    state: str = "logged_out"
    since: float = 0.0
    talk_s: float = 0.0
    calls: int = 0
    staffed_s: float = 0.0
    """Seconds logged in and not on a break."""
    pending: list[tuple[str, str | None]] = field(default_factory=list)
    """State changes (state, reason) waiting for the current call to end."""


@dataclass
class SimReport:
    """What an admin asks of a what-if run; times in seconds, rates as fractions 0..1."""

    offered: int
    answered: int
    abandoned: int
    short_abandons: int
    overflowed: int
    service_level: float
    sl_threshold_s: float
    abandon_rate: float
    asa_s: float
    max_wait_s: float
    occupancy: float
    talk_per_agent_s: dict[str, float]
    calls_per_agent: dict[str, int]
    talk_spread_cv: float
    """Coefficient of variation of talk time across agents (0 = perfectly even)."""
    ring_no_answer: int
    announcements: int
    estimators: dict[str, Accuracy]
    scored: int
    range_coverage: dict[str, float]
    """How often the core's announced range held the actual wait (below / inside / above)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandons": self.short_abandons,
            "overflowed": self.overflowed,
            "service_level": round(self.service_level, 4),
            "sl_threshold_s": self.sl_threshold_s,
            "abandon_rate": round(self.abandon_rate, 4),
            "asa_s": round(self.asa_s, 2),
            "max_wait_s": round(self.max_wait_s, 2),
            "occupancy": round(self.occupancy, 4),
            "talk_spread_cv": round(self.talk_spread_cv, 4),
            "talk_per_agent_s": {k: round(v, 1) for k, v in self.talk_per_agent_s.items()},
            "calls_per_agent": self.calls_per_agent,
            "ring_no_answer": self.ring_no_answer,
            "announcements": self.announcements,
            "scored_waits": self.scored,
            "estimators": {k: v.as_dict() for k, v in self.estimators.items()},
            "range_coverage": self.range_coverage,
        }


class Simulation:
    """One run: build it with configs, callers and shifts, call :meth:`run`, read the :class:`SimReport`."""

    def __init__(
        self,
        queues: list[QueueConfig],
        agents: list[AgentConfig],
        calls: Iterable[CallSpec],
        shifts: Sequence[Shift],
        *,
        start: float,
        tz: str = "Asia/Almaty",
        answer_delay_s: float = 2.0,
        short_abandon_s: float = 5.0,
        seed: int = 0,
    ) -> None:
        self.sched = Scheduler(start)
        self.acd = Acd(queues, agents, tz=tz, now=start, seed=seed)
        self.queues = {q.name: q for q in queues}
        self.agent_configs = {a.id: a for a in agents}
        self.answer_delay_s = answer_delay_s
        self.short_abandon_s = short_abandon_s
        self.calls: dict[str, _Call] = {}
        self.agents = {a.id: _AgentStat(since=start) for a in agents}
        self._tick: Handle | None = None
        self.ring_no_answer = 0
        self.announcements = 0
        # per queue: own statistics for the estimators, waiting calls in order, shadows, last connected wait
        self._stats = {q: QueueStatistics() for q in self.queues}
        self._waiting: dict[str, list[tuple[float, str]]] = {q: [] for q in self.queues}
        self._shadows: dict[str, list[tuple[float, str]]] = {q: [] for q in self.queues}
        self._les: dict[str, float | None] = dict.fromkeys(self.queues)
        self._scorer = Scorer(("core", *ESTIMATORS))
        self._score_key: dict[str, int] = {}
        specs = sorted(calls, key=lambda c: c.at)
        # The run stops an hour after the last shift or arrival (plus the longest call): the core always
        # has a next deadline (midnight), so the heap never empties; whoever still waits then hangs up.
        self.end = max([sh.end for sh in shifts] + [specs[-1].at if specs else start]) + HOUR
        self.end += max((c.talk_s for c in specs), default=0.0)
        for n, spec in enumerate(specs):
            call = _Call(spec, f"c{n + 1}")
            self.calls[call.id] = call
            self.sched.at(spec.at, partial(self._arrive, call))
        for shift in shifts:
            self.sched.at(shift.start, partial(self._want, shift.agent_id, "ready", None))
            for b_from, b_to in shift.breaks:
                self.sched.at(b_from, partial(self._want, shift.agent_id, "not_ready", "break"))
                self.sched.at(b_to, partial(self._want, shift.agent_id, "ready", None))
            self.sched.at(shift.end, partial(self._want, shift.agent_id, "logged_out", None))

    # -- driving the core -------------------------------------------------------------------------------

    def run(self) -> SimReport:
        """Run to the end of the last shift, or until the last caller has had time to give up."""
        self.sched.run(until=self.end)
        for call in self.calls.values():
            if call.outcome is None and call.connected_at is None and call.queued_at is not None:
                self._give_up(call)
        return self.report()

    def _apply(self, decisions: list[Decision]) -> None:
        now = self.sched.now
        for d in decisions:
            match d:  # exhaustive over the core's closed union of decisions
                case Offer():
                    self._offered(d)
                case CancelOffer():
                    handle = self.calls[d.call_id].offers.pop(d.agent_id, None)
                    if handle:
                        handle.cancel()
                case RingNoAnswer():
                    self.ring_no_answer += 1
                    self.calls[d.call_id].offers.pop(d.agent_id, None)
                case Overflow():
                    self._overflowed(d)
                case Announce():
                    self.announcements += 1
                case CallQueued():
                    self._queued(d, decisions)
                case AgentStateChanged():
                    self._agent_changed(d.agent_id, d.state, now)
                case AssignCallback():
                    pass  # simulated callers never ask to keep their place
                case _:
                    assert_never(d)
        self._arm_tick()

    def _arm_tick(self) -> None:
        """Keep exactly one tick scheduled, at the core's next deadline."""
        deadline = self.acd.next_deadline()
        current = self._tick
        if current is not None and not current.cancelled and deadline is not None and current.at == deadline:
            return
        if current is not None:
            current.cancel()
        self._tick = None if deadline is None else self.sched.at(deadline, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        self._apply(self.acd.tick(self.sched.now))

    # -- callers ----------------------------------------------------------------------------------------

    def _arrive(self, call: _Call) -> None:
        now = self.sched.now
        call.queued_at = now
        call.patience = self.sched.after(call.spec.patience_s, lambda: self._give_up(call))
        bisect.insort(self._waiting[call.spec.queue], (now, call.id))
        self._apply(self.acd.enqueue(call.id, call.spec.queue, now, language=call.spec.language))

    def _give_up(self, call: _Call) -> None:
        if call.outcome is not None or call.connected_at is not None:
            return
        now = self.sched.now
        call.outcome = "abandoned"
        self._leave_queue(call)
        waited = now - (call.queued_at or now)
        self._stats[call.spec.queue].wait_ended(waited, True, now)
        if call.id in self._score_key:
            bisect.insort(self._shadows[call.spec.queue], (call.queued_at or now, call.id))
        self._apply(self.acd.remove_call(call.id, now, reason="abandoned"))

    def _leave_queue(self, call: _Call) -> None:
        line = self._waiting[call.spec.queue]
        i = bisect.bisect_left(line, (call.queued_at or 0.0, call.id))
        if i < len(line) and line[i][1] == call.id:
            del line[i]

    def _queued(self, d: CallQueued, batch: list[Decision]) -> None:
        call = self.calls[d.call_id]
        if any(isinstance(o, Offer) and o.call_id == d.call_id for o in batch):
            return  # an agent was free: nobody to predict for
        q = d.queue
        line = self._waiting[q]
        now = self.sched.now
        stats = self._stats[q]
        view = QueueView(
            ahead=max(d.position - 1, 0),
            servers=self._servers(q),
            elapsed_s=0.0,
            hol_elapsed_s=now - line[0][0] if line else 0.0,
            les_wait_s=self._les[q],
        )
        values = (d.estimate.expected_s, *(fn(view, stats) for fn in ESTIMATORS.values()))
        key = len(self._score_key)
        self._score_key[call.id] = key
        self._scorer.predicted(key, values, (d.estimate.low_s, d.estimate.high_s))

    def _servers(self, queue: str) -> int:
        serving = {"ready", "ringing", "on_call", "wrap_up"}
        return sum(
            1
            for aid, st in self.agents.items()
            if st.state in serving and queue in self.agent_configs[aid].queues
        )

    def _offered(self, d: Offer) -> None:
        call = self.calls[d.call_id]
        now = self.sched.now
        # shadows of abandoners who arrived before this caller would have been served now
        if self._shadows[d.queue] and call.queued_at is not None:
            self._resolve_shadows(d.queue, call.queued_at, now)
        if self.answer_delay_s < d.ring_timeout_s:
            call.offers[d.agent_id] = self.sched.after(
                self.answer_delay_s, lambda: self._answer(call, d.agent_id, d.queue)
            )

    def _resolve_shadows(self, queue: str, before: float | None, now: float) -> None:
        """Abandoners who arrived before ``before`` (all, if None) would have reached an agent now."""
        shadows = self._shadows[queue]
        cut = len(shadows) if before is None else bisect.bisect_left(shadows, (before, ""))
        for at, cid in shadows[:cut]:
            self._scorer.actual(self._score_key[cid], now - at)
        del shadows[:cut]

    def _answer(self, call: _Call, agent_id: str, queue: str) -> None:
        if call.offers.pop(agent_id, None) is None or call.outcome is not None:
            return
        now = self.sched.now
        call.connected_at = now
        if call.patience:
            call.patience.cancel()
        self._leave_queue(call)
        waited = now - (call.queued_at or now)
        self._stats[queue].wait_ended(waited, False, now)
        if waited > 0:
            self._les[queue] = waited
        key = self._score_key.get(call.id)
        if key is not None:
            self._scorer.actual(key, waited)
        self._apply(self.acd.offer_accepted(call.id, agent_id, now))
        self.sched.after(call.spec.talk_s, lambda: self._hang_up(call, agent_id, queue))

    def _hang_up(self, call: _Call, agent_id: str, queue: str) -> None:
        now = self.sched.now
        call.outcome = "answered"
        stat = self.agents[agent_id]
        stat.talk_s += call.spec.talk_s
        stat.calls += 1
        self._stats[queue].service_completed(call.spec.talk_s, now)
        self._apply(self.acd.call_finished(agent_id, now))

    def _overflowed(self, d: Overflow) -> None:
        call = self.calls[d.call_id]
        if d.target and d.target.startswith("queue:") and d.target[6:] in self.queues:
            self._leave_queue(call)
            spec = call.spec
            call.spec = CallSpec(spec.at, d.target[6:], spec.talk_s, spec.patience_s, spec.language)
            bisect.insort(self._waiting[call.spec.queue], (call.queued_at or 0.0, call.id))
            decisions = self.acd.enqueue(
                call.id, call.spec.queue, self.sched.now, language=spec.language, entered_at=call.queued_at
            )
            self._apply(decisions)
            return
        call.outcome = "overflow"
        if call.patience:
            call.patience.cancel()
        self._leave_queue(call)
        self._score_key.pop(call.id, None)

    # -- agents -----------------------------------------------------------------------------------------

    def _want(self, agent_id: str, state: str, reason: str | None) -> None:
        stat = self.agents[agent_id]
        if stat.state in ENGAGED:
            stat.pending.append((state, reason))
            return
        self._apply(self.acd.set_agent_state(agent_id, state, self.sched.now, reason=reason))

    def _agent_changed(self, agent_id: str, state: str, now: float) -> None:
        stat = self.agents[agent_id]
        if stat.state not in ("logged_out", "not_ready"):
            stat.staffed_s += now - stat.since
        stat.state, stat.since = state, now
        if state == "ready":
            for q in self.agent_configs[agent_id].queues:
                if q in self._shadows and self._shadows[q] and not self._waiting[q]:
                    self._resolve_shadows(q, None, now)  # an agent is idle: every shadow would be served
        if stat.pending and state not in ENGAGED:
            wanted = stat.pending
            stat.pending = []
            for want_state, reason in wanted:
                self.sched.after(0.0, partial(self._want, agent_id, want_state, reason))

    # -- results ----------------------------------------------------------------------------------------

    def report(self) -> SimReport:
        sl_threshold = min((q.sl_threshold_s for q in self.queues.values()), default=30.0)
        calls = list(self.calls.values())
        answered = [c for c in calls if c.connected_at is not None]
        abandoned = [c for c in calls if c.outcome == "abandoned"]
        short = [c for c in abandoned if self._waited(c) <= self.short_abandon_s]
        answered_waits = [self._waited(c) for c in answered]
        in_time = sum(1 for w in answered_waits if w <= sl_threshold)
        counted = len(answered) + len(abandoned) - len(short)
        talk = {a: s.talk_s for a, s in self.agents.items()}
        staffed = sum(s.staffed_s for s in self.agents.values())
        mean_talk = statistics.fmean(talk.values()) if talk else 0.0
        return SimReport(
            offered=len(calls),
            answered=len(answered),
            abandoned=len(abandoned),
            short_abandons=len(short),
            overflowed=sum(1 for c in calls if c.outcome == "overflow"),
            service_level=in_time / counted if counted else 1.0,
            sl_threshold_s=sl_threshold,
            abandon_rate=len(abandoned) / len(calls) if calls else 0.0,
            asa_s=statistics.fmean(answered_waits) if answered_waits else 0.0,
            max_wait_s=max((self._waited(c) for c in answered + abandoned), default=0.0),
            occupancy=sum(talk.values()) / staffed if staffed else 0.0,
            talk_per_agent_s=talk,
            calls_per_agent={a: s.calls for a, s in self.agents.items()},
            talk_spread_cv=statistics.pstdev(talk.values()) / mean_talk if mean_talk > 0 else 0.0,
            ring_no_answer=self.ring_no_answer,
            announcements=self.announcements,
            estimators=self._scorer.results(),
            scored=self._scorer.results()["core"].n,
            range_coverage=self._scorer.band_coverage(),
        )

    @staticmethod
    def _waited(call: _Call) -> float:
        if call.queued_at is None:
            return 0.0
        if call.connected_at is not None:
            return call.connected_at - call.queued_at
        return call.spec.patience_s if call.outcome == "abandoned" else 0.0


def erlang_c_service_level(agents: int, rate_per_s: float, aht_s: float, threshold_s: float) -> float:
    """Erlang C: the fraction answered within ``threshold_s`` with infinitely patient callers (a yardstick
    for the what-if table; the simulation itself includes abandonment, so it does a little better)."""
    a = rate_per_s * aht_s
    if a >= agents:
        return 0.0
    term, total = 1.0, 1.0
    for k in range(1, agents):
        term *= a / k
        total += term
    top = term * a / agents * agents / (agents - a)
    p_wait = top / (total + top)
    return 1.0 - p_wait * math.exp(-(agents - a) * threshold_s / aht_s)
