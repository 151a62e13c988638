"""The FIFO Erlang-A model that scores the estimators: checked against closed forms."""

from __future__ import annotations

import pytest

from acd.sim.fifo import run_fifo, stationary_scenario, time_varying_scenario


def erlang_a_abandon_probability(servers: int, rate: float, mu: float, theta: float) -> float:
    """M/M/s+M: P(abandon) = theta * E[queue length] / lambda, from the birth-death chain."""
    p = [1.0]
    n = 0
    while p[-1] > 1e-14 or n < servers:
        n += 1
        death = min(n, servers) * mu + max(n - servers, 0) * theta
        p.append(p[-1] * rate / death)
    total = sum(p)
    queue = sum(max(k - servers, 0) * pk for k, pk in enumerate(p)) / total
    return theta * queue / rate


def test_abandonment_matches_erlang_a() -> None:
    scenario = stationary_scenario(8, 1.0, 30000)
    result = run_fifo(scenario, seed=5)
    assert result.arrivals == 30000
    assert result.answered + result.abandoned == result.arrivals
    expected = erlang_a_abandon_probability(8, 8 / 300, 1 / 300, 1 / 180)
    assert result.abandoned / result.arrivals == pytest.approx(expected, rel=0.1)


def test_qla_with_true_parameters_is_unbiased_against_would_have_been_waits() -> None:
    """The shadow rule gives abandoners the wait QLA predicts for them: no systematic gap."""
    result = run_fifo(stationary_scenario(8, 1.1, 30000), seed=6)
    qla = result.accuracy["qla_true"]
    assert result.waited > 10000 and qla.n == result.waited  # every waiting caller is scored
    assert abs(qla.bias_s) < 0.05 * result.mean_wait_s
    assert result.accuracy["app_queue"].rmse_s > 1.25 * qla.rmse_s
    assert result.accuracy["qla"].rmse_s < 1.1 * qla.rmse_s  # online parameters do nearly as well


def test_same_seed_same_result_and_staffing_changes_are_followed() -> None:
    one = run_fifo(time_varying_scenario(2, 1500), seed=9)
    two = run_fifo(time_varying_scenario(2, 1500), seed=9)
    assert one.as_dict() == two.as_dict()
    assert one.answered + one.abandoned == one.arrivals
    assert one.accuracy["qla"].n == one.waited  # the closing shift clears every shadow


def test_the_announced_range_holds_about_eight_callers_in_ten() -> None:
    result = run_fifo(stationary_scenario(8, 0.95, 20000), seed=8)
    cov = result.range_coverage
    assert cov["n"] == result.waited
    assert 0.75 < cov["inside"] < 0.85
    assert 0.06 < cov["below_low"] < 0.14 and 0.06 < cov["above_high"] < 0.14
