"""Hot reload with calls in flight (R11): a scenario edited while a caller waits in its queue changes the
calls that arrive afterwards, never the one in progress; a broken file is refused and the running
configuration keeps serving new calls."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

from tests.e2e.harness import Harness, close_harness, eventually, make_harness

SCENARIO = "line-193"
NOTICE_ON = "recording_notice: true      # R10, played when an agent is connected"
NOTICE_OFF = "recording_notice: false     # edited by tests/e2e/test_reload.py"
RUSSIAN_SPEAKERS = ("agent3", "agent5")
RUSSIAN_OPERATOR = {"language_menu": "2", "main_menu": "1"}
"""Keys for Russian, then the operator."""


def scenario_file(h: Harness) -> Path:
    return h.config_dir / "scenarios" / "193.yaml"


def running_version(h: Harness) -> str:
    assert h.daemon is not None
    return h.daemon.config.scenarios[SCENARIO].version


async def reload_now(h: Harness) -> bool:
    """SIGHUP's path: ``trigger()``, then wait for that attempt to finish; True when it was accepted."""
    assert h.daemon is not None
    reloader = h.daemon.reloader
    done = asyncio.create_task(reloader.wait_reloaded())  # armed before the reload can finish
    await asyncio.sleep(0)
    reloader.trigger()
    await asyncio.wait_for(done, 10)
    return reloader.last_error is None


async def queued(h: Harness, call: str) -> None:
    async def in_queue() -> bool:
        rows = await h.rows("SELECT queued_at FROM calls WHERE id = :id", id=call)
        return bool(rows and rows[0]["queued_at"] is not None)
    await eventually(in_queue, 10, f"call {call} never reached the queue")


async def heard_recording_notice(h: Harness, call: str) -> bool:
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        log = await r.json()
    return any(e["event"]["type"] == "PlaybackStarted"
               and e["event"]["playback"]["target_uri"] == f"channel:{call}"
               and e["event"]["playback"]["media_uri"] == "sound:acd/recording_notice" for e in log)


async def test_call_in_flight_keeps_its_version_while_new_calls_get_the_new_one(harness: Harness) -> None:
    await harness.start_daemon(initial_agent_state="not_ready")  # logged in, nobody ready: callers wait
    old = running_version(harness)
    waiting = await harness.call("193", "77011230001", talk_s=2, patience_s=600, dtmf_on=RUSSIAN_OPERATOR)
    await queued(harness, waiting)

    path = scenario_file(harness)
    text = path.read_text(encoding="utf-8")
    assert NOTICE_ON in text, "the shipped 193 scenario changed; update this test's edit"
    path.write_text(text.replace(NOTICE_ON, NOTICE_OFF), encoding="utf-8")
    assert await reload_now(harness)
    new = running_version(harness)
    assert new != old

    fresh = await harness.call("193", "77011230002", talk_s=2, patience_s=600, dtmf_on=RUSSIAN_OPERATOR)
    await queued(harness, fresh)
    assert await harness.channel_alive(waiting), "the reload dropped the call in progress"
    for agent in RUSSIAN_SPEAKERS:
        status, body = await harness.api_post(f"/api/agents/{agent}/state", {"state": "ready"})
        assert status == 200, body
    for call in (waiting, fresh):
        await harness.wait_gone(call)

    before, after = await harness.call_row(waiting), await harness.call_row(fresh)
    assert before["outcome"] == after["outcome"] == "answered"
    assert before["scenario_version"] == old and after["scenario_version"] == new
    assert await heard_recording_notice(harness, waiting)  # the old version's queue step
    assert not await heard_recording_notice(harness, fresh)  # the edited one


