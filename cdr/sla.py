"""Service-level agreement targets (R21): configuration, with the tenders' figures as defaults.

Every target is optional (None switches it off). Examples from the tenders:
- ``max_wait_s: 120`` - no caller waits in a queue longer than 2 minutes;
- ``service_levels: [{threshold_s: 90, min_pct: 80}]`` - 80 % answered within 90 s (another tender:
  ``[{threshold_s: 30, min_pct: 100}]``, "answer within 30 s");
- ``max_lost_pct_day: 4`` - lost calls at most 4 % on any day; ``max_lost_pct_period: 2`` - and 2 % over the
  month (another tender: 5);
- ``max_avg_wait_s: 60`` - average queue wait at most 60 s;
- ``min_served_pct: 95`` - at least 95 % of inbound calls served.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServiceLevelTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_s: float = Field(gt=0)
    """Answered within this many seconds of entering the queue..."""
    min_pct: float = Field(ge=0, le=100)
    """...for at least this share of calls (the denominator is the report's service-level variant)."""


class SlaTargets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_wait_s: float | None = Field(120.0, gt=0)
    """Longest queue wait of any offered call (answered or lost)."""
    service_levels: list[ServiceLevelTarget] = [ServiceLevelTarget(threshold_s=90, min_pct=80)]
    max_lost_pct_day: float | None = Field(4.0, ge=0, le=100)
    """Lost (abandoned in the queue) / offered, checked on every day of the period."""
    max_lost_pct_period: float | None = Field(2.0, ge=0, le=100)
    """The same over the whole period (a month)."""
    lost_excludes_short: bool = False
    """Leave short abandons out of the lost figures (and out of offered) for the two lost targets."""
    max_avg_wait_s: float | None = Field(60.0, gt=0)
    """Average queue wait of offered calls (answered and lost)."""
    min_served_pct: float | None = Field(95.0, ge=0, le=100)
    """Served / inbound calls; served = every ended inbound call except those missed in the IVR and the
    abandoned (short ones included)."""
