"""The calls row is a pure fold of a call's events: outcomes, waits and durations by hand."""

from __future__ import annotations

import random

import pytest

from acd.events import CallEvent
from cdr.summary import fold
from tests.cdr.dataset import L, calls

EXPECTED = {
    # id: (outcome, wait_s, wait_since_answer_s, talk_s)
    "c01": ("answered", 10, 29, 280),    # talk 10:00:30..10:05:30 = 300 minus 20 s hold
    "c02": ("answered", 60, 69, 120),
    "c03": ("short_abandoned", 3, 12, None),
    "c04": ("abandoned", 80, 89, None),
    "c05": ("abandoned", 20, 24, None),
    "c06": ("handled_in_ivr", None, 64, None),
    "c07": ("missed_in_ivr", None, 19, None),
    "c08": ("voicemail", 120, 129, None),  # wait ends at the overflow; since answer too
    "c09": ("answered", 5, 9, 120),        # talk ends at the agent's transfer (16:02:10)
    "c10": ("transferred", None, 29, None),
    "c11": ("overflowed", 2, 11, None),
    "c12": ("answered", 40, 49, 120),
    "c13": ("answered", 5, 14, 60),
    "c14": ("answered", None, None, 60),
}


@pytest.mark.parametrize("call_id", sorted(EXPECTED))
def test_fold_outcomes_and_waits(call_id: str) -> None:
    row = fold(call_id, calls()[call_id])
    outcome, wait, since, talk = EXPECTED[call_id]
    assert row["outcome"] == outcome
    assert row["wait_s"] == (pytest.approx(wait) if wait is not None else None)
    assert row["wait_since_answer_s"] == (pytest.approx(since) if since is not None else None)
    assert row["talk_s"] == (pytest.approx(talk) if talk is not None else None)


def test_fold_details_of_an_answered_call() -> None:
    row = fold("c02", calls()["c02"])
    assert row["agent"] == "a1" and row["queue"] == "general"
    assert row["offers"] == 2 and row["ring_no_answers"] == 1
    assert row["ring_s"] == pytest.approx(15 + 5)        # a2 rang 11:00:50..11:01:05, a1 11:01:05..11:01:10
    assert row["wrapup_s"] == pytest.approx(11)
    assert row["caller"] == "+77172554433" and row["region"] == "Astana"
    assert row["topic"] == "tax" and row["service"] == "fiscal" and row["call_type"] == "consultation"
    assert row["hangup_by"] == "agent"
    assert row["connected_at"].timestamp() == L(11, 1, 10)


def test_agent_transfer_keeps_answered_and_names_the_target() -> None:
    row = fold("c09", calls()["c09"])
    assert (row["outcome"], row["transferred_to"]) == ("answered", "second_line")
    assert row["comment"] == "to 2nd line"


def test_short_abandon_limit_is_a_parameter() -> None:
    assert fold("c03", calls()["c03"], short_abandon_s=2)["outcome"] == "abandoned"


def test_the_agents_topic_wins_over_the_scenarios_tag_whatever_the_order() -> None:
    evs = [CallEvent("x", "arrived", 0.0, {}), CallEvent("x", "topic", 5.0, {"topic": "agent's"}),
           CallEvent("x", "tag", 6.0, {"topic": "scenario's"})]
    assert fold("x", evs)["topic"] == "agent's"


def test_same_events_any_arrival_order_same_row() -> None:
    evs = calls()["c02"]
    shuffled = evs[:]
    random.Random(7).shuffle(shuffled)
    assert fold("c02", shuffled) == fold("c02", evs)


