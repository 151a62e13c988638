from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recording.layout import UnsafePath, recording_name, relative_path, resolve_inside, safe_call_id
from recording.wavinfo import NotWav, wav_duration, write_silence_wav

ALMATY = ZoneInfo("Asia/Almaty")


def test_name_uses_the_local_date_of_the_call() -> None:
    # 2026-11-22 20:30 UTC is already 23 November in Almaty (UTC+5)
    started = 1795379400.0
    assert recording_name("1795379400.17", started, ALMATY) == "2026/11/23/1795379400.17"
    assert recording_name("1795379400.17", started, ZoneInfo("UTC")) == "2026/11/22/1795379400.17"
    assert relative_path("2026/11/23/x", "wav") == "2026/11/23/x.wav"


def test_hostile_call_ids_cannot_make_paths() -> None:
    assert "/" not in safe_call_id("../../etc/passwd")
    assert not safe_call_id("../x").startswith(".")
    assert recording_name("a/b", 0, ZoneInfo("UTC"), suffix="vm") == "1970/01/01/a_b-vm"


def test_resolve_inside_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    root.mkdir()
    assert resolve_inside(root, "2026/11/23/a.wav") == root.resolve() / "2026/11/23/a.wav"
    for bad in ("../secret.wav", "/etc/passwd", "2026/../../x", ""):
        with pytest.raises(UnsafePath):
            resolve_inside(root, bad)
    (tmp_path / "outside.wav").write_bytes(b"x")
    (root / "link.wav").symlink_to(tmp_path / "outside.wav")
    with pytest.raises(UnsafePath):
        resolve_inside(root, "link.wav")


def test_wav_duration_from_header(tmp_path: Path) -> None:
    f = tmp_path / "a.wav"
    write_silence_wav(f, 2.5)
    assert wav_duration(f) == pytest.approx(2.5)
    # a file cut short (crash while recording) counts only the audio present
    data = f.read_bytes()
    f.write_bytes(data[: 44 + 8000])
    assert wav_duration(f) == pytest.approx(0.5)
    f.write_bytes(b"not a wav at all")
    with pytest.raises(NotWav):
        wav_duration(f)
