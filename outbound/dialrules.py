"""Which external numbers the service may dial (click-to-call, callbacks, campaigns).

Numbers are first put in the canonical form of ``routing.numbers`` (10 national digits for zone +7, e.g.
``7012345678``; ``+CC...`` for other countries; short codes as dialled). Then, in this order:

1. **Emergency and service short codes are refused, always.** Kazakhstan's emergency numbers 101 (fire),
   102 (police), 103 (ambulance), 104 (gas) and 112 (unified), and every other short code (any number
   that is not a full national or international number: 1xx, 1xxx, 3- to 6-digit service codes). An
   automated dialer must never place a call to them, and a config cannot allow them.
2. **Premium-rate numbers are refused, always**: the ``809`` range of zone +7 (``8 809 ...``,
   ``+7 809 ...``), the pay-per-call range, plus the campaign's own ``refused_prefixes``.
3. **The number must start with an allowed prefix** (``allowed_prefixes``, default ``["7"]``: Kazakh mobile
   ranges 70x/74x/77x and geographic codes 7xx; Russian numbers of zone +7 start with 3, 4, 8 or 9 and are
   not allowed unless listed; international numbers need a ``+`` prefix such as ``"+998"``).

The decision is recorded in docs/decisions/outbound-01-dialling-rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from outbound.config import DiallingRules
from routing.numbers import BadNumber, normalise

EMERGENCY = frozenset({"101", "102", "103", "104", "112"})
PREMIUM_PREFIXES = ("809",)
NATIONAL_DIGITS = 10


@dataclass(frozen=True)
class DialCheck:
    """The verdict on one number: ``number`` is canonical when it could be read; ``reason`` when refused."""

    number: str | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def check_number(raw: str, rules: DiallingRules | None = None) -> DialCheck:
    """May ``raw`` be dialled under ``rules``? Never raises: a bad number is a refusal with its reason."""
    rules = rules or DiallingRules()
    try:
        number = normalise(raw)
    except BadNumber:
        return DialCheck(None, f"not a telephone number: {raw!r}")
    if not number:
        return DialCheck(None, "empty number")
    if number in EMERGENCY:
        return DialCheck(number, f"{number} is an emergency number")
    international = number.startswith("+")
    if not international and len(number) != NATIONAL_DIGITS:
        what = "a short service code" if len(number) < NATIONAL_DIGITS else "too long for a national number"
        return DialCheck(number, f"{number} is {what}, not a subscriber number")
    if international and len(number) < 8:
        return DialCheck(number, f"{number} is too short for an international number")
    for prefix in (*PREMIUM_PREFIXES, *rules.refused_prefixes):
        if number.startswith(prefix):
            return DialCheck(number, f"{number} is in a refused range ({prefix}...: premium rate or config)")
    if not any(number.startswith(p) for p in rules.allowed_prefixes):
        return DialCheck(number, f"{number} does not start with an allowed prefix "
                         f"({', '.join(rules.allowed_prefixes)})")
    return DialCheck(number)
