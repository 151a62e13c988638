"""What a waiting caller hears between the music (R2, R8): position and expected wait, in their language.

Nothing misleading: the first in line hears "you are next" and no estimate; an unknown estimate
(``minutes=None``, e.g. too few calls to predict from) is not spoken; under a minute is "less than a
minute", never "zero minutes"; other waits are rounded up to whole minutes.
"""

from __future__ import annotations

import math

from ivr.catalogue import media
from ivr.speech import ru_plural, say_number

ANNOUNCEMENT_PROMPTS = ("queue_position", "queue_next", "expected_wait", "wait_under_minute",
                        "minutes", "minute_one", "minute_few", "minute_many")
"""Catalogue ids this module plays; every language a queue serves needs them."""


def minutes_word(lang: str, minutes: int) -> str:
    if lang == "ru":
        return media(f"minute_{ru_plural(minutes)}")
    if lang == "en" and minutes == 1:
        return media("minute_one")
    return media("minutes")


def position_and_wait(lang: str, position: int | None, minutes: float | None) -> list[str]:
    """Media for one periodic announcement: position (1-based) and expected wait in minutes."""
    out: list[str] = []
    if position is not None and position >= 1:
        if position == 1:
            return [media("queue_next")]
        out += [media("queue_position"), *say_number(lang, position)]
    if minutes is not None and minutes >= 0:
        if minutes < 1:
            out.append(media("wait_under_minute"))
        else:
            whole = math.ceil(minutes)
            out += [media("expected_wait"), *say_number(lang, whole, gender="f"), minutes_word(lang, whole)]
    return out
