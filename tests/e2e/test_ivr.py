"""Scenarios and IVR end to end (issue 3, part 6): language by key and by time-out, menus with invalid keys
and retries, business-hour boundaries and a public holiday in Asia/Almaty, after-hours voicemail with its
callback request, the transfer to the second line and transfers out through the trunk.

Every call goes through the ARI simulator and the real daemon; the results are read where a user would:
the CDR (``calls``, ``call_events``, ``callbacks``), the recordings folder and the prompts the caller heard
(the simulator's event log). The boundary tests run slower than real time (a virtual second lasts four real
ones), so that a busy machine has seconds, not milliseconds, to judge the hour of a call placed one virtual
second before the boundary; the others run accelerated and check what happened and in which order, not how
long it took.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from acd.ari_sim.wav import write_wav
from tests.e2e.harness import ALMATY, Harness, close_harness, eventually, make_harness

SCENARIOS = Path(__file__).parent / "scenarios"
AGENTS_OF_SECOND_LINE = {"agent7", "agent8"}
SECOND_LINE_KEYS = {"language_menu": "2", "main_menu": "2"}
"""Russian, then main menu key 2: technical support (queue second_line)."""
BOUNDARY_SPEED = 0.25
"""Virtual seconds per real second in the boundary tests: one virtual second is four real ones."""
LEAD_S = 15.0
"""Real seconds between the boundary tests' start and the first call: room for the daemon to start."""


# ---------------------------------------------------------------- helpers
def local(iso: str) -> float:
    """Epoch seconds of an Asia/Almaty wall-clock time."""
    return datetime.fromisoformat(iso).replace(tzinfo=ALMATY).timestamp()


def epoch(value: Any) -> float:
    """A UTC timestamp column as epoch seconds (SQLite hands raw SQL results back as text)."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def install(h: Harness, *files: str) -> None:
    """Copy test-only scenarios into the harness's config before the daemon starts."""
    for name in files:
        shutil.copy(SCENARIOS / name, h.config_dir / "scenarios" / name)


async def prompts_heard(h: Harness, call_id: str) -> list[tuple[str, str]]:
    """(media URI, language) of every playback the simulator started on the caller's channel, in order."""
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        log = await r.json()
    out = []
    for entry in log:
        ev = entry["event"]
        pb = ev.get("playback") or {}
        if ev["type"] == "PlaybackStarted" and pb.get("target_uri") == f"channel:{call_id}":
            out.append((pb["media_uri"], pb["language"]))
    return out


def with_prompts(h: Harness, seconds: dict[str, float] | None = None, default_s: float = 1.0) -> None:
    """Give the simulator a WAV for every catalogue prompt in Kazakh and Russian, so prompts last as long as
    a studio recording would (the repository ships none; without them every playback fails at once)."""
    from ruamel.yaml import YAML

    sounds = h.tmp / "sounds"
    for lang in ("kk", "ru"):
        ids = YAML(typ="safe").load((h.config_dir / "prompts" / f"{lang}.yaml").read_text(encoding="utf-8"))
        for pid in ids:
            write_wav(sounds / lang / "acd" / f"{pid}.wav", (seconds or {}).get(pid, default_s))
    h.sim.sim.media.sounds.insert(0, sounds)  # the harness fixes the sound folders at start; add ours first


async def playback_log(h: Harness, call_id: str) -> list[dict[str, Any]]:
    """Every Playback* event on the caller's channel: type, media, language, state, virtual time."""
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        log = await r.json()
    out = []
    for entry in log:
        ev = entry["event"]
        pb = ev.get("playback") or {}
        if ev["type"].startswith("Playback") and pb.get("target_uri") == f"channel:{call_id}":
            at = datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            out.append({"type": ev["type"], "media": pb["media_uri"], "language": pb["language"],
                        "state": pb["state"], "at": at})
    return out


