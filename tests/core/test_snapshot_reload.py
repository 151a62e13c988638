"""The wallboard snapshot and hot reload of queues and agents."""

from __future__ import annotations

import json

from acd.core import Overflow

from .helpers import T0, agent, make, of, offers, queue, states


def test_snapshot_is_json_and_counts_what_a_supervisor_sees() -> None:
    acd = make([queue(sl_threshold_s=20)], [agent("a1"), agent("a2"), agent("a3")], ready=["a1"])
    acd.set_agent_state("a2", "not_ready", T0, reason="lunch")
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 5)
    acd.enqueue("c2", "support", T0 + 10)
    acd.enqueue("c3", "support", T0 + 12)
    snap = json.loads(json.dumps(acd.snapshot(T0 + 40)))
    q = snap["queues"]["support"]
    assert (q["waiting"], q["longest_wait_s"], q["agents_busy"], q["agents_ready"]) == (2, 30, 1, 0)
    assert (q["agents_logged_in"], q["answered_today"], q["sl_pct"]) == (2, 1, 100.0)
    assert q["ewt_s"] > 0
    a2 = snap["agents"]["a2"]
    assert (a2["state"], a2["reason"], a2["since"]) == ("not_ready", "lunch", T0)
    assert snap["agents"]["a1"]["call_id"] == "c1"


def test_reload_keeps_calls_in_flight_and_logs_removed_agents_out_after_their_call() -> None:
    q = queue(wrapup_s=0)
    acd = make([q], [agent("a1"), agent("a2")], ready=["a1", "a2"])
    acd.enqueue("c1", "support", T0)
    acd.offer_accepted("c1", "a1", T0 + 1)
    out = acd.reconfigure([q], [agent("a1", skills={"new": 3})], T0 + 2)
    assert states(out) == [("a2", "logged_out")]
    assert "a1" in acd.snapshot(T0 + 2)["agents"]
    acd.reconfigure([q], [agent("a2")], T0 + 3)  # a1 removed while on a call
    assert acd.snapshot(T0 + 3)["agents"]["a1"]["state"] == "on_call"
    out = acd.call_finished("a1", T0 + 10)
    assert states(out)[-1] == ("a1", "logged_out")
    assert "a1" not in acd.snapshot(T0 + 10)["agents"]


def test_reload_adds_agents_and_new_skills_take_effect() -> None:
    q = queue(required_skills={"tax": 5}, when_empty="wait")
    acd = make([q], [agent("a1", skills={"tax": 1})], ready=["a1"])
    acd.enqueue("c1", "support", T0)
    out = acd.reconfigure([q], [agent("a1", skills={"tax": 6})], T0 + 1)
    assert offers(out) == [("c1", "a1")]


def test_reload_removing_a_queue_overflows_its_waiting_callers() -> None:
    acd = make([queue("old", overflow="voicemail"), queue("new")], [agent("a1", ("old", "new"))])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "old", T0)
    out = acd.reconfigure([queue("new")], [agent("a1", ("new",))], T0 + 1)
    assert of(Overflow, out) == [Overflow("c1", "old", "voicemail", "queue_removed")]
    assert "old" not in acd.snapshot(T0 + 1)["queues"]
