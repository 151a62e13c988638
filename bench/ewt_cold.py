"""Spoken waits on a new queue (issue 11 §4): how wrong are the first announcements, before the queue's
statistics have learnt its handling time?

A new queue (5 agents, offered load 0.95, exponential handling and patience 180 s) whose real handling
time is 60 s or 900 s, against the generic 300 s prior. Every caller who has to wait hears an expected wait
at entry unless the statistics have no basis yet (``WaitEstimate.known``: then the position only). Scored
against the wait they had, or would have had (abandoners, as in ``acd.sim.fifo``):
- ``cold``: the announced waits of the first 50 callers of the queue, over ``runs`` independent new queues;
- ``warm``: the announced waits of callers 2,000 and later of long runs (statistics settled).
Goal: cold MAE <= 1.5 x warm MAE, for both handling times. ``before`` is the same with the statistics of
before the fix (prior worth 5 calls that never fades, every estimate announced): the +139 s of the issue.
``history``: the queue's statistics seeded from its CDR history (``QueueStatistics.seed``), as the daemon
does at start when the queue already took calls on earlier days.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acd.core.prediction import QueueHistory, QueueStatistics, QueueView, estimate
from bench.common import Goal, Section

SERVERS = 5
RHO = 0.95
PATIENCE_S = 180.0
FIRST = 50
WARM_FROM = 2000


@dataclass
class Scored:
    """Announced (estimate, actual) pairs by caller index, and how many waiting callers heard no wait."""

    pairs: list[tuple[int, float, float]]
    silent: list[int]


def simulate(service_s: float, callers: int, stats: QueueStatistics, rng: random.Random) -> Scored:
    """A FIFO queue with SERVERS agents from an empty start; each waiting caller is estimated at entry."""
    rate = RHO * SERVERS / service_s
    heap: list[tuple[float, int, int, int]] = []  # (time, seq, kind 0 arrival 1 end 2 abandon, caller)
    seq = 0

    def push(t: float, kind: int, who: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, who))

    arrival: list[float] = []
    served: list[bool] = []
    waiting: deque[int] = deque()
    gone: set[int] = set()
    n_waiting = busy = 0
    les: float | None = None
    shadows: list[tuple[int, float]] = []
    pending: dict[int, float] = {}
    talk_of: dict[int, float] = {}
    out = Scored([], [])

    def actual(cid: int, wait: float) -> None:
        est = pending.pop(cid, None)
        if est is not None:
            out.pairs.append((cid, est, wait))

    def resolve(now: float, before: int | None) -> None:
        cut = len(shadows) if before is None else bisect.bisect_left(shadows, (before, -1.0))
        for sid, arr in shadows[:cut]:
            actual(sid, now - arr)
        del shadows[:cut]

    def start(cid: int, now: float) -> None:
        nonlocal busy, les
        busy += 1
        served[cid] = True
        wait = now - arrival[cid]
        stats.wait_ended(wait, False, now)
        if wait > 0:
            les = wait
        actual(cid, wait)
        if shadows:
            resolve(now, cid)
        talk_of[cid] = rng.expovariate(1 / service_s)
        push(now + talk_of[cid], 1, cid)

    def take(now: float) -> bool:
        nonlocal n_waiting
        while waiting:
            cid = waiting.popleft()
            if cid in gone:
                gone.discard(cid)
                continue
            n_waiting -= 1
            start(cid, now)
            return True
        return False

    push(rng.expovariate(rate), 0, 0)
    while heap:
        now, _, kind, who = heapq.heappop(heap)
        if kind == 0:
            cid = len(arrival)
            arrival.append(now)
            served.append(False)
            if len(arrival) < callers:
                push(now + rng.expovariate(rate), 0, 0)
            if busy < SERVERS and n_waiting == 0:
                start(cid, now)
                continue
            while waiting and waiting[0] in gone:
                gone.discard(waiting.popleft())
            hol = now - arrival[waiting[0]] if waiting else 0.0
            est = estimate(QueueView(ahead=n_waiting, servers=SERVERS, elapsed_s=0.0, hol_elapsed_s=hol,
                                     les_wait_s=les), stats)
            if est.known:
                pending[cid] = est.expected_s
            else:
                out.silent.append(cid)
            waiting.append(cid)
            n_waiting += 1
            push(now + rng.expovariate(1 / PATIENCE_S), 2, cid)
        elif kind == 1:
            stats.service_completed(talk_of.pop(who), now)
            busy -= 1
            if not take(now) and shadows:
                resolve(now, None)
        elif not served[who]:
            gone.add(who)
            n_waiting -= 1
            stats.wait_ended(now - arrival[who], True, now)
            bisect.insort(shadows, (who, arrival[who]))
    return out


STATISTICS: dict[str, Callable[[float], QueueStatistics]] = {
    "before": lambda _: QueueStatistics(prior_weight=5.0, prior_decay=1.0, min_services=0),
    "now": lambda _: QueueStatistics(),
    "history": lambda service_s: _seeded(service_s),
}
"""How each variant's statistics start on the new queue (``service_s`` is the queue's real handling time)."""


def _seeded(service_s: float) -> QueueStatistics:
    """Statistics seeded from a week of this queue's CDR: 2,000 services near the true mean (a history is
    never exactly today's traffic: 10 % off), their waits and abandons."""
    stats = QueueStatistics()
    stats.seed(QueueHistory(services=2000, service_s=2000 * service_s * 1.1, left=2100,
                            waited_s=2100 * 20.0, abandons=100))
    return stats