async def queued(h: Harness, call_id: str) -> None:
    async def in_queue() -> bool:
        rows = await h.rows("SELECT queued_at FROM calls WHERE id = :id", id=call_id)
        return bool(rows and rows[0]["queued_at"] is not None)
    await eventually(in_queue, 10, f"call {call_id} never reached a queue")


async def hang_up_after_announcements(h: Harness, *calls: str) -> None:
    """Wait until every caller has heard their queue-entry announcement to its end (the periodic "please
    hold" closes it), then hang them all up: the callers are in the queue together whatever the load."""
    async def announced(call: str) -> bool:
        log = await playback_log(h, call)
        return any(e["media"] == "sound:acd/please_hold" and e["type"] == "PlaybackFinished" for e in log)

    for call in calls:
        await eventually(lambda c=call: announced(c), 30, f"{call} never heard the queue announcement")
    for call in calls:
        await h.sim_post(f"calls/{call}/hangup")
    for call in calls:
        await h.wait_gone(call)


async def dialstrings(h: Harness, channel_id: str) -> set[str]:
    """What the simulator was asked to dial for an outgoing channel (its Dial events)."""
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        log = await r.json()
    return {e["event"]["dialstring"] for e in log
            if e["event"]["type"] == "Dial" and e["event"].get("peer", {}).get("id") == channel_id}


async def events_of(h: Harness, call_id: str, kind: str) -> list[dict[str, Any]]:
    """The CDR events of one kind for a call, in order, each as its data plus ``at`` (epoch seconds)."""
    import orjson

    rows = await h.rows("SELECT at, data FROM call_events WHERE call_id = :id AND kind = :kind ORDER BY id",
                        id=call_id, kind=kind)
    out = []
    for r in rows:
        data = r["data"] if isinstance(r["data"], dict) else orjson.loads(r["data"])
        out.append({**data, "at": epoch(r["at"])})
    return out


async def hours_decision(h: Harness, call_id: str) -> dict[str, Any]:
    """The ``hours`` step's trace event: its detail says open/closed, its time is when it was judged."""
    steps = await events_of(h, call_id, "step")
    found = [s for s in steps if str(s.get("detail", "")).startswith("tender:")]
    assert found, f"no hours step traced for {call_id}: {steps}"
    return found[0]


async def speaks(h: Harness, agent: str) -> list[str]:
    assert h.daemon is not None
    return list(h.daemon.config.agents[agent].languages)


async def assert_voicemail(h: Harness, call_id: str) -> dict[str, Any]:
    row = await h.call_row(call_id)
    assert row["outcome"] == "voicemail"
    assert row["agent"] is None and row["connected_at"] is None
    return row


async def assert_voicemail_with_callback(h: Harness, call_id: str) -> dict[str, Any]:
    """After hours: the call ends in voicemail, the message is a WAV in the recordings folder and a
    callback request is due 24 h after the call (R8, R25)."""
    row = await assert_voicemail(h, call_id)
    [cb] = await eventually(lambda: h.rows("SELECT * FROM callbacks WHERE call_id = :id", id=call_id), 10,
                            f"no callback request for {call_id}")
    assert cb["reason"] == "voicemail" and cb["status"] == "open"
    assert cb["number"] == row["caller"]
    # due 24 h after the moment the call was sent to voicemail: between its arrival and its end
    assert epoch(row["arrived_at"]) + 24 * 3600 <= epoch(cb["due_at"]) <= epoch(row["ended_at"]) + 24 * 3600
    assert row["recording"] == cb["recording"]
    # filed as every recording (docs/recording.md): recordings/YYYY/MM/DD/<call id>-voicemail.wav
    assert re.fullmatch(rf"\d{{4}}/\d{{2}}/\d{{2}}/{re.escape(call_id)}-voicemail", cb["recording"])
    wav = h.tmp / "recordings" / f"{cb['recording']}.wav"
    assert wav.is_file(), f"no {wav} in {sorted(str(p) for p in (h.tmp / 'recordings').rglob('*'))}"
    assert wav.stat().st_size > 44  # more than a bare WAV header: the caller's message
    return row


