"""A supervisor moves a waiting caller (R23): to the head of its line, or to another queue."""

from __future__ import annotations

import pytest

from acd.core import AcdError, CallQueued, Overflow

from .helpers import T0, agent, make, of, offers, queue

pytestmark = pytest.mark.timeout(10)


def test_to_head_serves_the_moved_caller_next() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    for i in range(3):
        acd.enqueue(f"c{i}", "support", T0 + i)
    out = acd.move_call("c2", "support", T0 + 10, to_head=True)
    assert of(CallQueued, out)[0].position == 1
    assert [acd.position(c) for c in ("c0", "c1", "c2")] == [2, 3, 1]
    assert offers(acd.set_agent_state("a1", "ready", T0 + 11)) == [("c2", "a1")]


def test_move_to_another_queue_keeps_the_wait_and_moves_the_figures() -> None:
    acd = make([queue(), queue("sales")], [agent("s1", ("support", "sales"))])
    acd.set_agent_state("s1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    out = acd.move_call("c1", "sales", T0 + 30)
    assert of(CallQueued, out)[0].queue == "sales"
    snap = acd.snapshot(T0 + 40)["queues"]
    assert snap["support"]["waiting"] == 0 and snap["support"]["overflowed_today"] == 1
    assert snap["sales"]["waiting"] == 1 and snap["sales"]["offered_today"] == 1
    assert snap["sales"]["longest_wait_s"] == 40  # waited since T0, not since the move
    assert offers(acd.set_agent_state("s1", "ready", T0 + 41)) == [("c1", "s1")]


def test_a_free_agent_of_the_new_queue_gets_the_call_at_once() -> None:
    acd = make([queue(), queue("sales")], [agent("s1", ("sales",)), agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.set_agent_state("s1", "ready", T0)
    acd.enqueue("c1", "support", T0)
    assert offers(acd.move_call("c1", "sales", T0 + 5)) == [("c1", "s1")]


def test_the_old_queues_max_wait_no_longer_applies() -> None:
    queues = [queue(max_wait_s=60, overflow="voicemail"),
              queue("sales", max_wait_s=300, overflow="voicemail")]
    acd = make(queues, [agent("s1", ("support", "sales"))])
    acd.set_agent_state("s1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    acd.move_call("c1", "sales", T0 + 10)
    assert acd.tick(T0 + 61) == []
    assert of(Overflow, acd.tick(T0 + 300)) == [Overflow("c1", "sales", "voicemail", "max_wait")]


def test_refusals_leave_the_core_unchanged() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)  # ringing a1 at once
    with pytest.raises(AcdError):
        acd.move_call("c1", "support", T0 + 1, to_head=True)
    with pytest.raises(AcdError):
        acd.move_call("nope", "support", T0 + 1)
    acd.set_agent_state("a1", "not_ready", T0 + 2, reason="break")  # still ringing c1: pending
    acd.enqueue("c2", "support", T0 + 2)
    with pytest.raises(AcdError):
        acd.move_call("c2", "nowhere", T0 + 3)
    assert acd.position("c2") == 1
