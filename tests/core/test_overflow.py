"""Overflow (R6): on a maximum wait, or with nobody logged in who could serve the caller."""

from __future__ import annotations

from acd.core import Overflow

from .helpers import T0, agent, make, of, offers, queue


def test_max_wait_overflows_to_the_target() -> None:
    queues = [queue(max_wait_s=120, overflow="voicemail"), queue("other")]
    acd = make(queues, [agent("a1", ("support", "other"))])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    assert acd.next_deadline() == T0 + 120
    assert acd.tick(T0 + 119) == []
    assert acd.tick(T0 + 120) == [Overflow("c1", "support", "voicemail", "max_wait")]
    assert acd.position("c1") is None
    assert acd.remove_call("c1", T0 + 121) == []  # gone from the core


def test_max_wait_counts_from_the_original_entry_time() -> None:
    queues = [queue(max_wait_s=60, overflow="queue:other"), queue("other")]
    acd = make(queues, [agent("a1", ("support", "other"))])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0 + 50, entered_at=T0)
    assert acd.next_deadline() == T0 + 60


def test_max_wait_during_a_ring_overflows_when_the_ring_fails() -> None:
    acd = make([queue(max_wait_s=20, ring_timeout_s=15)], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    acd.set_agent_state("a1", "ready", T0 + 10)
    assert acd.tick(T0 + 20) == []  # ringing: let the agent answer
    out = acd.tick(T0 + 25)
    assert of(Overflow, out) == [Overflow("c1", "support", None, "max_wait")]
    assert offers(out) == []


def test_nobody_logged_in_overflows_at_once() -> None:
    acd = make([queue(overflow="label:after_hours")], [agent("a1")])
    out = acd.enqueue("c1", "support", T0)
    assert of(Overflow, out) == [Overflow("c1", "support", "label:after_hours", "no_agents")]


def test_nobody_speaking_the_language_overflows() -> None:
    acd = make([queue(overflow="voicemail")], [agent("ru", languages=["ru"])], ready=["ru"])
    assert of(Overflow, acd.enqueue("c1", "support", T0, language="en"))[0].reason == "no_agents"


def test_agent_on_a_break_still_counts_as_logged_in() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="lunch")
    assert of(Overflow, acd.enqueue("c1", "support", T0)) == []


def test_when_empty_wait_keeps_the_caller() -> None:
    acd = make([queue(when_empty="wait")], [agent("a1")])
    acd.enqueue("c1", "support", T0)
    assert acd.position("c1") == 1
    assert offers(acd.set_agent_state("a1", "ready", T0 + 30)) == [("c1", "a1")]


def test_last_capable_agent_logging_out_overflows_the_waiting_callers() -> None:
    acd = make([queue(overflow="voicemail")], [agent("kk", languages=["kk"]), agent("ru", languages=["ru"])])
    acd.set_agent_state("kk", "not_ready", T0, reason="break")
    acd.set_agent_state("ru", "not_ready", T0, reason="break")
    acd.enqueue("k1", "support", T0 + 1, language="kk")
    acd.enqueue("r1", "support", T0 + 2, language="ru")
    out = acd.set_agent_state("kk", "logged_out", T0 + 3)
    assert of(Overflow, out) == [Overflow("k1", "support", "voicemail", "no_agents")]
    assert acd.position("r1") == 1


def test_overflow_to_a_queue_relaxed_skills_count_as_ever_serving() -> None:
    q = queue(required_skills={"tax": 9}, relax=[{"after_s": 60, "drop": ["tax"]}])
    acd = make([q], [agent("a1", skills={"tax": 1})])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    assert of(Overflow, acd.enqueue("c1", "support", T0)) == []
