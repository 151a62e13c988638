"""Business hours at their boundaries, in Almaty time, with Kazakhstan's holidays (R12)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from acd.configset import load_config
from routing.schedule import Schedule
from tests.routing.fakes import almaty

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def tender() -> Schedule:
    return load_config(CONFIG).schedules["tender"]


@pytest.mark.parametrize(("local", "is_open"), [
    ((2026, 11, 23, 8, 59, 59), False),   # Monday
    ((2026, 11, 23, 9, 0, 0), True),
    ((2026, 11, 23, 20, 59, 59), True),
    ((2026, 11, 23, 21, 0, 0), False),
    ((2026, 11, 28, 9, 59, 59), False),   # Saturday: 10-19
    ((2026, 11, 28, 10, 0, 0), True),
    ((2026, 11, 28, 18, 59, 59), True),
    ((2026, 11, 28, 19, 0, 0), False),
    ((2026, 12, 16, 9, 30, 0), False),    # Wednesday, Independence Day: holiday hours 10-19
    ((2026, 12, 16, 10, 0, 0), True),
    ((2026, 12, 16, 20, 0, 0), False),
    ((2026, 12, 17, 20, 0, 0), True),     # the next day is an ordinary Thursday
])
def test_tender_hours_at_the_boundaries(tender: Schedule, local: tuple[int, ...], is_open: bool) -> None:
    assert tender.is_open(almaty(*local)) is is_open


def test_instants_are_read_in_almaty_time(tender: Schedule) -> None:
    # 04:00 UTC is 09:00 in Almaty (UTC+5): open on a Monday; 03:59:59 UTC is not
    monday_0400_utc = 1795406400.0  # 2026-11-23T04:00:00Z
    assert tender.is_open(monday_0400_utc)
    assert not tender.is_open(monday_0400_utc - 1)


def test_independence_day_is_a_public_holiday(tender: Schedule) -> None:
    assert tender.holiday_name(date(2026, 12, 16)) == "Independence Day"
    assert tender.hours_on(date(2026, 12, 16)) == ["10:00-19:00"]


def test_admin_overrides_win_over_holidays_and_weekdays() -> None:
    s = Schedule.model_validate({
        "weekly": {"mon": ["09:00-18:00"], "sat": []},
        "holiday_hours": [],
        "extra_holidays": ["2026-11-23"],
        "special_days": {"2026-12-16": ["09:00-13:00"], "2026-11-28": ["09:00-18:00"]},
    })
    assert not s.is_open(almaty(2026, 11, 23, 12, 0))       # an extra holiday, closed
    assert s.is_open(almaty(2026, 11, 28, 12, 0))           # a moved working Saturday
    assert s.is_open(almaty(2026, 12, 16, 12, 59))          # a short day on a holiday
    assert not s.is_open(almaty(2026, 12, 16, 13, 0))


def test_24x7_and_office_hours() -> None:
    cfg = load_config(CONFIG)
    always, office = cfg.schedules["always"], cfg.schedules["office"]
    assert always.is_open(almaty(2026, 12, 16, 3, 0)) and always.is_open(almaty(2026, 11, 29, 23, 59, 59))
    assert office.is_open(almaty(2026, 11, 28, 14, 59)) and not office.is_open(almaty(2026, 11, 28, 15, 0))
    assert not office.is_open(almaty(2026, 11, 29, 12, 0))  # Sunday
    assert not office.is_open(almaty(2026, 12, 16, 12, 0))  # holiday


@pytest.mark.parametrize(("hours", "message"), [
    (["25:00-26:00"], "does not exist"),
    (["9-18"], "must look like 09:00-21:00"),
    (["09:00-09:00"], "ends before it starts"),
    (["09:00-12:00", "11:59-13:00"], "overlap"),
])
def test_bad_hours_are_refused(hours: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate({"weekly": {"mon": hours}})


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Asia/Almati'"):
        Schedule.model_validate({"timezone": "Asia/Almati"})
