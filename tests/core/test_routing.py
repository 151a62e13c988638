"""Event-driven distribution: calls meet free agents from both sides (R1, R3)."""

from __future__ import annotations

import pytest

from acd.core import AcdError, CallQueued

from .helpers import T0, agent, make, of, offers, queue


def test_enqueue_offers_at_once_to_a_free_agent() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    out = acd.enqueue("c1", "support", T0 + 1)
    assert of(CallQueued, out)[0].position == 1
    assert offers(out) == [("c1", "a1")]
    assert acd.position("c1") is None  # ringing, no longer in line


def test_call_waits_then_the_agent_who_becomes_ready_takes_it() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    assert offers(acd.enqueue("c1", "support", T0 + 1)) == []
    assert acd.position("c1") == 1
    assert offers(acd.set_agent_state("a1", "ready", T0 + 5)) == [("c1", "a1")]


def test_agent_takes_the_longest_waiting_call_across_equal_queues() -> None:
    acd = make([queue("a"), queue("b")], [agent("x", ("a", "b"))])
    acd.set_agent_state("x", "not_ready", T0, reason="break")
    acd.enqueue("b1", "b", T0 + 1)
    acd.enqueue("a1", "a", T0 + 2)
    acd.enqueue("b2", "b", T0 + 3)
    assert offers(acd.set_agent_state("x", "ready", T0 + 10)) == [("b1", "x")]


def test_agents_queue_priority_comes_before_waiting_time() -> None:
    acd = make([queue("vip"), queue("main")], [agent("x", {"vip": 1, "main": 2})])
    acd.set_agent_state("x", "not_ready", T0, reason="break")
    acd.enqueue("old", "main", T0 + 1)
    acd.enqueue("new", "vip", T0 + 50)
    assert offers(acd.set_agent_state("x", "ready", T0 + 60)) == [("new", "x")]


def test_caller_priority_comes_before_waiting_time() -> None:
    acd = make([queue()], [agent("x")])
    acd.set_agent_state("x", "not_ready", T0, reason="break")
    acd.enqueue("old", "support", T0 + 1)
    acd.enqueue("vip", "support", T0 + 2, priority=5)
    assert acd.position("vip") == 1 and acd.position("old") == 2
    assert offers(acd.set_agent_state("x", "ready", T0 + 3)) == [("vip", "x")]


def test_language_skill_is_required() -> None:
    acd = make([queue()], [agent("ru_only", languages=["ru"]), agent("kk", languages=["kk"])])
    acd.set_agent_state("ru_only", "ready", T0)
    acd.set_agent_state("kk", "not_ready", T0, reason="break")
    assert offers(acd.enqueue("c1", "support", T0 + 1, language="kk")) == []
    assert offers(acd.set_agent_state("kk", "ready", T0 + 2)) == [("c1", "kk")]


def test_free_agent_skips_a_call_in_a_language_they_lack_for_a_later_one() -> None:
    acd = make([queue()], [agent("ru", languages=["ru"]), agent("kk", languages=["kk"])])
    acd.set_agent_state("kk", "not_ready", T0, reason="break")
    acd.set_agent_state("ru", "not_ready", T0, reason="break")
    acd.enqueue("kk1", "support", T0 + 1, language="kk")
    acd.enqueue("ru1", "support", T0 + 2, language="ru")
    assert offers(acd.set_agent_state("ru", "ready", T0 + 3)) == [("ru1", "ru")]


def test_language_ignored_when_the_queue_says_so() -> None:
    acd = make([queue(language_skill=False)], [agent("ru", languages=["ru"])], ready=["ru"])
    assert offers(acd.enqueue("c1", "support", T0, language="kk")) == [("c1", "ru")]


def test_required_skill_minimum_level() -> None:
    q = queue(required_skills={"tax": 5}, when_empty="wait")
    agents = [agent("junior", skills={"tax": 4}), agent("senior", skills={"tax": 5})]
    acd = make([q], agents, ready=["junior"])
    assert offers(acd.enqueue("c1", "support", T0)) == []
    assert offers(acd.set_agent_state("senior", "ready", T0 + 1)) == [("c1", "senior")]


