"""The queue figures of the tender's daily form (R17), for any group of calls: one day, or the total.

Definitions (docs/reports.md has the user's version), T = the service-level threshold:
- offered: inbound calls that entered a queue;
- answered: of those, connected to an operator; answered late: with queue wait > T;
- lost: abandoned in the queue (short ones included); lost late: wait > T; short: short abandons;
- transferred: left the queue for another destination without an operator (overflow, voicemail, transfer);
- so offered = answered + lost + transferred + in progress;
- service level: answered with wait <= T over the variant's denominator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cdr.reports.data import CallRow

LOST = ("abandoned", "short_abandoned")
REDIRECTED = ("overflowed", "transferred", "voicemail")


def _div(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def offered_calls(rows: Iterable[CallRow]) -> list[CallRow]:
    return [r for r in rows if r.queued and r.direction == "inbound"]


def queue_figures(rows: Sequence[CallRow], threshold_s: float, variant: str = "offered") -> dict[str, Any]:
    """Figures over ``rows`` (already the offered calls), in one pass."""
    n_ans = n_ans_late = within = n_lost = n_lost_late = n_short = n_redir = n_open = 0
    sum_aw = sum_lw = sum_talk = sum_wrap = sum_handle = 0.0
    max_aw: float | None = None
    max_lw: float | None = None
    for r in rows:
        o = r.outcome
        if o == "answered":
            w = r.wait_s or 0.0
            n_ans += 1
            sum_aw += w
            if w > threshold_s:
                n_ans_late += 1
            else:
                within += 1
            if max_aw is None or w > max_aw:
                max_aw = w
            talk, hold, wrap = r.talk_s or 0.0, r.hold_s or 0.0, r.wrapup_s or 0.0
            sum_talk += talk
            sum_wrap += wrap
            sum_handle += talk + hold + wrap
        elif o in LOST:
            w = r.wait_s or 0.0
            n_lost += 1
            sum_lw += w
            if w > threshold_s:
                n_lost_late += 1
            if o == "short_abandoned":
                n_short += 1
            if max_lw is None or w > max_lw:
                max_lw = w
        elif o in REDIRECTED:
            n_redir += 1
        elif o is None:
            n_open += 1
    n = len(rows)
    denominators = {"offered": n, "offered_no_short": n - n_short, "answered_and_lost": n_ans + n_lost,
                    "answered": n_ans}
    return {
        "offered": n,
        "answered": n_ans,
        "answered_late": n_ans_late,
        "transferred": n_redir,
        "lost": n_lost,
        "lost_late": n_lost_late,
        "lost_short": n_short,
        "lost_pct": _pct(n_lost, n),
        "avg_wait_lost_s": _div(sum_lw, n_lost),
        "avg_wait_answered_s": _div(sum_aw, n_ans),
        "avg_talk_s": _div(sum_talk, n_ans),
        "avg_wrapup_s": _div(sum_wrap, n_ans),
        "avg_handling_s": _div(sum_handle, n_ans),
        "sl_pct": _pct(within, denominators[variant]),
        "max_wait_answered_s": None if max_aw is None else round(max_aw, 1),
        "max_wait_lost_s": None if max_lw is None else round(max_lw, 1),
        "in_progress": n_open,
    }
