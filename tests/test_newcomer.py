"""What a new user reads first tells them where `acd` is (issue 9 §5)."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_readme_says_where_acd_lives_and_make_has_the_common_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/activate" in readme and ".venv/bin/acd" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    assert {"check", "db-upgrade"} <= targets
    for target in ("make check", "make db-upgrade"):
        assert target in readme
