"""Dialled numbers in one canonical form, so that a scenario written for "8 8000 800 193" also serves a
call that arrives as "+78000800193" or "88000800193".

Kazakhstan is in zone +7 with 10-digit national numbers; callers and trunks write the same number as
``+7 727 258 15 00``, ``8 727 258 15 00``, ``7 727 258 15 00`` or ``727 258 15 00``. All of those become the
10 national digits ``7272581500``. Short service codes (``193``, ``1414``) stay as they are. Numbers of
other countries keep their ``+`` and digits (``+49301234567``).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


class BadNumber(ValueError):
    """Not a telephone number at all (letters, an empty string)."""


def normalise(number: str) -> str:
    """Canonical form of a dialled or calling number (see the module docstring); raises BadNumber."""
    raw = _SEPARATORS.sub("", str(number))
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    plus = raw.startswith("+")
    digits = raw[1:] if plus else raw
    if not digits.isdigit():
        raise BadNumber(f"not a telephone number: {number!r}")
    if plus:
        if digits.startswith("7") and len(digits) == 11:
            return digits[1:]
        return "+" + digits
    if len(digits) == 11 and digits[0] in "78":
        return digits[1:]
    return digits


def is_valid(number: str) -> bool:
    try:
        normalise(number)
    except BadNumber:
        return False
    return True
