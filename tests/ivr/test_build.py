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
