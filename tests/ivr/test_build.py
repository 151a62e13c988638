"""``acd prompts build`` makes what is missing and keeps what admins recorded."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ivr.build import build_prompts
from ivr.catalogue import Catalogue


def fake_synth(calls: list[tuple[str, str, Path]]):  # type: ignore[no-untyped-def]
    def synth(lang: str, text: str, dest: Path) -> None:
        calls.append((lang, text, dest))
        dest.write_bytes(b"RIFF")
    return synth


def test_missing_prompts_and_kazakh_digits_are_made_recordings_kept(tmp_path: Path) -> None:
    cat = Catalogue.of({"kk": {"greeting": "Сәлеметсіз бе", "goodbye": "Сау болыңыз"}})
    studio = tmp_path / "kk" / "acd" / "goodbye.wav"
    studio.parent.mkdir(parents=True)
    studio.write_bytes(b"studio")
    calls: list[tuple[str, str, Path]] = []
    report = build_prompts(cat, tmp_path, synth=fake_synth(calls), system_sounds=None)
    made = {p.relative_to(tmp_path).as_posix() for p in report.made}
    assert "kk/acd/greeting.wav" in made and "kk/acd/goodbye.wav" not in made
    assert studio.read_bytes() == b"studio" and report.kept == 1
    assert {"kk/digits/5.wav", "kk/digits/hundred.wav", "kk/digits/90.wav"} <= made
    assert ("kk", "жүз", tmp_path / "kk" / "digits" / "hundred.wav") in calls
    # a second run makes nothing
    again = build_prompts(cat, tmp_path, synth=fake_synth([]), system_sounds=None)
    assert again.made == []


def test_core_sounds_are_used_where_they_exist(tmp_path: Path) -> None:
    system = tmp_path / "system"
    (system / "ru" / "digits").mkdir(parents=True)
    (system / "ru" / "digits" / "5.wav").write_bytes(b"core5")
    (system / "ru" / "vm-goodbye.wav").write_bytes(b"core-goodbye")
    cat = Catalogue.of({"ru": {"goodbye": "До свидания"}})
    out = tmp_path / "out"
    report = build_prompts(cat, out, synth=fake_synth([]), system_sounds=system)
    assert (out / "ru" / "acd" / "goodbye.wav").read_bytes() == b"core-goodbye"
    assert not (out / "ru" / "digits" / "5.wav").exists() and report.in_core == 1
    assert (out / "ru" / "digits" / "500.wav").exists()  # пятьсот is not in the core sounds


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")
def test_espeak_makes_8khz_mono_wav(tmp_path: Path) -> None:
    cat = Catalogue.of({"kk": {"greeting": "Сәлеметсіз бе"}})
    report = build_prompts(cat, tmp_path, numbers=False, system_sounds=None)
    [path] = report.made
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 4000  # at least half a second of speech


# ---- where Asterisk's core sounds are (issue 11: no hard-coded /usr/share/asterisk/sounds) ----------------
def _config_dir(tmp_path: Path, paths_yaml: str) -> Path:
    cfg = tmp_path / "config"
    (cfg / "prompts").mkdir(parents=True)
    (cfg / "prompts" / "en.yaml").write_text("goodbye: Goodbye\n")
    (cfg / "acd.yaml").write_text(paths_yaml)
    return cfg


def _core(tmp_path: Path) -> Path:
    core = tmp_path / "asterisk-sounds"
    (core / "en" / "digits").mkdir(parents=True)
    (core / "en" / "vm-goodbye.wav").write_bytes(b"core-goodbye")
    (core / "en" / "digits" / "5.wav").write_bytes(b"core5")
    return core


def _run_build(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    import typer
    from typer.testing import CliRunner

    from acd.prompts_cli import prompts_build

    monkeypatch.setattr("ivr.build.espeak_synth", fake_synth([]))
    app = typer.Typer()
    app.command()(prompts_build)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_build_takes_asterisk_sounds_from_the_config_and_says_so(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    core, out = _core(tmp_path), tmp_path / "out"
    cfg = _config_dir(tmp_path, f"paths:\n  sounds: {out}\n  asterisk_sounds: {core}\n")
    output = _run_build(monkeypatch, "-c", str(cfg))
    assert f"core sounds: {core} (paths.asterisk_sounds)" in output
    assert f"writing to: {out} (paths.sounds of {cfg / 'acd.yaml'})" in output
    assert (out / "en" / "acd" / "goodbye.wav").read_bytes() == b"core-goodbye"  # copied, not espeak
    assert not (out / "en" / "digits" / "5.wav").exists()  # Asterisk's own digit is used
    assert (out / "en" / "digits" / "6.wav").exists()


def test_build_finds_asterisk_sounds_from_astdatadir(tmp_path: Path) -> None:
    from ivr.build import core_sounds_dir

    datadir = tmp_path / "var-lib-asterisk"
    (datadir / "sounds").mkdir(parents=True)
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "asterisk.conf").write_text("[directories](!)\nastetcdir => /etc/asterisk\n"
                                       f"astdatadir => {datadir}\n")
    found = core_sounds_dir(None, etc)
    assert found.path == datadir / "sounds"
    assert found.origin == f"astdatadir in {etc / 'asterisk.conf'}:3"
    # the configured directory wins over asterisk.conf
    assert core_sounds_dir(tmp_path / "mine", etc).path == tmp_path / "mine"


def test_build_notes_a_language_whose_core_sounds_are_not_linked(tmp_path: Path) -> None:
    core = tmp_path / "sounds"
    (core / "ru_RU_f_IvrvoiceRU" / "digits").mkdir(parents=True)  # Debian without asterisk-core-sounds-ru
    report = build_prompts(Catalogue.of({"ru": {"goodbye": "До свидания"}}), tmp_path / "out",
                           synth=fake_synth([]), system_sounds=core)
    assert any("ru: no core digits" in n and f"cp -rs {core / 'ru_RU_f_IvrvoiceRU'} {core / 'ru'}" in n
               for n in report.notes)
