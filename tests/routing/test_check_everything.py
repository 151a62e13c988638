"""``acd check`` checks everything the daemon loads (issue 9, section 2): QA forms, stray ``*.yml`` files,
agents' languages and skills, languages no agent speaks, ``sound:`` files, an empty acd.yaml, numbers YAML
reads as other numbers. Errors stop the load; warnings are printed and the set still loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from acd.configset import load_config
from acd.yamlconf import ConfigError

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    return d


def errors(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    return [str(p) for p in info.value.problems]


def warnings(config_dir: Path, about: str = "") -> list[str]:
    """The warnings that mention ``about`` (prompts' audio depends on what this machine has built)."""
    return [str(w) for w in load_config(config_dir).warnings if about in str(w)]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def check(args: list[str]) -> object:
    from acd.config_cli import check as check_cmd

    app = typer.Typer()
    app.command()(check_cmd)
    return CliRunner().invoke(app, args)


def test_qa_form_with_weights_adding_to_110_is_an_error_with_its_line(config_dir: Path) -> None:
    replace(config_dir / "qa" / "standard.yaml", "weight: 40", "weight: 50")
    assert errors(config_dir) == [
        "config/qa/standard.yaml:6: criteria: weights add up to 110, they must add up to 100 (or 1.0)"]


def test_qa_form_with_a_yaml_error_is_an_error_with_its_line(config_dir: Path) -> None:
    (config_dir / "qa" / "broken.yaml").write_text("id: broken\ncriteria:\n  - id: a\n   weight: [\n")
    found = errors(config_dir)
    assert len(found) == 1 and found[0].startswith("config/qa/broken.yaml:4: YAML syntax:"), found


def test_a_scenario_saved_as_yml_is_refused_not_ignored(config_dir: Path) -> None:
    shutil.move(config_dir / "scenarios" / "193.yaml", config_dir / "scenarios" / "193.yml")
    assert errors(config_dir) == ["config/scenarios/193.yml: only .yaml files are read: rename it to "
                                  "193.yaml (as it is, it is ignored)"]


def test_agent_language_kz_is_refused_with_a_suggestion(config_dir: Path) -> None:
    replace(config_dir / "agents.yaml", "languages: [kk], skills: {general: 5}",
            "languages: [kz], skills: {general: 5}")
    assert errors(config_dir) == ["config/agents.yaml:5: agents[1].languages[0]: unknown language 'kz' "
                                  "(did you mean 'kk'?): languages are kk, ru, en"]


def test_agent_skill_typo_is_refused_with_the_skill_queues_require(config_dir: Path) -> None:
    replace(config_dir / "agents.yaml", "skills: {general: 6, technical: 8}",
            "skills: {general: 6, technicl: 8}")
    assert errors(config_dir) == ["config/agents.yaml:14: agents[6].skills.technicl: skill 'technicl' is "
                                  "required by no queue (did you mean 'technical'?)"]


def test_a_language_no_agent_of_the_queue_speaks_is_an_error(config_dir: Path) -> None:
    replace(config_dir / "scenarios" / "88000800193.yaml", "languages: [kk, ru]", "languages: [kk, ru, en]")
    assert errors(config_dir) == [
        "config/scenarios/88000800193.yaml:6: languages[2]: language 'en' is offered but no agent of queue "
        "'general' speaks it: such callers could never be served (add en to an agent's languages in "
        "agents.yaml, or drop it here)"]


def test_a_missing_sound_file_is_a_warning_and_strict_fails(config_dir: Path, tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "ru" / "custom").mkdir(parents=True)
    (sounds / "ru" / "custom" / "jingle.wav").write_bytes(b"RIFF")
    replace(config_dir / "acd.yaml", "  sounds: var/sounds", f"  sounds: {sounds}")
    replace(config_dir / "acd.yaml", "  # asterisk_sounds: /var/lib/asterisk/sounds",
            f"  asterisk_sounds: {tmp_path / 'no-asterisk'}")
    replace(config_dir / "scenarios" / "88000800193.yaml", "  - play: [greeting]",
            "  - play: [greeting, 'sound:custom/jingle']")
    assert warnings(config_dir, "jingle") == [
        f"config/scenarios/88000800193.yaml:9: warning: steps[1].play[1]: sound:custom/jingle: no such sound "
        f"file for kk in {sounds} (Asterisk would play silence)"]
    plain = check([str(config_dir)])
    assert plain.exit_code == 0 and "sound:custom/jingle" in plain.stderr  # type: ignore[attr-defined]
    assert check([str(config_dir), "--strict"]).exit_code == 1  # type: ignore[attr-defined]


def test_an_empty_acd_yaml_is_an_error(config_dir: Path) -> None:
    (config_dir / "acd.yaml").write_text("# nothing yet\n")
    assert errors(config_dir) == ["config/acd.yaml: the file is empty (or only comments): write the settings "
                                  "(`acd schema acd`), or `{}` to take every default"]


def test_a_number_with_a_leading_zero_unquoted_is_a_warning(config_dir: Path) -> None:
    replace(config_dir / "scenarios" / "193.yaml", 'numbers: ["193"]', "numbers: [0193]")
    assert warnings(config_dir, "scenarios/") == [
        "config/scenarios/193.yaml:5: warning: numbers[0]: number 0193 is read by YAML as 193: "
        'quote it ("0193")']


def test_check_says_what_it_checked(config_dir: Path) -> None:
    result = check([str(config_dir)])
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = result.stdout  # type: ignore[attr-defined]
    for part in ("acd.yaml:", "queues.yaml:", "agents.yaml:", "prompts/:", "scenarios/:", "regions.yaml:",
                 "qa/: 1 QA form: standard", "sound: files"):
        assert part in out, part


def test_an_api_user_acting_as_an_unknown_agent_is_an_error(config_dir: Path) -> None:
    replace(config_dir / "acd.yaml", "agent: agent1,", "agent: agnet1,")
    line = next(n for n, text in enumerate((config_dir / "acd.yaml").read_text().splitlines(), 1)
                if "agent: agnet1," in text)  # the line of the typo, wherever acd.yaml's comments put it
    assert errors(config_dir) == [f"config/acd.yaml:{line}: users[3].agent: unknown agent 'agnet1' (did you "
                                  "mean 'agent1'?) (agents.yaml)"]


def test_a_queues_not_ready_reason_must_be_one_agents_know(config_dir: Path) -> None:
    replace(config_dir / "queues.yaml", "    overflow: voicemail\n",
            "    overflow: voicemail\n    no_answer: {state: not_ready, reason: no_answr}\n")
    assert errors(config_dir) == [
        "config/queues.yaml:24: queues[1].no_answer.reason: not-ready reason 'no_answr' (did you mean "
        "'no_answer'?) is not in acd.yaml's not_ready_reasons (break, lunch, training, meeting, no_answer)"]


def test_prompts_without_audio_are_one_warning_per_language(config_dir: Path, tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "kk" / "acd").mkdir(parents=True)
    (sounds / "en" / "acd").mkdir(parents=True)
    ids = [line.split(":")[0] for line in (config_dir / "prompts" / "kk.yaml").read_text().splitlines()
           if line and not line.startswith("#")]
    for pid in ids:
        if pid != "greeting":
            (sounds / "kk" / "acd" / f"{pid}.wav").write_bytes(b"RIFF")
        (sounds / "en" / "acd" / f"{pid}.wav").write_bytes(b"RIFF")  # English does not stand in for kk
    replace(config_dir / "acd.yaml", "  sounds: var/sounds", f"  sounds: {sounds}")
    replace(config_dir / "acd.yaml", "  # asterisk_sounds: /var/lib/asterisk/sounds",
            f"  asterisk_sounds: {tmp_path / 'no-asterisk'}")
    found = warnings(config_dir)
    assert found == [
        f"config/prompts/kk.yaml: warning: 1 of {len(ids)} prompts have no audio in {sounds}/kk/acd "
        "(greeting): Asterisk would play silence; run `acd prompts build` (docs/prompts.md)",
        f"config/prompts/ru.yaml: warning: {len(ids)} of {len(ids)} prompts have no audio in {sounds}/ru/acd "
        "(after_hours, all_busy, callback_confirmed, callback_offer, ...): Asterisk would play silence; run "
        "`acd prompts build` (docs/prompts.md)"]


def test_a_callback_key_of_two_keys_is_an_error_with_its_line(config_dir: Path) -> None:
    """"Keep my place" (issue 15): the key is one DTMF key."""
    replace(config_dir / "scenarios" / "193.yaml", "      announce_position: true\n",
            "      announce_position: true\n      callback_key: \"**\"\n")
    [err] = errors(config_dir)
    assert err.startswith("config/scenarios/193.yaml:")
    assert "callback_key '**' must be one key: 0-9, * or #" in err


def test_the_desktops_queue_fields_are_checked_with_their_line(config_dir: Path) -> None:
    replace(config_dir / "queues.yaml", "    overflow: voicemail\n",
            "    overflow: voicemail\n    optional: sometimes\n")
    (error,) = errors(config_dir)
    assert error.startswith("config/queues.yaml:24: queues[1].optional:"), error


def test_the_documented_layout_names_its_sounds_directory_once(config_dir: Path, tmp_path: Path) -> None:
    """docs/deploy-asterisk.md puts the ACD's prompts in Asterisk's own sounds directory, so paths.sounds
    and paths.asterisk_sounds are the same: `acd check` printed it twice."""
    sounds = tmp_path / "sounds"
    (sounds / "ru").mkdir(parents=True)
    replace(config_dir / "acd.yaml", "  sounds: var/sounds", f"  sounds: {sounds}")
    replace(config_dir / "acd.yaml", "  # asterisk_sounds: /var/lib/asterisk/sounds",
            f"  asterisk_sounds: {tmp_path / '.' / 'sounds'}")
    result = check([str(config_dir)])
    out = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert f"sound: files looked up in {sounds}\n" in out, out
