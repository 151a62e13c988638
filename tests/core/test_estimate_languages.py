"""Who counts as "ahead" in a caller's expected wait when callers speak different languages (R2)."""

from __future__ import annotations

from acd.core import Acd

from .helpers import T0, agent, make, queue


def _busy_world(languages_of_agents: list[list[str]]) -> Acd:
    """Every agent ringing with a call of its own language: the callers enqueued next all wait."""
    agents = [agent(f"a{i}", languages=langs) for i, langs in enumerate(languages_of_agents)]
    acd = make([queue(when_empty="wait")], agents, ready=[a.id for a in agents])
    for i, a in enumerate(agents):
        acd.enqueue(f"busy{i}", "support", T0, language=a.languages[0])
    return acd


def test_with_bilingual_agents_callers_of_the_other_language_ahead_count() -> None:
    acd = _busy_world([["kk", "ru"], ["kk", "ru"]])
    for i in range(4):
        acd.enqueue(f"ru{i}", "support", T0 + 1 + i, language="ru")
    acd.enqueue("kk", "support", T0 + 10, language="kk")
    alone = _busy_world([["kk", "ru"], ["kk", "ru"]])
    alone.enqueue("kk", "support", T0 + 10, language="kk")
    behind, first = acd.estimate("kk", T0 + 10), alone.estimate("kk", T0 + 10)
    assert behind is not None and first is not None
    # four Russian callers ahead take the same two agents first: the Kazakh caller waits much longer
    assert behind.expected_s > 2 * first.expected_s  # QLA: 150 + 82 + 56 + 43 + 35 s against 150 s


def test_with_separate_teams_callers_of_the_other_language_do_not_count() -> None:
    acd = _busy_world([["kk"], ["ru"]])
    for i in range(4):
        acd.enqueue(f"ru{i}", "support", T0 + 1 + i, language="ru")
    acd.enqueue("kk", "support", T0 + 10, language="kk")
    alone = _busy_world([["kk"], ["ru"]])
    alone.enqueue("kk", "support", T0 + 10, language="kk")
    behind, first = acd.estimate("kk", T0 + 10), alone.estimate("kk", T0 + 10)
    assert behind is not None and first is not None
    assert behind.expected_s == first.expected_s  # the Russian team's queue is not the Kazakh caller's
