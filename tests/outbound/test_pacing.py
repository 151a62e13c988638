"""Pacing properties: limits that hold for every state, and the direction of each input's effect."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.pacing import Pacer, PacingSettings, Snapshot

NOW = 1_000_000.0
MODES = st.sampled_from(["preview", "progressive", "predictive"])


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    busy = draw(st.lists(st.floats(0, 900), max_size=30))
    ringing = draw(st.lists(st.floats(0, 40), max_size=60))
    return Snapshot(
        ready_agents=draw(st.integers(0, 30)),
        busy_since=tuple(NOW - b for b in busy),
        lines_ringing=len(ringing),
        ringing_since=tuple(NOW - r for r in ringing),
        answered_waiting=draw(st.integers(0, 3)),
        inbound_waiting=draw(st.integers(0, 10)),
        trunk_in_use=draw(st.integers(0, 40)),
    )


def trained(mode: str, answer_every: int = 3, drops: int = 0, **kw: float) -> Pacer:
    """A pacer that has seen a morning: every ``answer_every``-th call answered after 20 s, 190 s calls."""
    pacer = Pacer(PacingSettings(mode=mode, **kw))  # type: ignore[arg-type]
    for i in range(300):
        if i % answer_every == 0:
            pacer.on_result(NOW - 3000 + i, "dropped" if i < drops * answer_every else "answered", 20.0)
        else:
            pacer.on_result(NOW - 3000 + i, "no_answer", 30.0)
    for i in range(100):
        pacer.on_handled(NOW - 2000 + i, 140.0 + i)
    return pacer


@settings(max_examples=300, deadline=None)
@given(mode=MODES, snap=snapshots(), channels=st.integers(1, 60), ceiling=st.floats(1, 5))
def test_limits_hold_in_every_mode(mode: str, snap: Snapshot, channels: int, ceiling: float) -> None:
    pacer = trained(mode, trunk_channels=channels, max_lines_per_agent=ceiling)
    d = pacer.decide(NOW, snap)
    assert d.dial >= 0 and d.previews >= 0
    # the trunk: nothing beyond its free channels
    in_use = snap.trunk_in_use + snap.lines_ringing + snap.answered_waiting
    assert d.dial + d.previews <= max(0, channels - in_use)
    # agents needed for inbound callers are not counted on
    available = max(0, snap.ready_agents - snap.inbound_waiting)
    if mode == "preview":
        assert d.dial == 0 and d.previews <= available
    elif mode == "progressive":
        assert d.previews == 0
        assert snap.lines_ringing + snap.answered_waiting + d.dial <= max(available, snap.lines_ringing
                                                                         + snap.answered_waiting)
    else:
        # the ceiling of lines per agent, counting every busy agent as one who might free up
        agents = available + len(snap.busy_since)
        assert d.dial == 0 or snap.lines_ringing + d.dial <= math.floor(ceiling * agents) + 1e-9


@settings(max_examples=200, deadline=None)
@given(mode=MODES, snap=snapshots(), extra=st.integers(1, 10))
def test_more_inbound_callers_never_mean_more_campaign_calls(mode: str, snap: Snapshot, extra: int) -> None:
    pacer = trained(mode)
    base = pacer.decide(NOW, snap)
    more = pacer.decide(NOW, Snapshot(**{**snap.__dict__, "inbound_waiting": snap.inbound_waiting + extra}))
    assert more.dial <= base.dial and more.previews <= base.previews


@settings(max_examples=100, deadline=None)
@given(mode=MODES, snap=snapshots())
def test_inbound_callers_for_every_agent_stop_the_campaign(mode: str, snap: Snapshot) -> None:
    everyone = snap.ready_agents + len(snap.busy_since)
    d = trained(mode).decide(NOW, Snapshot(**{**snap.__dict__, "inbound_waiting": everyone}))
    assert d.dial == 0 and d.previews == 0


def test_predictive_dials_more_lines_than_free_agents_when_few_answer() -> None:
    snap = Snapshot(ready_agents=4, busy_since=tuple(NOW - 100 for _ in range(16)))
    progressive = trained("progressive").decide(NOW, snap)
    predictive = trained("predictive").decide(NOW, snap)
    assert progressive.dial == 4
    assert predictive.dial > 4


def test_predictive_warms_up_as_progressive() -> None:
    fresh = Pacer(PacingSettings(mode="predictive"))
    d = fresh.decide(NOW, Snapshot(ready_agents=5, busy_since=(NOW - 100,) * 10))
    assert d.dial == 5 and "warm-up" in d.reason


def test_a_campaign_over_its_drop_target_dials_less() -> None:
    snap = Snapshot(ready_agents=3, busy_since=tuple(NOW - 150 for _ in range(17)))
    calm = trained("predictive").decide(NOW, snap)
    over = trained("predictive", drops=10).decide(NOW, snap)  # 10 % of answered calls dropped
    assert over.allowed_drop < calm.allowed_drop
    assert over.dial < calm.dial


@settings(max_examples=50, deadline=None)
@given(rate=st.integers(2, 8))
def test_a_lower_answer_rate_means_more_lines(rate: int) -> None:
    snap = Snapshot(ready_agents=5, busy_since=tuple(NOW - 120 for _ in range(15)))
    high = trained("predictive", answer_every=rate).decide(NOW, snap)
    low = trained("predictive", answer_every=rate + 1).decide(NOW, snap)
    assert low.dial >= high.dial


def test_long_rung_lines_count_for_less_than_fresh_ones() -> None:
    pacer = trained("predictive")
    busy = tuple(NOW - 100 for _ in range(16))
    fresh = pacer.decide(NOW, Snapshot(ready_agents=4, busy_since=busy, lines_ringing=6,
                                       ringing_since=(NOW - 1,) * 6))
    stale = pacer.decide(NOW, Snapshot(ready_agents=4, busy_since=busy, lines_ringing=6,
                                       ringing_since=(NOW - 25,) * 6))
    assert stale.dial > fresh.dial
