"""Business hours (R12): a weekly timetable, Kazakhstan's public holidays and the admin's own exceptions,
evaluated at an epoch instant in the schedule's time zone.

Which hours apply to a local date, first match wins:
1. ``special_days``: a date the admin fixed by hand (a moved working day with its hours, or ``[]`` to close);
2. a holiday: a public holiday of ``holidays_country`` (the ``holidays`` package) or one of
   ``extra_holidays``, with ``holiday_hours``;
3. the weekday's hours in ``weekly``.
Ranges are half-open: ``09:00-21:00`` is open at 09:00:00 and closed at 21:00:00; ``24:00`` ends a day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_range(text: str) -> tuple[int, int]:
    """``"09:00-21:00"`` -> (540, 1260) minutes since local midnight; ValueError with a hint."""
    m = _RANGE.match(text)
    if not m:
        raise ValueError(f"time range {text!r} must look like 09:00-21:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    for h, mi in ((h1, m1), (h2, m2)):
        if h > 24 or mi > 59 or (h == 24 and mi):
            raise ValueError(f"time {h:02d}:{mi:02d} in {text!r} does not exist (00:00 to 24:00)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(f"time range {text!r} ends before it starts (ranges cannot cross midnight: "
                         "split them, e.g. 22:00-24:00 and 00:00-06:00 of the next day)")
    return start, end


def _check_ranges(ranges: list[str]) -> list[str]:
    spans = sorted((parse_range(r), r) for r in ranges)
    for (a, ra), (b, rb) in zip(spans, spans[1:], strict=False):
        if b[0] < a[1]:
            raise ValueError(f"time ranges {ra!r} and {rb!r} overlap")
    return ranges


Hours = Annotated[list[str], AfterValidator(_check_ranges)]
"""Open periods of one day, e.g. ``["09:00-13:00", "14:00-18:00"]``; ``[]`` is closed all day."""


class Weekly(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mon: Hours = Field(default_factory=list, description="Open hours on Mondays, e.g. [09:00-21:00]")
    tue: Hours = Field(default_factory=list, description="Open hours on Tuesdays")
    wed: Hours = Field(default_factory=list, description="Open hours on Wednesdays")
    thu: Hours = Field(default_factory=list, description="Open hours on Thursdays")
    fri: Hours = Field(default_factory=list, description="Open hours on Fridays")
    sat: Hours = Field(default_factory=list, description="Open hours on Saturdays")
    sun: Hours = Field(default_factory=list, description="Open hours on Sundays")


class Schedule(BaseModel):
    """A named timetable; scenarios refer to it by name in an ``hours`` step."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = Field("Asia/Almaty", description="IANA time zone the hours are written in")
    weekly: Weekly = Field(default_factory=Weekly, description="Open hours per weekday")
    holidays_country: str | None = Field(
        "KZ", description="Public holidays of this country (ISO code, holidays package); null for none")
    holiday_hours: Hours = Field(default_factory=list,
                                 description="Open hours on a public or extra holiday; [] means closed")
    extra_holidays: list[date] = Field(default_factory=list,
                                       description="More days treated as holidays (YYYY-MM-DD)")
    special_days: dict[date, Hours] = Field(
        default_factory=dict,
        description="Dates with their own hours, above everything else: moved working days, short days; "
        "[] closes")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Almaty)") from exc
        return value

    @model_validator(mode="after")
    def _country(self) -> Schedule:
        if self.holidays_country is not None:
            try:
                holidays_lib.country_holidays(self.holidays_country)
            except NotImplementedError as exc:
                raise ValueError(f"holidays_country {self.holidays_country!r} is not known") from exc
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, UTC).astimezone(self.tz)

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_holidays:
            return "extra holiday"
        if self.holidays_country is None:
            return None
        return _country_holidays(self.holidays_country, day.year).get(day)

    def hours_on(self, day: date) -> list[str]:
        """The open ranges that apply to a local date (see the module docstring for the order)."""
        if day in self.special_days:
            return self.special_days[day]
        if self.holiday_name(day) is not None:
            return self.holiday_hours
        return list(getattr(self.weekly, WEEKDAYS[day.weekday()]))

    def is_open(self, at: float) -> bool:
        """Open at the epoch instant ``at`` (seconds, UTC)?"""
        local = self.local(at)
        minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60e6
        return any(s <= minute < e for s, e in (parse_range(r) for r in self.hours_on(local.date())))


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> holidays_lib.HolidayBase:
    return holidays_lib.country_holidays(country, years=year)


def local_time(hhmm: str) -> time:
    """Helper for tests and docs: ``"09:00"`` -> time(9, 0)."""
    h, m = hhmm.split(":")
    return time(int(h), int(m))
