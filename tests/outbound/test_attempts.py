"""Retries per outcome and the calling window decide when a contact is called again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from outbound.attempts import after_attempt, next_window_open
from outbound.config import Campaign, load_campaign

ALMATY = ZoneInfo("Asia/Almaty")
SURVEY = Path(__file__).resolve().parents[2] / "config" / "campaigns" / "survey.yaml"


def at(*args: int) -> float:
    return datetime(*args, tzinfo=ALMATY).timestamp()  # type: ignore[misc]


@pytest.fixture
def survey() -> Campaign:
    return load_campaign(SURVEY)  # mon-sat 10-13, 14-20; max 4; busy 15m max 3; no_answer 2h


def test_a_busy_at_the_end_of_the_day_is_called_at_the_next_opening(survey: Campaign) -> None:
    # Saturday 2026-11-28 19:55 + 15 min = 20:10, closed; Sunday has no calls; Monday 10:00
    r = after_attempt(survey, {}, "busy", False, at(2026, 11, 28, 19, 55))
    assert r.status == "pending" and r.next_attempt_at == at(2026, 11, 30, 10, 0)


def test_a_retry_inside_the_window_keeps_its_delay(survey: Campaign) -> None:
    r = after_attempt(survey, {}, "no_answer", False, at(2026, 11, 30, 10, 30))
    assert r.next_attempt_at == at(2026, 11, 30, 12, 30)
    lunch = after_attempt(survey, {}, "no_answer", False, at(2026, 11, 30, 11, 30))
    assert lunch.next_attempt_at == at(2026, 11, 30, 14, 0)  # 13:30 is the break


def test_limits_close_the_contact(survey: Campaign) -> None:
    assert after_attempt(survey, {"busy": 2}, "busy", False, at(2026, 11, 30, 11)).status == "failed"
    fourth = after_attempt(survey, {"no_answer": 3}, "no_answer", False, at(2026, 11, 30, 11))
    assert fourth.status == "failed" and "maximum" in fourth.reason
    assert after_attempt(survey, {"busy": 1}, "no_answer", False, at(2026, 11, 30, 11)).status == "pending"


def test_productive_and_answered_without_a_rule_are_done(survey: Campaign) -> None:
    assert after_attempt(survey, {}, "answered", True, at(2026, 11, 30, 11)).status == "done"
    assert after_attempt(survey, {}, "answered", False, at(2026, 11, 30, 11)).status == "done"


def test_no_call_after_the_end_date(survey: Campaign) -> None:
    ended = survey.model_copy(update={"window": survey.window.model_copy(
        update={"end_date": datetime(2026, 11, 28).date()})})
    assert next_window_open(ended, at(2026, 11, 28, 20, 30)) is None
    assert after_attempt(ended, {}, "busy", False, at(2026, 11, 28, 19, 55)).status == "failed"
    assert survey.in_window(at(2026, 11, 28, 12, 0)) and not survey.in_window(at(2026, 11, 29, 12, 0))
