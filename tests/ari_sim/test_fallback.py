"""The dialplan fallback when the ACD daemon is down (issue 11): the apology then voicemail, and the same
failures as Asterisk when a file is missing (a missing sound is silence, an unknown mailbox a hang-up)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from acd.ari_sim import SimulatorConfig, start_simulator
from tests.ari_sim.conftest import Ari, chan

SHIPPED = Path(__file__).resolve().parents[2] / "asterisk-conf"


@asynccontextmanager
async def watched(tmp_path: Path, sounds: Path, **cfg: Any) -> AsyncIterator[Ari]:
    """A simulator whose app ``acd`` is not connected (so Stasis() fails), watched by another app that
    subscribes to everything: it sees the fallback's channels end without sleeping."""
    handle = await start_simulator(SimulatorConfig(port=0, clock="speed=50", sounds=[sounds],
                                                   recordings=tmp_path / "rec", **cfg))
    try:
        async with aiohttp.ClientSession() as session:
            watcher = Ari(handle, session)
            await watcher.connect("watch&subscribeAll=true")
            yield watcher
            await watcher.close()
    finally:
        await handle.stop()


async def fallback_call(ari: Ari, **spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call 193 with the daemon away; wait for the call to end; its fallback record and its caller."""
    call = await ari.sim("POST", "/calls", {"number": "193", "caller": "77011234567", "talk_s": 1, **spec})
    await ari.wait("ChannelDestroyed", chan(call["id"]))
    state = await ari.sim("GET", "/state")
    [entry] = [f for f in state["fallbacks"] if f["channel"] == call["id"]]
    [caller] = [c for c in state["callers"] if c["id"] == call["id"]]
    return entry, caller


def lasted(caller: dict[str, Any]) -> float:
    return float(caller["ended_at"] - caller["created_at"])


def conf_copy(tmp_path: Path, edit: Callable[[Path], None]) -> Path:
    etc = tmp_path / "etc-asterisk"
    shutil.copytree(SHIPPED, etc)
    edit(etc)
    return etc


async def test_the_apology_plays_then_the_caller_leaves_a_message(tmp_path: Path, sounds_dir: Path) -> None:
    async with watched(tmp_path, sounds_dir) as ari:
        entry, caller = await fallback_call(ari)
    assert entry["fallback"] == "voicemail" and entry["apology"] == "acd/sorry_unavailable"
    assert entry["apology_played"] and entry["apology_s"] == 3.0
    assert entry["mailbox_found"] and entry["warnings"] == []
    assert caller["end"] == "voicemail_left"
    assert 3.9 <= lasted(caller) < 6  # 3 s apology + 1 s message (virtual), loose above for jitter


async def test_a_missing_apology_is_silence_as_in_asterisk(tmp_path: Path) -> None:
    empty = tmp_path / "sounds"
    empty.mkdir()
    async with watched(tmp_path, empty) as ari:
        entry, caller = await fallback_call(ari, language="kk")
    assert not entry["apology_played"] and entry["apology_s"] == 0.0
    assert entry["warnings"][0] == "File acd/sorry_unavailable does not exist in any format"
    assert entry["warnings"][1].startswith("Playback failed on PJSIP/trunk-")
    # Asterisk goes on to VoiceMail(): the caller hears the beep without knowing why
    assert caller["end"] == "voicemail_left" and lasted(caller) < 3


async def test_the_shipped_asterisk_conf_has_the_mailbox(tmp_path: Path, sounds_dir: Path) -> None:
    async with watched(tmp_path, sounds_dir, asterisk_conf=SHIPPED) as ari:
        entry, caller = await fallback_call(ari)
    assert (entry["apology"], entry["mailbox"]) == ("acd/sorry_unavailable", "100@acd")
    assert entry["mailbox_found"]
    assert caller["end"] == "voicemail_left"


async def test_a_mailbox_missing_from_voicemail_conf_hangs_up_after_the_apology(tmp_path: Path,
                                                                                sounds_dir: Path) -> None:
    def drop_mailbox(etc: Path) -> None:
        vm = etc / "voicemail.conf"
        vm.write_text("".join(line for line in vm.read_text().splitlines(keepends=True)
                              if not line.startswith("100 =>")))

    async with watched(tmp_path, sounds_dir, asterisk_conf=conf_copy(tmp_path, drop_mailbox)) as ari:
        entry, caller = await fallback_call(ari, talk_s=30)
    assert not entry["mailbox_found"]
    assert entry["warnings"] == ["No entry in voicemail config file for '100'"]
    assert caller["end"] == "voicemail_failed"
    assert 2.9 <= lasted(caller) < 5  # the apology, then Hangup(): no message although the caller had one


async def test_the_apology_is_the_one_extensions_conf_names(tmp_path: Path, sounds_dir: Path) -> None:
    def rename(etc: Path) -> None:
        ext = etc / "extensions.conf"
        ext.write_text(ext.read_text().replace("ACD_APOLOGY=acd/sorry_unavailable", "ACD_APOLOGY=acd/closed"))

    async with watched(tmp_path, sounds_dir, asterisk_conf=conf_copy(tmp_path, rename)) as ari:
        entry, caller = await fallback_call(ari)
    assert entry["apology"] == "acd/closed" and not entry["apology_played"]
    assert entry["warnings"][0] == "File acd/closed does not exist in any format"
