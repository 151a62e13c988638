"""``acd simulate``: the what-if tool (a table for people, ``--json`` for machines).

The integrator registers :func:`simulate` on the ``acd`` typer app (``app.command()(simulate)``);
``python -m acd.sim`` runs it alone.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from acd.sim.model import SimReport, erlang_c_service_level
from acd.sim.traffic import HOUR, parse_hours
from acd.sim.whatif import WhatIf, daily_profile, run


def _one_of(option: str, value: str, known: Sequence[str]) -> str | None:
    """One line naming a bad option value, the accepted ones and the closest; None when it is known."""
    if value in known:
        return None
    close = difflib.get_close_matches(value, [k for k in known if k != value], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{option}: unknown value {value!r}{hint}; one of {', '.join(known)}"


def _first_error(exc: ValidationError) -> str:
    """A pydantic error as one line, without its documentation URL."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


def _hours(value: str) -> str:
    try:
        first, last = parse_hours(value)
        if not 0 <= first < last <= 24:
            raise ValueError(f"hours {value!r}: need 0 <= FIRST < LAST <= 24")
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def simulate(
    agents: Annotated[int, typer.Option(min=1, help="Agents on shift.")] = 8,
    calls_per_day: Annotated[float, typer.Option(min=0, help="Calls offered per day.")] = 400.0,
    aht: Annotated[float, typer.Option(min=1, help="Average handling (talk) time, seconds.")] = 300.0,
    patience: Annotated[float, typer.Option(min=1, help="Callers' mean patience, seconds.")] = 180.0,
    hours: Annotated[str, typer.Option(callback=_hours, help="Opening hours, FIRST-LAST.")] = "9-21",
    days: Annotated[int, typer.Option(min=1, help="Days to simulate.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same run.")] = 1,
    strategy: Annotated[str, typer.Option(help="Distribution strategy of the queue.")] = "least_talked_today",
    service: Annotated[
        str, typer.Option(help="Handling times: exponential, lognormal, constant.")
    ] = "exponential",
    profile: Annotated[str, typer.Option(help="flat, or typical (morning peak, lunch dip).")] = "flat",
    wrapup: Annotated[float, typer.Option(min=0, help="Wrap-up after each call, seconds.")] = 10.0,
    breaks: Annotated[int, typer.Option(min=0, help="Breaks per agent per day.")] = 0,
    break_min: Annotated[float, typer.Option(min=0, help="Length of a break, minutes.")] = 15.0,
    sl_threshold: Annotated[
        float, typer.Option(min=0, help="Service level: answered within, seconds.")
    ] = 30.0,
    max_wait: Annotated[float | None, typer.Option(help="Overflow after this wait, seconds.")] = None,
    estimator: Annotated[
        str | None, typer.Option(help="Wait estimator of the queue (default: the core's).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    campaign: Annotated[bool, typer.Option("--campaign", help="Outbound campaign day instead (--aht is the "
                                           "talk time; docs/outbound.md).")] = False,
    dial_mode: Annotated[str, typer.Option(help="Campaign: all, preview, progressive, predictive.")] = "all",
    answer_rate: Annotated[float, typer.Option(help="Campaign: share of dialled calls answered.")] = 0.3,
    answer_delay: Annotated[float, typer.Option(help="Campaign: mean seconds from dial to answer.")] = 20.0,
    inbound_per_hour: Annotated[float, typer.Option(help="Campaign: inbound calls/hour for the same agents "
                                                    "(they have priority).")] = 0.0,
) -> None:
    """What service level and abandon rate would this staffing give? (traffic simulation, R26)"""
    if campaign:
        from acd.sim.campaign_cli import run_campaign_mode

        first, last = parse_hours(hours)
        raise typer.Exit(run_campaign_mode(
            agents=agents, hours=float(last - first) * days, talk_s=aht, wrapup_s=wrapup, seed=seed,
            dial_mode=dial_mode, answer_rate=answer_rate, answer_delay_s=answer_delay,
            inbound_per_hour=inbound_per_hour, drop_target=0.03, as_json=json))
    from acd.core.config import STRATEGY_NAMES
    from acd.core.prediction import ESTIMATORS

    bad = _one_of("--strategy", strategy, STRATEGY_NAMES) or (
        _one_of("--estimator", estimator, sorted(ESTIMATORS)) if estimator else None)
    if bad:
        print(f"acd simulate: {bad}", file=sys.stderr)
        raise typer.Exit(1)
    try:
        whatif = WhatIf(
            agents=agents,
            calls_per_day=calls_per_day,
            aht_s=aht,
            patience_s=patience,
            hours=parse_hours(hours),
            profile=profile,
            days=days,
            seed=seed,
            strategy=strategy,
            service=service,
            wrapup_s=wrapup,
            breaks=breaks,
            break_s=break_min * 60.0,
            sl_threshold_s=sl_threshold,
            max_wait_s=max_wait,
            estimator=estimator,
        )
        report = run(whatif)
    except ValidationError as exc:
        print(f"acd simulate: {_first_error(exc)}", file=sys.stderr)
        raise typer.Exit(1) from None
    except (ValueError, KeyError) as exc:
        print(f"acd simulate: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    doc = {"input": _input_dict(whatif), "erlang_c_service_level": _yardstick(whatif), **report.as_dict()}
    if json:
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_report(whatif, report, Console())


def _input_dict(w: WhatIf) -> dict[str, Any]:
    return {
        "agents": w.agents,
        "calls_per_day": w.calls_per_day,
        "aht_s": w.aht_s,
        "patience_s": w.patience_s,
        "hours": f"{w.hours[0]}-{w.hours[1]}",
        "profile": w.profile,
        "days": w.days,
        "seed": w.seed,
        "strategy": w.strategy,
        "service": w.service,
        "wrapup_s": w.wrapup_s,
        "breaks": w.breaks,
    }


def _yardstick(w: WhatIf) -> float:
    """Erlang C at the busiest hour, for comparison (no abandonment, no wrap-up, no breaks)."""
    peak = max(daily_profile(w).rates_per_hour.values(), default=0.0) / HOUR
    return round(erlang_c_service_level(w.agents, peak, w.aht_s, w.sl_threshold_s), 4)


def print_report(w: WhatIf, r: SimReport, console: Console) -> None:
    summary = Table(
        title=f"{w.agents} agents, {w.calls_per_day:g} calls/day, AHT {w.aht_s:g} s, {w.days} day(s)"
    )
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    rows = [
        ("offered", f"{r.offered}"),
        ("answered", f"{r.answered}"),
        ("abandoned (short)", f"{r.abandoned} ({r.short_abandons})"),
        ("overflowed", f"{r.overflowed}"),
        (f"service level ({r.sl_threshold_s:g} s)", f"{r.service_level:.1%}"),
        ("  Erlang C, busiest hour", f"{_yardstick(w):.1%}"),
        ("abandon rate", f"{r.abandon_rate:.1%}"),
        ("ASA", f"{r.asa_s:.1f} s"),
        ("max wait", f"{r.max_wait_s:.0f} s"),
        ("occupancy", f"{r.occupancy:.1%}"),
        ("talk spread across agents (cv)", f"{r.talk_spread_cv:.1%}"),
    ]
    for name, value in rows:
        summary.add_row(name, value)
    console.print(summary)
    acc = Table(title=f"wait prediction, {r.scored} callers who waited")
    for col in ("estimator", "RMSE s", "rel. RMSE", "MAE s", "bias s"):
        acc.add_column(col, justify="right" if col != "estimator" else "left")
    for name, a in r.estimators.items():
        acc.add_row(name, f"{a.rmse_s:.1f}", f"{a.relative_rmse:.2f}", f"{a.mae_s:.1f}", f"{a.bias_s:+.1f}")
    if r.scored:
        console.print(acc)
        cov = r.range_coverage
        console.print(
            f"the core's announced range (10-90 %) held {cov['inside']:.0%} of the waits "
            f"({cov['below_low']:.0%} shorter, {cov['above_high']:.0%} longer)"
        )
