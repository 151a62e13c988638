"""Distribution strategies (R3): who gets the call when several agents are free."""

from __future__ import annotations

from acd.core import Acd

from .helpers import T0, agent, make, offers, queue


def first_offer(acd: Acd, now: float = T0 + 100) -> str:
    (pair,) = offers(acd.enqueue("c1", "support", now))
    return pair[1]


def test_most_skilled_takes_the_highest_level() -> None:
    q = queue(strategy="most_skilled", required_skills={"tax": 3})
    agents = [agent(f"a{lvl}", skills={"tax": lvl}) for lvl in (4, 9, 6)]
    assert first_offer(make([q], agents, ready=["a4", "a9", "a6"])) == "a9"


def test_least_talked_today_takes_the_minimum_then_longest_idle() -> None:
    q = queue(strategy="least_talked_today")
    acd = make([q], [agent("a1"), agent("a2"), agent("a3")])
    acd.set_agent_totals("a1", 600, 3)
    acd.set_agent_totals("a2", 100, 9)
    acd.set_agent_totals("a3", 100, 1)
    acd.set_agent_state("a3", "ready", T0 + 1)
    acd.set_agent_state("a2", "ready", T0 + 2)  # ties with a3 on talk, idle for less time
    acd.set_agent_state("a1", "ready", T0)
    assert first_offer(acd) == "a3"


def test_longest_idle() -> None:
    acd = make([queue(strategy="longest_idle")], [agent("a1"), agent("a2")])
    acd.set_agent_state("a2", "ready", T0)
    acd.set_agent_state("a1", "ready", T0 + 5)
    assert first_offer(acd) == "a2"


def test_round_robin_rotates() -> None:
    acd = make([queue(strategy="round_robin", wrapup_s=0)], [agent("a1"), agent("a2")], ready=["a1", "a2"])
    got = []
    for i in range(4):
        (pair,) = offers(acd.enqueue(f"c{i}", "support", T0 + 10 * i))
        acd.offer_accepted(*pair, T0 + 10 * i + 1)
        acd.call_finished(pair[1], T0 + 10 * i + 2)
        got.append(pair[1])
    assert got in (["a1", "a2", "a1", "a2"], ["a2", "a1", "a2", "a1"])


def test_random_is_reproducible_with_a_seed_and_varies_with_it() -> None:
    agents = [agent(f"a{i}") for i in range(10)]

    def pick(seed: int) -> str:
        acd = make([queue(strategy="random")], agents, ready=[a.id for a in agents], seed=seed)
        return first_offer(acd)

    assert pick(1) == pick(1)
    assert len({pick(seed) for seed in range(20)}) > 2


def test_composite_breaks_ties_with_the_next_key() -> None:
    q = queue(strategy=["least_talked_today", "most_skilled"], required_skills={"tax": 1})
    agents = [agent(name, skills={"tax": lvl}) for name, lvl in (("low", 2), ("high", 8), ("busy", 9))]
    acd = make([q], agents)
    acd.set_agent_totals("busy", 50, 1)
    for a in ("low", "high", "busy"):
        acd.set_agent_state(a, "ready", T0)
    assert first_offer(acd) == "high"
