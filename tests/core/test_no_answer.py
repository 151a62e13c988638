"""Ring-no-answer (R5): the call goes to the next agent, the silent agent follows the queue's policy."""

from __future__ import annotations

from acd.core import CancelOffer, RingNoAnswer

from .helpers import T0, agent, make, of, offers, queue, states


def test_ring_timeout_moves_the_call_on_and_sets_the_agent_not_ready() -> None:
    acd = make([queue(ring_timeout_s=15)], [agent("a1"), agent("a2")])
    acd.set_agent_state("a1", "ready", T0)
    acd.set_agent_state("a2", "ready", T0 + 1)
    assert offers(acd.enqueue("c1", "support", T0 + 2)) == [("c1", "a1")]
    assert acd.next_deadline() == T0 + 17
    assert acd.tick(T0 + 16.9) == []
    out = acd.tick(T0 + 17)
    assert of(RingNoAnswer, out) == [RingNoAnswer("c1", "a1", "support", "timeout")]
    assert of(CancelOffer, out) == [CancelOffer("c1", "a1", "timeout")]
    assert ("a1", "not_ready") in states(out)
    assert offers(out) == [("c1", "a2")]
    assert acd.snapshot(T0 + 17)["agents"]["a1"]["reason"] == "no_answer"


def test_rejected_offer_is_a_ring_no_answer_too() -> None:
    acd = make([queue()], [agent("a1"), agent("a2")], ready=["a1", "a2"])
    (first,) = offers(acd.enqueue("c1", "support", T0))
    out = acd.offer_rejected("c1", first[1], T0 + 1, reason="busy")
    assert of(CancelOffer, out)[0].reason == "busy"
    assert offers(out) == [("c1", "a2" if first[1] == "a1" else "a1")]


def test_a_busy_or_unreachable_phone_sets_the_agent_not_ready_with_that_reason() -> None:
    """Issue 11 §5: a busy phone said `no_answer`; the agent's reason is what happened to the offer."""
    for why in ("busy", "unreachable", "no_answer"):
        acd = make([queue()], [agent("a1")], ready=["a1"])
        (first,) = offers(acd.enqueue("c1", "support", T0))
        out = acd.offer_rejected("c1", "a1", T0 + 1, reason=why)
        assert of(RingNoAnswer, out)[0].reason == why
        assert ("a1", "not_ready") in states(out)
        assert acd.snapshot(T0 + 1)["agents"]["a1"]["reason"] == why


def test_call_keeps_its_place_at_the_head_of_the_line() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    acd.enqueue("c2", "support", T0 + 5)
    acd.tick(T0 + 15)
    assert acd.position("c1") == 1 and acd.position("c2") == 2


def test_policy_ready_keeps_the_agent_ready_and_missed_agents_are_tried_last() -> None:
    q = queue(no_answer={"state": "ready"})
    acd = make([q], [agent("a1"), agent("a2")])
    acd.set_agent_state("a1", "ready", T0)
    acd.set_agent_state("a2", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0 + 1)
    out = acd.tick(T0 + 16)
    assert ("a1", "ready") in states(out)
    assert offers(out) == [("c1", "a1")]  # tried last, not never: nobody else is free
    acd.set_agent_state("a2", "ready", T0 + 17)
    out = acd.tick(T0 + 31)
    assert offers(out) == [("c1", "a2")]  # a2 has not missed it, a1 has


def test_agent_who_missed_a_call_prefers_another_one() -> None:
    q = queue(no_answer={"state": "ready"})
    acd = make([q], [agent("a1"), agent("a2")])
    acd.set_agent_state("a2", "not_ready", T0, reason="break")
    acd.set_agent_state("a1", "ready", T0)
    acd.enqueue("c1", "support", T0 + 1)
    acd.enqueue("c2", "support", T0 + 2)
    out = acd.offer_rejected("c1", "a1", T0 + 3)
    assert offers(out) == [("c2", "a1")]
    assert acd.position("c1") == 1


def test_caller_hanging_up_while_ringing_frees_the_agent() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    acd.set_agent_state("a1", "ready", T0)
    acd.enqueue("c1", "support", T0)
    out = acd.remove_call("c1", T0 + 3)
    assert of(CancelOffer, out) == [CancelOffer("c1", "a1", "abandoned")]
    assert states(out) == [("a1", "ready")]
    assert acd.next_deadline() is not None and acd.tick(T0 + 20) == []


def test_unreachable_phone_while_ringing() -> None:
    acd = make([queue()], [agent("a1"), agent("a2")])
    acd.set_agent_state("a1", "ready", T0)
    acd.set_agent_state("a2", "ready", T0 + 1)
    acd.enqueue("c1", "support", T0 + 2)
    out = acd.set_agent_reachable("a1", False, T0 + 3)
    assert of(CancelOffer, out)[0].reason == "unreachable"
    assert offers(out) == [("c1", "a2")]