# ---------------------------------------------------------------- language (R7)
@pytest.mark.parametrize(("key", "language"), [("1", "kk"), ("2", "ru"), (None, "kk")],
                         ids=["dtmf-1-kazakh", "dtmf-2-russian", "timeout-default-kazakh"])
async def test_language_choice_sets_cdr_agent_and_prompts(harness: Harness, key: str | None,
                                                          language: str) -> None:
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    dtmf_on = {"main_menu": "1"} | ({"language_menu": key} if key else {})
    call = await harness.call("193", "77011234567", language="en", talk_s=3, dtmf_on=dtmf_on)
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["language"] == language
    assert row["outcome"] == "answered"
    assert language in await speaks(harness, row["agent"])
    [chosen] = await events_of(harness, call, "language")
    assert chosen["lang"] == language and chosen["how"] == ("dtmf" if key else "timeout")

    heard = await prompts_heard(harness, call)
    uris = [u for u, _ in heard]
    assert uris[0] == "sound:acd/language_menu"
    after_choice = heard[1:]
    expected = {"sound:acd/greeting", "sound:acd/main_menu", "sound:acd/recording_notice"}
    assert expected <= {u for u, _ in after_choice}
    assert {lang for _, lang in after_choice} == {language}, heard


async def test_other_languages_callers_reach_only_agents_who_speak_them(harness: Harness) -> None:
    """Three callers at once, two Russian and one Kazakh: each is answered in their own language."""
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    calls = {}
    for caller, key, language in [("77011110001", "2", "ru"), ("77011110002", "2", "ru"),
                                  ("77011110003", "1", "kk")]:
        call = await harness.call("193", caller, talk_s=4, dtmf_on={"language_menu": key, "main_menu": "1"})
        calls[call] = language
    agents = set()
    for call, language in calls.items():
        await harness.wait_gone(call)
        row = await harness.call_row(call)
        assert row["language"] == language and row["outcome"] == "answered"
        assert language in await speaks(harness, row["agent"])
        agents.add(row["agent"])
    assert len(agents) == 3


@pytest.mark.parametrize(("second_key", "language", "how"), [("2", "ru", "dtmf"), ("9", "kk", "default")],
                         ids=["invalid-then-russian", "invalid-twice-default-kazakh"])
async def test_language_menu_retries_after_an_invalid_key(harness: Harness, second_key: str, language: str,
                                                          how: str) -> None:
    """Key 9 is no language: the caller hears the invalid-input prompt (still in Kazakh) and is asked once
    more (retries: 1); a valid key then wins, another invalid one leaves the default, Kazakh. The caller
    types both keys at once: the second waits in the key buffer while the invalid-input prompt plays, so
    the test does not depend on timing."""
    with_prompts(harness, {"language_menu": 2.0, "invalid_input": 1.5})
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    call = await harness.call("193", "77011234567", talk_s=2,
                              dtmf_on={"language_menu": "9" + second_key, "main_menu": "1"})
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["language"] == language and row["outcome"] == "answered"
    assert language in await speaks(harness, row["agent"])
    [chosen] = await events_of(harness, call, "language")
    assert (chosen["lang"], chosen["how"]) == (language, how)
    heard = [p for p in await prompts_heard(harness, call) if p[0] != "sound:acd/language_menu"]
    assert heard[:2] == [("sound:acd/invalid_input", "kk"), ("sound:acd/greeting", language)]


