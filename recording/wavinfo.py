"""Duration of a recording from its WAV header, without reading the audio.

Asterisk writes plain RIFF/WAVE (PCM 8 kHz 16 bit for ``wav``, or WAV49/GSM for ``WAV``). We read the
``fmt `` chunk's byte rate and the ``data`` chunk's size; a file cut short (the daemon crashed while
recording) has a data size larger than the file, so the size actually present is used.
"""

from __future__ import annotations

import struct
from pathlib import Path


class NotWav(ValueError):
    """The file is not a RIFF/WAVE file we can measure."""


def wav_duration(path: Path) -> float:
    """Seconds of audio in a WAV file; NotWav if the header cannot be read."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise NotWav(f"{path.name}: not a RIFF/WAVE file")
        byte_rate = 0
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                raise NotWav(f"{path.name}: no data chunk")
            cid, clen = struct.unpack("<4sI", chunk)
            if cid == b"fmt ":
                fmt = fh.read(clen)
                if len(fmt) < 12:
                    raise NotWav(f"{path.name}: short fmt chunk")
                byte_rate = int(struct.unpack("<I", fmt[8:12])[0])
                if clen % 2:
                    fh.read(1)
            elif cid == b"data":
                if byte_rate <= 0:
                    raise NotWav(f"{path.name}: data before fmt, or zero byte rate")
                present = max(0, size - fh.tell())
                return float(min(clen, present) / byte_rate)
            else:
                fh.seek(clen + (clen % 2), 1)


def write_silence_wav(path: Path, seconds: float, *, rate: int = 8000) -> None:
    """A valid 16-bit mono PCM WAV of silence: for tests, the demo and the simulator's recordings."""
    frames = int(seconds * rate)
    data = b"\x00\x00" * frames
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16,
        b"data", len(data),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + data)
