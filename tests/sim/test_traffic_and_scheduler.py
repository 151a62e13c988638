"""Traffic generators and the event scheduler: the ground the simulation stands on."""

from __future__ import annotations

import random

import pytest

from acd.sim.scheduler import Scheduler
from acd.sim.traffic import HOUR, DailyProfile, arrivals, lognormal, parse_hours, pick


def test_arrivals_follow_the_daily_profile() -> None:
    profile = DailyProfile({9: 100.0, 10: 300.0})
    times = list(arrivals(profile, random.Random(1), days=20))
    nine = sum(1 for t in times if int(t % 86400 // HOUR) == 9)
    ten = sum(1 for t in times if int(t % 86400 // HOUR) == 10)
    assert nine + ten == len(times)  # nothing outside opening hours
    assert nine / 20 == pytest.approx(100, rel=0.1)
    assert ten / 20 == pytest.approx(300, rel=0.1)
    assert times == sorted(times)


def test_flat_profile_spreads_the_day_over_the_opening_hours() -> None:
    profile = DailyProfile.flat(400, 9, 21)
    assert sorted(profile.rates_per_hour) == list(range(9, 21))
    assert profile.calls_per_day == pytest.approx(400)
    assert DailyProfile.shaped(400).calls_per_day == pytest.approx(400)


def test_lognormal_has_the_requested_mean() -> None:
    rng = random.Random(2)
    draw = lognormal(300.0, cv=1.0)
    values = [draw(rng) for _ in range(50000)]
    assert sum(values) / len(values) == pytest.approx(300.0, rel=0.05)


def test_hours_are_parsed_or_refused() -> None:
    assert parse_hours("9-21") == (9, 21)
    with pytest.raises(ValueError, match="FIRST-LAST"):
        parse_hours("nine")


def test_pick_respects_weights() -> None:
    rng = random.Random(3)
    got = [pick([("kk", 0.25), ("ru", 0.75)], rng) for _ in range(8000)]
    assert got.count("kk") / len(got) == pytest.approx(0.25, abs=0.03)


def test_scheduler_runs_in_time_order_ties_in_insertion_order_and_skips_cancelled() -> None:
    sched = Scheduler(start=100.0)
    seen: list[tuple[float, str]] = []
    sched.at(105.0, lambda: seen.append((sched.now, "b")))
    sched.at(101.0, lambda: seen.append((sched.now, "a")))
    sched.at(105.0, lambda: seen.append((sched.now, "c")))
    sched.at(103.0, lambda: seen.append((sched.now, "never"))).cancel()
    sched.at(50.0, lambda: seen.append((sched.now, "past")))  # clamped to now
    sched.run()
    assert seen == [(100.0, "past"), (101.0, "a"), (105.0, "b"), (105.0, "c")]


def test_scheduler_stops_at_until() -> None:
    sched = Scheduler()
    fired: list[float] = []
    sched.at(10.0, lambda: fired.append(sched.now))
    sched.at(30.0, lambda: fired.append(sched.now))
    sched.run(until=20.0)
    assert fired == [10.0] and sched.now == 20.0