async def test_a_key_cuts_the_menu_prompt_short_but_not_the_greeting(harness: Harness) -> None:
    """With real prompt lengths: a 10-minute language menu stops when the caller presses 2 (0.3 s in),
    however long the daemon takes to react on a busy machine; the 2 s greeting, which is no menu, plays to
    its end."""
    with_prompts(harness, {"language_menu": 600.0, "greeting": 2.0})
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    call = await harness.call("193", "77011234567", talk_s=2,
                              dtmf_on={"language_menu": "2", "main_menu": "1"})
    await harness.wait_gone(call)
    log = await playback_log(harness, call)

    def span(media: str) -> tuple[float, float, str]:
        start = next(e for e in log if e["media"] == media and e["type"] == "PlaybackStarted")
        end = next(e for e in log if e["media"] == media and e["type"] == "PlaybackFinished")
        return start["at"], end["at"], end["state"]

    started, stopped, state = span("sound:acd/language_menu")
    assert state == "done" and stopped - started < 300.0  # cut short at the key, not after 600 s
    started, stopped, state = span("sound:acd/greeting")
    assert state == "done" and stopped - started >= 1.95
    assert (await harness.call_row(call))["language"] == "ru"


async def test_queue_announcements_speak_the_callers_language(harness: Harness) -> None:
    """Nobody ready: a Russian caller waits first, a Kazakh caller second. Each hears the queue's entry
    announcement in their own language: "you are next" and "your position: 2, expected wait ..."."""
    with_prompts(harness, default_s=0.5)
    await harness.seed_history("general")  # a queue with a basis for its estimate announces it
    await harness.start_daemon(initial_agent_state="not_ready")
    first = await harness.call("193", "77011230001", patience_s=3600,
                               dtmf_on={"language_menu": "2", "main_menu": "1"})
    await queued(harness, first)
    second = await harness.call("193", "77011230002", patience_s=3600,
                                dtmf_on={"language_menu": "1", "main_menu": "1"})
    await queued(harness, second)
    await hang_up_after_announcements(harness, first, second)

    heard = {call: await prompts_heard(harness, call) for call in (first, second)}
    assert ("sound:acd/queue_next", "ru") in heard[first]
    kk = heard[second]
    at = kk.index(("sound:acd/queue_position", "kk"))
    assert kk[at + 1] == ("sound:digits/2", "kk")
    assert ("sound:acd/expected_wait", "kk") in kk[at:] and ("sound:acd/please_hold", "kk") in kk[at:]
    for call, language in ((first, "ru"), (second, "kk")):
        assert {lang for _, lang in heard[call][1:]} == {language}, heard[call]
        row = await harness.call_row(call)
        # the test hangs them up once announced: short or not depends only on the speed of the machine
        assert row["outcome"] in ("abandoned", "short_abandoned") and row["language"] == language


async def test_a_wait_under_a_minute_is_announced_as_less_than_a_minute(tmp_path: Path) -> None:
    """Two Russian callers, nobody ready, a queue predicting by the head of line (``hol``: twice what the
    first caller has waited when the second arrives, a few seconds): the second caller hears "your
    position: 2, less than a minute", not the position alone and never "zero minutes". Half speed, so the
    gap between the two callers stays far below the 30 s that would make the estimate a minute."""
    h = await make_harness(tmp_path, speed=2)
    try:
        queues = h.config_dir / "queues.yaml"
        queues.write_text(queues.read_text(encoding="utf-8").replace(
            "  - name: general\n", "  - name: general\n    estimator: hol\n", 1), encoding="utf-8")
        with_prompts(h, default_s=0.5)
        await h.seed_history("general")
        await h.start_daemon(initial_agent_state="not_ready")
        keys = {"language_menu": "2", "main_menu": "1"}
        first = await h.call("193", "77011230001", patience_s=3600, dtmf_on=keys)
        await queued(h, first)
        second = await h.call("193", "77011230002", patience_s=3600, dtmf_on=keys)
        await queued(h, second)
        await hang_up_after_announcements(h, first, second)
        [announced] = (await events_of(h, second, "announced"))[:1]
        assert announced["position"] == 2 and announced["expected_s"] < 60, announced
        heard = await prompts_heard(h, second)
        at = heard.index(("sound:acd/queue_position", "ru"))
        assert heard[at + 1:at + 3] == [("sound:digits/2", "ru"), ("sound:acd/wait_under_minute", "ru")]
        assert not [u for u, _ in heard if u in ("sound:acd/expected_wait", "sound:digits/0")], heard
    finally:
        await close_harness(h)


