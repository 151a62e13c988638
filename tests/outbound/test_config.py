"""Campaign files: the example is valid, and each mistake an admin makes is reported with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from acd.yamlconf import ConfigError
from outbound.config import load_campaign, load_campaigns

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
queue: general
caller_id: +7 727 258 15 00
window:
  days: [mon, tue]
  hours: ["10:00-13:00"]
contact_fields: [first_name]
script:
  ru: "Здравствуйте, {first_name}!"
form:
  questions:
    - id: consent
      type: yes_no
      required: true
      text: {ru: "Согласны?"}
    - id: score
      type: rating
      text: {ru: "Оценка?"}
  productive:
    - {question: consent, in: [true]}
"""


def write(tmp_path: Path, text: str, name: str = "poll") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_campaign(path, known_queues=["general"])
    return [str(p) for p in info.value.problems]


def test_the_shipped_example_is_valid() -> None:
    [survey] = load_campaigns(ROOT / "config" / "campaigns", known_queues=["general", "second_line"])
    assert survey.name == "survey"
    assert survey.dialing.mode == "predictive"
    assert survey.dialing.drop_rate_target == pytest.approx(0.03)
    assert survey.caller_id == "7272581500"  # canonical, as inbound numbers
    assert survey.attempts.retry["busy"] is not None and survey.attempts.retry["busy"].after == 900
    assert "Айгүл" in survey.render_script("kk", {"first_name": "Айгүл", "last_call_topic": "есеп"})


def test_a_good_file_loads_with_defaults(tmp_path: Path) -> None:
    c = load_campaign(write(tmp_path, GOOD), known_queues=["general"])
    assert c.dialing.drop_rate_target == 0.03 and c.dialing.mode == "progressive"
    assert c.form.is_productive({"consent": True})
    assert not c.form.is_productive({"consent": False, "score": 5})


def test_a_window_that_never_opens_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("  days: [mon, tue]\n", "  days: []\n")
    [p] = problems(write(tmp_path, text))
    assert p.startswith(f"{tmp_path / 'poll.yaml'}:3: window: ") and "never opens" in p


def test_a_date_range_without_a_calling_day_never_opens(tmp_path: Path) -> None:
    # 2026-11-28/29 are a Saturday and a Sunday; the window calls on mon and tue only
    text = GOOD.replace('  hours: ["10:00-13:00"]\n',
                        '  hours: ["10:00-13:00"]\n  start_date: 2026-11-28\n  end_date: 2026-11-29\n')
    [p] = problems(write(tmp_path, text))
    assert ":3: window: " in p and "never opens" in p


def test_an_unknown_form_field_in_the_productive_rule(tmp_path: Path) -> None:
    text = GOOD.replace("{question: consent, in: [true]}", "{question: consnet, in: [true]}")
    [p] = problems(write(tmp_path, text))
    assert ":19: form.productive[0].question: unknown form field 'consnet'" in p


def test_an_unknown_contact_field_in_the_script(tmp_path: Path) -> None:
    text = GOOD.replace("{first_name}", "{firstname}")
    [p] = problems(write(tmp_path, text))
    assert ":8: script.ru: unknown contact field {firstname}" in p


def test_several_mistakes_are_reported_together_each_on_its_line(tmp_path: Path) -> None:
    text = (GOOD.replace("queue: general", "queue: genral")
            .replace("type: rating", "type: stars")
            .replace("caller_id: +7 727 258 15 00", "caller_id: call-me"))
    found = problems(write(tmp_path, text))
    assert any(":2: caller_id: " in p for p in found), found
    assert any(":16: form.questions[1].type: " in p for p in found), found


def test_semantic_errors_name_the_queue(tmp_path: Path) -> None:
    [p] = problems(write(tmp_path, GOOD.replace("queue: general", "queue: genral")))
    assert ":1: queue: unknown queue 'genral'" in p


def test_retry_delays_and_drop_target_forms(tmp_path: Path) -> None:
    text = GOOD + "attempts:\n  max: 5\n  retry: {busy: 15m, no_answer: {after: 2h, max: 2}}\n" \
                  "dialing: {mode: predictive, drop_rate_target: 2.5%}\n"
    c = load_campaign(write(tmp_path, text), known_queues=["general"])
    assert c.attempts.retry["busy"] is not None and c.attempts.retry["busy"].after == 900
    assert c.attempts.retry["no_answer"] is not None and c.attempts.retry["no_answer"].max == 2
    assert c.dialing.drop_rate_target == pytest.approx(0.025)
    bad = write(tmp_path, GOOD + "dialing: {drop_rate_target: 3}\n", "poll2")
    [p] = problems(bad)
    assert "dialing.drop_rate_target" in p and "3%" in p


def test_choice_questions_need_options(tmp_path: Path) -> None:
    text = GOOD.replace("type: rating", "type: single_choice")
    [p] = problems(write(tmp_path, text))
    assert ":15: form.questions[1]: " in p and "at least two options" in p


def test_answers_are_checked_against_the_form(tmp_path: Path) -> None:
    form = load_campaign(write(tmp_path, GOOD), known_queues=["general"]).form
    assert form.check_answers({"consent": True, "score": 4}) == {}
    problems_ = form.check_answers({"score": 9, "colour": "red"})
    assert set(problems_) == {"consent", "score", "colour"}


def test_cli_check_exits_1_with_the_problems(tmp_path: Path) -> None:
    from acd.cli import _register, app

    _register()
    write(tmp_path, GOOD.replace("  days: [mon, tue]\n", "  days: []\n"))
    result = CliRunner().invoke(app, ["campaigns", "check", str(tmp_path), "-c", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "never opens" in result.output
    result = CliRunner().invoke(app, ["campaigns", "check", str(ROOT / "config" / "campaigns"),
                                      "-c", str(ROOT / "config" / "acd.yaml")])
    assert result.exit_code == 0, result.output
    assert "1 campaign(s) OK" in result.output
