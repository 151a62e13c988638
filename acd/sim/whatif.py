"""The admin's what-if: "8 agents, 400 calls a day, 300 s handling: what service level?".

Turns a handful of numbers (``WhatIf``) into a full simulation: one queue, agents who speak the callers'
languages, a working day of Poisson arrivals, shifts with staggered breaks, then runs it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from acd.core import AgentConfig, QueueConfig
from acd.sim.model import CallSpec, Shift, SimReport, Simulation
from acd.sim.traffic import HOUR, DailyProfile, arrivals, exponential, pick, service_sampler

QUEUE = "main"


@dataclass(frozen=True)
class WhatIf:
    """The knobs of ``acd simulate``; every duration in seconds."""

    agents: int = 8
    calls_per_day: float = 400.0
    aht_s: float = 300.0
    service: str = "exponential"
    """Handling-time distribution: exponential, lognormal (cv 1) or constant."""
    patience_s: float = 180.0
    hours: tuple[int, int] = (9, 21)
    profile: str = "flat"
    """flat: calls spread evenly over the opening hours; typical: a morning peak and a lunch dip."""
    days: int = 1
    seed: int = 1
    strategy: str = "least_talked_today"
    wrapup_s: float = 10.0
    ring_timeout_s: float = 15.0
    answer_delay_s: float = 2.0
    sl_threshold_s: float = 30.0
    breaks: int = 0
    """Breaks per agent per day, staggered so agents do not leave together."""
    break_s: float = 900.0
    languages: tuple[tuple[str, float], ...] = (("kk", 0.5), ("ru", 0.5))
    max_wait_s: float | None = None
    estimator: str | None = None
    tz: str = "Asia/Almaty"
    start_date: date = date(2026, 11, 23)


def daily_profile(w: WhatIf) -> DailyProfile:
    first, last = w.hours
    if w.profile == "flat":
        return DailyProfile.flat(w.calls_per_day, first, last)
    if w.profile == "typical":
        return DailyProfile.shaped(w.calls_per_day)
    raise ValueError(f"unknown profile {w.profile!r}; flat or typical")


def build(w: WhatIf) -> Simulation:
    """The simulation a ``WhatIf`` describes (deterministic for a given seed)."""
    if w.agents < 1:
        raise ValueError("need at least one agent")
    tz = ZoneInfo(w.tz)
    midnight = datetime.combine(w.start_date, time(0), tz).timestamp()
    rng = random.Random(w.seed)
    talk = service_sampler(w.service, w.aht_s)
    patience = exponential(w.patience_s)
    calls = [
        CallSpec(
            at=midnight + t,
            queue=QUEUE,
            talk_s=talk(rng),
            patience_s=patience(rng),
            language=pick(w.languages, rng),
        )
        for t in list(arrivals(daily_profile(w), rng, days=w.days))
    ]
    langs = [name for name, _ in w.languages]
    agents = [
        AgentConfig(id=f"agent{i + 1}", name=f"Agent {i + 1}", languages=langs, queues={QUEUE: 1})
        for i in range(w.agents)
    ]
    queue = QueueConfig(
        name=QUEUE,
        strategy=w.strategy,  # validated by pydantic
        wrapup_s=w.wrapup_s,
        ring_timeout_s=w.ring_timeout_s,
        sl_threshold_s=w.sl_threshold_s,
        max_wait_s=w.max_wait_s,
        when_empty="wait",
        estimator=w.estimator,
    )
    return Simulation(
        [queue],
        agents,
        calls,
        shifts(w, midnight),
        start=midnight,
        tz=w.tz,
        answer_delay_s=w.answer_delay_s,
        seed=w.seed,
    )


def shifts(w: WhatIf, midnight: float) -> list[Shift]:
    """Everyone works the opening hours plus up to an hour to clear the queue; shifts of consecutive days
    that touch (a 24-hour service) are one shift, so nobody logs out at midnight."""
    profile = daily_profile(w)
    first = min(profile.rates_per_hour)
    last = max(profile.rates_per_hour) + 1
    spans: list[list[float]] = []
    for day in range(w.days):
        day0 = midnight + day * 86400.0
        start, end = day0 + first * HOUR, day0 + last * HOUR + min(w.patience_s * 3, HOUR)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    out: list[Shift] = []
    for start, end in spans:
        span = end - start
        n_breaks = w.breaks * max(1, round(span / 86400.0))
        for i in range(w.agents):
            breaks = []
            for k in range(n_breaks):
                b = start + span * (k + 1) / (n_breaks + 1) + (i - (w.agents - 1) / 2) * w.break_s
                breaks.append((b, b + w.break_s))
            out.append(Shift(f"agent{i + 1}", start, end, tuple(breaks)))
    return out


def run(w: WhatIf) -> SimReport:
    return build(w).run()
