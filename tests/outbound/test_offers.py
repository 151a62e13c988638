"""Which due callback is offered to which free agent (outbound/offers.py): fit, urgency, kept places."""

from __future__ import annotations

import pytest

from outbound.callbacks import CallbacksConfig
from outbound.offers import Candidate, FreeAgent, QueueNeeds, plan_offers

QUEUES = {"support": QueueNeeds({"taxes": 5}), "sales": QueueNeeds({}, language_skill=False)}
KK = FreeAgent("kk1", free_since=100.0, languages=frozenset({"kk"}), queues=frozenset({"support"}),
               skills={"taxes": 7})
RU = FreeAgent("ru1", free_since=50.0, languages=frozenset({"ru"}), queues=frozenset({"support", "sales"}),
               skills={"taxes": 7})
NOVICE = FreeAgent("new1", free_since=10.0, languages=frozenset({"kk", "ru"}), queues=frozenset({"support"}),
                   skills={"taxes": 2})


def _plan(candidates: list[Candidate], agents: list[FreeAgent],
          declined: set[tuple[str, str]] | None = None) -> dict[str, str]:
    return {c.id: agent for c, agent in plan_offers(candidates, agents, QUEUES, declined or set())}


@pytest.mark.timeout(5)
def test_a_callback_goes_to_the_agent_with_its_language_and_queue_skills() -> None:
    kk_call = Candidate("cb-kk", due_at=1000.0, language="kk", queue="support")
    assert _plan([kk_call], [RU, NOVICE, KK]) == {"cb-kk": "kk1"}  # ru1 lacks kk, new1 the taxes level
    sales = Candidate("cb-sales", due_at=1000.0, language="kk", queue="sales")
    assert _plan([sales], [KK, RU]) == {"cb-sales": "ru1"}  # sales asks no language; kk1 is not in it


@pytest.mark.timeout(5)
def test_the_most_urgent_goes_first_to_the_longest_free_agent_one_offer_each() -> None:
    later = Candidate("cb-later", due_at=2000.0)
    sooner = Candidate("cb-sooner", due_at=1000.0)
    third = Candidate("cb-third", due_at=3000.0)
    assert _plan([later, third, sooner], [KK, RU]) == {"cb-sooner": "ru1", "cb-later": "kk1"}


@pytest.mark.timeout(5)
def test_an_assigned_callback_is_its_agents_only_a_kept_place_first_and_a_held_agent_gets_nothing_else(
        ) -> None:
    mine = Candidate("cb-esc", due_at=500.0, agent="kk1")
    kept = Candidate("cb-kept", due_at=900.0, agent="kk1", kept_place=True)
    free = Candidate("cb-free", due_at=100.0)
    assert _plan([mine, kept, free], [KK]) == {"cb-kept": "kk1"}
    assert _plan([mine], [RU]) == {}  # not ru1's
    held = FreeAgent("kk1", 100.0, frozenset({"kk"}), frozenset({"support"}), {"taxes": 7}, held=True)
    assert _plan([free], [held]) == {}  # held for a kept place: only theirs


@pytest.mark.timeout(5)
def test_a_declined_offer_goes_to_another_agent_and_the_offers_have_defaults() -> None:
    cb = Candidate("cb-1", due_at=1000.0)
    assert _plan([cb], [KK, RU], declined={("cb-1", "ru1")}) == {"cb-1": "kk1"}
    assert _plan([cb], [RU], declined={("cb-1", "ru1")}) == {}
    offers = CallbacksConfig.model_validate({"offers": {"timeout": "45s"}}).offers
    assert (offers.enabled, offers.timeout, offers.again_after) == (True, 45.0, 600.0)


@pytest.mark.timeout(5)
def test_inbound_first_an_agent_with_a_caller_waiting_in_one_of_their_queues_is_not_free() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from acd.core.config import AgentConfig
    from acd.web.callback_offers import CallbackOffers
    from outbound.callbacks import Offers

    agent = AgentConfig(id="a1", queues={"support": 1})
    engine = SimpleNamespace(config=SimpleNamespace(agents={"a1": agent}))
    offers = CallbackOffers(cast(Any, None), cast(Any, engine), cast(Any, None), Offers())
    ready = {"state": "ready", "since": 5.0, "reachable": True, "held_for_callback": None}
    assert offers._free("a1", ready, {"support": 0}) is not None
    assert offers._free("a1", ready, {"support": 1}) is None  # a caller waits: inbound first
    assert offers._free("a1", {**ready, "state": "not_ready"}, {}) is None
    assert offers._free("a1", {**ready, "held_for_callback": "call-9"}, {}).held  # type: ignore[union-attr]
