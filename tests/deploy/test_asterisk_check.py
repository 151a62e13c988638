"""``acd check asterisk ETC_DIR``: the files the dialplan names exist, or each missing one is named as
file:line (issue 11: the fallback's apology and mailbox were missing and callers heard silence)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

from acd.asterisk_check import check, check_asterisk
from acd.configset import load_prompts
from ivr.build import build_prompts

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "asterisk-conf"


def fake_synth(lang: str, text: str, dest: Path) -> None:
    dest.write_bytes(b"RIFF")


def built_sounds(tmp_path: Path) -> Path:
    """What `acd prompts build` makes from config/prompts, plus the core sound VoiceMail() needs."""
    sounds = tmp_path / "sounds"
    build_prompts(load_prompts(ROOT / "config"), sounds, synth=fake_synth, numbers=False)
    (sounds / "en").mkdir(parents=True, exist_ok=True)
    (sounds / "en" / "beep.wav").write_bytes(b"RIFF")
    (tmp_path / "moh").mkdir(exist_ok=True)  # <astdatadir>/moh: hold music (MOH-OPSOUND-WAV)
    (tmp_path / "moh" / "macroform-cold_day.wav").write_bytes(b"RIFF")
    return sounds


def run(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    app.command()(check)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def copy_conf(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    shutil.copytree(SHIPPED, etc)
    return etc


def test_shipped_files_pass_after_prompts_build(tmp_path: Path) -> None:
    code, out, err = run("asterisk", str(SHIPPED), "--sounds", str(built_sounds(tmp_path)))
    assert code == 0, err
    assert "0 error(s)" in out and "error:" not in err
    # the placeholders still to replace are named, one per line, as warnings
    assert f"{SHIPPED / 'pjsip.conf'}:{line_of(SHIPPED / 'pjsip.conf', 'contact = sip:@')}: warning: " \
           "@OPERATOR_SIP_HOST@ is a placeholder" in err
    assert re.search(r"voicemail\.conf:\d+: warning: @ACD_VOICEMAIL_PIN@", err)
    # --strict: placeholders fail the check (for the deployed /etc/asterisk)
    assert run("asterisk", str(SHIPPED), "--sounds", str(built_sounds(tmp_path / "2")), "--strict")[0] == 1


def test_missing_apology_is_named_with_its_dialplan_line(tmp_path: Path) -> None:
    sounds = built_sounds(tmp_path)
    for lang in ("kk", "ru", "en"):
        (sounds / lang / "acd" / "sorry_unavailable.wav").unlink()
    code, _out, err = run("asterisk", str(SHIPPED), "--sounds", str(sounds))
    assert code == 1
    ext = SHIPPED / "extensions.conf"
    where = f"{ext}:{line_of(ext, 'n,Playback(${ACD_APOLOGY})')}: error: "
    assert where + "Playback: File acd/sorry_unavailable does not exist in any format for kk, ru, en" in err
    assert "acd prompts build" in err


def test_a_language_without_its_own_recording_is_a_warning(tmp_path: Path) -> None:
    sounds = built_sounds(tmp_path)
    (sounds / "kk" / "acd" / "sorry_unavailable.wav").unlink()  # Asterisk would play the English one
    report = check_asterisk(SHIPPED, sounds)
    assert report.errors == []
    assert any("sorry_unavailable has no kk recording" in f.message for f in report.warnings)


def test_missing_mailbox_is_an_error(tmp_path: Path) -> None:
    etc = copy_conf(tmp_path)
    vm = etc / "voicemail.conf"
    vm.write_text(vm.read_text().replace("100 => @ACD_VOICEMAIL_PIN@,ACD fallback\n", ""))
    code, _out, err = run("asterisk", str(etc), "--sounds", str(built_sounds(tmp_path)))
    assert code == 1
    ext = etc / "extensions.conf"
    line = line_of(ext, "n,VoiceMail(${ACD_MAILBOX},s)")
    assert (f"{ext}:{line}: error: VoiceMail: No entry in voicemail config file for '100' "
            f"({vm} has no [acd] entry 100") in err
    (etc / "voicemail.conf").unlink()
    assert f"{vm} does not exist" in run("asterisk", str(etc), "--sounds", str(tmp_path / "sounds"))[2]


def test_a_fallback_context_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    etc = copy_conf(tmp_path)
    ext = etc / "extensions.conf"
    ext.write_text(ext.read_text().replace("ACD_FALLBACK=voicemail", "ACD_FALLBACK=voicemial"))
    report = check_asterisk(etc, built_sounds(tmp_path))
    assert [str(e) for e in report.errors][0] == (
        f"{ext}:{line_of(ext, 'GotoIf(')}: error: GotoIf: context [acd-fallback-voicemial] does not exist "
        "in the dialplan")


def test_the_lab_contexts_are_not_in_the_production_dialplan() -> None:
    from acd.asterisk_conf import read_dialplan

    production = read_dialplan(SHIPPED / "extensions.conf").contexts
    lab = read_dialplan(SHIPPED / "lab" / "extensions-lab.conf").contexts
    assert {"caller", "acd-inbound", "agent-phone", "agent-phone-slow"} <= set(lab)
    assert not set(lab) & set(production)


def test_sounds_dir_comes_from_astdatadir(tmp_path: Path) -> None:
    etc = copy_conf(tmp_path)
    data = tmp_path / "lib-asterisk"
    shutil.copytree(built_sounds(tmp_path), data / "sounds")
    shutil.copytree(tmp_path / "moh", data / "moh")
    (etc / "asterisk.conf").write_text(f"[directories]\nastdatadir => {data}\n")
    report = check_asterisk(etc)
    assert report.sounds.path == data / "sounds" and report.errors == []
    assert f"sounds: {data / 'sounds'} (astdatadir in {etc / 'asterisk.conf'}:2)" in report.summary()


def test_a_local_dial_into_a_missing_context_is_an_error(tmp_path: Path) -> None:
    etc = copy_conf(tmp_path)
    ext = etc / "extensions.conf"
    ext.write_text(ext.read_text() + "\n[forward]\nexten => 5,1,Dial(Local/5@agent-phone,30)\n")
    report = check_asterisk(etc, built_sounds(tmp_path))
    assert [str(e) for e in report.errors] == [
        f"{ext}:{len(ext.read_text().splitlines())}: error: Dial: Local/5@agent-phone: context [agent-phone] "
        "does not exist in the dialplan"]  # it is a lab context, not in the production file


def test_the_simulator_models_the_lab_contexts() -> None:
    from acd.ari_sim.dialplan import DEFAULT_CONTEXTS
    from acd.asterisk_conf import read_dialplan

    lab = set(read_dialplan(SHIPPED / "lab" / "extensions-lab.conf").contexts)
    assert set(DEFAULT_CONTEXTS) == lab | {"from-trunk"}


def test_every_acd_sound_of_the_dialplan_is_a_prompt_in_every_language() -> None:
    """So that `acd prompts build` makes what the fallback plays (the apology was made by nothing before)."""
    from acd.asterisk_conf import read_dialplan, split_args

    plan = read_dialplan(SHIPPED / "extensions.conf")
    played = {name.removeprefix("acd/") for call in plan.calls if call.app == "Playback"
              for name in split_args(plan.substitute(call.args))[0].split("&") if name.startswith("acd/")}
    assert played == {"sorry_unavailable", "please_hold"}
    catalogue = load_prompts(ROOT / "config")
    for lang in ("kk", "ru", "en"):
        assert {pid for pid in played if not catalogue.has(lang, pid)} == set(), lang


def test_a_music_class_without_files_is_an_error(tmp_path: Path) -> None:
    """Asterisk 22.10.1 built offline: `make install` left <astdatadir>/moh empty, res_musiconhold logged
    "No music on hold classes configured, disabling music on hold" and waiting callers heard silence."""
    sounds = built_sounds(tmp_path)
    for f in (tmp_path / "moh").iterdir():
        f.unlink()
    report = check_asterisk(SHIPPED, sounds=sounds)
    moh = SHIPPED / "musiconhold.conf"
    errors = [str(f) for f in report.errors]
    assert errors == [
        f"{moh}:{line_of(moh, 'directory = moh')}: error: music on hold class [default]: no audio files in "
        f"{tmp_path / 'moh'}: Asterisk drops the class at start (\"No music on hold classes configured, "
        "disabling music on hold\") and waiting callers hear silence; install hold music there "
        "(docs/deploy-asterisk.md section 4)"
    ]
    (tmp_path / "moh" / "x.ulaw").write_bytes(b"\xff")
    assert check_asterisk(SHIPPED, sounds=sounds).errors == []


def test_a_pattern_that_spells_a_word_with_a_digit_class_is_a_warning(tmp_path: Path) -> None:
    """Asterisk 22.10.1: the shipped `_agent[1-8]` matched "age3t3" and never "agent3" (n is the class N)."""
    etc = copy_conf(tmp_path)
    ext = etc / "extensions.conf"
    ext.write_text(ext.read_text().replace("exten => _age[n]t[1-8],", "exten => _agent[1-8],"))
    report = check_asterisk(etc, sounds=built_sounds(tmp_path))
    line = line_of(ext, "exten => _agent[1-8],")
    assert [str(w) for w in report.warnings if "pattern" in w.message] == [
        f"{ext}:{line}: warning: extension _agent[1-8] of [agents]: 'n' is the digit class N in a pattern, "
        "not a letter; write [n] for the letter itself"
    ]
    # the shipped file, and the usual number patterns, say nothing
    shipped = check_asterisk(SHIPPED, sounds=built_sounds(tmp_path / "2"))
    assert not [w for w in shipped.warnings if "pattern" in w.message]
    from acd.asterisk_check import _word_class_letter

    assert [_word_class_letter(p) for p in ("_X.", "_NXXNXXXXXX", "_+X.", "_8X.", "_age[n]t[1-8]")] == \
        [None] * 5
