"""What every benchmark section returns, and small helpers to measure and judge."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Goal:
    """One target of an issue: ``value`` compared with ``limit`` (``value <= limit`` unless ``at_least``)."""

    name: str
    value: float
    limit: float
    at_least: bool = False

    @property
    def ok(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"value": round(self.value, 4), "limit": self.limit, "ok": self.ok}


@dataclass
class Section:
    """A section of var/bench.json: figures (units in the keys) and the goals they are judged against."""

    figures: dict[str, Any]
    goals: list[Goal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.figures, "goals": {g.name: g.as_dict() for g in self.goals}}


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-quantile (0..1) of already sorted values, nearest rank."""
    if not sorted_values:
        return math.nan
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[rank]
