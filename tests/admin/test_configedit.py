"""The config editor on a copy of the shipped config/: each typed operation changes only the lines it must
(comments, order, quoting and hand formatting of the rest kept), the loader judges the whole result before
anything is written, and the history survives a restart and rolls one change back among later ones."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from acd.admin.configedit import Applied, ConfigAdmin, ConfigEditor, Conflict, Invalid
from acd.admin.history import History
from acd.admin.operations import (
    AgentChanges,
    DisableAgent,
    OperationError,
    QueueChanges,
    ScheduleChanges,
    SetNotReadyReasons,
    SetNumbers,
    SetSchedule,
    UpdateAgent,
    UpdateQueue,
    WallboardSpec,
)
from acd.configset import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def editor(tmp_path: Path) -> ConfigEditor:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    history = History(tmp_path / "var" / "config-history")
    return ConfigEditor(tmp_path / "config", history, clock=lambda: 1.8e9)


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def version(editor: ConfigEditor, file: str) -> str | None:
    return editor.read(file).version


def test_a_queue_update_changes_its_two_lines_and_keeps_the_comments(editor: ConfigEditor) -> None:
    op = UpdateQueue(name="general", changes=QueueChanges(wrapup_s=20, sl_threshold_s=20.0))
    record = editor.change(op, version(editor, "queues.yaml"), "aida")
    assert changed_lines(record.diff) == ["-    wrapup_s: 10", "+    wrapup_s: 20",
                                          "-    sl_threshold_s: 30", "+    sl_threshold_s: 20"]
    assert load_config(editor.dir).queues["general"].wrapup_s == 20
    assert record.who == "aida" and record.at.startswith("2027-01-15T08:00:00")


def test_topics_script_and_wallboard_thresholds_of_a_queue(editor: ConfigEditor) -> None:
    changes = QueueChanges(topics=["tax refund", "cash register"],
                           script="Greet in the caller's language.\nAsk for the taxpayer number.\n",
                           wallboard=WallboardSpec(waiting_warn=3, waiting_alarm=10,
                                                   service_level_warn_pct=80))
    record = editor.change(UpdateQueue(name="second_line", changes=changes),
                           version(editor, "queues.yaml"), "aida")
    assert changed_lines(record.diff) == [
        "+    topics: [tax refund, cash register]", "+    script: |",
        "+      Greet in the caller's language.", "+      Ask for the taxpayer number.",
        "+    wallboard: {waiting_warn: 3, waiting_alarm: 10, service_level_warn_pct: 80}"]
    queue = load_config(editor.dir).queues["second_line"]
    assert queue.topics == ["tax refund", "cash register"] and queue.script == changes.script
    assert queue.wallboard.waiting_alarm == 10
    # warning above alarm: the loader's message, with the line
    bad = QueueChanges(wallboard=WallboardSpec(waiting_warn=12, waiting_alarm=10))
    with pytest.raises(Invalid) as refused:
        editor.change(UpdateQueue(name="second_line", changes=bad), version(editor, "queues.yaml"), "aida")
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith("config/queues.yaml:")
    assert "waiting: the warning level must not be above the alarm level" in refused.value.problems[0]


def test_null_is_written_for_a_field_given_as_null(editor: ConfigEditor) -> None:
    """``announce_every_s: null`` means never announce (its default is 60 s): a patch can say so."""
    op = UpdateQueue(name="second_line", changes=QueueChanges(announce_every_s=None))
    record = editor.change(op, version(editor, "queues.yaml"), "aida")
    assert changed_lines(record.diff) == ["-    announce_every_s: 60", "+    announce_every_s: null"]
    assert load_config(editor.dir).queues["second_line"].announce_every_s is None


def test_an_agent_update_and_reset_touch_that_agent_only(editor: ConfigEditor) -> None:
    changes = AgentChanges(skills={"general": 7, "technical": 8})
    record = editor.change(UpdateAgent(id="agent7", changes=changes, reset=["endpoint"]),
                           version(editor, "agents.yaml"), "aida")
    assert changed_lines(record.diff) == ["-    endpoint: PJSIP/agent7",
                                          "-    skills: {general: 6, technical: 8}",
                                          "+    skills: {general: 7, technical: 8}"]
    assert load_config(editor.dir).agents["agent7"].endpoint == "PJSIP/agent7"  # the default
    with pytest.raises(OperationError, match="no agent 'agent99'"):
        editor.change(UpdateAgent(id="agent99", changes=AgentChanges(name="X")),
                      version(editor, "agents.yaml"), "aida")


def test_an_agent_joins_teams(editor: ConfigEditor) -> None:
    op = UpdateAgent(id="agent8", changes=AgentChanges(teams=["second_line", "almaty"]))
    record = editor.change(op, version(editor, "agents.yaml"), "aida")
    assert changed_lines(record.diff) == ["+    teams: [second_line, almaty]"]
    assert load_config(editor.dir).agents["agent8"].teams == ["second_line", "almaty"]


def test_disabling_an_agent_removes_its_one_line_entry(editor: ConfigEditor) -> None:
    record = editor.change(DisableAgent(id="agent2"), version(editor, "agents.yaml"), "aida")
    assert changed_lines(record.diff) == [
        "-  - {id: agent2, name: Нұрлан, endpoint: PJSIP/agent2, languages: [kk], skills: {general: 5}, "
        "queues: {general: 1}}"]
    assert "agent2" not in load_config(editor.dir).agents


def test_not_ready_reasons_are_one_line_of_acd_yaml(editor: ConfigEditor) -> None:
    reasons = ["break", "lunch", "training", "meeting", "no_answer", "coaching"]
    record = editor.change(SetNotReadyReasons(reasons=reasons), version(editor, "acd.yaml"), "aida")
    assert changed_lines(record.diff) == [
        "-not_ready_reasons: [break, lunch, training, meeting, no_answer]",
        "+not_ready_reasons: [break, lunch, training, meeting, no_answer, coaching]"]


def test_numbers_keep_the_files_quoting_and_hand_formatting(editor: ConfigEditor) -> None:
    file = "scenarios/7272581500.yaml"
    op = SetNumbers(scenario="line-almaty", numbers=["+7 727 258 15 00", "+7 727 258 15 01"])
    record = editor.change(op, version(editor, file), "aida")
    # ruamel would respell this file's `closed: [{play: ...}, {goto: ...}]`; the edit leaves it alone
    assert changed_lines(record.diff) == ['-numbers: ["+7 727 258 15 00"]',
                                          '+numbers: ["+7 727 258 15 00", "+7 727 258 15 01"]']
    assert load_config(editor.dir).scenario_for("+77272581501") is not None


def test_a_number_served_twice_is_refused_with_the_loaders_message(editor: ConfigEditor) -> None:
    file = "scenarios/88000800193.yaml"
    before = editor.read(file).text
    with pytest.raises(Invalid) as refused:
        editor.change(SetNumbers(scenario="line-8800", numbers=["8 8000 800 193", "193"]),
                      version(editor, file), "aida")
    assert any(p.startswith("config/scenarios/") and "is also served by scenario" in p
               for p in refused.value.problems), refused.value.problems
    assert editor.read(file).text == before
    assert editor.history.list() == []
    assert sorted(p.name for p in (editor.dir / "scenarios").iterdir()) == sorted(
        p.name for p in (ROOT / "config" / "scenarios").iterdir())  # no temporary file left behind


def test_business_hours_and_holidays_of_a_shared_schedule(editor: ConfigEditor) -> None:
    file = "scenarios/_schedules.yaml"
    weekly = {d: ["09:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-14:00"]}
    op = SetSchedule(name="office", changes=ScheduleChanges(weekly=weekly, extra_holidays=["2026-12-31"]))
    record = editor.change(op, version(editor, file), "aida")
    assert changed_lines(record.diff) == ['-      sat: ["09:00-15:00"]', '+      sat: ["09:00-14:00"]',
                                          "+    extra_holidays: ['2026-12-31']"]
    schedule = load_config(editor.dir).schedules["office"]
    assert [str(d) for d in schedule.extra_holidays] == ["2026-12-31"]
    changes = ScheduleChanges(weekly={"mon": ["08:00-17:00"]}, holiday_hours=[])
    op = SetSchedule(name="weekdays", changes=changes)
    editor.change(op, version(editor, file), "aida")
    assert "weekdays" in load_config(editor.dir).schedules


def test_a_stale_version_is_a_conflict_naming_the_change_that_won(editor: ConfigEditor) -> None:
    read = version(editor, "queues.yaml")
    editor.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=20)), read, "aida")
    after = editor.read("queues.yaml").text
    with pytest.raises(Conflict, match=r"changed since you read it.*by aida.*update queue general"):
        editor.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=5)), read, "bolat")
    assert editor.read("queues.yaml").text == after


def test_rollback_of_an_older_change_keeps_later_ones_and_survives_a_restart(editor: ConfigEditor) -> None:
    original = editor.read("queues.yaml").text
    first = editor.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=20)),
                          version(editor, "queues.yaml"), "aida")
    editor.change(UpdateQueue(name="second_line", changes=QueueChanges(ring_timeout_s=25)),
                  version(editor, "queues.yaml"), "bolat")
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in editor.history.folder.iterdir())
    again = ConfigEditor(editor.dir, History(editor.history.folder))  # a restarted daemon
    undo = again.rollback(first.id, "aida")
    assert undo.rollback_of == first.id and undo.action.startswith(f"rollback of change {first.id}")
    text = again.read("queues.yaml").text or ""
    assert "wrapup_s: 10\n" in text and "ring_timeout_s: 25\n" in text
    # rolling back the second change too gives the original bytes
    second = again.history.list(limit=2)[1]
    again.rollback(second.id, "aida")
    assert again.read("queues.yaml").text == original


def test_rollback_under_a_later_change_of_the_same_line_is_a_conflict(editor: ConfigEditor) -> None:
    first = editor.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=20)),
                          version(editor, "queues.yaml"), "aida")
    editor.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=30)),
                  version(editor, "queues.yaml"), "bolat")
    before = editor.read("queues.yaml").text
    with pytest.raises(Conflict, match="touch the same lines"):
        editor.rollback(first.id, "aida")
    assert editor.read("queues.yaml").text == before


async def test_two_admins_saving_at_the_same_moment_one_wins_and_the_other_gets_a_conflict(
    editor: ConfigEditor,
) -> None:
    async with asyncio.timeout(30):
        admin = ConfigAdmin(editor)
        read = version(editor, "queues.yaml")
        results = await asyncio.gather(
            admin.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=20)), read, "aida"),
            admin.change(UpdateQueue(name="general", changes=QueueChanges(wrapup_s=5)), read, "bolat"),
            return_exceptions=True)
        won = [r for r in results if isinstance(r, Applied)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, results
        assert f"by {won[0].record.who}" in lost[0].message
        assert [r.who for r in editor.history.list()] == [won[0].record.who]


def test_a_change_carries_the_loaders_warnings(editor: ConfigEditor) -> None:
    """A warning does not stop a change (as it does not stop ``acd check`` or a reload) but is shown."""
    op = UpdateAgent(id="agent3", changes=AgentChanges(languages=["ru", "en"]))
    record = editor.change(op, version(editor, "agents.yaml"), "aida")
    assert record.warnings == [str(w) for w in load_config(editor.dir).warnings]
    assert editor.history.get(record.id) == record
