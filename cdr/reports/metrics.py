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


def _avg(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def offered_calls(rows: Iterable[CallRow]) -> list[CallRow]:
    return [r for r in rows if r.direction == "inbound" and r.queued_at is not None]


def queue_figures(rows: Sequence[CallRow], threshold_s: float, variant: str = "offered") -> dict[str, Any]:
    """Figures over ``rows`` (already the offered calls)."""
    answered = [r for r in rows if r.outcome == "answered"]
    lost = [r for r in rows if r.outcome in LOST]
    short = [r for r in rows if r.outcome == "short_abandoned"]
    redirected = [r for r in rows if r.outcome in REDIRECTED]
    aw = [r.wait_s or 0.0 for r in answered]
    lw = [r.wait_s or 0.0 for r in lost]
    within = sum(1 for w in aw if w <= threshold_s)
    denominators = {
        "offered": len(rows),
        "offered_no_short": len(rows) - len(short),
        "answered_and_lost": len(answered) + len(lost),
        "answered": len(answered),
    }
    return {
        "offered": len(rows),
        "answered": len(answered),
        "answered_late": sum(1 for w in aw if w > threshold_s),
        "transferred": len(redirected),
        "lost": len(lost),
        "lost_late": sum(1 for w in lw if w > threshold_s),
        "lost_short": len(short),
        "lost_pct": _pct(len(lost), len(rows)),
        "avg_wait_lost_s": _avg(lw),
        "avg_wait_answered_s": _avg(aw),
        "avg_talk_s": _avg([r.talk_s or 0.0 for r in answered]),
        "avg_wrapup_s": _avg([r.wrapup_s or 0.0 for r in answered]),
        "avg_handling_s": _avg([(r.talk_s or 0.0) + (r.hold_s or 0.0) + (r.wrapup_s or 0.0)
                                for r in answered]),
        "sl_pct": _pct(within, denominators[variant]),
        "max_wait_answered_s": round(max(aw), 1) if aw else None,
        "max_wait_lost_s": round(max(lw), 1) if lw else None,
        "in_progress": sum(1 for r in rows if r.outcome is None),
    }