async def test_caller_in_a_menu_keeps_the_menu_it_heard(tmp_path: Path) -> None:
    """The reload lands while a caller is in the main menu: key 3 still does what it did when the call
    started (service 'information'), while a new caller's key 3 follows the edited file."""
    h = await make_harness(tmp_path, speed=1)  # 30 s menu time-out (harness), 3 attempts: 90 s to act
    try:
        await h.start_daemon()
        old = running_version(h)
        in_menu = await h.call("193", "77011230001", talk_s=1, dtmf_on={"language_menu": "2"})
        await eventually(lambda: _playing(h, in_menu, "sound:acd/main_menu"), 10, "main menu never played")

        path = scenario_file(h)
        text = path.read_text(encoding="utf-8")
        marker = "- tag: {service: information, call_type: info}"
        assert marker in text, "the shipped 193 scenario changed; update this test's edit"
        path.write_text(text.replace(marker, "- tag: {service: information_v2, call_type: info}"),
                        encoding="utf-8")
        assert await reload_now(h)
        await h.sim_post(f"calls/{in_menu}/dtmf", {"digits": "3"})
        fresh = await h.call("193", "77011230002", talk_s=1, dtmf_on={"language_menu": "2", "main_menu": "3"})
        for call in (in_menu, fresh):
            await h.wait_gone(call)

        before, after = await h.call_row(in_menu), await h.call_row(fresh)
        assert before["outcome"] == after["outcome"] == "handled_in_ivr"
        assert (before["service"], before["scenario_version"]) == ("information", old)
        assert (after["service"], after["scenario_version"]) == ("information_v2", running_version(h))
    finally:
        await close_harness(h)


async def _playing(h: Harness, call: str, media: str) -> bool:
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        log = await r.json()
    return any(e["event"]["type"] == "PlaybackStarted" and e["event"]["playback"]["media_uri"] == media
               and e["event"]["playback"]["target_uri"] == f"channel:{call}" for e in log)


async def test_an_edited_shared_schedule_applies_to_the_next_call(tmp_path: Path) -> None:
    """Tuesday 09:30: open under the shipped schedule; after Tuesdays are changed to 10:00-21:00 in
    scenarios/_schedules.yaml and reloaded, the next call is after hours."""
    h = await make_harness(tmp_path, start_local="2026-11-24T09:30:00", speed=20)
    try:
        shutil.copy(Path(__file__).parent / "scenarios" / "hours_first_5551.yaml", h.config_dir / "scenarios")
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.start_daemon()
        before = await h.call("5551", "77011230001", talk_s=1, patience_s=20)
        await h.wait_gone(before)
        schedules = h.config_dir / "scenarios" / "_schedules.yaml"
        text = schedules.read_text(encoding="utf-8")
        assert 'tue: ["09:00-21:00"]' in text, "the shipped schedules changed; update this test's edit"
        edited = text.replace('tue: ["09:00-21:00"]', 'tue: ["10:00-21:00"]', 1)
        schedules.write_text(edited, encoding="utf-8")
        assert await reload_now(h)
        after = await h.call("5551", "77011230002", talk_s=1, patience_s=20)
        await h.wait_gone(after)
        row_before, row_after = await h.call_row(before), await h.call_row(after)
        assert row_before["outcome"] == "answered"
        assert row_after["outcome"] == "voicemail"
        # the version in the CDR covers the shared schedules: the two calls were routed differently
        assert row_before["scenario_version"] != row_after["scenario_version"]
    finally:
        await close_harness(h)


async def test_a_broken_file_is_refused_and_the_running_set_keeps_serving(harness: Harness) -> None:
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    old = running_version(harness)
    path = scenario_file(harness)
    path.write_text(path.read_text(encoding="utf-8") + "\n  - play: [greeting\n", encoding="utf-8")

    assert not await reload_now(harness)
    assert harness.daemon is not None and harness.daemon.reloader.last_error is not None
    assert re.search(r"193\.yaml:\d+: YAML syntax", str(harness.daemon.reloader.last_error))  # file:line
    assert running_version(harness) == old

    call = await harness.call("193", "77011234567", talk_s=2, dtmf_on=RUSSIAN_OPERATOR)
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["outcome"] == "answered" and row["scenario_version"] == old


async def test_saving_a_file_is_enough(harness: Harness) -> None:
    """No SIGHUP: the reloader notices the saved file by itself (polling, then a short debounce)."""
    await harness.start_daemon()
    assert harness.daemon is not None
    old = running_version(harness)
    path = scenario_file(harness)
    path.write_text(path.read_text(encoding="utf-8").replace("Main help line", "Main help line (edited)"),
                    encoding="utf-8")
    await eventually(lambda: _changed(harness, old), 10, "the saved scenario was never reloaded")
    assert harness.daemon.config.scenarios[SCENARIO].scenario.description == "Main help line (edited)"


async def _changed(h: Harness, old: str) -> bool:
    return running_version(h) != old
