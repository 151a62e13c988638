"""Inbound keeps its priority over campaign work (issue 15): an answered campaign call waits in the queue
with the campaign's priority (``dialing.priority``, below every inbound caller's), so the agent who frees up
is offered the inbound caller first, even one who came later."""

from __future__ import annotations

from outbound.config import Dialing
from tests.core.helpers import T0, agent, make, offers, queue


def test_a_freed_agent_takes_the_inbound_caller_before_an_older_campaign_call() -> None:
    acd = make([queue("general")], [agent("a1", ["general"])], ready=["a1"])
    acd.set_agent_state("a1", "not_ready", T0, reason="break")
    campaign_priority = Dialing().priority
    assert campaign_priority < 0
    acd.enqueue("campaign-call", "general", T0, priority=campaign_priority)
    acd.enqueue("inbound-call", "general", T0 + 5, priority=0)
    assert offers(acd.set_agent_state("a1", "ready", T0 + 10)) == [("inbound-call", "a1")]
