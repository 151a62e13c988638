"""Callbacks with deadlines (R25): when each callback is due and what happens after an attempt.

Pure: no I/O besides reading ``config/callbacks.yaml`` in ``load_callbacks_config``, no asyncio.

- A callback has a *kind*: ``voicemail`` (left after hours or while nobody was logged in; 24 h),
  ``second_line`` (an escalation to the second line; 2 h), ``requested`` (a caller asked in the queue to be
  called back) and ``api`` (created by the service desk or another system).
- Its due time is ``created + deadline``; with ``business_hours: true`` the deadline only runs while the
  named shared schedule (``config/scenarios/_*.yaml``, ``routing.schedule``) is open: a voicemail left on
  Friday at 22:00 with 24 business hours over 09:00-18:00 weekdays is due on Wednesday at 15:00 (9 h on
  Monday, 9 h on Tuesday, 6 h on Wednesday; more worked examples in tests/callbacks/test_due.py).
- After a failed attempt the outcome's retry rule says when to call again; ``wrong_number`` and ``reached``
  close the callback; running out of attempts closes it as failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from acd.yamlconf import ConfigError, ConfigProblem, read_yaml, validation_problems
from outbound.config import Duration
from routing.schedule import Schedule, parse_range

Kind = Literal["voicemail", "second_line", "requested", "api"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Outcome = Literal["reached", "no_answer", "busy", "wrong_number"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
Status = Literal["open", "done", "failed"]

DIAL_OUTCOMES: Mapping[str, Outcome] = {
    "reached": "reached",
    "no_answer": "no_answer",
    "unavailable": "no_answer",
    "congestion": "no_answer",
    "busy": "busy",
    "invalid_number": "wrong_number",
}
"""What the daemon's dialling (acd/engine/outbound_call.py ``DialOutcome``) means for a callback. An
attempt that never reached the number's side (the agent's phone did not answer, the agent hung up while it
rang, an error) is not an attempt: the callback stays as it was."""

MAX_DAYS_SCANNED = 400
"""A business-hours deadline looks this many local days ahead for open hours, then gives up (a schedule
that never opens is refused when the config is loaded, so this only guards against a year of holidays)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deadline(_Strict):
    """How long a callback of one kind may wait."""

    within: Duration = Field(description="Deadline after creation: seconds or 90s, 15m, 2h, 1d")
    business_hours: bool = Field(
        False, description="Count the deadline only while the schedule named in `schedule` is open")


def _default_deadlines() -> dict[Kind, Deadline]:
    return {"voicemail": Deadline(within=86400), "second_line": Deadline(within=7200),
            "requested": Deadline(within=7200), "api": Deadline(within=86400)}


class Retries(_Strict):
    """Attempts per callback and the delay before the next attempt per failed outcome."""

    max_attempts: int = Field(3, ge=1, le=20, description="Attempts per callback in all")
    no_answer: Duration = Field(1800, description="Delay after an attempt nobody answered")
    busy: Duration = Field(600, description="Delay after a busy attempt")


class ServiceDesk(_Strict):
    """Where escalations are posted (seeds 000/001). The secret comes from the environment, never the file."""

    url: str | None = Field(None, description="Webhook URL (http or https); null: no webhook")
    secret_env: str = Field("ACD_SERVICEDESK_SECRET",
                            description="Environment variable holding the HMAC-SHA256 secret")
    timeout: Duration = Field(10, description="Time-out of one delivery attempt")
    backoff_first: Duration = Field(5, description="Delay before the first retry of a refused delivery")
    backoff_max: Duration = Field(600, description="Longest delay between retries (doubling up to it)")

    @model_validator(mode="after")
    def _url(self) -> ServiceDesk:
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        if self.backoff_max < self.backoff_first:
            raise ValueError("backoff_max is shorter than backoff_first")
        return self


class Offers(_Strict):
    """Due callbacks pushed to free agents as a preview (acd/web/callback_offers.py, outbound/offers.py)."""

    enabled: bool = Field(True, description="Offer callbacks to free agents; false: agents only pull them")
    timeout: Duration = Field(30, gt=0, description="An offer not dialled within this goes to another agent")
    again_after: Duration = Field(
        600, ge=0, description="An agent who skipped an offer (or let it time out) is not offered it again "
        "before this")


