"""The queue figures of the tender's daily form (R17), for any group of calls: one day, or the total.

Definitions (docs/reports.md has the user's version), T = the service-level threshold:
- offered: inbound calls that entered a queue;
- answered: of those, connected to an operator; answered late: with queue wait > T;
- lost: abandoned in the queue (short ones included); lost late: wait > T; short: short abandons;
- transferred: left the queue for another destination without an operator (overflow, voicemail, transfer);
- so offered = answered + lost + transferred + in progress;
- service level: answered with wait <= T over the variant's denominator.

The counts and sums are made in SQL (``cdr.reports.aggregate``); this module turns them into figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdr.reports.aggregate import QueueTotals

LOST = ("abandoned", "short_abandoned")
REDIRECTED = ("overflowed", "transferred", "voicemail")


def _div(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def queue_figures(t: QueueTotals, threshold_s: float, variant: str = "offered") -> dict[str, Any]:
    """The daily form's figures of ``t`` (summed by ``cdr.reports.aggregate``) at threshold ``threshold_s``
    (which must be one of the thresholds ``t.within`` was counted for)."""
    within = t.within[threshold_s]
    n = t.offered
    denominators = {"offered": n, "offered_no_short": n - t.short, "answered_and_lost": t.answered + t.lost,
                    "answered": t.answered}
    return {
        "offered": n,
        "answered": t.answered,
        "answered_late": t.answered - within,
        "transferred": t.redirected,
        "lost": t.lost,
        "lost_late": t.lost_late,
        "lost_short": t.short,
        "lost_pct": _pct(t.lost, n),
        "avg_wait_lost_s": _div(t.sum_wait_lost, t.lost),
        "avg_wait_answered_s": _div(t.sum_wait_answered, t.answered),
        "avg_talk_s": _div(t.sum_talk, t.answered),
        "avg_wrapup_s": _div(t.sum_wrapup, t.answered),
        "avg_handling_s": _div(t.sum_handling, t.answered),
        "sl_pct": _pct(within, denominators[variant]),
        "max_wait_answered_s": None if t.max_wait_answered is None else round(t.max_wait_answered, 1),
        "max_wait_lost_s": None if t.max_wait_lost is None else round(t.max_wait_lost, 1),
        "in_progress": t.open,
    }
