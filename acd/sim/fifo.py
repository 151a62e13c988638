"""A minimal one-queue, s-agent FIFO model (Erlang-A when times are exponential) to score the estimators.

Why a model of its own: judging wait prediction needs hundreds of thousands of callers, and the question
is the estimators', not the distributor's. With one FIFO queue and interchangeable agents, the full ACD
core would make exactly these decisions, only slower.

What the estimates are scored against. A caller who is connected waited what they waited. A caller who
hung up has a *would-have-been* wait: the time until they would have reached an agent had they stayed,
everybody else behaving as they did. They stay in line invisibly (a "shadow"): they are served at the
first moment an agent takes a caller who arrived after them, or an agent falls idle, whichever comes
first. Each shadow is judged on its own, so two shadows may be "served" by the same agent: that is what
"the others behaving as they did" means, and it is also what Whitt's QLA formula predicts (the tagged
caller waits for the callers ahead, some of whom give up; the tagged caller does not).

Every caller who had to wait (all agents busy on arrival) is scored at entry, against that wait.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from acd.core.prediction import ESTIMATORS, Estimator, QueueStatistics, QueueView, estimate
from acd.sim.scoring import Accuracy, Scorer
from acd.sim.traffic import DAY, HOUR, DailyProfile, Sampler, arrivals, exponential, stationary_arrivals

Predictor = Callable[[QueueView], float]

_ARRIVAL, _DEPART, _ABANDON, _STAFF = 0, 1, 2, 3


@dataclass(frozen=True)
class FifoScenario:
    """One queue's traffic: arrivals, staffing over time, handling and patience distributions."""

    name: str
    arrivals: Callable[[random.Random], Iterable[float]]
    """Arrival instants in increasing order, drawn from the given generator."""
    staffing: Sequence[tuple[float, int]]
    """(from time, agents) steps, first at time <= the first arrival; agents leave after their call."""
    service: Sampler
    patience: Sampler
    mean_service_s: float
    """The true parameters, for the oracle estimators (``*_true``)."""
    mean_patience_s: float


@dataclass
class FifoResult:
    scenario: str
    arrivals: int = 0
    answered: int = 0
    abandoned: int = 0
    waited: int = 0
    """Callers who found every agent busy (the scored ones)."""
    mean_wait_s: float = 0.0
    """Mean wait (or would-have-been wait) of the scored callers."""
    accuracy: dict[str, Accuracy] = field(default_factory=dict)
    range_coverage: dict[str, float] = field(default_factory=dict)
    """Of the default estimator's (low, high) range: fractions of actual waits below, inside, above."""

    def as_dict(self) -> dict[str, object]:
        return {
            "arrivals": self.arrivals,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "scored": self.waited,
            "mean_wait_s": round(self.mean_wait_s, 3),
            "estimators": {k: v.as_dict() for k, v in self.accuracy.items()},
            "range_coverage": self.range_coverage,
        }


def standard_predictors(
    scenario: FifoScenario, online: QueueStatistics, *, oracle: bool = True
) -> dict[str, Predictor]:
    """The five estimators on the online statistics, plus ``ql_true``/``qla_true`` given the true rates."""
    out = {name: bind(fn, online) for name, fn in ESTIMATORS.items()}
    if oracle:
        truth = QueueStatistics(
            prior_service_s=scenario.mean_service_s, prior_patience_s=scenario.mean_patience_s
        )
        out["ql_true"] = bind(ESTIMATORS["ql"], truth)
        out["qla_true"] = bind(ESTIMATORS["qla"], truth)
    return out


def bind(fn: Estimator, stats: QueueStatistics) -> Predictor:
    """An estimator tied to one set of statistics (the online ones, or the true rates for an oracle)."""
    return lambda view: fn(view, stats)