def test_in_progress_call_has_no_outcome_yet_and_overflow_to_a_queue_is_not_overflowed() -> None:
    evs = [CallEvent("y", "arrived", 0.0, {}), CallEvent("y", "answered", 1.0),
           CallEvent("y", "queued", 2.0, {"queue": "a"}),
           CallEvent("y", "overflow", 62.0, {"queue": "a", "target": "queue:b", "reason": "max_wait"}),
           CallEvent("y", "queued", 62.5, {"queue": "b"})]
    assert fold("y", evs)["outcome"] is None
    evs.append(CallEvent("y", "ended", 100.0, {"by": "caller"}))
    row = fold("y", evs)
    assert (row["outcome"], row["queue"], row["wait_s"]) == ("abandoned", "b", pytest.approx(98))


def test_a_failed_recording_is_marked_on_the_call_whatever_comes_after() -> None:
    def ev(kind: str, at: float, **data: object) -> CallEvent:
        return CallEvent("r1", kind, at, data)

    base = [ev("arrived", 1.0, dialled="193", caller="77011234567"), ev("queued", 2.0, queue="general"),
            ev("connected", 5.0, agent="a1", queue="general")]
    ok = fold("r1", [*base, ev("recording_started", 5.1, recording="2026/11/24/r1"),
                     ev("recording_finished", 60.0, recording="2026/11/24/r1"),
                     ev("ended", 60.0, by="caller")])
    assert (ok["recording"], ok["recording_status"]) == ("2026/11/24/r1", "done")
    failed = fold("r1", [*base, ev("recording_started", 5.1, recording="2026/11/24/r1"),
                         ev("recording_failed", 5.2, recording="2026/11/24/r1", reason="disk full"),
                         ev("recording_finished", 60.0, recording="2026/11/24/r1")])
    assert failed["recording_status"] == "failed"
    assert fold("r1", base)["recording_status"] is None


def _after_hours_voicemail(*, with_step: bool) -> list[CallEvent]:
    """An after-hours call: answered at 0, 15 s of IVR, greeting, a 107 s message, goodbye, hang-up."""
    t0 = 1795400000.0
    evs = [
        CallEvent("vm", "arrived", t0 - 1, {"dialled": "1000", "caller": "+77011234567"}),
        CallEvent("vm", "answered", t0),
        CallEvent("vm", "tag", t0 + 2, {"call_type": "after_hours"}),
        CallEvent("vm", "recording_started", t0 + 20, {"recording": "voicemail-vm-1", "kind": "voicemail"}),
        CallEvent("vm", "voicemail", t0 + 127, {"recording": "voicemail-vm-1", "callback_id": "cb-vm"}),
        CallEvent("vm", "ended", t0 + 131, {"by": "system"}),
    ]
    if with_step:
        evs.append(CallEvent("vm", "step", t0 + 15, {"step": "voicemail", "detail": "to voicemail",
                                                     "to": "voicemail"}))
    return evs


def test_wait_since_answer_of_a_voicemail_stops_when_the_ivr_sends_the_call_there() -> None:
    """Issue 9 §4: the wait included the 107 s message; docs/cdr.md says it stops at the hand-off."""
    row = fold("vm", _after_hours_voicemail(with_step=True))
    assert row["outcome"] == "voicemail"
    assert row["wait_since_answer_s"] == pytest.approx(15)
    # Events of a daemon that did not emit the step yet: the message's recording start bounds it.
    assert fold("vm", _after_hours_voicemail(with_step=False))["wait_since_answer_s"] == pytest.approx(20)


def test_an_end_heard_during_a_gap_is_marked_estimated_on_the_row() -> None:
    """Issue 12 item 7: the `calls` row says its end time is an estimate (``end_estimated``)."""
    events = [
        CallEvent("g1", "arrived", 100.0, {"direction": "inbound", "caller": "77011234567"}),
        CallEvent("g1", "ended", 160.0, {"by": "caller", "cause": 16, "end_estimated": True}),
    ]
    assert fold("g1", events)["end_estimated"] is True
    heard = [events[0], CallEvent("g1", "ended", 160.0, {"by": "caller"})]
    assert fold("g1", heard)["end_estimated"] is False
