"""Time for the daemon and the ARI simulator: real, or started at a chosen instant and accelerated.

The ACD core never reads a clock: it is handed ``now`` (epoch seconds, UTC). The daemon and the simulator
each read one of these clocks, and both must agree on "now" when they run side by side at a speed other
than 1. They do by sharing an *anchor*: the wall-clock epoch at which virtual time was ``start``. Virtual
time is then ``start + (time.time() - anchor) * speed`` in both processes, whatever their start-up order.

A clock is described by a small string so that it passes through the command line and the environment
(``ACD_CLOCK``): ``"start=2026-11-23T08:59:55+05:00,speed=50,anchor=1795400000.0"``. Every part is optional:
no start means "now", no speed means 1, no anchor means "the moment this clock was made".
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Clock:
    start: float
    """Virtual epoch seconds at the anchor."""
    anchor: float
    """Wall-clock epoch seconds at which virtual time was ``start``."""
    speed: float = 1.0

    @classmethod
    def real(cls) -> Clock:
        now = time.time()
        return cls(start=now, anchor=now, speed=1.0)

    @classmethod
    def parse(cls, spec: str | None) -> Clock:
        """Parse ``start=ISO,speed=X,anchor=EPOCH``; raise ValueError naming the bad part."""
        wall = time.time()
        start, speed, anchor = wall, 1.0, wall
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"clock: expected key=value, got {part!r}")
            if key == "start":
                dt = datetime.fromisoformat(value)
                if dt.tzinfo is None:
                    raise ValueError(f"clock: start {value!r} needs a UTC offset, e.g. +05:00")
                start = dt.timestamp()
            elif key == "speed":
                speed = float(value)
                if speed <= 0:
                    raise ValueError(f"clock: speed must be > 0, got {value}")
            elif key == "anchor":
                anchor = float(value)
            else:
                raise ValueError(f"clock: unknown key {key!r} (start, speed, anchor)")
        return cls(start=start, anchor=anchor, speed=speed)

    def spec(self) -> str:
        """The string that makes the same clock in another process."""
        iso = datetime.fromtimestamp(self.start, UTC).isoformat()
        return f"start={iso},speed={self.speed:g},anchor={self.anchor!r}"

    def now(self) -> float:
        """Virtual epoch seconds (UTC)."""
        return self.start + (time.time() - self.anchor) * self.speed

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def real_seconds(self, virtual_seconds: float) -> float:
        return max(0.0, virtual_seconds / self.speed)

    async def sleep(self, virtual_seconds: float) -> None:
        await asyncio.sleep(self.real_seconds(virtual_seconds))

    async def sleep_until(self, virtual_epoch: float) -> None:
        await asyncio.sleep(self.real_seconds(virtual_epoch - self.now()))
