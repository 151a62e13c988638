"""Property tests of the core's invariants, against an independent model built from the decisions alone.

A random driver enqueues, answers, rejects, hangs up, changes agent states and phones, and lets time pass
(ticking before every input, as the daemon does). After every step the model checks: an agent holds at
most one call; a call is offered to at most one agent at a time; no offer to an agent who is not ready or
not reachable; every call ends in exactly one outcome; each offer respects FIFO within priority and
eligibility; a ready agent is never left idle beside a call they could take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from acd.core import (
    Acd,
    AgentConfig,
    AgentStateChanged,
    Announce,
    CallQueued,
    CancelOffer,
    Decision,
    Offer,
    Overflow,
    QueueConfig,
    RingNoAnswer,
)
from acd.core.config import STRATEGY_NAMES

from .helpers import ALMATY, T0, agent, make, offers, queue

LANGS = [None, "kk", "ru", "en"]


@dataclass
class Waiting:
    queue: str
    priority: int
    language: str | None
    entered: float
    seq: int
    missed: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[int, float, int]:
        return (-self.priority, self.entered, self.seq)


def can_serve(a: AgentConfig, q: QueueConfig, w: Waiting, now: float) -> bool:
    """Independent oracle of eligibility (skills, levels, relaxation, language)."""
    skills = a.all_skills
    if q.language_skill and w.language is not None and f"lang:{w.language}" not in skills:
        return False
    required = dict(q.required_skills)
    for step in q.relax:
        if now - w.entered < step.after_s:
            break
        if "*" in step.drop:
            required = {}
        required = {k: v for k, v in required.items() if k not in step.drop}
        if step.min_level is not None:
            required = {k: min(v, step.min_level) for k, v in required.items()}
    return all(skills.get(k, 0) >= v for k, v in required.items())


queue_st = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(list(STRATEGY_NAMES)),
        "required_skills": st.sampled_from([{}, {"tax": 3}, {"tax": 7}]),
        "relax": st.sampled_from([[], [{"after_s": 30, "min_level": 2}], [{"after_s": 50, "drop": ["*"]}]]),
        "wrapup_s": st.sampled_from([0.0, 5.0]),
        "max_wait_s": st.sampled_from([None, 90.0]),
        "when_empty": st.sampled_from(["wait", "overflow"]),
        "no_answer": st.sampled_from([{"state": "not_ready"}, {"state": "ready"}]),
        "language_skill": st.booleans(),
        "announce_every_s": st.sampled_from([None, 20.0]),
    }
)
agent_st = st.fixed_dictionaries(
    {
        "tax": st.integers(1, 10),
        "languages": st.lists(st.sampled_from(["kk", "ru", "en"]), unique=True, max_size=2),
        "queues": st.dictionaries(st.sampled_from(["a", "b"]), st.integers(1, 2), min_size=1),
    }
)


class CoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.waiting: dict[str, Waiting] = {}
        self.ringing: dict[str, str] = {}
        self.connected: dict[str, str] = {}
        self.holding: dict[str, str] = {}
        self.state: dict[str, str] = {}
        self.reachable: dict[str, bool] = {}
        self.outcomes: dict[str, list[str]] = {}
        self.removing: str | None = None
        self.next_call = 0

    @initialize(qs=st.lists(queue_st, min_size=2, max_size=2), ags=st.lists(agent_st, min_size=1, max_size=4))
    def setup(self, qs: list[dict[str, Any]], ags: list[dict[str, Any]]) -> None:
        self.queues = {n: QueueConfig(name=n, **q) for n, q in zip(("a", "b"), qs, strict=True)}
        self.agents = {
            f"x{i}": AgentConfig(
                id=f"x{i}", skills={"tax": g["tax"]}, languages=g["languages"], queues=g["queues"]
            )
            for i, g in enumerate(ags)
        }
        self.acd = Acd(list(self.queues.values()), list(self.agents.values()), now=self.now, seed=7)
        self.state = {a: "logged_out" for a in self.agents}
        self.reachable = {a: True for a in self.agents}

    # -- the driver -------------------------------------------------------------------------------

    def step(self, dt: float) -> None:
        self.now += dt
        self.apply(self.acd.tick(self.now))

    @rule(
        dt=st.floats(0, 40),
        queue=st.sampled_from(["a", "b"]),
        prio=st.integers(0, 2),
        lang=st.sampled_from(LANGS),
    )
    def enqueue(self, dt: float, queue: str, prio: int, lang: str | None) -> None:
        self.step(dt)
        self.next_call += 1
        cid = f"c{self.next_call}"
        self.outcomes[cid] = []
        self.pending_call = Waiting(queue, prio, lang, self.now, self.next_call)
        self.apply(self.acd.enqueue(cid, queue, self.now, priority=prio, language=lang))

    @rule(dt=st.floats(0, 40))
    def wait(self, dt: float) -> None:
        self.step(dt)

    @precondition(lambda self: self.ringing)
    @rule(dt=st.floats(0, 14), i=st.integers(0, 100), accept=st.booleans())
    def answer(self, dt: float, i: int, accept: bool) -> None:
        self.step(dt)
        if not self.ringing:
            return
        cid = sorted(self.ringing)[i % len(self.ringing)]
        aid = self.ringing[cid]
        if accept:
            self.apply(self.acd.offer_accepted(cid, aid, self.now))
            del self.ringing[cid]
            self.connected[cid] = aid
            self.outcomes[cid].append("connected")
        else:
            self.apply(self.acd.offer_rejected(cid, aid, self.now, reason="busy"))

    @precondition(lambda self: self.connected)
    @rule(dt=st.floats(0, 60), i=st.integers(0, 100))
    def hang_up(self, dt: float, i: int) -> None:
        self.step(dt)
        cid = sorted(self.connected)[i % len(self.connected)]
        aid = self.connected.pop(cid)
        del self.holding[aid]
        self.apply(self.acd.call_finished(aid, self.now))

    @precondition(lambda self: self.waiting or self.ringing)
    @rule(dt=st.floats(0, 30), i=st.integers(0, 100))
    def abandon(self, dt: float, i: int) -> None:
        self.step(dt)
        live = sorted([*self.waiting, *self.ringing])
        if not live:
            return
        cid = live[i % len(live)]
        self.removing = cid
        self.apply(self.acd.remove_call(cid, self.now))
        self.removing = None
        self.waiting.pop(cid, None)
        self.outcomes[cid].append("abandoned")

    @rule(
        dt=st.floats(0, 30),
        i=st.integers(0, 100),
        wanted=st.sampled_from(["ready", "ready", "not_ready", "logged_out"]),
    )
    def agent_state(self, dt: float, i: int, wanted: str) -> None:
        self.step(dt)
        aid = sorted(self.agents)[i % len(self.agents)]
        self.apply(self.acd.set_agent_state(aid, wanted, self.now, reason="break"))

    @rule(dt=st.floats(0, 30), i=st.integers(0, 100))
    def phone(self, dt: float, i: int) -> None:
        self.step(dt)
        aid = sorted(self.agents)[i % len(self.agents)]
        self.reachable[aid] = not self.reachable[aid]
        self.apply(self.acd.set_agent_reachable(aid, self.reachable[aid], self.now))

    @rule(dt=st.floats(0, 30), i=st.integers(0, 100), tax=st.integers(1, 10))
    def reload(self, dt: float, i: int, tax: int) -> None:
        """Hot reload: one agent removed (if several), another one's skill level changed."""
        self.step(dt)
        ids = sorted(self.agents)
        kept = dict(self.agents)
        if len(ids) > 1:
            del kept[ids[i % len(ids)]]
        changed = sorted(kept)[i % len(kept)]
        kept[changed] = kept[changed].model_copy(update={"skills": {"tax": tax}})
        self.agents = kept
        self.apply(self.acd.reconfigure(list(self.queues.values()), list(kept.values()), self.now))

    # -- the model --------------------------------------------------------------------------------

    def apply(self, decisions: list[Decision]) -> None:
        ringing_at: dict[str, float] = {}
        for d in decisions:
            if isinstance(d, CallQueued):
                assert d.call_id not in self.waiting
                self.waiting[d.call_id] = self.pending_call
            elif isinstance(d, AgentStateChanged):
                assert d.previous == self.state[d.agent_id], d
                self.state[d.agent_id] = d.state
                if d.state == "ringing":
                    assert d.previous == "ready", d
                    ringing_at[d.agent_id] = d.at
            elif isinstance(d, Offer):
                self.check_offer(d, ringing_at[d.agent_id])
            elif isinstance(d, RingNoAnswer):
                assert self.ringing.get(d.call_id) == d.agent_id
            elif isinstance(d, CancelOffer):
                assert self.ringing.pop(d.call_id) == d.agent_id
                assert self.holding.pop(d.agent_id) == d.call_id
                if d.call_id != self.removing:
                    w = self.offered.pop(d.call_id)
                    w.missed.add(d.agent_id)
                    self.waiting[d.call_id] = w
            elif isinstance(d, Overflow):
                assert d.call_id in self.waiting, "overflow of a call that is not waiting"
                del self.waiting[d.call_id]
                self.outcomes[d.call_id].append("overflow")
            elif isinstance(d, Announce):
                assert d.call_id in self.waiting

    offered: dict[str, Waiting] = {}

    def check_offer(self, d: Offer, at: float) -> None:
        assert d.call_id in self.waiting, "offer of a call that is not waiting"
        assert d.call_id not in self.ringing, "call offered to two agents"
        assert d.agent_id not in self.holding, "agent offered a second call"
        assert self.reachable[d.agent_id], "offer to an unreachable phone"
        a = self.agents[d.agent_id]
        c = self.waiting.pop(d.call_id)
        q = self.queues[c.queue]
        assert can_serve(a, q, c, at), "offer to an agent without the skills"
        mine = (a.queues[c.queue], c.key)
        for w in self.waiting.values():
            takeable = d.agent_id not in w.missed and can_serve(a, self.queues.get(w.queue, q), w, at)
            if w.queue in a.queues and takeable:
                if d.agent_id in c.missed:
                    raise AssertionError("agent took back a missed call while another one waited")
                assert mine < (a.queues[w.queue], w.key), "offer skipped a better call (FIFO/priority)"
        self.ringing[d.call_id] = d.agent_id
        self.holding[d.agent_id] = d.call_id
        self.offered = {**self.offered, d.call_id: c}

    @invariant()
    def one_outcome_per_call(self) -> None:
        for cid, outs in self.outcomes.items():
            assert len(outs) <= 1, (cid, outs)
            live = cid in self.waiting or cid in self.ringing
            assert live != bool(outs), (cid, outs, live)

    @invariant()
    def no_idle_agent_beside_a_call_they_could_take(self) -> None:
        for aid, a in self.agents.items():
            if self.state[aid] != "ready" or not self.reachable[aid]:
                continue
            for w in self.waiting.values():
                if w.queue in a.queues:
                    assert not can_serve(a, self.queues[w.queue], w, self.now), (aid, w)

    @invariant()
    def positions_follow_priority_then_entry(self) -> None:
        if not hasattr(self, "acd"):
            return
        for name in self.queues:
            line = sorted((w.key, cid) for cid, w in self.waiting.items() if w.queue == name)
            assert [self.acd.position(cid) for _, cid in line] == list(range(1, len(line) + 1))


CoreMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestCore = CoreMachine.TestCase


@settings(max_examples=60, deadline=None)
@given(talks=st.lists(st.integers(0, 5000), min_size=2, max_size=8), order=st.randoms(use_true_random=False))
def test_least_talked_today_picks_the_minimum(talks: list[int], order: Any) -> None:
    ids = [f"a{i}" for i in range(len(talks))]
    acd = make([queue(strategy="least_talked_today")], [agent(i) for i in ids])
    for aid, talk in zip(ids, talks, strict=True):
        acd.set_agent_totals(aid, talk, 1)
    shuffled = list(ids)
    order.shuffle(shuffled)
    for k, aid in enumerate(shuffled):
        acd.set_agent_state(aid, "ready", T0 + k)
    ((_, chosen),) = offers(acd.enqueue("c", "support", T0 + 100))
    least = min(talks)
    assert talks[ids.index(chosen)] == least
    tied = [aid for aid, t in zip(ids, talks, strict=True) if t == least]
    assert chosen == min(tied, key=shuffled.index)  # ties: the longest idle


@settings(max_examples=80, deadline=None)
@given(minutes=st.integers(0, 2 * 24 * 60 - 1), talk=st.integers(1, 3000))
def test_midnight_reset_happens_at_local_midnight_in_almaty(minutes: int, talk: int) -> None:
    start = datetime(2026, 11, 23, 0, 0, tzinfo=ALMATY)
    acd = make([queue()], [agent("a1")], now=start.timestamp())
    acd.set_agent_totals("a1", talk, 1)
    when = start + timedelta(minutes=minutes)
    acd.tick(when.timestamp())
    expected = talk if when.date() == start.date() else 0
    assert acd.snapshot(when.timestamp())["agents"]["a1"]["talk_today_s"] == expected
    assert when.utcoffset() == timedelta(hours=5)


@pytest.mark.parametrize("now", [T0])
def test_model_oracle_agrees_with_relaxation(now: float) -> None:
    q = queue(required_skills={"tax": 8}, relax=[{"after_s": 10, "min_level": 4}])
    w = Waiting("support", 0, None, now, 1)
    a = agent("a", skills={"tax": 5})
    assert not can_serve(a, q, w, now + 9.9) and can_serve(a, q, w, now + 10)
