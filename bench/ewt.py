"""Wait-prediction accuracy (issue 6, 6b): the estimators on Erlang-A traffic, scored on every caller who
had to wait against the wait they had, or would have had (abandoners: see ``acd.sim.fifo``).

Goals, stationary (s=8 rho=0.9, s=8 rho=1.1, s=30 rho=0.95; service 300 s, patience 180 s, exponential):
the default estimator on online parameters has RMSE <= 1.10 x QLA given the true parameters, |bias| <= 2 s,
and RMSE <= 0.75 x app_queue's. Time-varying day (hourly profile, shift staffing): RMSE <= 0.75 x app_queue
and <= 1.10 x the best of the five estimators.
"""

from __future__ import annotations

from typing import Any

from acd.core.prediction import DEFAULT_ESTIMATOR, ESTIMATORS
from acd.sim.fifo import FifoResult, run_fifo, stationary_scenario, time_varying_scenario
from bench.common import Goal, Section

STATIONARY = ((8, 0.9), (8, 1.1), (30, 0.95))


def run(quick: bool) -> Section:
    arrivals = 30_000 if quick else 300_000
    days = 10 if quick else 100  # 3,000 calls a day
    figures: dict[str, Any] = {"default_estimator": DEFAULT_ESTIMATOR, "scenarios": {}}
    goals: list[Goal] = []
    d = DEFAULT_ESTIMATOR
    for seed, (servers, rho) in enumerate(STATIONARY, start=1):
        result = run_fifo(stationary_scenario(servers, rho, arrivals), seed=seed)
        acc = result.accuracy
        ratio_true = acc[d].rmse_s / acc["qla_true"].rmse_s
        ratio_app = acc[d].rmse_s / acc["app_queue"].rmse_s
        figures["scenarios"][result.scenario] = _figures(result, ratio_true, ratio_app)
        goals += [
            Goal(f"{result.scenario}.ratio_rmse_default_to_qla_true", ratio_true, 1.10),
            Goal(f"{result.scenario}.abs_bias_s", abs(acc[d].bias_s), 2.0),
            Goal(f"{result.scenario}.ratio_rmse_default_to_app_queue", ratio_app, 0.75),
        ]
    result = run_fifo(time_varying_scenario(days), seed=99)
    acc = result.accuracy
    best = min(acc[name].rmse_s for name in ESTIMATORS)
    ratio_best = acc[d].rmse_s / best
    ratio_app = acc[d].rmse_s / acc["app_queue"].rmse_s
    figures["scenarios"][result.scenario] = {
        **_figures(result, acc[d].rmse_s / acc["qla_true"].rmse_s, ratio_app),
        "ratio_rmse_default_to_best_of_five": round(ratio_best, 4),
    }
    goals += [
        Goal(f"{result.scenario}.ratio_rmse_default_to_app_queue", ratio_app, 0.75),
        Goal(f"{result.scenario}.ratio_rmse_default_to_best_of_five", ratio_best, 1.10),
    ]
    _print(figures)
    return Section(figures, goals)


def _figures(result: FifoResult, ratio_true: float, ratio_app: float) -> dict[str, Any]:
    return {
        **result.as_dict(),
        "ratio_rmse_default_to_qla_true": round(ratio_true, 4),
        "ratio_rmse_default_to_app_queue": round(ratio_app, 4),
    }


def _print(figures: dict[str, Any]) -> None:
    for name, sc in figures["scenarios"].items():
        print(
            f"  {name}: {sc['arrivals']} arrivals, {sc['scored']} waited, mean wait {sc['mean_wait_s']:.1f} s"
        )
        cov = sc["range_coverage"]
        print(
            f"    range of the default: {cov['below_low']:.1%} below, {cov['inside']:.1%} inside, "
            f"{cov['above_high']:.1%} above (aim 10/80/10)"
        )
        for est, a in sc["estimators"].items():
            print(
                f"    {est:10s} rmse {a['rmse_s']:7.2f} s  mae {a['mae_s']:7.2f} s  "
                f"bias {a['bias_s']:+7.2f} s  rel {a['relative_rmse']:.3f}"
            )
