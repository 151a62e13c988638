"""Synthetic call traffic: arrivals with a daily profile, handling times, caller patience.

Shared by the traffic simulation, the benchmarks and the demo (which feeds the same arrivals to the ARI
simulator), so that "400 calls a day" means the same stream everywhere. Every generator takes its own
``random.Random``: a seed makes a run repeatable, and two streams never disturb each other.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

Sampler = Callable[[random.Random], float]
"""Draws one duration in seconds."""

HOUR = 3600.0
DAY = 86400.0

# A contact centre's usual shape: a morning peak, a lunch dip, a smaller afternoon peak (relative weights).
TYPICAL_WEIGHTS: dict[int, float] = {
    8: 0.6, 9: 1.2, 10: 1.5, 11: 1.4, 12: 1.0, 13: 0.9,
    14: 1.2, 15: 1.3, 16: 1.1, 17: 0.9, 18: 0.6, 19: 0.4, 20: 0.3,
}  # fmt: skip


@dataclass(frozen=True)
class DailyProfile:
    """Poisson arrival rates per local hour of the day, in calls per hour (hours absent: no calls)."""

    rates_per_hour: dict[int, float]

    @classmethod
    def flat(cls, calls_per_day: float, first_hour: int, last_hour: int) -> DailyProfile:
        """Calls spread evenly over the hours ``first_hour`` .. ``last_hour - 1`` (e.g. 9-21)."""
        if not 0 <= first_hour < last_hour <= 24:
            raise ValueError(f"hours {first_hour}-{last_hour}: need 0 <= first < last <= 24")
        per_hour = calls_per_day / (last_hour - first_hour)
        return cls({h: per_hour for h in range(first_hour, last_hour)})

    @classmethod
    def shaped(cls, calls_per_day: float, weights: dict[int, float] | None = None) -> DailyProfile:
        """``calls_per_day`` distributed over the hours in proportion to ``weights`` (a typical day)."""
        w = weights or TYPICAL_WEIGHTS
        total = sum(w.values())
        return cls({h: calls_per_day * v / total for h, v in w.items()})

    @property
    def calls_per_day(self) -> float:
        return sum(self.rates_per_hour.values())

    def rate_at(self, seconds_into_day: float) -> float:
        """Arrival rate in calls per second at a moment of the day."""
        return self.rates_per_hour.get(int(seconds_into_day // HOUR) % 24, 0.0) / HOUR


def arrivals(
    profile: DailyProfile, rng: random.Random, *, days: int = 1, start: float = 0.0
) -> Iterator[float]:
    """Arrival instants (seconds from ``start``, local midnight of day one) of a piecewise-constant Poisson
    process: within each hour, exponential gaps at that hour's rate; the memoryless property lets a gap
    that runs past the hour be redrawn at the next hour's rate."""
    for day in range(days):
        for hour in range(24):
            rate = profile.rates_per_hour.get(hour, 0.0) / HOUR
            if rate <= 0:
                continue
            t = day * DAY + hour * HOUR
            end = t + HOUR
            while True:
                t += rng.expovariate(rate)
                if t >= end:
                    break
                yield start + t


def stationary_arrivals(
    rate_per_s: float, rng: random.Random, count: int, start: float = 0.0
) -> Iterator[float]:
    """``count`` Poisson arrivals at a constant rate (benchmarks of the estimators)."""
    t = start
    for _ in range(count):
        t += rng.expovariate(rate_per_s)
        yield t


def exponential(mean_s: float) -> Sampler:
    rate = 1.0 / mean_s
    return lambda rng: rng.expovariate(rate)


def lognormal(mean_s: float, cv: float = 1.0) -> Sampler:
    """Log-normal with the given mean and coefficient of variation (handling times are often so)."""
    sigma2 = math.log(1.0 + cv * cv)
    mu = math.log(mean_s) - sigma2 / 2.0
    sigma = math.sqrt(sigma2)
    return lambda rng: rng.lognormvariate(mu, sigma)


def constant(value_s: float) -> Sampler:
    return lambda rng: value_s


def service_sampler(kind: str, mean_s: float) -> Sampler:
    """``exponential`` or ``lognormal`` (cv 1) or ``constant``; ValueError otherwise."""
    makers: dict[str, Callable[[float], Sampler]] = {
        "exponential": exponential,
        "lognormal": lognormal,
        "constant": constant,
    }
    try:
        return makers[kind](mean_s)
    except KeyError:
        raise ValueError(f"unknown distribution {kind!r}; one of {', '.join(makers)}") from None


def parse_hours(spec: str) -> tuple[int, int]:
    """``"9-21"`` -> (9, 21): open from 09:00 to 21:00."""
    first, sep, last = spec.partition("-")
    try:
        if not sep:
            raise ValueError
        return int(first), int(last)
    except ValueError:
        raise ValueError(f"hours {spec!r}: expected FIRST-LAST, e.g. 9-21") from None


def pick(weights: Sequence[tuple[str, float]], rng: random.Random) -> str:
    """One name drawn in proportion to its weight (e.g. the caller's language)."""
    total = sum(w for _, w in weights)
    x = rng.random() * total
    for name, w in weights:
        x -= w
        if x < 0:
            return name
    return weights[-1][0]