class CallbacksConfig(_Strict):
    """``config/callbacks.yaml``: deadlines per kind, the schedule they count in, retries, service desk."""

    schedule: str | None = Field(
        None, description="Shared schedule (config/scenarios/_*.yaml) for deadlines with business_hours")
    deadlines: dict[Kind, Deadline] = Field(
        default_factory=_default_deadlines,
        description="Per kind (voicemail, second_line, requested, api): {within: 24h, business_hours: true}")
    retries: Retries = Field(default_factory=Retries, description="Attempts and retry delays")
    service_desk: ServiceDesk = Field(default_factory=ServiceDesk, description="Escalation webhook")
    offers: Offers = Field(default_factory=Offers, description="Callbacks offered to free agents")
    target_pct: float = Field(100.0, gt=0, le=100,
                              description="Share of callbacks that must be reached within their deadline")

    @model_validator(mode="after")
    def _complete(self) -> CallbacksConfig:
        merged = {**_default_deadlines(), **self.deadlines}
        object.__setattr__(self, "deadlines", merged)
        if any(d.business_hours for d in merged.values()) and self.schedule is None:
            raise ValueError("a deadline counts business hours but no `schedule` is named")
        return self


@dataclass(frozen=True)
class Plan:
    """A callback's deadline settings resolved against the schedules: what ``due_at`` needs."""

    config: CallbacksConfig
    schedule: Schedule | None

    def due_at(self, kind: Kind, created_at: float) -> float:
        d = self.config.deadlines[kind]
        if d.business_hours and self.schedule is not None:
            return add_business_seconds(created_at, d.within, self.schedule)
        return created_at + d.within


def add_business_seconds(start: float, seconds: float, schedule: Schedule) -> float:
    """The epoch instant when ``seconds`` of the schedule's open time have passed since ``start``.

    Open ranges are walked day by day in the schedule's zone (holidays and special days included); a start
    inside an open range counts from the start, one outside counts from the next opening."""
    if seconds <= 0:
        return start
    tz = schedule.tz
    left = seconds
    day = datetime.fromtimestamp(start, tz).date()
    for _ in range(MAX_DAYS_SCANNED):
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        for a, b in sorted(parse_range(r) for r in schedule.hours_on(day)):
            lo = max((midnight + timedelta(minutes=a)).timestamp(), start)
            hi = (midnight + timedelta(minutes=b)).timestamp()
            if hi <= lo:
                continue
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        day += timedelta(days=1)
    raise ValueError(f"the schedule has too few open hours in {MAX_DAYS_SCANNED} days for the deadline")


@dataclass(frozen=True)
class AfterAttempt:
    """The callback's state after one attempt's outcome."""

    status: Status
    attempts: int
    next_attempt_at: float | None
    """When to call again (status ``open``); None once closed."""


def after_attempt(outcome: Outcome, attempts_before: int, now: float, retries: Retries) -> AfterAttempt:
    """Reached: done. Wrong number: failed, no retry. No answer / busy: retry after the configured delay
    while attempts remain, failed when they are used up."""
    attempts = attempts_before + 1
    if outcome == "reached":
        return AfterAttempt("done", attempts, None)
    if outcome == "wrong_number" or attempts >= retries.max_attempts:
        return AfterAttempt("failed", attempts, None)
    delay = retries.no_answer if outcome == "no_answer" else retries.busy
    return AfterAttempt("open", attempts, now + delay)


def load_callbacks_config(path: Path | str, schedules: Mapping[str, Schedule],
                          display: str | None = None) -> Plan:
    """Read and check ``config/callbacks.yaml`` against the shared schedules; a missing file gives the
    defaults (24 h / 2 h by the clock, 3 attempts, no webhook). ConfigError lists problems with file:line."""
    p = Path(path)
    if not p.exists():
        return Plan(CallbacksConfig(), None)
    doc = read_yaml(p, display)
    data = doc.data if not doc.empty else {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(doc.path, 1, "", "expected a mapping (schedule:, deadlines:, ...)")])
    try:
        cfg = CallbacksConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(doc, exc)) from exc
    schedule = None
    if cfg.schedule is not None:
        if cfg.schedule not in schedules:
            known = ", ".join(sorted(schedules)) or "none"
            raise ConfigError([doc.problem(["schedule"], f"unknown shared schedule {cfg.schedule!r} "
                                                         f"(known: {known})")])
        schedule = schedules[cfg.schedule]
        if not any(schedule.hours_on(schedule.local(0).date() + timedelta(days=d)) for d in range(7)) \
                and not schedule.special_days:
            raise ConfigError([doc.problem(["schedule"], f"schedule {cfg.schedule!r} never opens: business "
                                                         "hours deadlines would never end")])
    return Plan(cfg, schedule)
