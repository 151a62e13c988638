"""The agent's day at the desk: the queues they chose at sign-in (optional queues only) and more time in
wrap-up where the queue allows it."""

from __future__ import annotations

import pytest

from acd.core import AcdError

from .helpers import T0, agent, connect, make, offers, queue, states

pytestmark = pytest.mark.timeout(10)


def _two_queues() -> list:  # type: ignore[type-arg]
    return [queue(), queue("sales", optional=True, when_empty="wait")]


def test_an_agent_who_leaves_out_an_optional_queue_gets_none_of_its_callers() -> None:
    acd = make(_two_queues(), [agent("a1", ("support", "sales"))])
    assert acd.set_agent_queues("a1", ["support"], T0) == []
    acd.set_agent_state("a1", "ready", T0)
    assert offers(acd.enqueue("c1", "sales", T0 + 1)) == []
    snap = acd.snapshot(T0 + 2)
    assert snap["agents"]["a1"]["queues"] == ["support"] and snap["agents"]["a1"]["skipped"] == ["sales"]
    assert snap["queues"]["sales"]["agents_logged_in"] == 0
    # taking the queue back offers its waiting caller at once
    assert offers(acd.set_agent_queues("a1", ["support", "sales"], T0 + 3)) == [("c1", "a1")]


def test_a_queue_that_is_not_optional_cannot_be_left_out() -> None:
    acd = make(_two_queues(), [agent("a1", ("support", "sales"))])
    with pytest.raises(AcdError, match="'support' is not optional"):
        acd.set_agent_queues("a1", ["sales"], T0)
    with pytest.raises(AcdError, match="does not serve"):
        acd.set_agent_queues("a1", ["support", "vip"], T0)
    acd2 = make([queue("sales", optional=True)], [agent("a1", ("sales",))])
    with pytest.raises(AcdError, match="at least one"):
        acd2.set_agent_queues("a1", [], T0)


def test_the_choice_is_forgotten_at_log_out() -> None:
    acd = make(_two_queues(), [agent("a1", ("support", "sales"))])
    acd.set_agent_queues("a1", ["support"], T0)
    acd.set_agent_state("a1", "ready", T0)
    acd.set_agent_state("a1", "logged_out", T0 + 10)
    assert acd.snapshot(T0 + 11)["agents"]["a1"]["queues"] == ["sales", "support"]
    acd.set_agent_state("a1", "ready", T0 + 12)
    assert offers(acd.enqueue("c1", "sales", T0 + 13)) == [("c1", "a1")]


def test_leaving_the_last_queue_with_agents_overflows_its_callers() -> None:
    queues = [queue(), queue("sales", optional=True, overflow="voicemail")]
    acd = make(queues, [agent("a1", ("support", "sales"))])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "sales", T0)
    out = acd.set_agent_queues("a1", ["support"], T0 + 5)
    assert [type(d).__name__ for d in out] == ["Overflow"]


def test_more_time_in_wrap_up_once_where_the_queue_allows_it() -> None:
    acd = make([queue(wrapup_s=30, wrapup_extend_s=60)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    connect(acd, "c1", "a1", T0 + 1)
    acd.call_finished("a1", T0 + 10)
    assert acd.extend_wrapup("a1", T0 + 20) == T0 + 100
    with pytest.raises(AcdError, match="already"):
        acd.extend_wrapup("a1", T0 + 21)
    assert states(acd.tick(T0 + 45)) == []  # the first end no longer applies
    assert acd.snapshot(T0 + 46)["agents"]["a1"]["wrapup_due"] == T0 + 100
    assert states(acd.tick(T0 + 100)) == [("a1", "ready")]


def test_more_time_is_refused_where_the_queue_does_not_allow_it() -> None:
    acd = make([queue(wrapup_s=30)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    connect(acd, "c1", "a1", T0 + 1)
    with pytest.raises(AcdError, match="not in wrap-up"):
        acd.extend_wrapup("a1", T0 + 5)
    acd.call_finished("a1", T0 + 10)
    with pytest.raises(AcdError, match="does not allow"):
        acd.extend_wrapup("a1", T0 + 20)
