"""Time: announcements, deadlines in order, and the midnight reset of today's figures."""

from __future__ import annotations

from datetime import UTC, datetime

from acd.core import Announce, CallQueued

from .helpers import ALMATY, T0, agent, make, of, queue


def test_announcements_every_interval_with_position_and_estimate() -> None:
    acd = make([queue(announce_every_s=30)], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    queued = of(CallQueued, acd.enqueue("c1", "support", T0))[0]
    acd.enqueue("c2", "support", T0 + 10)
    assert queued.position == 1 and queued.estimate.expected_s > 0
    assert acd.next_deadline() == T0 + 30
    first = acd.tick(T0 + 30)
    assert [(a.call_id, a.position) for a in of(Announce, first)] == [("c1", 1)]
    assert [a.call_id for a in of(Announce, acd.tick(T0 + 40))] == ["c2"]
    assert [a.call_id for a in of(Announce, acd.tick(T0 + 70))] == ["c1", "c2"]  # 60 and 70, in order
    est = of(Announce, acd.tick(T0 + 90))[0].estimate
    assert est.low_s <= est.expected_s <= est.high_s


def test_no_announcement_while_ringing_or_when_disabled() -> None:
    acd = make([queue(announce_every_s=None)], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    assert acd.next_deadline() is not None  # midnight only
    assert of(Announce, acd.tick(T0 + 3600)) == []


def test_tick_processes_timers_in_time_order() -> None:
    acd = make([queue(announce_every_s=10, max_wait_s=25, overflow="voicemail")], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    acd.enqueue("c1", "support", T0)
    out = acd.tick(T0 + 100)
    assert [type(d).__name__ for d in out] == ["Announce", "Announce", "Overflow"]


def test_estimate_and_position_grow_with_the_line() -> None:
    acd = make([queue()], [agent("a1")])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    for i in range(5):
        acd.enqueue(f"c{i}", "support", T0 + i)
    first, last = acd.estimate("c0", T0 + 5), acd.estimate("c4", T0 + 5)
    assert first is not None and last is not None and last.expected_s > first.expected_s
    assert acd.position("c4") == 5
    assert acd.estimate("nope", T0) is None


def test_talk_today_resets_at_local_midnight_in_almaty() -> None:
    evening = datetime(2026, 11, 23, 23, 0, tzinfo=ALMATY).timestamp()
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=ALMATY).timestamp()
    assert midnight - evening == 3600 and datetime.fromtimestamp(midnight, UTC).hour == 19  # UTC+5
    acd = make([queue(wrapup_s=0)], [agent("a1")], ready=["a1"], now=evening)
    acd.enqueue("c1", "support", evening)
    acd.offer_accepted("c1", "a1", evening + 1)
    acd.call_finished("a1", evening + 301)
    assert acd.snapshot(evening + 400)["agents"]["a1"]["talk_today_s"] == 300
    assert acd.next_deadline() == midnight
    acd.tick(midnight - 1)
    assert acd.snapshot(midnight - 1)["agents"]["a1"]["calls_today"] == 1
    acd.tick(midnight)
    snap = acd.snapshot(midnight)["agents"]["a1"]
    assert (snap["talk_today_s"], snap["calls_today"]) == (0, 0)
    assert acd.snapshot(midnight)["queues"]["support"]["offered_today"] == 0