# ---------------------------------------------------------------- menus (R9)
async def test_unknown_key_then_valid_key(harness: Harness) -> None:
    """Key 9 is not on the main menu: the caller hears the invalid-input prompt, then key 3 (information),
    typed right after the 9, is taken on the second attempt."""
    with_prompts(harness, {"main_menu": 2.0, "invalid_input": 1.5})
    await harness.start_daemon()
    call = await harness.call("193", "77011234567", talk_s=3,
                              dtmf_on={"language_menu": "2", "main_menu": "93"})
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["outcome"] == "handled_in_ivr"
    assert row["service"] == "information" and row["call_type"] == "info"
    menus = await events_of(harness, call, "menu")
    assert [(m["choice"], m["attempt"]) for m in menus] == [("invalid", 1), ("3", 2)]
    uris = [u for u, _ in await prompts_heard(harness, call)]
    first = uris.index("sound:acd/main_menu")
    assert uris[first + 1] == "sound:acd/invalid_input"
    assert "sound:acd/info_hours" in uris[first + 2:]


async def test_no_key_at_all_ends_in_the_menu_fallback(harness: Harness) -> None:
    """No key: the main menu times out three times (retries: 2), each time with the time-out prompt, then
    the fallback puts the caller through to an operator."""
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    call = await harness.call("193", "77011234567", talk_s=3, dtmf_on={"language_menu": "2"})
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    menus = await events_of(harness, call, "menu")
    assert [(m["choice"], m["attempt"]) for m in menus] == [("timeout", 1), ("timeout", 2), ("timeout", 3)]
    uris = [u for u, _ in await prompts_heard(harness, call)]
    assert uris.count("sound:acd/main_menu") == 3 and uris.count("sound:acd/timeout") == 3
    assert row["outcome"] == "answered" and row["queue"] == "general" and row["service"] == "general"


async def test_caller_who_hangs_up_in_the_menu_is_missed_in_ivr(harness: Harness) -> None:
    """The caller gives up during the main menu (patience 8 s, menu time-outs 30 s in the harness): never
    queued, the CDR says missed in the IVR, with the language chosen so far."""
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    call = await harness.call("193", "77011234567", patience_s=8, dtmf_on={"language_menu": "2"})
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["outcome"] == "missed_in_ivr" and row["hangup_by"] == "caller"
    assert row["queue"] is None and row["agent"] is None and row["language"] == "ru"


# ---------------------------------------------------------------- business hours (R12)
async def _across_boundary(tmp_path: Path, before: str, at: str) -> tuple[dict[str, Any], dict[str, Any],
                                                                           Harness]:
    """One call arriving at ``before`` and one at ``at`` (local times, one second apart) to the hours-first
    scenario at real speed; returns the two hours decisions and the (open) harness."""
    start = datetime.fromtimestamp(local(before) - LEAD_S * BOUNDARY_SPEED, ALMATY).replace(tzinfo=None)
    h = await make_harness(tmp_path, start_local=start.isoformat(), speed=BOUNDARY_SPEED)
    install(h, "hours_first_5551.yaml")
    await h.all_agents(state="online", behaviour="answer", answer_after_s=0.5, hangup="caller")
    await h.start_daemon()
    assert h.clock.now() < local(before), "the daemon took too long to start for this boundary test"
    await h.clock.sleep_until(local(before))
    first = await h.call("5551", "77011230001", patience_s=2, talk_s=1)
    await h.clock.sleep_until(local(at))
    second = await h.call("5551", "77011230002", patience_s=2, talk_s=1)
    for call in (first, second):
        await h.wait_gone(call)
    one = await hours_decision(h, first) | {"call": first}
    two = await hours_decision(h, second) | {"call": second}
    return one, two, h


