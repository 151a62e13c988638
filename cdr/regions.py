"""Caller number -> (region, carrier), from the admin-editable ``config/regions.yaml`` (R19's "by region").

The rules are documented at the top of that file: normalise, then the longest matching prefix wins.
``normalise_number`` is also how ``calls.caller`` and ``calls.dialled`` are stored, so a report or a
search finds "8 701 123 45 67" and "+77011234567" as one caller.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from acd.yamlconf import load_model

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "regions.yaml"
_JUNK = re.compile(r"[\s\-().]")


Prefix = Annotated[str, StringConstraints(pattern=r"^[0-9]+$")]
"""Digits after +7; quote them in YAML so that a leading zero or a long prefix stays a string."""


class RegionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    local_region: str = "local"
    mobile_region: str = "mobile"
    other_national: str = "other"
    foreign: str = "foreign"
    unknown: str = "unknown"
    internal_max_digits: int = 4
    mobile: dict[Prefix, str] = {}
    areas: dict[Prefix, str] = {}


def normalise_number(raw: str | None) -> str | None:
    """``+7XXXXXXXXXX`` for a Kazakh/Russian national number in any usual form; other numbers digits only
    (with ``+`` kept for international ones); None for an empty or anonymous caller id."""
    if raw is None:
        return None
    s = _JUNK.sub("", str(raw))
    if not s or s.lower() in {"anonymous", "unknown", "restricted"}:
        return None
    plus = s.startswith("+")
    digits = re.sub(r"\D", "", s)
    if not digits:
        return s
    if plus:
        return "+" + digits
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "7":
        return "+7" + digits
    if digits.startswith("810") and len(digits) > 11:
        return "+" + digits[3:]
    return digits


class RegionLookup:
    def __init__(self, config: RegionsConfig) -> None:
        self.config = config
        self._longest = max((len(p) for p in (*config.mobile, *config.areas)), default=0)

    def lookup(self, number: str | None) -> tuple[str, str | None]:
        """(region, carrier); carrier only for mobiles."""
        c = self.config
        n = normalise_number(number)
        if n is None:
            return c.unknown, None
        if n.startswith("+7") and len(n) == 12:
            national = n[2:]
            for size in range(min(self._longest, len(national)), 0, -1):
                prefix = national[:size]
                if prefix in c.mobile:
                    return c.mobile_region, c.mobile[prefix]
                if prefix in c.areas:
                    return c.areas[prefix], None
            return c.other_national, None
        if n.startswith("+"):
            return c.foreign, None
        if len(n) <= c.internal_max_digits:
            return "internal", None
        if len(n) <= 7:
            return c.local_region, None
        return c.unknown, None


def load_regions(path: Path | str = DEFAULT_PATH) -> RegionLookup:
    """Raise ``acd.yamlconf.ConfigError`` (file:line) on a bad file."""
    return RegionLookup(load_model(path, RegionsConfig))


@lru_cache(maxsize=1)
def default_regions() -> RegionLookup:
    """The shipped config/regions.yaml, or an empty table if it is missing (everything 'other')."""
    try:
        return load_regions(DEFAULT_PATH)
    except Exception:
        return RegionLookup(RegionsConfig())
