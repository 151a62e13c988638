"""Every usual way of writing a number reaches the same scenario (R11)."""

from __future__ import annotations

import pytest

from routing.numbers import BadNumber, normalise


@pytest.mark.parametrize(("written", "canonical"), [
    ("193", "193"),
    ("1414", "1414"),
    ("88000800193", "8000800193"),
    ("8 8000 800 193", "8000800193"),
    ("+78000800193", "8000800193"),
    ("+77272581500", "7272581500"),
    ("+7 (727) 258-15-00", "7272581500"),
    ("87272581500", "7272581500"),
    ("77272581500", "7272581500"),
    ("7272581500", "7272581500"),
    ("007 727 258 15 00", "7272581500"),
    ("+49 30 1234567", "+49301234567"),
])
def test_numbers_normalise_to_one_form(written: str, canonical: str) -> None:
    assert normalise(written) == canonical


@pytest.mark.parametrize("bad", ["", "call-me", "+", "19 3a"])
def test_non_numbers_are_refused(bad: str) -> None:
    with pytest.raises(BadNumber):
        normalise(bad)