async def test_morning_boundary_0859_59_closed_0900_00_open(tmp_path: Path) -> None:
    closed, opened, h = await _across_boundary(tmp_path, "2026-11-24T08:59:59", "2026-11-24T09:00:00")
    try:
        assert local("2026-11-24T08:59:59") <= closed["at"] < local("2026-11-24T09:00:00")
        assert closed["detail"] == "tender: closed"
        # its caller hangs up a second into the message: an empty one, no callback (engine-11; the callback
        # of a real message: test_after_hours_voicemail_on_193 and test_holiday_hours)
        await assert_voicemail(h, closed["call"])
        assert local("2026-11-24T09:00:00") <= opened["at"] < local("2026-11-24T09:00:01")
        assert opened["detail"] == "tender: open"
        row = await h.call_row(opened["call"])
        assert row["queue"] == "general" and row["outcome"] == "answered" and row["call_type"] == "in_hours"
    finally:
        await close_harness(h)


async def test_evening_boundary_2059_59_open_2100_00_closed(tmp_path: Path) -> None:
    opened, closed, h = await _across_boundary(tmp_path, "2026-11-24T20:59:59", "2026-11-24T21:00:00")
    try:
        assert local("2026-11-24T20:59:59") <= opened["at"] < local("2026-11-24T21:00:00")
        assert opened["detail"] == "tender: open"
        row = await h.call_row(opened["call"])
        assert row["queue"] == "general" and row["outcome"] == "answered"
        assert local("2026-11-24T21:00:00") <= closed["at"] < local("2026-11-24T21:00:01")
        assert closed["detail"] == "tender: closed"
        row = await assert_voicemail(h, closed["call"])  # an empty message (as above): no callback
        assert row["call_type"] == "after_hours"
    finally:
        await close_harness(h)


@pytest.mark.parametrize(("when", "expected"),
                         [("2026-12-16T09:30:00", "closed"), ("2026-11-25T09:30:00", "open"),
                          ("2026-12-16T10:30:00", "open"), ("2026-11-28T09:30:00", "closed"),
                          ("2026-11-28T10:30:00", "open")],
                         ids=["independence-day-0930-closed", "ordinary-wednesday-0930-open",
                              "independence-day-1030-open", "saturday-0930-closed", "saturday-1030-open"])
async def test_holiday_hours(tmp_path: Path, when: str, expected: str) -> None:
    """16 December (Independence Day, a Wednesday) keeps holiday hours 10:00-19:00: closed at 09:30 and
    open at 10:30, while an ordinary Wednesday is open at 09:30; Saturdays keep the same 10:00-19:00."""
    h = await make_harness(tmp_path, start_local=when, speed=20)
    try:
        install(h, "hours_first_5551.yaml")
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.start_daemon()
        call = await h.call("5551", "77011234567", patience_s=30, talk_s=3)
        await h.wait_gone(call)
        assert (await hours_decision(h, call))["detail"] == f"tender: {expected}"
        if expected == "closed":
            await assert_voicemail_with_callback(h, call)
        else:
            row = await h.call_row(call)
            assert row["outcome"] == "answered" and row["queue"] == "general"
    finally:
        await close_harness(h)


async def test_after_hours_voicemail_on_193(tmp_path: Path) -> None:
    """22:00 on a Tuesday: the shipped 193 scenario plays the after-hours prompt and takes a message."""
    h = await make_harness(tmp_path, start_local="2026-11-24T22:00:00", speed=20)
    try:
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.start_daemon()
        call = await h.call("193", "77011234567", patience_s=40, dtmf_on={"language_menu": "2"})
        await h.wait_gone(call)
        row = await assert_voicemail_with_callback(h, call)
        assert row["language"] == "ru" and row["call_type"] == "after_hours"
        uris = [u for u, lang in await prompts_heard(h, call) if lang == "ru"]
        assert uris[:3] == ["sound:acd/greeting", "sound:acd/after_hours", "sound:acd/voicemail_greeting"]
    finally:
        await close_harness(h)


