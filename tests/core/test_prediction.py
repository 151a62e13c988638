"""Wait prediction: each estimator's formula on hand-computed values, online statistics, announcements."""

from __future__ import annotations

import math
import random

import pytest

from acd.core.prediction import (
    DEFAULT_ESTIMATOR,
    ESTIMATORS,
    QueueStatistics,
    QueueView,
    WaitEstimate,
    announce_minutes,
    estimate,
)


def stats_with(mean_service_s: float, mean_patience_s: float) -> QueueStatistics:
    """Statistics whose prior is exactly the given parameters (no observations)."""
    return QueueStatistics(prior_service_s=mean_service_s, prior_patience_s=mean_patience_s)


def view(
    ahead: int, servers: int, elapsed: float = 0.0, hol: float = 0.0, les: float | None = None
) -> QueueView:
    return QueueView(ahead=ahead, servers=servers, elapsed_s=elapsed, hol_elapsed_s=hol, les_wait_s=les)


def test_the_five_estimators_are_registered_and_the_default_is_one_of_them() -> None:
    assert {"app_queue", "ql", "qla", "les", "hol"} <= set(ESTIMATORS)
    assert DEFAULT_ESTIMATOR in ESTIMATORS


def test_ql_is_position_over_total_service_rate() -> None:
    # 4 ahead, 2 agents of 300 s mean: the 5th completion at rate 2/300 -> 5 * 150 s.
    assert ESTIMATORS["ql"](view(4, 2), stats_with(300, 180)) == pytest.approx(750.0)


def test_qla_adds_the_departures_of_callers_who_give_up() -> None:
    # 2 ahead, 1 agent (mu = 1/100), theta = 1/50: 1/(0.01) + 1/(0.01+0.02) + 1/(0.01+0.04).
    expected = 100.0 + 1 / 0.03 + 1 / 0.05
    assert ESTIMATORS["qla"](view(2, 1), stats_with(100, 50)) == pytest.approx(expected)


def test_qla_without_anyone_ahead_equals_ql() -> None:
    s = stats_with(300, 180)
    assert ESTIMATORS["qla"](view(0, 3), s) == pytest.approx(ESTIMATORS["ql"](view(0, 3), s)) == 100.0


def test_app_queue_is_the_three_quarters_ewma_of_answered_waits_minus_elapsed() -> None:
    s = stats_with(300, 180)
    s.wait_ended(40.0, abandoned=False, now=1.0)  # (0*3 + 40)/4 = 10
    s.wait_ended(90.0, abandoned=False, now=2.0)  # (10*3 + 90)/4 = 30
    s.wait_ended(500.0, abandoned=True, now=3.0)  # abandons do not count
    assert s.ewma_wait == pytest.approx(30.0)
    assert ESTIMATORS["app_queue"](view(7, 2, elapsed=12.0), s) == pytest.approx(18.0)
    assert ESTIMATORS["app_queue"](view(7, 2, elapsed=45.0), s) == 0.0


def test_les_uses_the_last_connected_callers_wait_and_falls_back_to_ql() -> None:
    s = stats_with(300, 180)
    assert ESTIMATORS["les"](view(3, 2, elapsed=20.0, les=200.0), s) == pytest.approx(180.0)
    assert ESTIMATORS["les"](view(3, 2, les=None), s) == pytest.approx(ESTIMATORS["ql"](view(3, 2), s))


def test_hol_scales_the_head_of_lines_wait_by_position() -> None:
    s = stats_with(300, 180)
    # head waited 120 s, 3 ahead: 120 * 4/3 = 160, minus 10 s already waited.
    assert ESTIMATORS["hol"](view(3, 2, elapsed=10.0, hol=120.0), s) == pytest.approx(150.0)
    assert ESTIMATORS["hol"](view(0, 2, elapsed=10.0, hol=10.0), s) == pytest.approx(150.0)  # ql: 1/(2/300)


def test_nobody_to_serve_still_gives_a_finite_estimate() -> None:
    est = estimate(view(2, 0), stats_with(300, 180))
    assert math.isfinite(est.expected_s) and est.expected_s > 0


def test_range_brackets_the_expected_wait_and_matches_an_exponential_for_one_term() -> None:
    s = stats_with(300, 180)
    one = estimate(view(0, 1), s, "qla")  # one exponential of mean 300: 10 % = 31.6, 90 % = 690.8
    assert one.expected_s == pytest.approx(300.0)
    assert one.low_s == pytest.approx(300 * -math.log(0.9), rel=0.1)
    assert one.high_s == pytest.approx(300 * -math.log(0.1), rel=0.05)
    many = estimate(view(30, 4), s, "qla")
    assert many.low_s < many.expected_s < many.high_s
    # more terms -> relatively narrower range
    assert many.high_s / many.expected_s < one.high_s / one.expected_s


def test_online_mu_and_theta_converge_to_the_true_rates() -> None:
    rng = random.Random(7)
    s = QueueStatistics()  # prior 300/180; truth 200 s service, 60 s patience
    t = 0.0
    for _ in range(20000):
        t += 1.0
        s.service_completed(rng.expovariate(1 / 200), t)
        patience, service_wait = rng.expovariate(1 / 60), rng.expovariate(1 / 100)
        s.wait_ended(min(patience, service_wait), abandoned=patience < service_wait, now=t)
    assert s.mu == pytest.approx(1 / 200, rel=0.1)
    assert s.theta == pytest.approx(1 / 60, rel=0.1)


def test_statistics_start_from_a_sensible_prior() -> None:
    s = QueueStatistics()
    assert s.mu == pytest.approx(1 / 300)
    assert s.theta == pytest.approx(1 / 180)
    assert s.ewma_wait == 0.0


@pytest.mark.parametrize(
    ("expected_s", "minutes"),
    [(0.0, 0), (59.9, 0), (60.0, 1), (61.0, 2), (119.0, 2), (120.0, 2), (301.0, 6), (math.inf, None)],
)
def test_announcements_round_up_and_say_less_than_a_minute_for_short_waits(
    expected_s: float, minutes: int | None
) -> None:
    assert announce_minutes(WaitEstimate(expected_s, expected_s / 2, expected_s * 2)) == minutes


@pytest.mark.parametrize("ahead", [63, 64, 65, 500, 10_000])
@pytest.mark.parametrize("theta_scale", [1e-6, 0.05, 1.0, 40.0])
def test_long_queue_sums_in_closed_form_match_the_term_by_term_sums(ahead: int, theta_scale: float) -> None:
    """Beyond 64 callers ahead QLA uses digamma/trigamma; it must equal the sum it replaces."""
    from acd.core.prediction import _qla_sums

    stats = QueueStatistics()
    view = QueueView(ahead=ahead, servers=8, elapsed_s=0.0, hol_elapsed_s=0.0, les_wait_s=None)
    rate = 8 * stats.mu
    theta = rate * theta_scale / 8
    stats_theta = type("S", (), {"mu": stats.mu, "theta": theta})()
    mean, var = _qla_sums(view, stats_theta)  # type: ignore[arg-type]
    rates = [rate + i * theta for i in range(ahead + 1)]
    assert mean == pytest.approx(sum(1 / r for r in rates), rel=1e-9)
    assert var == pytest.approx(sum(1 / (r * r) for r in rates), rel=1e-9)
