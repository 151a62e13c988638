"""Numbers and hold announcements are said correctly in each language (R2, R8)."""

from __future__ import annotations

import pytest

from acd.core.prediction import WaitEstimate, announce_minutes
from ivr.announcements import position_and_wait
from ivr.speech import number_words, ru_plural, say_number


def names(media: list[str]) -> list[str]:
    return [m.removeprefix("sound:digits/") for m in media]


@pytest.mark.parametrize(("lang", "n", "gender", "expected"), [
    ("kk", 0, "m", ["0"]),
    ("kk", 7, "m", ["7"]),
    ("kk", 25, "m", ["20", "5"]),      # жиырма бес
    ("kk", 100, "m", ["hundred"]),     # жүз
    ("kk", 312, "m", ["3", "hundred", "10", "2"]),  # үш жүз он екі
    ("ru", 12, "m", ["12"]),
    ("ru", 21, "f", ["20", "1n"]),     # двадцать одна (минута)
    ("ru", 2, "f", ["2n"]),            # две минуты
    ("ru", 2, "m", ["2"]),
    ("ru", 305, "m", ["300", "5"]),
    ("en", 15, "m", ["15"]),
    ("en", 42, "m", ["40", "2"]),
    ("en", 120, "m", ["1", "hundred", "20"]),
    ("en", 5000, "m", ["9", "hundred", "90", "9"]),  # clamped to 999
])
def test_say_number(lang: str, n: int, gender: str, expected: list[str]) -> None:
    assert names(say_number(lang, n, gender=gender)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "form"), [(1, "one"), (21, "one"), (11, "many"), (2, "few"), (4, "few"),
                                         (12, "many"), (5, "many"), (22, "few"), (111, "many")])
def test_russian_plural(n: int, form: str) -> None:
    assert ru_plural(n) == form


def test_every_digit_file_used_has_a_word_to_build_it_from() -> None:
    for lang in ("kk", "ru", "en"):
        words = number_words(lang)
        for n in range(0, 1000):
            for gender in ("m", "f"):
                for uri in say_number(lang, n, gender=gender):  # type: ignore[arg-type]
                    assert uri.removeprefix("sound:digits/") in words, (lang, n, uri)


def test_position_and_wait_in_russian() -> None:
    assert position_and_wait("ru", 5, 2.2) == [
        "sound:acd/queue_position", "sound:digits/5",
        "sound:acd/expected_wait", "sound:digits/3", "sound:acd/minute_few"]


def test_first_in_line_hears_only_that_they_are_next() -> None:
    assert position_and_wait("kk", 1, 4.0) == ["sound:acd/queue_next"]


def test_unknown_wait_is_not_spoken() -> None:
    assert position_and_wait("en", 3, None) == ["sound:acd/queue_position", "sound:digits/3"]


def test_short_wait_is_less_than_a_minute_not_zero() -> None:
    assert position_and_wait("kk", 2, 0.4) == ["sound:acd/queue_position", "sound:digits/2",
                                              "sound:acd/wait_under_minute"]


def test_a_short_estimate_is_announced_as_less_than_a_minute() -> None:
    """What the engine does with a 20 s estimate: announce_minutes, then the media (docs/prompts.md)."""
    minutes = announce_minutes(WaitEstimate(20.0, 10.0, 40.0))
    assert position_and_wait("ru", 3, minutes) == ["sound:acd/queue_position", "sound:digits/3",
                                                  "sound:acd/wait_under_minute"]


def test_english_minute_is_singular_for_one() -> None:
    assert position_and_wait("en", None, 1.0)[-1] == "sound:acd/minute_one"
    assert position_and_wait("en", None, 7.0)[-1] == "sound:acd/minutes"
