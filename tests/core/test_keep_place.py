""""Keep my place" (issue 15): a waiting caller asks to be called back and hangs up; the entry keeps its
place, and the agent who would have been offered it gets the callback and is held from inbound offers."""

from __future__ import annotations

import pytest

from acd.core import Acd, AcdError, AssignCallback, Overflow

from .helpers import T0, agent, make, of, offers, queue

pytestmark = pytest.mark.timeout(10)


def _busy_line(**queue_fields: object) -> Acd:
    acd = make([queue(**queue_fields)], [agent("a1", languages=("kk",)), agent("a2", languages=("ru",))])
    for a in ("a1", "a2"):
        acd.set_agent_state(a, "not_ready", T0, reason="break")
    return acd


def test_a_kept_place_is_not_passed_by_a_later_caller_and_goes_to_the_agent_as_a_callback() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("early", "support", T0, language="kk")
    acd.enqueue("kept", "support", T0 + 10, language="kk")
    assert acd.keep_place("kept", T0 + 20, hold_s=30) == []
    acd.enqueue("later", "support", T0 + 30, language="kk")
    assert [acd.position(c) for c in ("early", "kept", "later")] == [1, 2, 3]
    assert offers(acd.set_agent_state("a1", "ready", T0 + 40)) == [("early", "a1")]
    acd.offer_accepted("early", "a1", T0 + 45)
    out = acd.call_finished("a1", T0 + 100)
    out += acd.tick(T0 + 111)  # wrap-up over: the next in line is the kept place, not "later"
    [cb] = of(AssignCallback, out)
    assert (cb.call_id, cb.agent_id, cb.queue, cb.language, cb.entered_at) == ("kept", "a1", "support", "kk",
                                                                                T0 + 10)
    assert not offers(out)
    assert acd.position("kept") is None and acd.position("later") == 1
    assert acd.snapshot(T0 + 111)["agents"]["a1"]["held_for_callback"] == "kept"


def test_the_held_agent_gets_no_inbound_offer_until_the_hold_ends_or_they_act() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("kept", "support", T0)
    acd.keep_place("kept", T0 + 5, hold_s=30)
    assert of(AssignCallback, acd.set_agent_state("a1", "ready", T0 + 10))
    assert offers(acd.enqueue("next", "support", T0 + 12)) == []
    assert acd.next_deadline() == T0 + 40
    assert offers(acd.tick(T0 + 40)) == [("next", "a1")]  # the hold is bounded

    acd2 = make([queue()], [agent("a1")])
    acd2.set_agent_state("a1", "not_ready", T0, reason="break")
    acd2.enqueue("kept", "support", T0)
    acd2.keep_place("kept", T0 + 5, hold_s=30)
    acd2.set_agent_state("a1", "ready", T0 + 10)
    acd2.enqueue("next", "support", T0 + 12)
    assert offers(acd2.end_hold("a1", T0 + 15)) == [("next", "a1")]  # or the agent acted


def test_the_kept_place_needs_the_callers_language_and_never_overflows() -> None:
    acd = _busy_line(max_wait_s=60, overflow="voicemail")
    acd.enqueue("kept", "support", T0, language="ru")
    acd.keep_place("kept", T0 + 5, hold_s=30)
    assert not of(Overflow, acd.tick(T0 + 120))  # max_wait: the caller is not on the line to overflow
    assert not of(AssignCallback, acd.set_agent_state("a1", "ready", T0 + 130))  # a1 speaks no Russian
    [cb] = of(AssignCallback, acd.set_agent_state("a2", "ready", T0 + 131))
    assert (cb.agent_id, cb.language) == ("a2", "ru")


def test_only_a_waiting_caller_can_keep_a_place() -> None:
    acd = make([queue()], [agent("a1")], ready=["a1"])
    acd.enqueue("ringing", "support", T0)
    with pytest.raises(AcdError):
        acd.keep_place("ringing", T0 + 1, hold_s=30)
    with pytest.raises(AcdError):
        acd.keep_place("unknown", T0 + 1, hold_s=30)


def test_a_kept_place_restored_after_a_restart_goes_back_to_its_place_and_to_the_first_free_agent() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0 + 100, reason="break")
    acd.enqueue("later", "support", T0 + 100, language="kk")  # a live caller who came after the key
    assert acd.restore_kept_place("kept", "support", T0 + 200, entered_at=T0 + 10, hold_s=45,
                                  language="kk") == []
    assert [acd.position(c) for c in ("kept", "later")] == [1, 2]
    out = acd.set_agent_state("a1", "ready", T0 + 210)
    [cb] = of(AssignCallback, out)
    assert (cb.call_id, cb.agent_id, cb.entered_at, cb.hold_s) == ("kept", "a1", T0 + 10, 45)
    assert not offers(out)
    with pytest.raises(AcdError):
        acd.restore_kept_place("x", "nowhere", T0 + 220, entered_at=T0, hold_s=30)
