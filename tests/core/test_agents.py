"""The agent state machine (R4): one table, explicit errors, and today's figures."""

from __future__ import annotations

from datetime import datetime

import pytest

from acd.core.agents import TRANSITIONS, Agent, AgentEvent, AgentState, ImpossibleTransition, local_day

from .helpers import ALMATY, agent


def new_agent(now: float = 0.0) -> Agent:
    return Agent(config=agent("a1"), day=local_day(now, ALMATY))


def test_full_call_cycle_is_in_the_table() -> None:
    a = new_agent()
    path = [
        (AgentEvent.GO_READY, AgentState.READY),
        (AgentEvent.OFFER, AgentState.RINGING),
        (AgentEvent.ANSWER, AgentState.ON_CALL),
        (AgentEvent.HANG_UP, AgentState.WRAP_UP),
        (AgentEvent.WRAPUP_DONE, AgentState.READY),
    ]
    for t, (event, state) in enumerate(path):
        change = a.fire(event, float(t), call_id="c1")
        assert a.state is state and change.state == state.value and change.at == t


def test_impossible_transition_names_state_and_event() -> None:
    a = new_agent()
    with pytest.raises(ImpossibleTransition, match="cannot 'offer' while 'logged_out'") as info:
        a.fire(AgentEvent.OFFER, 1.0)
    assert info.value.state is AgentState.LOGGED_OUT and info.value.event is AgentEvent.OFFER
    assert a.state is AgentState.LOGGED_OUT


def test_no_offer_to_an_agent_who_is_not_ready() -> None:
    for state in AgentState:
        if state is not AgentState.READY:
            assert (state, AgentEvent.OFFER) not in TRANSITIONS


def test_not_ready_keeps_its_reason_and_change_records_previous_and_by() -> None:
    a = new_agent()
    a.fire(AgentEvent.GO_READY, 1.0)
    change = a.fire(AgentEvent.GO_NOT_READY, 2.0, reason="lunch", by="boss")
    assert (a.reason, change.previous, change.reason, change.by) == ("lunch", "ready", "lunch", "boss")
    a.fire(AgentEvent.GO_READY, 3.0)
    assert a.reason is None


def test_talk_is_split_at_local_midnight_in_almaty() -> None:
    before = datetime(2026, 11, 23, 23, 58, tzinfo=ALMATY).timestamp()  # 18:58 UTC
    after = datetime(2026, 11, 24, 0, 3, tzinfo=ALMATY).timestamp()
    a = new_agent(before)
    a.talk_today_s, a.calls_today = 500.0, 4
    a.add_talk(before, after, ALMATY)
    assert a.talk_today_s == pytest.approx(180.0)  # only 00:00-00:03 counts for the new day
    assert a.calls_today == 1
