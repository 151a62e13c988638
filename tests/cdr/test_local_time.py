"""Local days without a zoneinfo call per row must still be exact, also across a change of UTC offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cdr.reports.data import LocalClock


@pytest.mark.parametrize("zone", ["Asia/Almaty", "Europe/Berlin"])
def test_local_clock_matches_zoneinfo_across_offset_changes(zone: str) -> None:
    # Almaty went from UTC+6 to UTC+5 at 2024-03-01 00:00 local; Berlin has DST changes in March and October.
    tz = ZoneInfo(zone)
    start, end = date(2024, 2, 27), date(2024, 11, 2)
    clock = LocalClock(start, end, tz)
    t = datetime(2024, 2, 26, 18, 0)
    while t < datetime(2024, 11, 2, 18, 0):
        assert clock.local(t) == t.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None), t
        t += timedelta(minutes=37)
