"""Caller numbers to regions with the shipped config/regions.yaml; bad files are reported with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.yamlconf import ConfigError
from cdr.regions import load_regions, normalise_number


@pytest.mark.parametrize(("number", "normalised", "region", "carrier"), [
    ("8 701 123 45 67", "+77011234567", "mobile", "Kcell"),
    ("+7 (747) 123-45-67", "+77471234567", "mobile", "Tele2"),
    ("87771234567", "+77771234567", "mobile", "Beeline"),
    ("+7 7172 55 44 33", "+77172554433", "Astana", None),
    ("7272581500", "+77272581500", "Almaty", None),
    ("87212345678", "+77212345678", "Karaganda", None),
    ("+77253312345", "+77253312345", "Turkestan", None),     # 72533 beats 725 and 7252
    ("+77252123456", "+77252123456", "Shymkent", None),
    ("+77163012345", "+77163012345", "Akmola region", None),
    ("+79161234567", "+79161234567", "Russia", None),
    ("+998901234567", "+998901234567", "foreign", None),
    ("2581500", "2581500", "Almaty", None),                  # a local number without area code
    ("101", "101", "internal", None),
    ("anonymous", None, "unknown", None),
])
def test_lookup(number: str, normalised: str | None, region: str, carrier: str | None) -> None:
    assert normalise_number(number) == normalised
    assert load_regions().lookup(number) == (region, carrier)


def test_a_bad_regions_file_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "regions.yaml"
    bad.write_text("local_region: Almaty\nareas:\n  \"7172\": Astana\n  77x: Nowhere\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_regions(bad)
    assert "regions.yaml:4: areas.77x" in str(err.value)
