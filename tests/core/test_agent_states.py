"""Agent states through the engine (R4): wrap-up, supervisors, pending requests, reachability."""

from __future__ import annotations

from acd.core import AgentStateChanged

from .helpers import T0, agent, make, of, offers, queue, states


def test_every_change_is_reported_with_previous_reason_by_and_time() -> None:
    acd = make([queue()], [agent("a1")])
    (change,) = acd.set_agent_state("a1", "not_ready", T0 + 1, reason="lunch")
    assert change == AgentStateChanged("a1", "not_ready", "logged_out", "lunch", None, T0 + 1, None)
    (change,) = acd.set_agent_state("a1", "ready", T0 + 2, by="supervisor1")
    assert (change.state, change.previous, change.by) == ("ready", "not_ready", "supervisor1")
    assert acd.set_agent_state("a1", "ready", T0 + 3) == []  # no change, nothing to log


def test_wrap_up_then_ready_then_takes_the_waiting_call() -> None:
    acd = make([queue(wrapup_s=10)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 2)
    acd.enqueue("c2", "support", T0 + 3)
    out = acd.call_finished("a1", T0 + 62)
    assert states(out) == [("a1", "wrap_up")] and of(AgentStateChanged, out)[0].call_id == "c1"
    assert acd.next_deadline() == T0 + 72
    assert acd.tick(T0 + 71) == []
    out = acd.tick(T0 + 72)
    assert states(out) == [("a1", "ready"), ("a1", "ringing")]
    assert offers(out) == [("c2", "a1")]
    snap = acd.snapshot(T0 + 72)["agents"]["a1"]
    assert (snap["talk_today_s"], snap["calls_today"]) == (60, 1)


def test_zero_wrap_up_goes_straight_back_to_ready() -> None:
    acd = make([queue(wrapup_s=0)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 1)
    assert states(acd.call_finished("a1", T0 + 5)) == [("a1", "wrap_up"), ("a1", "ready")]


def test_agent_ends_wrap_up_early_or_goes_on_break_from_it() -> None:
    acd = make([queue(wrapup_s=60)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 1)
    acd.call_finished("a1", T0 + 5)
    assert states(acd.set_agent_state("a1", "not_ready", T0 + 6, reason="break")) == [("a1", "not_ready")]
    assert acd.tick(T0 + 100) == []  # the wrap-up timer no longer applies


def test_not_ready_while_on_a_call_is_pending_until_after_wrap_up() -> None:
    acd = make([queue(wrapup_s=5)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 1)
    assert acd.set_agent_state("a1", "not_ready", T0 + 2, reason="lunch", by="boss") == []
    assert acd.snapshot(T0 + 2)["agents"]["a1"]["pending"] == "not_ready"
    acd.call_finished("a1", T0 + 10)
    (change,) = of(AgentStateChanged, acd.tick(T0 + 15))
    assert (change.state, change.reason, change.by) == ("not_ready", "lunch", "boss")


def test_ready_cancels_a_pending_request() -> None:
    acd = make([queue(wrapup_s=0)], [agent("a1")], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 1)
    acd.set_agent_state("a1", "logged_out", T0 + 2)
    acd.set_agent_state("a1", "ready", T0 + 3)
    assert states(acd.call_finished("a1", T0 + 4))[-1] == ("a1", "ready")


def test_supervisor_forces_log_out_of_a_ringing_agent_after_the_ring() -> None:
    acd = make([queue()], [agent("a1"), agent("a2")], ready=["a1"])
    acd.set_agent_state("a2", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    assert acd.set_agent_state("a1", "logged_out", T0 + 1, by="boss") == []
    out = acd.offer_rejected("c1", "a1", T0 + 2)
    change = of(AgentStateChanged, out)[0]
    assert (change.state, change.by) == ("logged_out", "boss")
    assert acd.position("c1") == 1  # a2 is logged in (on a break), so the call waits


def test_unreachable_agent_is_never_offered_and_reachable_again_takes_a_call() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    acd.set_agent_reachable("a1", False, T0)
    assert offers(acd.enqueue("c1", "support", T0 + 1)) == []
    assert offers(acd.set_agent_reachable("a1", True, T0 + 2)) == [("c1", "a1")]


def test_restore_call_and_totals_after_a_restart() -> None:
    acd = make([queue(wrapup_s=0)], [agent("a1")])
    acd.set_agent_totals("a1", 1200, 7)
    acd.restore_call("c9", "a1", "support", T0, connected_at=T0 - 30)
    assert acd.snapshot(T0)["agents"]["a1"]["state"] == "on_call"
    acd.call_finished("a1", T0 + 30)
    snap = acd.snapshot(T0 + 30)["agents"]["a1"]
    assert (snap["talk_today_s"], snap["calls_today"], snap["state"]) == (1260, 8, "ready")
