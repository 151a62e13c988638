"""Wrap-up with a required topic (docs/decisions/web-08-required-topic.md): the agent cannot leave wrap-up
early without one, a supervisor can; when the time runs out the agent is released and the call flagged
``topic_missing``. The result picked in wrap-up travels with the topic event."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.engine.conftest import Rig
from tests.engine.fake_ari import destroyed
from tests.engine.test_call_control import TIMEOUT, _talking


def _require_topic(rig: Rig) -> None:
    config = rig.engine.config
    general = config.queues["general"].model_copy(update={"topic_required": True})
    rig.engine.config = dataclasses.replace(config, queues={**config.queues, "general": general})


async def _in_wrapup(rig: Rig) -> None:
    await _talking(rig)
    rig.engine.dispatch(destroyed("c1"))
    await rig.ari.until(lambda: rig.sink.agent("agent1")[-1:] == ["wrap_up"], "no wrap-up")


async def test_the_agent_cannot_end_wrap_up_early_without_a_required_topic(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        _require_topic(rig)
        await _in_wrapup(rig)
        with pytest.raises(ValueError, match="topic"):
            rig.engine.set_agent_state("agent1", "ready", None, None)
        assert rig.sink.agent("agent1")[-1] == "wrap_up"
        rig.engine.set_topic("c1", "Tax refund", None, "aigerim", "Resolved")
        (topic,) = rig.sink.calls("c1", "topic")
        assert topic.data["result"] == "Resolved"
        rig.engine.set_agent_state("agent1", "ready", None, None)
        assert rig.sink.agent("agent1")[-1] == "ready"
        (ended,) = rig.sink.calls("c1", "wrapup_ended")
        assert "topic_missing" not in ended.data


async def test_a_supervisor_may_end_it(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        _require_topic(rig)
        await _in_wrapup(rig)
        rig.engine.set_agent_state("agent1", "ready", None, "boss")
        assert rig.sink.agent("agent1")[-1] == "ready"


async def test_the_timer_ends_it_without_a_topic_and_the_call_is_flagged(rig: Rig) -> None:
    async with asyncio.timeout(TIMEOUT):
        _require_topic(rig)
        await _in_wrapup(rig)
        rig.clock.advance(60)  # past the queue's wrap-up time (10 s)
        rig.engine.apply(rig.engine.acd.tick(rig.clock.now()))
        assert rig.sink.agent("agent1")[-1] == "ready"
        (ended,) = rig.sink.calls("c1", "wrapup_ended")
        assert ended.data["topic_missing"] is True
