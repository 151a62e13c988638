"""The prompt catalogue: for each language, prompt id -> the text it says (``config/prompts/<lang>.yaml``).

The text is what a studio records, and what ``acd prompts build`` speaks with espeak-ng where no recording
exists yet. The audio itself lives in Asterisk's sounds layout, ``sounds/<lang>/acd/<id>.wav``, and is
played as ``sound:acd/<id>`` with the call's language, so that one scenario serves every language.
A prompt reference in a scenario may instead be a full media URI (``sound:...``, ``recording:...``,
``tone:...``) or an absolute path, which is played as written in every language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LANGUAGES = ("kk", "ru", "en")
"""Languages the engine knows how to speak numbers in (R7: Kazakh, Russian, English where asked)."""

PROMPT_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def is_literal_media(ref: str) -> bool:
    """A full URI or path rather than a catalogue id: passed through untouched, never checked."""
    return ":" in ref or ref.startswith("/")


def media(ref: str) -> str:
    """The sound URI a prompt reference plays as (language comes from the channel)."""
    if is_literal_media(ref):
        return ref if ":" in ref else f"sound:{ref.removesuffix('.wav')}"
    return f"sound:acd/{ref}"


@dataclass(frozen=True)
class Catalogue:
    """Prompt texts per language; frozen, shared by every call of one configuration version."""

    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, texts: Mapping[str, Mapping[str, str]]) -> Catalogue:
        return cls(MappingProxyType({lang: MappingProxyType(dict(t)) for lang, t in texts.items()}))

    @property
    def languages(self) -> list[str]:
        return sorted(self.texts)

    def has(self, lang: str, prompt_id: str) -> bool:
        return is_literal_media(prompt_id) or prompt_id in self.texts.get(lang, {})

    def text(self, lang: str, prompt_id: str) -> str | None:
        return self.texts.get(lang, {}).get(prompt_id)

    def ids(self) -> set[str]:
        return {pid for t in self.texts.values() for pid in t}
