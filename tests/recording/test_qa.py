from __future__ import annotations

from pathlib import Path

import pytest

from acd.yamlconf import ConfigError
from recording.evaluations import add_evaluation, agent_report, call_calibration
from recording.qa import ScoreError, calibration, load_form, load_forms, weighted_total
from tests.recording.dbutil import make_db, utc

REPO = Path(__file__).resolve().parents[2]

FORM_BAD_WEIGHTS = """\
id: bad
version: 1
criteria:
  - id: greeting
    weight: 30
  - id: closing
    weight: 30
"""

FORM_BAD_SCALE = """\
id: scale
criteria:
  - id: greeting
    weight: 50
  - id: closing
    weight: 50
    min: 5
    max: 5
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_forms_are_valid() -> None:
    forms = load_forms(REPO / "config" / "qa")
    assert "standard" in forms
    assert sum(c.weight for c in forms["standard"].criteria) == 100


def test_weights_not_adding_up_are_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", FORM_BAD_WEIGHTS)
    with pytest.raises(ConfigError) as err:
        load_form(path)
    assert f"{path}:3: criteria: weights add up to 60" in str(err.value)


def test_bad_scale_and_duplicates_name_their_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_form(_write(tmp_path, "scale.yaml", FORM_BAD_SCALE))
    assert "scale.yaml:5: criteria[1]" in str(err.value)
    assert "must be above min" in str(err.value)
    dup = FORM_BAD_WEIGHTS.replace("closing", "greeting").replace("30", "50")
    with pytest.raises(ConfigError) as err2:
        load_form(_write(tmp_path, "dup.yaml", dup))
    assert "dup.yaml:6: criteria[1].id: duplicate criterion 'greeting'" in str(err2.value)


def test_fractional_weights_are_accepted(tmp_path: Path) -> None:
    form = load_form(_write(tmp_path, "frac.yaml", FORM_BAD_WEIGHTS.replace("30", "0.5")))
    assert weighted_total(form, {"greeting": 5, "closing": 0}) == 50.0


def test_weighted_total_and_refusals() -> None:
    form = load_forms(REPO / "config" / "qa")["standard"]
    perfect = {"greeting": 5, "etiquette": 5, "correctness": 10, "topic_entered": 1, "closing": 5}
    assert weighted_total(form, perfect) == 100.0
    # correctness (weight 40) at half its 0..10 scale, the rest perfect: 100 - 20
    assert weighted_total(form, {**perfect, "correctness": 5}) == 80.0
    with pytest.raises(ScoreError) as err:
        weighted_total(form, {**perfect, "greeting": 6})
    assert err.value.field == "greeting" and "outside the scale 0..5" in str(err.value)
    with pytest.raises(ScoreError, match="missing score"):
        weighted_total(form, {k: v for k, v in perfect.items() if k != "closing"})
    with pytest.raises(ScoreError, match="not a criterion"):
        weighted_total(form, {**perfect, "charm": 3})
    with pytest.raises(ScoreError, match="must be a number"):
        weighted_total(form, {**perfect, "closing": "5"})  # type: ignore[dict-item]


def test_calibration_spread_per_criterion() -> None:
    spreads = {s.criterion: s for s in calibration([({"a": 2, "b": 5}, 70.0), ({"a": 4, "b": 5}, 90.0)])}
    assert (spreads["a"].min, spreads["a"].max, spreads["a"].mean, spreads["a"].stddev) == (2, 4, 3, 1)
    assert spreads["b"].range == 0
    assert spreads["total"].stddev == 10


async def test_stored_evaluations_give_agent_averages_and_calibration(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    form = load_forms(REPO / "config" / "qa")["standard"]
    perfect = {"greeting": 5, "etiquette": 5, "correctness": 10, "topic_entered": 1, "closing": 5}
    await add_evaluation(db, form, call_id="c1", agent_id="a1", evaluator="sup1", scores=perfect,
                         now=utc(2026, 11, 23, 6, 0))
    await add_evaluation(db, form, call_id="c1", agent_id="a1", evaluator="sup2",
                         scores={**perfect, "correctness": 5}, now=utc(2026, 11, 23, 7, 0))
    await add_evaluation(db, form, call_id="c2", agent_id="a2", evaluator="sup1",
                         scores={**perfect, "greeting": 0}, now=utc(2026, 11, 24, 7, 0))
    report = {a.agent: a for a in await agent_report(db)}
    assert report["a1"].evaluations == 2 and report["a1"].average_total == 90.0
    assert report["a1"].criteria["correctness"] == 7.5
    assert report["a2"].average_total == 85.0
    only_first_day = await agent_report(db, until=utc(2026, 11, 24, 0, 0))
    assert [a.agent for a in only_first_day] == ["a1"]
    evals, spreads = await call_calibration(db, "c1")
    assert {e["evaluator"] for e in evals} == {"sup1", "sup2"}
    by = {s.criterion: s for s in spreads}
    assert by["correctness"].range == 5 and by["greeting"].range == 0
    assert by["total"].min == 80 and by["total"].max == 100
    await db.dispose()
