"""``acd simulate --campaign``: the dialing modes side by side on the same simulated day.

Kept apart from ``acd/sim/cli.py`` (the inbound what-if) so that each stays small; ``simulate`` hands over
here when ``--campaign`` is given.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from acd.sim.campaign import CalledParties, CampaignReport, CampaignSim, compare_modes
from outbound.pacing import Mode

MODES: tuple[Mode, ...] = ("preview", "progressive", "predictive")


def run_campaign_mode(*, agents: int, hours: float, talk_s: float, wrapup_s: float, seed: int,
                      dial_mode: str, answer_rate: float, answer_delay_s: float, inbound_per_hour: float,
                      drop_target: float, as_json: bool) -> int:
    """Run, print; returns the exit code (1 for an impossible input, with the reason on stderr)."""
    modes = MODES if dial_mode == "all" else tuple(m for m in MODES if m == dial_mode)
    if not modes:
        print(f"acd simulate: --dial-mode {dial_mode!r}: give all, {', '.join(MODES)}", file=sys.stderr)
        return 1
    try:
        sim = CampaignSim(agents=agents, hours=hours, wrapup_s=wrapup_s, seed=seed,
                          inbound_per_hour=inbound_per_hour, drop_rate_target=drop_target,
                          ring_timeout_s=max(30.0, answer_delay_s * 1.5),
                          parties=CalledParties(answer_rate=answer_rate, answer_delay_s=answer_delay_s,
                                                talk_s=talk_s))
    except ValueError as exc:
        print(f"acd simulate: {exc}", file=sys.stderr)
        return 1
    reports = compare_modes(sim, modes)
    if as_json:
        inputs = {"agents": agents, "hours": hours, "talk_s": talk_s, "wrapup_s": wrapup_s,
                  "answer_rate": answer_rate, "answer_delay_s": answer_delay_s,
                  "inbound_per_hour": inbound_per_hour, "drop_rate_target": drop_target, "seed": seed}
        doc: dict[str, Any] = {"input": inputs, "modes": {m: r.as_dict() for m, r in reports.items()}}
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_campaign(sim, reports, Console())
    return 0


def print_campaign(sim: CampaignSim, reports: dict[str, CampaignReport], console: Console) -> None:
    p = sim.parties
    table = Table(title=f"campaign day: {sim.agents} agents, {sim.hours:g} h, "
                        f"answer rate {p.answer_rate:.0%}, answer delay {p.answer_delay_s:g} s, "
                        f"talk {p.talk_s:g} s + {sim.wrapup_s:g} s wrap-up")
    table.add_column("figure")
    for mode in reports:
        table.add_column(mode, justify="right")
    rows: list[tuple[str, Any]] = [
        ("agent occupancy", lambda r: f"{r.occupancy:.1%}"),
        ("contacts per hour", lambda r: f"{r.contacts_per_hour:.1f}"),
        ("productive contacts per hour", lambda r: f"{r.productive_per_hour:.1f}"),
        ("drop rate (dropped / answered)", lambda r: f"{r.drop_rate:.2%}"),
        ("calls dialled", lambda r: f"{r.dialled}"),
        ("answered / dropped", lambda r: f"{r.answered} / {r.dropped}"),
        ("lines ringing, mean / max", lambda r: f"{r.mean_lines:.1f} / {r.max_lines}"),
    ]
    if sim.inbound_per_hour:
        rows.append(("inbound calls, mean wait",
                     lambda r: f"{r.inbound_offered}, {r.inbound_mean_wait_s:.0f} s"))
    for name, fmt in rows:
        table.add_row(name, *(fmt(r) for r in reports.values()))
    console.print(table)