# ---------------------------------------------------------------- transfers (R13)
async def test_main_menu_2_goes_to_the_second_line(harness: Harness) -> None:
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    call = await harness.call("193", "77011234567", talk_s=3,
                              dtmf_on={"language_menu": "2", "main_menu": "2"})
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["outcome"] == "answered"
    assert row["agent"] in AGENTS_OF_SECOND_LINE
    assert row["queue"] == "second_line"
    assert row["service"] == "technical_support" and row["call_type"] == "support"
    # moving to another queue is not a transfer out of the call: the CDR follows the caller there
    assert row["transferred_to"] is None and await events_of(harness, call, "transfer") == []


async def test_transfer_out_to_an_external_number_through_the_trunk(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, speed=20)
    try:
        install(h, "external_5552.yaml")
        await h.start_daemon()
        call = await h.call("5552", "77011234567", talk_s=5)
        out = await eventually(lambda: _trunk_leg(h, call), 10, "no outgoing leg on the trunk")
        await h.wait_gone(call)
        row = await h.call_row(call)
        assert row["outcome"] == "transferred"
        assert row["transferred_to"] == "external:+7 701 555 00 00"
        assert "+77015550000@trunk" in await dialstrings(h, out["id"])
        assert row["service"] == "external_transfer" and row["agent"] is None
    finally:
        await close_harness(h)


async def test_scenario_language_is_in_the_cdr_without_a_language_menu(tmp_path: Path) -> None:
    """5552 has no language menu: its calls are in its language, Russian, and the CDR says so."""
    h = await make_harness(tmp_path, speed=20)
    try:
        install(h, "external_5552.yaml")
        await h.start_daemon()
        call = await h.call("5552", "77011234567", talk_s=2)
        await h.wait_gone(call)
        assert {lang for _, lang in await prompts_heard(h, call)} == {"ru"}  # the transfer prompt
        assert (await h.call_row(call))["language"] == "ru"
    finally:
        await close_harness(h)


async def test_almaty_menu_2_transfers_to_the_astana_branch(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, speed=20)
    try:
        await h.start_daemon()
        call = await h.call("+77272581500", "77011234567", talk_s=5, dtmf_on={"main_menu": "2"})
        out = await eventually(lambda: _trunk_leg(h, call), 10, "no outgoing leg on the trunk")
        await h.wait_gone(call)
        row = await h.call_row(call)
        assert row["scenario"] == "line-almaty" and row["language"] == "ru"  # menu default: Russian
        assert row["outcome"] == "transferred"
        assert row["transferred_to"] == "branch:astana"
        assert "+77172000000@trunk" in await dialstrings(h, out["id"])
    finally:
        await close_harness(h)


async def test_toll_free_goes_straight_to_the_operators(harness: Harness) -> None:
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    call = await harness.call("88000800193", "77011234567", talk_s=2, dtmf_on={"language_menu": "2"})
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["scenario"] == "line-8800" and row["call_type"] == "toll_free"
    assert row["outcome"] == "answered" and row["queue"] == "general" and row["language"] == "ru"
    assert "sound:acd/main_menu" not in [u for u, _ in await prompts_heard(harness, call)]


async def test_a_busy_branch_falls_back_to_the_operators(tmp_path: Path) -> None:
    """The Astana branch is busy: the Almaty scenario's on_failure puts the caller through to an operator."""
    h = await make_harness(tmp_path, speed=20)
    try:
        await h.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.endpoint("trunk", behaviour="busy")
        await h.start_daemon()
        call = await h.call("+77272581500", "77011234567", talk_s=2, dtmf_on={"main_menu": "2"})
        await h.wait_gone(call)
        row = await h.call_row(call)
        assert row["outcome"] == "answered" and row["queue"] == "general"
        assert "ru" in await speaks(h, row["agent"])
        details = [s["detail"] for s in await events_of(h, call, "step")]
        assert "transfer branch:astana: busy" in details
        assert row["transferred_to"] is None  # the attempt never reached the branch
    finally:
        await close_harness(h)


