"""Called parties on the trunk: what a campaign's customers do when the daemon dials them.

A channel originated to ``PJSIP/<number>@<trunk>`` rings a person, not a phone with one fixed behaviour:
with ``answer_rate`` they answer after ``answer_after_s`` (0.5-1.5 times, uniform), else the line is busy
(``busy_rate``), the network is congested (``congestion_rate``), the number is unavailable
(``unavailable_rate``, Asterisk's CHANUNAVAIL) or nobody picks up (the ring time-out). An answered party
talks ``talk_s`` (0.5-1.5 times) once bridged and hangs up. The draw is seeded, per dialled number and
attempt, so a run is repeatable.

What Asterisk reports for each (BEHAVIOUR.md 4-5, 7): BUSY is ``Dial BUSY`` then, as an originated channel
is not in Stasis yet, ChannelHangupRequest/ChannelDestroyed cause 17; CONGESTION is ``Dial CONGESTION`` and
cause 34; CHANUNAVAIL (a SIP 480 from the carrier) is ``Dial CHANUNAVAIL`` and cause 20; no answer is no
Dial result at all, ChannelDestroyed cause 19 at the originate's ``timeout``.

Every number dialled is remembered with the virtual time (``dialled``): a test checks the calling window
and the do-not-call list against what reached the trunk, not against what the daemon says it did.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CalledParties:
    enabled: bool = False
    answer_rate: float = 0.5
    answer_after_s: float = 5.0
    busy_rate: float = 0.1
    congestion_rate: float = 0.0
    unavailable_rate: float = 0.05
    talk_s: float = 30.0
    seed: int = 1
    dialled: list[tuple[str, float]] = field(default_factory=list)
    _attempts: dict[str, int] = field(default_factory=dict)

    def configure(self, raw: dict[str, Any]) -> None:
        """Validate and apply the control API's body (``POST /_sim/trunk/parties``)."""
        for key in ("answer_rate", "busy_rate", "congestion_rate", "unavailable_rate"):
            if key in raw:
                value = float(raw[key])
                if not 0 <= value <= 1:
                    raise ValueError(f"{key} must be within 0..1, got {value}")
                setattr(self, key, value)
        for key in ("answer_after_s", "talk_s"):
            if key in raw:
                value = float(raw[key])
                if value < 0:
                    raise ValueError(f"{key} must not be negative")
                setattr(self, key, value)
        if "seed" in raw:
            self.seed = int(raw["seed"])
        self.enabled = bool(raw.get("enabled", True))

    def draw(self, number: str, now: float) -> tuple[str, float, float]:
        """(behaviour, answer after, talk) for one call to ``number``: behaviour is answer, busy,
        congestion, unavailable or no_answer."""
        self.dialled.append((number, now))
        n = self._attempts[number] = self._attempts.get(number, 0) + 1
        rnd = random.Random(f"{self.seed}:{number}:{n}")
        x = rnd.random()
        behaviour = "no_answer"
        for name, rate in (("answer", self.answer_rate), ("busy", self.busy_rate),
                           ("congestion", self.congestion_rate), ("unavailable", self.unavailable_rate)):
            if x < rate:
                behaviour = name
                break
            x -= rate
        return (behaviour, self.answer_after_s * rnd.uniform(0.5, 1.5), self.talk_s * rnd.uniform(0.5, 1.5))

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "answer_rate": self.answer_rate,
                "answer_after_s": self.answer_after_s,
                "busy_rate": self.busy_rate, "congestion_rate": self.congestion_rate,
                "unavailable_rate": self.unavailable_rate, "talk_s": self.talk_s, "seed": self.seed,
                "dialled": [{"number": n, "at": t} for n, t in self.dialled]}
