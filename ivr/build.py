"""``acd prompts build``: make every prompt and number word a call may hear, where no recording exists.

For each language of the catalogue it writes, in Asterisk's sounds layout under ``out``:
- ``<lang>/acd/<id>.wav`` for each prompt id, spoken from its text;
- ``<lang>/digits/<n>.wav`` for each number word ``ivr.speech`` uses, unless Asterisk's core sounds (Debian's
  asterisk-core-sounds-{ru,en}-wav, ``/usr/share/asterisk/sounds``) already have it.
A few prompts mean what a core sound of the same language says (``CORE_SOUNDS``); where that file exists it
is copied rather than synthesised. Existing files are never overwritten without ``force``: admins replace
the generated ones with studio recordings. Speech is espeak-ng (voices kk, ru, en), converted by sox to
what Asterisk plays without transcoding (8 kHz, mono, 16 bit).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.catalogue import Catalogue
from ivr.speech import number_words

SYSTEM_SOUNDS = Path("/usr/share/asterisk/sounds")
VOICES = {"kk": "kk", "ru": "ru", "en": "en-us"}
CORE_SOUNDS = {"queue_next": "queue-youarenext", "goodbye": "vm-goodbye"}
"""Prompt id -> core sound file name with the same meaning."""

Synth = Callable[[str, str, Path], None]
"""(language, text, destination wav) -> None; raises on failure."""


class ToolMissing(RuntimeError):
    """espeak-ng or sox is not installed."""


@dataclass
class BuildReport:
    made: list[Path] = field(default_factory=list)
    copied: list[Path] = field(default_factory=list)
    kept: int = 0
    """Files that were there already (recordings or earlier builds)."""
    in_core: int = 0
    """Number words Asterisk's core sounds already have."""

    def summary(self) -> str:
        return (f"made {len(self.made)}, copied {len(self.copied)} from core sounds, "
                f"kept {self.kept} existing, {self.in_core} number words found in core sounds")


def espeak_synth(lang: str, text: str, dest: Path) -> None:
    """Speak ``text`` with espeak-ng into ``dest`` as 8 kHz mono 16-bit WAV."""
    for tool, package in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            raise ToolMissing(f"{tool} is not installed: apt-get install {package} (or run `make deps`)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", VOICES.get(lang, lang), "-w", str(raw), text], check=True,
                       capture_output=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(dest)], check=True,
                       capture_output=True)


def build_prompts(catalogue: Catalogue, out: Path, *, force: bool = False,
                  system_sounds: Path | None = SYSTEM_SOUNDS, synth: Synth = espeak_synth,
                  numbers: bool = True) -> BuildReport:
    report = BuildReport()

    def make(lang: str, text: str, dest: Path) -> None:
        if dest.exists() and not force:
            report.kept += 1
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        synth(lang, text, dest)
        report.made.append(dest)

    for lang in catalogue.languages:
        for pid, text in sorted(catalogue.texts[lang].items()):
            dest = out / lang / "acd" / f"{pid}.wav"
            core = None
            if system_sounds is not None and pid in CORE_SOUNDS:
                core = system_sounds / lang / f"{CORE_SOUNDS[pid]}.wav"
            if core is not None and core.exists() and (force or not dest.exists()):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(core, dest)
                report.copied.append(dest)
                continue
            make(lang, text, dest)
        if not numbers:
            continue
        for name, word in sorted(number_words(lang).items()):
            if system_sounds is not None and (system_sounds / lang / "digits" / f"{name}.wav").exists():
                report.in_core += 1
                continue
            make(lang, word, out / lang / "digits" / f"{name}.wav")
    return report