def run_fifo(
    scenario: FifoScenario,
    seed: int,
    *,
    stats: QueueStatistics | None = None,
    predictors: Callable[[QueueStatistics], dict[str, Predictor]] | None = None,
) -> FifoResult:
    """Simulate the scenario once and score every predictor on every caller who had to wait."""
    rng = random.Random(seed)
    online = stats if stats is not None else QueueStatistics()
    preds = predictors(online) if predictors else standard_predictors(scenario, online)
    names = tuple(preds)
    fns = tuple(preds.values())
    scorer = Scorer(names)
    result = FifoResult(scenario.name)

    arrival_times: list[float] = []
    served: list[bool] = []  # per caller: connected to an agent (then its patience event is void)
    waiting: deque[int] = deque()  # caller ids in arrival order, lazily cleaned of abandoners
    gone: set[int] = set()  # abandoned but maybe still in ``waiting``
    n_waiting = 0
    shadows: list[tuple[int, float]] = []  # (caller id, arrival) of abandoners, sorted by id
    busy = 0
    servers = 0
    les_wait: float | None = None
    talk_of: dict[int, float] = {}

    heap: list[tuple[float, int, int, int]] = []  # (time, seq, kind, caller id)
    seq = 0

    def push(t: float, kind: int, who: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, who))

    staffing = sorted(scenario.staffing)
    for t, s in staffing:
        push(t, _STAFF, s)
    arrivals = iter(scenario.arrivals(rng))
    first = next(arrivals, None)
    if first is not None:
        push(first, _ARRIVAL, 0)

    def resolve_shadows(now: float, before_id: int | None) -> None:
        """Shadows ahead of the caller now taken (or all, when an agent goes idle) would be served now."""
        cut = len(shadows) if before_id is None else bisect.bisect_left(shadows, (before_id, -1.0))
        for sid, arr in shadows[:cut]:
            scorer.actual(sid, now - arr)
        del shadows[:cut]

    def start_service(cid: int, now: float) -> None:
        nonlocal busy, les_wait
        busy += 1
        served[cid] = True
        wait = now - arrival_times[cid]
        online.wait_ended(wait, False, now)
        if wait > 0:
            les_wait = wait
        result.answered += 1
        scorer.actual(cid, wait)
        if shadows:
            resolve_shadows(now, cid)
        talk = scenario.service(rng)
        talk_of[cid] = talk
        push(now + talk, _DEPART, cid)

    def take_next(now: float) -> bool:
        nonlocal n_waiting
        while waiting:
            cid = waiting.popleft()
            if cid in gone:
                gone.discard(cid)
                continue
            n_waiting -= 1
            start_service(cid, now)
            return True
        return False

    while heap:
        now, _, kind, who = heapq.heappop(heap)
        if kind == _ARRIVAL:
            cid = len(arrival_times)
            arrival_times.append(now)
            served.append(False)
            result.arrivals += 1
            nxt = next(arrivals, None)
            if nxt is not None:
                push(nxt, _ARRIVAL, 0)
            if busy < servers and n_waiting == 0:
                start_service(cid, now)
                continue
            while waiting and waiting[0] in gone:
                gone.discard(waiting.popleft())
            hol = now - arrival_times[waiting[0]] if waiting else 0.0
            view = QueueView(
                ahead=n_waiting, servers=servers, elapsed_s=0.0, hol_elapsed_s=hol, les_wait_s=les_wait
            )
            band = estimate(view, online)
            scorer.predicted(cid, tuple(f(view) for f in fns), (band.low_s, band.high_s))
            result.waited += 1
            waiting.append(cid)
            n_waiting += 1
            push(now + scenario.patience(rng), _ABANDON, cid)
        elif kind == _DEPART:
            online.service_completed(talk_of.pop(who), now)
            busy -= 1
            if busy >= servers:
                continue  # this agent's shift is over
            if not take_next(now) and shadows:
                resolve_shadows(now, None)
        elif kind == _ABANDON:
            if served[who]:
                continue
            gone.add(who)
            n_waiting -= 1
            result.abandoned += 1
            online.wait_ended(now - arrival_times[who], True, now)
            bisect.insort(shadows, (who, arrival_times[who]))
        else:  # staffing change
            servers = who
            while busy < servers and take_next(now):
                pass
            if busy < servers and shadows:
                resolve_shadows(now, None)

    result.accuracy = scorer.results()
    result.mean_wait_s = scorer.mean_actual
    result.range_coverage = scorer.band_coverage()
    return result


def stationary_scenario(
    servers: int,
    rho: float,
    arrivals: int,
    *,
    mean_service_s: float = 300.0,
    mean_patience_s: float = 180.0,
) -> FifoScenario:
    """Erlang-A: Poisson arrivals at offered load ``rho * servers``, exponential service and patience."""
    rate = rho * servers / mean_service_s
    return FifoScenario(
        name=f"s{servers}_rho{rho:g}",
        arrivals=lambda rng: stationary_arrivals(rate, rng, arrivals),
        staffing=[(0.0, servers)],
        service=exponential(mean_service_s),
        patience=exponential(mean_patience_s),
        mean_service_s=mean_service_s,
        mean_patience_s=mean_patience_s,
    )


def time_varying_scenario(
    days: int,
    calls_per_day: float = 3000.0,
    *,
    mean_service_s: float = 300.0,
    mean_patience_s: float = 180.0,
    block_h: int = 2,
) -> FifoScenario:
    """A working day repeated ``days`` times: the typical hourly profile (morning peak, lunch dip), staffed
    in ``block_h``-hour shifts sized to each block's mean load, so some hours are over- and some under-staffed
    (as in real rosters). After the last arrival hour the evening shift stays one hour to clear the queue."""
    profile = DailyProfile.shaped(calls_per_day)
    hours = sorted(profile.rates_per_hour)
    first, last = hours[0], hours[-1] + 1
    staffing: list[tuple[float, int]] = []
    for day in range(days):
        base = day * DAY
        for block_start in range(first, last, block_h):
            block = [profile.rates_per_hour.get(h, 0.0) for h in range(block_start, block_start + block_h)]
            load = sum(block) / len(block) * mean_service_s / HOUR
            staffing.append((base + block_start * HOUR, max(1, round(load))))
        staffing.append((base + (last + 1) * HOUR, 0))
    return FifoScenario(
        name=f"time_varying_{days}d",
        arrivals=lambda rng: arrivals(profile, rng, days=days),
        staffing=staffing,
        service=exponential(mean_service_s),
        patience=exponential(mean_patience_s),
        mean_service_s=mean_service_s,
        mean_patience_s=mean_patience_s,
    )
