"""The queue and agent models: what an admin may write in queues.yaml and agents.yaml."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from acd.core import AgentConfig, QueueConfig, QueuesFile


def test_defaults_follow_the_architecture() -> None:
    q = QueueConfig(name="support")
    assert q.strategy == "most_skilled"
    assert (q.wrapup_s, q.ring_timeout_s, q.announce_every_s, q.sl_threshold_s) == (10, 15, 60, 30)
    assert q.when_empty == "overflow" and q.language_skill
    assert (q.no_answer.state, q.no_answer.reason) == ("not_ready", "no_answer")


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="ring_timout_s"):
        QueueConfig.model_validate({"name": "support", "ring_timout_s": 20})
    with pytest.raises(ValidationError):
        AgentConfig.model_validate({"id": "a1", "skils": {"x": 1}})


@pytest.mark.parametrize("field", ["wrapup_s", "ring_timeout_s", "max_wait_s", "announce_every_s"])
def test_negative_time_outs_are_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        QueueConfig.model_validate({"name": "q", field: -1})


@pytest.mark.parametrize("level", [0, 11])
def test_skill_levels_are_1_to_10(level: int) -> None:
    with pytest.raises(ValidationError):
        QueueConfig(name="q", required_skills={"tax": level})
    with pytest.raises(ValidationError):
        AgentConfig(id="a", skills={"tax": level})


@pytest.mark.parametrize("target", ["queue:other", "voicemail", "external:+77272581500", "label:after_hours"])
def test_overflow_targets(target: str) -> None:
    assert QueueConfig(name="q", overflow=target).overflow == target


@pytest.mark.parametrize("target", ["other", "queue:", "phone:123"])
def test_bad_overflow_targets_are_refused(target: str) -> None:
    with pytest.raises(ValidationError, match="overflow target"):
        QueueConfig(name="q", overflow=target)


def test_relax_steps_must_be_in_time_order() -> None:
    with pytest.raises(ValidationError, match="increasing after_s"):
        QueueConfig.model_validate({"name": "q", "relax": [{"after_s": 120}, {"after_s": 60}]})


def test_composite_strategy_and_unknown_strategy() -> None:
    q = QueueConfig.model_validate({"name": "q", "strategy": ["least_talked_today", "most_skilled"]})
    assert q.strategy_names == ("least_talked_today", "most_skilled")
    with pytest.raises(ValidationError):
        QueueConfig.model_validate({"name": "q", "strategy": "fewest_calls"})
    with pytest.raises(ValidationError):
        QueueConfig.model_validate({"name": "q", "strategy": []})


def test_languages_become_skills_and_endpoint_defaults_to_the_id() -> None:
    a = AgentConfig(id="agent7", skills={"tax": 4, "lang:en": 3}, languages=["kk", "en"], queues={"q": 1})
    assert a.endpoint == "PJSIP/agent7"
    assert a.all_skills == {"tax": 4, "lang:en": 3, "lang:kk": 10}


def test_schema_describes_fields_for_admins() -> None:
    schema = QueuesFile.model_json_schema()
    props = schema["$defs"]["QueueConfig"]["properties"]
    assert "ring-no-answer" in props["ring_timeout_s"]["description"]
    assert all("description" in p for p in props.values())


def test_yaml_examples_in_the_docs_are_valid() -> None:
    import re
    from pathlib import Path

    from ruamel.yaml import YAML

    from acd.core import AgentsFile

    doc = (Path(__file__).resolve().parents[2] / "docs" / "acd-core.md").read_text(encoding="utf-8")
    queues_yaml, agents_yaml = re.findall(r"```yaml\n(.*?)```", doc, re.S)[:2]
    queues = QueuesFile.model_validate(YAML(typ="safe").load(queues_yaml)).queues
    agents = AgentsFile.model_validate(YAML(typ="safe").load(agents_yaml)).agents
    assert queues[0].relax[1].drop == ["*"] and agents[0].queues["support_kk_ru"] == 1