async def test_caller_who_abandons_after_a_failed_transfer_is_abandoned(tmp_path: Path) -> None:
    """A transfer that never reached the branch is no transfer: the caller then waits for an operator and
    hangs up, and reports must count an abandon, with the wait running until the hang-up."""
    h = await make_harness(tmp_path, speed=20)
    try:
        await h.endpoint("trunk", behaviour="busy")
        await h.start_daemon(initial_agent_state="not_ready")  # logged in, nobody ready: the caller waits
        call = await h.call("+77272581500", "77011234567", patience_s=30, dtmf_on={"main_menu": "2"})
        await h.wait_gone(call)
        row = await h.call_row(call)
        assert row["queue"] == "general" and row["agent"] is None
        assert row["outcome"] == "abandoned"
        waited = epoch(row["ended_at"]) - epoch(row["answered_at"])
        assert abs(row["wait_since_answer_s"] - waited) < 1
    finally:
        await close_harness(h)


async def test_caller_who_abandons_the_second_line_is_abandoned(harness: Harness) -> None:
    """Key 2 moves the caller to the second line's queue; leaving it unanswered is an abandon there."""
    await harness.start_daemon(initial_agent_state="not_ready")
    call = await harness.call("193", "77011234567", patience_s=30, dtmf_on=SECOND_LINE_KEYS)
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["queue"] == "second_line" and row["agent"] is None
    assert row["outcome"] == "abandoned"


async def test_second_line_with_nobody_logged_in_goes_to_voicemail_without_queue_announcements(
        harness: Harness) -> None:
    """Nobody of the second line logged in: the call overflows to voicemail at once and must not hear
    "you are next" over the voicemail greeting."""
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await harness.start_daemon()
    for agent in AGENTS_OF_SECOND_LINE:
        status, body = await harness.api_post(f"/api/agents/{agent}/state", {"state": "logout"})
        assert status == 200, body
    call = await harness.call("193", "77011234567", patience_s=30, dtmf_on=SECOND_LINE_KEYS)
    await harness.wait_gone(call)
    row = await assert_voicemail_with_callback(harness, call)
    assert row["overflow_target"] == "voicemail" and row["service"] == "technical_support"
    uris = [u for u, _ in await prompts_heard(harness, call)]
    assert "sound:acd/voicemail_greeting" in uris
    assert not [u for u in uris if u.startswith("sound:acd/queue_")], uris


async def _trunk_leg(h: Harness, call_id: str) -> dict[str, Any] | None:
    """The outgoing channel the daemon made on the trunk for a transfer (not the caller's own)."""
    st = await h.state()
    chans = st.get("channels", [])
    for ch in chans.values() if isinstance(chans, dict) else chans:
        if isinstance(ch, dict) and ch.get("id") != call_id and "trunk" in str(ch.get("name", "")):
            return ch
    return None


async def test_a_caller_who_says_nothing_leaves_no_voicemail_and_no_callback(tmp_path: Path) -> None:
    """docs/deploy-tested.md: a silent caller left a 0 s message (a 44-byte WAV) that became a voicemail
    with a callback to make. The CDR still says the caller went to voicemail; no callback is opened
    (docs/decisions/engine-11-empty-voicemail.md)."""
    h = await make_harness(tmp_path, start_local="2026-11-24T22:00:00", speed=20)
    try:
        await h.start_daemon()
        call = await h.call("193", "77011234568", patience_s=40, dtmf_on={"language_menu": "2"}, silent=True)
        await h.wait_gone(call)
        row = await h.call_row(call)
        assert row["outcome"] == "voicemail"
        [vm] = await h.rows("SELECT data FROM call_events WHERE call_id = :c AND kind = 'voicemail'", c=call)
        data = vm["data"] if isinstance(vm["data"], dict) else json.loads(vm["data"])
        assert data["duration_s"] == 0 and "callback_id" not in data
        assert await h.rows("SELECT id FROM callbacks WHERE call_id = :c", c=call) == []
    finally:
        await close_harness(h)
