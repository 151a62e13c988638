"""WAV helpers: how long a prompt plays, and writing the recordings a real Asterisk would leave on disk.

Asterisk writes 8 kHz, 16-bit, mono PCM for ``format=wav``; a recording that received no audio is the bare
44-byte header (BEHAVIOUR.md 14). Durations come from the header, never from the file size guess.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000
HEADER_BYTES = 44


def duration_s(path: Path) -> float | None:
    """Seconds of audio in a WAV file, or None when the file is not a readable WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate() or RATE)
    except (OSError, wave.Error, EOFError):
        return None


_PERIOD = 20  # 400 Hz at 8 kHz: a whole number of samples per period, so one period can be tiled


def pcm_tone(seconds: float, amplitude: int = 3000) -> bytes:
    """Signed 16-bit little-endian samples of a 400 Hz tone (what a simulated party "says")."""
    n = max(0, int(round(seconds * RATE)))
    period = b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * i / _PERIOD)))
                      for i in range(_PERIOD))
    return (period * (n // _PERIOD + 1))[: n * 2]


def write_wav(path: Path, seconds: float, *, tone: bool = True) -> None:
    """Write an 8 kHz mono 16-bit WAV of ``seconds`` (tone or digital silence); 0 s = the 44-byte header."""
    n = max(0, int(round(seconds * RATE)))
    frames = pcm_tone(seconds) if tone else b"\x00\x00" * n
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)


def write_raw(path: Path, seconds: float, fmt: str, *, tone: bool) -> None:
    """Headerless formats (sln, ulaw, alaw, gsm...): bytes of the right length, good enough for a fake."""
    nbytes = int(round(seconds * RATE)) if tone else 0
    filler = {"ulaw": b"\xff", "alaw": b"\xd5"}.get(fmt, b"\x00")
    data = (pcm_tone(seconds) if tone else b"") if fmt in ("sln", "slin") else filler * nbytes
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
