"""The interpreter walks calls through the shipped scenarios with a fake CallControl."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.configset import ConfigSet, load_config
from routing.control import QueueResult
from routing.interpreter import run_scenario
from routing.model import Scenario
from tests.routing.fakes import MONDAY_NIGHT, FakeCall

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def config() -> ConfigSet:
    return load_config(CONFIG)


async def run(config: ConfigSet, call: FakeCall) -> str:
    loaded = config.scenario_for(call.dialled)
    assert loaded is not None
    return await run_scenario(call, loaded, config)


async def test_language_chosen_by_dtmf_follows_the_call(config: ConfigSet) -> None:
    call = FakeCall(digits=["2", "1"])
    assert await run(config, call) == "completed"
    assert call.kinds("language") == [{"lang": "ru", "how": "dtmf"}]
    first_lang, first_media = call.played[0]
    assert first_media == ["sound:acd/language_menu"]
    # every prompt after the choice is played in Russian, and the queue asks for a Russian speaker
    assert all(lang == "ru" for lang, _ in call.played[1:])
    assert ("ru", ["sound:acd/greeting"]) in call.played
    enqueue = next(a for a in call.actions if a[0] == "enqueue")
    assert enqueue[1] == "general" and enqueue[3] == "ru"
    assert enqueue[4].recording_notice == ("sound:acd/recording_notice",)
    assert enqueue[4].periodic_media == ("sound:acd/please_hold",)


async def test_language_defaults_to_kazakh_on_timeout(config: ConfigSet) -> None:
    call = FakeCall(digits=["", "1"])
    assert await run(config, call) == "completed"
    assert call.kinds("language") == [{"lang": "kk", "how": "timeout"}]
    assert call.info.language == "kk"


async def test_invalid_key_then_a_valid_one(config: ConfigSet) -> None:
    call = FakeCall(digits=["1", "9", "1"])
    assert await run(config, call) == "completed"
    assert call.kinds("menu") == [{"menu": "main", "choice": "invalid", "attempt": 1},
                                  {"menu": "main", "choice": "1", "attempt": 2}]
    assert "sound:acd/invalid_input" in call.flat_media()
    assert call.enqueued() == ["general"]


async def test_retries_used_up_falls_back_to_an_operator(config: ConfigSet) -> None:
    call = FakeCall(digits=["1", "", "7", ""])
    assert await run(config, call) == "completed"
    choices = [m["choice"] for m in call.kinds("menu")]
    assert choices == ["timeout", "invalid", "timeout"]  # 1 try + 2 retries
    assert call.flat_media().count("sound:acd/main_menu") == 3
    assert call.enqueued() == ["general"]


async def test_after_hours_takes_a_voicemail_with_a_callback_due_within_a_day(config: ConfigSet) -> None:
    call = FakeCall(at=MONDAY_NIGHT, digits=["2"])
    assert await run(config, call) == "voicemail"
    assert "sound:acd/after_hours" in call.flat_media()
    assert call.enqueued() == []
    [vm] = call.kinds("voicemail")
    assert vm["recording"].startswith("voicemail-call-1-")
    assert vm["caller"] == "87011234567"
    assert vm["callback_id"]
    assert vm["callback_due_at"] == pytest.approx(MONDAY_NIGHT + 24 * 3600)
    assert call.kinds("tag") == [{"call_type": "after_hours"}]
    assert call.actions[-1][0] == "hangup"
    # The hand-off to voicemail is an event of its own, before the message (the CDR's wait stops there).
    kinds = [(k, d.get("to")) for k, d in call.events]
    assert kinds.index(("step", "voicemail")) < kinds.index(("voicemail", None))


async def test_transfer_to_the_second_line(config: ConfigSet) -> None:
    call = FakeCall(digits=["1", "2"])
    assert await run(config, call) == "completed"
    assert call.kinds("transfer") == []  # a queue of this call, not a transfer out of it (the CDR follows it)
    assert {"step": "transfer", "detail": "to queue:second_line"} in call.kinds("step")
    assert call.enqueued() == ["second_line"]
    assert call.info.tags["service"] == "technical_support"


async def test_transfer_to_a_branch_through_the_trunk(config: ConfigSet) -> None:
    call = FakeCall(dialled="+7 727 258 15 00", digits=["2", "2"])
    assert await run(config, call) == "transferred"
    dial = next(a for a in call.actions if a[0] == "dial")
    assert dial[1] == "PJSIP/+77172000000@trunk"
    assert dial[3] == "87011234567"


async def test_failed_transfer_goes_to_an_operator(config: ConfigSet) -> None:
    call = FakeCall(dialled="7272581500", digits=["2", "2"], dial_results=["busy"])
    assert await run(config, call) == "completed"
    assert call.enqueued() == ["general"]


async def test_overflow_to_a_label_then_voicemail(config: ConfigSet) -> None:
    overflow = QueueResult("overflow", target=None, reason="max_wait")
    call = FakeCall(digits=["1", "1"], queue_results=[overflow])
    assert await run(config, call) == "voicemail"
    media = call.flat_media()
    assert media.index("sound:acd/all_busy") < media.index("sound:acd/voicemail_greeting")


SCENARIO = {
    "numbers": ["555"],
    "language": "ru",
    "steps": [
        {"queue": {"name": "general"}},
        {"play": ["all_busy"]},
        {"hangup": ["goodbye"]},
    ],
}


@pytest.mark.parametrize(("target", "expected", "enqueued", "dialled"), [
    ("queue:second_line", "completed", ["general", "second_line"], None),
    ("external:8 701 555 44 33", "transferred", ["general"], "PJSIP/87015554433@trunk"),
    ("voicemail", "voicemail", ["general"], None),
    (None, "hangup", ["general"], None),
    ("label:not_here", "hangup", ["general"], None),  # a label this scenario lacks: the next step
])
async def test_overflow_targets_from_the_queue(config: ConfigSet, target: str | None, expected: str,
                                               enqueued: list[str], dialled: str | None) -> None:
    scenario = Scenario.model_validate(SCENARIO)
    call = FakeCall(dialled="555", queue_results=[QueueResult("overflow", target=target, reason="no_agents")])
    assert await run_scenario(call, scenario, config) == expected
    assert call.enqueued() == enqueued
    dials = [a[1] for a in call.actions if a[0] == "dial"]
    assert dials == ([dialled] if dialled else [])
    if target is None or target.startswith("label:"):
        assert "sound:acd/all_busy" in call.flat_media()


async def test_information_branch_is_handled_in_the_ivr(config: ConfigSet) -> None:
    call = FakeCall(digits=["1", "3"])
    assert await run(config, call) == "handled_in_ivr"
    assert call.kinds("handled_in_ivr") == [{"step": "info"}]
    assert "sound:acd/info_hours" in call.flat_media()


async def test_caller_hanging_up_in_a_menu_ends_the_run_cleanly(config: ConfigSet) -> None:
    call = FakeCall(digits=["1"], hang_up_after_prompts=3)
    assert await run(config, call) == "caller_hung_up"
    assert call.enqueued() == []


async def test_every_step_is_an_event(config: ConfigSet) -> None:
    call = FakeCall(digits=["2", "1"])
    await run(config, call)
    steps = [d["step"] for d in call.kinds("step")]
    assert steps[:4] == ["language_menu", "play", "hours", "main"]
    assert "operator" in steps


async def test_hash_and_star_can_be_menu_keys(config: ConfigSet) -> None:
    scenario = Scenario.model_validate({"numbers": ["555"], "steps": [
        {"menu": {"prompt": "main_menu", "options": {"#": {"queue": "second_line"}, "*": {"hangup": []}}}},
    ]})
    call = FakeCall(dialled="555", digits=["#"])
    assert await run_scenario(call, scenario, config) == "completed"
    assert call.enqueued() == ["second_line"]
    assert call.kinds("menu") == [{"menu": "menu", "choice": "#", "attempt": 1}]


@pytest.mark.parametrize(("caller", "offered"), [("87011234567", True), ("", False), ("anonymous", False)])
async def test_keep_my_place_is_offered_only_to_a_caller_with_a_number(
        config: ConfigSet, caller: str, offered: bool) -> None:
    """A withheld or missing caller id cannot be called back: no key, no offer in the announcements (a
    callback with an empty number was made on a real Asterisk)."""
    scenario = Scenario.model_validate({"numbers": ["555"], "steps": [
        {"queue": {"name": "general", "callback_key": "*"}},
    ]})
    call = FakeCall(dialled="555", caller=caller)
    await run_scenario(call, scenario, config)
    [(_, _, _, _, hold)] = [a for a in call.actions if a[0] == "enqueue"]
    assert (hold.callback_key == "*") is offered
    assert any("callback_offer" in m for m in hold.periodic_media) is offered