def _mae(pairs: list[tuple[int, float, float]]) -> float:
    return sum(abs(e - a) for _, e, a in pairs) / len(pairs) if pairs else float("nan")


def _bias(pairs: list[tuple[int, float, float]]) -> float:
    return sum(e - a for _, e, a in pairs) / len(pairs) if pairs else float("nan")


def run(quick: bool) -> Section:
    runs = 100 if quick else 400
    warm_callers = 20_000 if quick else 100_000
    figures: dict[str, Any] = {"servers": SERVERS, "rho": RHO, "patience_s": PATIENCE_S,
                               "prior_service_s": 300.0, "first_callers": FIRST, "runs": runs,
                               "warm_from_caller": WARM_FROM}
    goals: list[Goal] = []
    for service_s in (60.0, 900.0):
        case: dict[str, Any] = {}
        warm = simulate(service_s, warm_callers, QueueStatistics(), random.Random(7))
        warm_pairs = [p for p in warm.pairs if p[0] >= WARM_FROM]
        warm_mae = _mae(warm_pairs)
        case["warm"] = {"mae_s": round(warm_mae, 2), "bias_s": round(_bias(warm_pairs), 2),
                        "scored": len(warm_pairs), "mean_wait_s": round(
                            sum(a for *_, a in warm_pairs) / len(warm_pairs), 2)}
        for variant, make in STATISTICS.items():
            pairs: list[tuple[int, float, float]] = []
            silent = waited = 0
            for r in range(runs):
                got = simulate(service_s, FIRST, make(service_s), random.Random(1000 + r))
                pairs += got.pairs
                silent += len(got.silent)
                waited += len(got.pairs) + len(got.silent)
            mae = _mae(pairs)
            case[variant] = {"mae_s": round(mae, 2), "bias_s": round(_bias(pairs), 2),
                             "announced": len(pairs), "position_only": silent, "waited": waited,
                             "ratio_mae_to_warm": round(mae / warm_mae, 3)}
            print(f"  handling {service_s:.0f} s, {variant:8s}: first {FIRST} callers MAE {mae:6.1f} s "
                  f"(bias {_bias(pairs):+6.1f} s; {len(pairs)} announced, {silent} position only) "
                  f"= {mae / warm_mae:.2f} x warm MAE {warm_mae:.1f} s")
        figures[f"service_{service_s:.0f}s"] = case
        goals.append(Goal(f"service_{service_s:.0f}s.ratio_mae_cold_to_warm",
                          case["now"]["ratio_mae_to_warm"], 1.5))
    return Section(figures, goals)


if __name__ == "__main__":
    import sys

    import orjson

    print(orjson.dumps(run(quick="--quick" in sys.argv).as_dict(), option=orjson.OPT_INDENT_2).decode())