def test_relaxation_lowers_levels_then_drops_skills_over_waiting_time() -> None:
    q = queue(
        required_skills={"tax": 8},
        relax=[{"after_s": 60, "min_level": 3}, {"after_s": 120, "drop": ["*"]}],
    )
    agents = [agent("l5", skills={"tax": 5}), agent("l1", skills={"tax": 1}, languages=["kk"])]
    acd = make([q], agents, ready=["l1"])
    acd.enqueue("c1", "support", T0, language="kk")
    acd.enqueue("c2", "support", T0 + 1, language="kk")
    acd.set_agent_state("l5", "ready", T0 + 2)
    assert acd.position("c1") == 1
    assert acd.next_deadline() == T0 + 60
    assert offers(acd.tick(T0 + 60)) == [("c1", "l5")]  # level 5 >= 3 now
    acd.offer_accepted("c1", "l5", T0 + 61)
    assert offers(acd.tick(T0 + 120)) == []  # c2 reaches 120 s only at T0 + 121
    assert offers(acd.tick(T0 + 121)) == [("c2", "l1")]  # anyone with the language


def test_free_agent_takes_a_relaxed_call() -> None:
    q = queue(required_skills={"tax": 8}, relax=[{"after_s": 30, "min_level": 2}])
    acd = make([q], [agent("boss", skills={"tax": 9}), agent("jr", skills={"tax": 2})])
    acd.set_agent_state("boss", "not_ready", T0, reason="lunch")
    acd.enqueue("c1", "support", T0)
    acd.tick(T0 + 40)
    assert offers(acd.set_agent_state("jr", "ready", T0 + 41)) == [("c1", "jr")]


def test_one_call_per_agent_and_one_agent_per_call() -> None:
    acd = make([queue()], [agent("a1"), agent("a2")], ready=["a1", "a2"])
    o1 = offers(acd.enqueue("c1", "support", T0))
    o2 = offers(acd.enqueue("c2", "support", T0 + 1))
    o3 = offers(acd.enqueue("c3", "support", T0 + 2))
    assert {o1[0][1], o2[0][1]} == {"a1", "a2"} and o3 == []


def test_inputs_the_core_cannot_accept() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    with pytest.raises(AcdError, match="unknown queue"):
        acd.enqueue("c1", "nope", T0)
    acd.enqueue("c1", "support", T0)
    with pytest.raises(AcdError, match="already"):
        acd.enqueue("c1", "support", T0)
    with pytest.raises(AcdError, match="not ringing agent 'a2'"):
        acd.offer_accepted("c1", "a2", T0)
    with pytest.raises(AcdError, match="not on a call"):
        acd.call_finished("a1", T0)
    with pytest.raises(AcdError, match="unknown agent"):
        acd.set_agent_state("zz", "ready", T0)
    with pytest.raises(AcdError, match="state must be"):
        acd.set_agent_state("a1", "ringing", T0)
    assert acd.remove_call("never-seen", T0) == []


def test_relaxation_timer_with_awkward_float_times_terminates() -> None:
    q = queue(required_skills={"tax": 8}, relax=[{"after_s": 60, "min_level": 1}], when_empty="wait")
    acd = make([q], [agent("a1", skills={"tax": 1})], now=0.0)
    entered = 4.002  # entered + 60 - entered rounds below 60
    assert entered + 60 - entered < 60
    acd.enqueue("c1", "support", entered)
    acd.set_agent_state("a1", "ready", entered + 1)
    assert offers(acd.tick(entered + 60)) == [("c1", "a1")]


def test_a_call_restricted_to_some_agents_is_offered_only_to_them_and_does_not_block_the_others() -> None:
    """A campaign's ``agents`` (issue 15): the core offers its call only to those agents of the queue; an
    agent outside the list who frees up takes the caller behind it instead, and a later unrestricted call
    still finds the free agent the restricted one could not have."""
    acd = make([queue()], [agent("a1"), agent("a2")])
    for a in ("a1", "a2"):
        acd.set_agent_state(a, "not_ready", T0, reason="break")
    acd.enqueue("camp", "support", T0 + 1, priority=5, agents=frozenset({"a2"}))
    acd.enqueue("inb", "support", T0 + 2)
    assert offers(acd.set_agent_state("a1", "ready", T0 + 3)) == [("inb", "a1")]
    assert acd.position("camp") == 1
    assert offers(acd.set_agent_state("a2", "ready", T0 + 4)) == [("camp", "a2")]


def test_a_restricted_call_finding_nobody_does_not_hide_a_free_agent_from_the_next_call() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    assert offers(acd.enqueue("camp", "support", T0 + 1, agents=frozenset({"a9"}))) == []
    assert offers(acd.enqueue("inb", "support", T0 + 2)) == [("inb", "a1")]
