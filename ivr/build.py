"""``acd prompts build``: make every prompt and number word a call may hear, where no recording exists.

For each language of the catalogue it writes, in Asterisk's sounds layout under ``out``:
- ``<lang>/acd/<id>.wav`` for each prompt id, spoken from its text;
- ``<lang>/digits/<n>.wav`` for each number word ``ivr.speech`` uses, unless Asterisk's core sounds already
  have it.
Asterisk's core sounds are wherever that Asterisk keeps them (``<astdatadir>/sounds``:
/var/lib/asterisk/sounds when built from source, /usr/share/asterisk/sounds from Debian's packages);
``core_sounds_dir`` takes it from the configuration (``paths.asterisk_sounds``) or from asterisk.conf, and
the build says which it used, because a wrong guess silently replaces the recorded digits with espeak.
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

from acd.asterisk_conf import ASTERISK_ETC, SoundsDir, find_sounds_dir, language_variants
from ivr.catalogue import Catalogue
from ivr.speech import number_words

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
    notes: list[str] = field(default_factory=list)
    """What an admin should know: a language without core sounds, a voice directory not linked."""

    def summary(self) -> str:
        return (f"made {len(self.made)}, copied {len(self.copied)} from core sounds, "
                f"kept {self.kept} existing, {self.in_core} number words found in core sounds")


def core_sounds_dir(configured: Path | None, etc: Path = ASTERISK_ETC) -> SoundsDir:
    """Asterisk's sounds directory: ``paths.asterisk_sounds`` when set, else ``astdatadir`` of
    ``<etc>/asterisk.conf``, else /var/lib/asterisk/sounds or /usr/share/asterisk/sounds if present."""
    if configured is not None:
        return SoundsDir(configured, "paths.asterisk_sounds")
    return find_sounds_dir(None, etc)


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
                  system_sounds: Path | None = None, synth: Synth | None = None,
                  numbers: bool = True) -> BuildReport:
    """Make what is missing under ``out``; ``system_sounds`` is Asterisk's sounds directory (None: no core
    sounds, every number word is synthesised); ``synth`` defaults to espeak-ng."""
    report = BuildReport()
    speak = synth or espeak_synth

    def make(lang: str, text: str, dest: Path) -> None:
        if dest.exists() and not force:
            report.kept += 1
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        speak(lang, text, dest)
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
        if system_sounds is not None and lang != "kk" and not (system_sounds / lang / "digits").is_dir():
            variants = language_variants(system_sounds, lang)
            # a copy made of links (docs/deploy-asterisk.md, section 4), not a link to the package's whole
            # directory: the build would then write the ACD's files into the package's directory
            link = (f"; Asterisk only looks in {lang}/: "
                    f"cp -rs {system_sounds / variants[0]} {system_sounds / lang}" if variants else "")
            report.notes.append(f"{lang}: no core digits in {system_sounds / lang / 'digits'}, number words "
                                f"are synthesised{link}")
        for name, word in sorted(number_words(lang).items()):
            if system_sounds is not None and (system_sounds / lang / "digits" / f"{name}.wav").exists():
                report.in_core += 1
                continue
            make(lang, word, out / lang / "digits" / f"{name}.wav")
    return report
