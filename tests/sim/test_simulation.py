"""The simulation over the real ACD core: determinism, conservation, a what-if against Erlang C."""

from __future__ import annotations

import pytest

from acd.core import AgentConfig, QueueConfig
from acd.sim.model import CallSpec, Shift, Simulation, erlang_c_service_level
from acd.sim.whatif import WhatIf, run


def test_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    w = WhatIf(agents=4, calls_per_day=300, seed=11)
    assert run(w).as_dict() == run(w).as_dict()
    assert run(WhatIf(agents=4, calls_per_day=300, seed=12)).as_dict() != run(w).as_dict()


@pytest.mark.parametrize(
    "whatif",
    [
        WhatIf(agents=3, calls_per_day=400, seed=2),  # overloaded: many abandon
        WhatIf(agents=5, calls_per_day=500, seed=3, breaks=2, profile="typical", strategy="longest_idle"),
        WhatIf(agents=3, calls_per_day=400, seed=4, max_wait_s=60.0),  # overflow
    ],
)
def test_every_caller_ends_answered_abandoned_or_overflowed(whatif: WhatIf) -> None:
    r = run(whatif)
    assert r.offered > 0
    assert r.answered + r.abandoned + r.overflowed == r.offered
    assert sum(r.calls_per_agent.values()) == r.answered
    assert 0.0 <= r.service_level <= 1.0 and 0.0 < r.occupancy < 1.0
    if whatif.max_wait_s:
        assert r.overflowed > 0 and r.max_wait_s <= whatif.max_wait_s + 1.0


def test_an_overloaded_day_abandons_more_than_a_light_one() -> None:
    light = run(WhatIf(agents=8, calls_per_day=400, seed=5))
    heavy = run(WhatIf(agents=3, calls_per_day=400, seed=5))
    assert heavy.abandon_rate > light.abandon_rate + 0.1
    assert heavy.service_level < light.service_level
    assert heavy.occupancy > light.occupancy


def test_service_level_agrees_with_erlang_c_for_patient_callers() -> None:
    # 8 agents at 80 % load around the clock, callers who never give up, no wrap-up or ringing delay:
    # the M/M/8 queue, whose service level within 30 s is Erlang C's.
    rate = 0.8 * 8 / 300
    w = WhatIf(
        agents=8,
        calls_per_day=rate * 86400,
        hours=(0, 24),
        days=2,
        patience_s=1e9,
        wrapup_s=0.0,
        answer_delay_s=0.0,
        seed=21,
    )
    r = run(w)
    expected = erlang_c_service_level(8, rate, 300.0, 30.0)
    assert 0.6 < expected < 0.8  # the case is a meaningful one
    assert r.service_level == pytest.approx(expected, abs=0.06)
    assert r.abandoned == 0


def test_least_talked_today_spreads_talk_time_evenly() -> None:
    fair = run(WhatIf(agents=6, calls_per_day=500, seed=8, strategy="least_talked_today"))
    assert fair.talk_spread_cv < 0.1


def test_a_real_configuration_with_overflow_between_queues() -> None:
    """The library API: any queues/agents, hand-made callers and shifts; overflowed callers move queues."""
    queues = [
        QueueConfig(name="front", max_wait_s=20.0, overflow="queue:back", when_empty="wait"),
        QueueConfig(name="back", when_empty="wait"),
    ]
    agents = [
        AgentConfig(id="f1", languages=["ru"], queues={"front": 1}),
        AgentConfig(id="b1", languages=["ru"], queues={"back": 1}),
        AgentConfig(id="b2", languages=["ru"], queues={"back": 1}),
    ]
    t0 = 1_795_400_000.0
    # six callers at once, long talks: f1 takes one, the rest overflow to the back office after 20 s
    calls = [
        CallSpec(at=t0 + i, queue="front", talk_s=600.0, patience_s=3600.0, language="ru") for i in range(6)
    ]
    shifts = [Shift(a.id, t0 - 60, t0 + 4 * 3600) for a in agents]
    r = Simulation(queues, agents, calls, shifts, start=t0 - 120, answer_delay_s=1.0).run()
    assert r.offered == 6 and r.answered == 6 and r.abandoned == 0
    assert r.calls_per_agent["f1"] >= 1 and r.calls_per_agent["b1"] >= 1 and r.calls_per_agent["b2"] >= 1
