"""docs/scenarios.md holds the field reference of the current models, and its examples are valid."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from routing.docgen import BEGIN, END, reference
from routing.model import Scenario, ScheduleLibrary

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def test_field_reference_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    embedded = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert embedded == reference().strip(), "regenerate: python -m routing.docgen"


def test_step_examples_are_valid_steps() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    steps = []
    for block in blocks:
        data = YAML(typ="safe").load(block)
        if isinstance(data, list):
            steps += data
        elif isinstance(data, dict) and "schedules" in data:
            ScheduleLibrary.model_validate(data)
    assert len(steps) >= 11
    Scenario.model_validate({"numbers": ["1"], "branches": {"astana": "1"}, "steps": steps})
