"""What happens to a contact after an attempt: closed, or called again when (pure; the dialer applies it).

Rules from the campaign's ``attempts`` section: a productive call closes the contact (``done``); an
outcome with no retry rule closes it (``done`` when answered, ``failed`` otherwise); the campaign's
``max`` attempts in all, or the rule's own ``max`` attempts ending that way, close it as ``failed``;
otherwise the next attempt is due ``after`` the rule's delay, moved to the next moment the calling window
is open (a busy at 19:55 with a 15-minute retry is called the next calling day at opening time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from outbound.config import Campaign, Outcome
from routing.schedule import WEEKDAYS, parse_range

Status = Literal["pending", "done", "failed"]
SEARCH_DAYS = 400


@dataclass(frozen=True)
class AfterAttempt:
    status: Status
    next_attempt_at: float | None
    reason: str


def after_attempt(campaign: Campaign, outcomes_so_far: Mapping[str, int], outcome: Outcome, productive: bool,
                  now: float) -> AfterAttempt:
    """The contact's fate after an attempt ending with ``outcome`` at ``now``; ``outcomes_so_far`` counts
    the contact's earlier attempts per outcome (this one not included)."""
    if productive:
        return AfterAttempt("done", None, "productive")
    rule = campaign.attempts.retry.get(outcome)
    closed: Status = "done" if outcome == "answered" else "failed"
    if rule is None:
        return AfterAttempt(closed, None, f"{outcome}: no retry rule")
    made = sum(outcomes_so_far.values()) + 1
    if made >= campaign.attempts.max:
        return AfterAttempt(closed, None, f"{made} attempts, the campaign's maximum")
    same = outcomes_so_far.get(outcome, 0) + 1
    if rule.max is not None and same >= rule.max:
        return AfterAttempt(closed, None, f"{same} attempts ended {outcome}, the rule's maximum")
    due = next_window_open(campaign, now + rule.after)
    if due is None:
        return AfterAttempt(closed, None, "the calling window does not open again")
    return AfterAttempt("pending", due, f"{outcome}: again after {rule.after:g} s")


def next_window_open(campaign: Campaign, at: float) -> float | None:
    """The first instant at or after ``at`` inside the calling window; None after ``end_date``."""
    tz = ZoneInfo(campaign.timezone)
    w = campaign.window
    local = datetime.fromtimestamp(at, UTC).astimezone(tz)
    ranges = sorted(parse_range(r) for r in w.hours)
    day = local.date()
    for _ in range(SEARCH_DAYS):
        if w.end_date and day > w.end_date:
            return None
        if (not w.start_date or day >= w.start_date) and WEEKDAYS[day.weekday()] in w.days:
            midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
            for start, end in ranges:
                opens = (midnight + timedelta(minutes=start)).timestamp()
                closes = (midnight + timedelta(minutes=end)).timestamp()
                if at < closes:
                    return max(at, opens)
        day += timedelta(days=1)
    return None
