"""Spoken waits on a new queue (issue 11 §4): a prior that gives way at once, a history to start from,
and no wait announced without a basis."""

from __future__ import annotations

import pytest

from acd.core.decisions import CallQueued
from acd.core.prediction import (
    QueueHistory,
    QueueStatistics,
    QueueView,
    WaitEstimate,
    announce_minutes,
    estimate,
    ql,
)

from .helpers import T0, agent, connect, make, of, queue


def test_the_prior_gives_way_to_the_first_few_services() -> None:
    """Real handling 60 s against the 300 s prior: after five services the mean is the queue's own (it
    was (5 x 300 + 5 x 60) / 10 = 180 s before: three times too long)."""
    s = QueueStatistics()
    for i in range(5):
        s.service_completed(60.0, T0 + i)
    assert s.mean_service_s == pytest.approx(60.0, rel=0.1)
    slow = QueueStatistics()
    for i in range(5):
        slow.service_completed(900.0, T0 + i)
    assert slow.mean_service_s == pytest.approx(900.0, rel=0.1)


def test_no_wait_is_announced_before_the_queue_has_a_basis() -> None:
    s = QueueStatistics()
    v = QueueView(ahead=4, servers=1, elapsed_s=0.0, hol_elapsed_s=0.0, les_wait_s=None)
    first = estimate(v, s)
    assert not first.known and first.expected_s > 60  # the prior's guess: 5 x 300 s, never spoken
    assert announce_minutes(first) is None
    for i in range(3):
        s.service_completed(60.0, T0 + i)
    later = estimate(v, s)
    assert later.known and announce_minutes(later) is not None
    assert announce_minutes(WaitEstimate(600.0, 300.0, 900.0, known=False)) is None


def test_a_history_from_the_cdr_is_where_the_statistics_start() -> None:
    s = QueueStatistics()
    s.seed(QueueHistory(services=400, service_s=400 * 90.0, left=500, waited_s=500 * 30.0, abandons=50))
    assert s.known
    assert s.mean_service_s == pytest.approx(90.0)
    assert s.theta == pytest.approx(50 / 15_000, rel=0.05)  # 50 abandons in 15,000 s of waiting
    view = QueueView(ahead=1, servers=2, elapsed_s=0.0, hol_elapsed_s=0.0, les_wait_s=None)
    assert ql(view, s) == pytest.approx(90.0)  # two callers served by two agents of 90 s


def test_a_long_history_counts_as_a_few_hundred_calls_so_today_shows_quickly() -> None:
    s = QueueStatistics()
    s.seed(QueueHistory(services=50_000, service_s=50_000 * 60.0, left=50_000, waited_s=0.0, abandons=0))
    for i in range(200):
        s.service_completed(180.0, T0 + i)
    assert s.mean_service_s > 110  # today's 180 s weighs as much as the week's 60 s


def test_the_daemons_history_reaches_the_first_callers_announcement() -> None:
    """``Acd.seed_statistics``: with the queue's history (handling 60 s) the very first waiting caller hears
    a wait measured on this queue; without it, only the position (the estimate is not known)."""
    def first_waiting(seeded: bool) -> WaitEstimate:
        acd = make([queue(when_empty="wait")], [agent("a1")], ready=["a1"])
        if seeded:
            acd.seed_statistics("support", QueueHistory(services=300, service_s=300 * 60.0, left=300,
                                                        waited_s=300 * 10.0, abandons=0))
        acd.seed_statistics("no-such-queue", QueueHistory(1, 1.0, 1, 1.0, 0))  # ignored
        acd.enqueue("c1", "support", T0)
        connect(acd, "c1", "a1", T0 + 1)
        acd.enqueue("c2", "support", T0 + 2)
        (queued,) = of(CallQueued, acd.enqueue("c3", "support", T0 + 3))
        return queued.estimate

    unseeded, seeded = first_waiting(False), first_waiting(True)
    assert not unseeded.known and announce_minutes(unseeded) is None
    assert seeded.known
    assert seeded.expected_s == pytest.approx(120.0, rel=0.1)  # c2 then c3 on one 60 s agent
