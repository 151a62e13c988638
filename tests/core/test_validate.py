"""validate(): what only the core can judge about queues and agents together."""

from __future__ import annotations

from acd.core import validate

from .helpers import agent, queue


def test_a_good_configuration_has_no_problems() -> None:
    queues = [queue(required_skills={"tax": 5}, overflow="queue:backup"), queue("backup")]
    agents = [agent("a1", ("support", "backup"), skills={"tax": 7})]
    assert validate(queues, agents) == []


def test_a_queue_no_agent_can_ever_serve() -> None:
    queues = [queue(required_skills={"tax": 8}, relax=[{"after_s": 60, "min_level": 6}])]
    problems = validate(queues, [agent("a1", skills={"tax": 5})])
    assert problems == ["queue 'support': no agent can ever serve it (needs tax >= 6, even after relaxation)"]


def test_relaxation_can_make_a_queue_servable() -> None:
    queues = [queue(required_skills={"tax": 8}, relax=[{"after_s": 120, "drop": ["*"]}])]
    assert validate(queues, [agent("a1")]) == []


def test_queue_without_agents_and_agent_in_unknown_queue() -> None:
    problems = validate([queue()], [agent("a1", ("suport",))])
    assert "queue 'support': no agent serves this queue" in problems
    assert "agent 'a1' serves queue 'suport', which does not exist" in problems


def test_overflow_to_a_missing_queue_or_itself() -> None:
    queues = [queue(overflow="queue:nowhere"), queue("loop", overflow="queue:loop")]
    problems = validate(queues, [agent("a1", ("support", "loop"))])
    assert "queue 'support': overflow target queue:nowhere does not exist" in problems
    assert "queue 'loop': overflows into itself" in problems


def test_negative_time_outs_that_bypassed_the_model() -> None:
    bad = queue().model_copy(update={"wrapup_s": -5.0})
    assert "queue 'support': wrapup_s must not be negative (-5.0)" in validate([bad], [agent("a1")])


def test_duplicates_and_unknown_estimator_and_languages() -> None:
    problems = validate(
        [queue(estimator="magic"), queue()],
        [agent("a1", languages=[], user="u"), agent("a1", languages=[], user="u")],
    )
    assert "queue 'support' is defined 2 times" in problems
    assert "agent 'a1' is defined 2 times" in problems
    assert "user 'u' is the login of 2 agents" in problems
    assert any("unknown estimator 'magic'" in p for p in problems)
    assert any("none of its agents has a language" in p for p in problems)
