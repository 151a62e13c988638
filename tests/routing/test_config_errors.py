"""Every kind of admin mistake is refused with its file, line, field and a hint (R11)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from acd.configset import load_config
from acd.yamlconf import ConfigError

CONFIG = Path(__file__).resolve().parents[2] / "config"
HEAD = 'numbers: ["999"]\nlanguages: [kk, ru]\nsteps:\n'
"""Every case is a scenario file starting with these three lines; its steps start on line 4."""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    return d


def problems(config_dir: Path, text: str, name: str = "broken.yaml") -> list[str]:
    (config_dir / "scenarios" / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    return [str(p) for p in info.value.problems]


CASES = [
    ("unknown key", HEAD + "  - queue: {name: general, colour: red}\n",
     4, "steps[0].queue.colour: unknown key (not allowed here)"),
    ("unknown queue with a suggestion", HEAD + "  - play: greeting\n  - queue: {name: second_lin}\n",
     5, "steps[1].queue.name: unknown queue 'second_lin' (did you mean 'second_line'?)"),
    ("overflow to an unknown queue",
     HEAD + "  - queue:\n      name: general\n      overflow: queue:secnd_line\n",
     6, "steps[0].queue.overflow: unknown queue 'secnd_line' (did you mean 'second_line'?)"),
    ("time 25:00", 'numbers: ["999"]\nschedules:\n  late:\n    weekly:\n      mon: ["09:00-25:00"]\n'
     "steps:\n  - hours: {schedule: late}\n  - queue: general\n",
     5, "schedules.late.weekly.mon: time 25:00 in '09:00-25:00' does not exist"),
    ("overlapping ranges", 'numbers: ["999"]\nschedules:\n  day:\n    weekly:\n      tue:\n'
     '        - "09:00-13:00"\n        - "12:00-18:00"\n'
     "steps:\n  - hours: {schedule: day}\n  - queue: general\n",
     5, "schedules.day.weekly.tue: time ranges '09:00-13:00' and '12:00-18:00' overlap"),
    ("range ending before it starts",
     'numbers: ["999"]\nschedules:\n  night:\n    weekly: {wed: ["21:00-09:00"]}\n'
     "steps:\n  - hours: {schedule: night}\n  - queue: general\n",
     4, "ends before it starts"),
    ("DTMF key used twice", HEAD + "  - menu:\n      prompt: main_menu\n      options:\n"
     "        1: {goto: q}\n        \"1\": {hangup: []}\n  - label: q\n    queue: general\n",
     8, "steps[0].menu.options: DTMF key '1' used twice"),
    ("a loop with no exit", HEAD + "  - label: top\n    play: greeting\n  - goto: top\n",
     6, "steps[1].goto: a loop with no exit"),
    ("a menu looping on itself", HEAD + "  - label: m\n    menu:\n      prompt: main_menu\n"
     "      options: {\"1\": {goto: m}}\n      fallback: {goto: m}\n",
     7, "a loop with no exit"),
    ("unknown label", HEAD + "  - goto: operatr\n  - label: operator\n    queue: general\n",
     4, "steps[0].goto: unknown label 'operatr' (did you mean 'operator'?)"),
    ("unknown schedule", HEAD + "  - hours: {schedule: tendr}\n  - queue: general\n",
     4, "steps[0].hours.schedule: unknown schedule 'tendr' (did you mean 'tender'?)"),
    ("prompt missing in a language", HEAD + "  - play: [greting]\n  - queue: general\n",
     4, "steps[0].play[0]: prompt 'greting' has no text in kk, ru (did you mean 'greeting'?)"),
    ("number served by two scenarios", 'numbers: ["193"]\nsteps:\n  - queue: general\n',
     1, "numbers[0]: number 193 is also served by scenario"),
    ("unknown step kind", HEAD + "  - plya: greeting\n  - queue: general\n",
     4, "steps[0]: unknown step 'plya' (did you mean 'play'?)"),
    ("two kinds in one step", HEAD + "  - play: greeting\n    queue: general\n",
     4, "steps[0]: a step has exactly one kind, found play, queue"),
    ("bad transfer target", HEAD + "  - transfer: phone:123\n  - queue: general\n",
     4, "steps[0].transfer.to: transfer target 'phone:123' must be"),
    ("unknown branch", HEAD + "  - transfer: branch:astana\n  - queue: general\n",
     4, "steps[0].transfer.to: unknown branch 'astana'"),
    ("language not offered",
     HEAD + "  - language_menu: {options: {\"1\": kk, \"3\": en}}\n  - queue: general\n",
     4, "steps[0].language_menu.options.3: language 'en' is not in the scenario's languages"),
    ("label used twice", HEAD + "  - label: a\n    play: greeting\n  - label: a\n    queue: general\n",
     6, "steps[1].label: label 'a' is used twice"),
    ("YAML syntax", HEAD + "  - play: [greeting\n  - queue: general\n",
     5, "YAML syntax"),
    ("not a number", 'numbers: ["call-me"]\nsteps:\n  - queue: general\n',
     1, "numbers: not a telephone number: 'call-me'"),
    ("menu without a prompt", HEAD + "  - menu:\n      options: {\"1\": {queue: general}}\n",
     4, "steps[0].menu.prompt: required field missing"),
    ("key that is not DTMF",
     HEAD + "  - menu:\n      prompt: main_menu\n      options: {\"12\": {queue: general}}\n",
     6, "steps[0].menu.options: option key '12' must be one DTMF key"),
]


@pytest.mark.parametrize(("text", "line", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_scenario_is_refused_with_file_line_and_hint(config_dir: Path, text: str, line: int,
                                                             expected: str) -> None:
    found = problems(config_dir, text)
    prefix = f"config/scenarios/broken.yaml:{line}: "
    assert any(p.startswith(prefix) and expected in p for p in found), "\n".join(found)


def test_every_problem_is_listed_not_just_the_first(config_dir: Path) -> None:
    found = problems(config_dir, HEAD + "  - queue: {name: genral}\n  - goto: nowhere\n  - play: [nothing]\n")
    assert len([p for p in found if "broken.yaml" in p]) == 3


def test_queue_overflow_label_must_exist_in_scenarios_using_the_queue(config_dir: Path) -> None:
    queues = config_dir / "queues.yaml"
    queues.write_text(queues.read_text().replace("overflow: voicemail", "overflow: label:sorry"))
    found = problems(config_dir, HEAD + "  - queue: second_line\n")
    expected = "broken.yaml:4: steps[0].queue.name: unknown label 'sorry' (overflow of queue 'second_line'"
    assert any(expected in p for p in found), found


def test_error_in_queues_file_has_its_line(config_dir: Path) -> None:
    (config_dir / "queues.yaml").write_text("queues:\n  - name: general\n    strategy: fastest\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert str(info.value).startswith("config/queues.yaml:3: queues[0].strategy: Input should be")


def test_agent_in_unknown_queue_has_its_line_and_a_hint(config_dir: Path) -> None:
    (config_dir / "agents.yaml").write_text("agents:\n  - id: a1\n    queues: {genral: 1}\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    expected = ("config/agents.yaml:3: agents[0].queues.genral: unknown queue 'genral' "
                "(did you mean 'general'?)")
    assert expected in str(info.value).splitlines()


def test_shipped_config_is_valid() -> None:
    cfg = load_config(CONFIG)
    assert sorted(cfg.numbers) == ["193", "7272581500", "8000800193"]
    assert cfg.scenario_for("8 8000 800 193") is cfg.scenarios["line-8800"]
    assert cfg.scenario_for("+7 (727) 258-15-00") is cfg.scenarios["line-almaty"]
    assert cfg.scenario_for("112") is None
    assert len(cfg.agents) == 8
    assert {a for a, conf in cfg.agents.items() if "second_line" in conf.queues} == {"agent7", "agent8"}
