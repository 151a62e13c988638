"""Wait-time prediction (R2): how long will this caller still wait?

Theory of operation. An estimator is a plain function of what the queue looks like now (``QueueView``) and
of what the queue has recently done (``QueueStatistics``); it returns the *remaining* wait of a caller who
has already waited ``elapsed_s`` (at entry, elapsed is 0 and the remaining wait is the total wait). The core
builds the view, this module does the arithmetic, nothing here reads a clock or does I/O.

The estimators (see docs/wait-prediction.md for the measurements that chose the default):

``app_queue``
    Asterisk's: an exponentially weighted mean of answered waits, ``(3*old + new)/4``, minus the time
    already waited. It ignores the position, which is why it is the baseline to beat.
``ql``
    Queue length: ``(n+1)/(s*mu)``. With all ``s`` servers busy, service completions come at rate
    ``s*mu``; the caller is served at the ``n+1``-th.
``qla``
    Queue length with abandonment (Whitt 1999): while ``i`` callers are ahead, the line moves at rate
    ``s*mu + i*theta`` (a completion, or someone ahead giving up), so the wait is the sum over
    ``i = 0..n`` of ``1/(s*mu + i*theta)``. Exact for the Erlang-A model (M/M/s+M) given the parameters.
``les``
    Last to enter service: the wait of the caller most recently connected; ``ql`` before there is one.
``hol``
    Head of line: the head of the queue has waited ``h`` to get where it is; a new caller behind ``n``
    others needs about ``h*(n+1)/n``.

The range (``low_s``, ``high_s``) is the 10 % and 90 % quantile of a gamma law whose shape is that of the
sum of exponentials above (mean^2/variance of the Erlang-A sum), scaled to the chosen estimator's mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ESTIMATORS",
    "Estimator",
    "QueueHistory",
    "QueueStatistics",
    "QueueView",
    "WaitEstimate",
    "announce_minutes",
    "estimate",
]


@dataclass(frozen=True)
class WaitEstimate:
    """A remaining wait in seconds, with a plausible range (10 % .. 90 % quantile).

    ``known`` is False while the queue's statistics have no basis yet (``QueueStatistics.known``): the
    figures are then the prior's guess, fine for a wallboard's ordering but never announced to a caller
    (``announce_minutes`` returns None and only the position is said)."""

    expected_s: float
    low_s: float
    high_s: float
    known: bool = True


@dataclass(frozen=True)
class QueueView:
    """What the core knows about one waiting caller's place in line, at the moment of the estimate."""

    ahead: int
    """Callers ahead of this one competing for the same agents (0 = next in line)."""
    servers: int
    """Agents able to take this call: logged in, eligible, not on break (busy ones count)."""
    elapsed_s: float
    """How long this caller has waited already (0 at entry)."""
    hol_elapsed_s: float
    """How long the caller at the head of the line has waited (this caller's own wait when ahead == 0)."""
    les_wait_s: float | None
    """Queue wait of the caller most recently connected to an agent after waiting (callers connected at once
    do not count: they would drag the estimate to 0); None if none yet."""


@dataclass(frozen=True)
class QueueHistory:
    """What a queue did over the last days, from the CDR (``cdr.history``), as plain numbers: where a
    queue's statistics start when the daemon starts, instead of the generic prior."""

    services: int
    """Conversations of the queue that ended (answered calls with a known talk time)."""
    service_s: float
    """Their total handling time, connected to hang-up (talk and hold), in seconds."""
    left: int
    """Callers who left the queue: connected, hung up, or sent elsewhere (overflow)."""
    waited_s: float
    """The total time those callers waited in the queue, in seconds."""
    abandons: int
    """Of them, the callers who hung up while waiting."""


class QueueStatistics:
    """Online, per-queue statistics that the estimators need, forgetting old history gradually.

    Each sum decays by a fixed factor per observation (an exponential window measured in calls, not in
    seconds), so a quiet night does not erase what a busy morning taught.

    Where they start (issue 11 §4: a 300 s prior worth 5 calls kept a new queue's announced waits 2-5x too
    long for minutes):
    - from the queue's own history when the CDR has one (``seed``, at daemon start), worth at most
      ``history_weight`` calls so that today's traffic takes over within a few hundred calls;
    - otherwise from a weak prior (300 s handling, 180 s patience) worth ``prior_weight`` call(s), whose
      handling-time weight halves (``prior_decay``) with every completed service: after 5 services it
      counts for 3 %. The patience prior is one abandonment per 180 s of waiting, a pseudo-count that
      fades as real waiting accumulates (abandonment needs far more data than handling time).
    ``known`` says whether there is a basis for announcing a wait at all: ``min_services`` completed
    services (live or from the history). Before that, the estimate is the prior's guess and is not spoken.
    """

    def __init__(
        self,
        *,
        prior_service_s: float = 300.0,
        prior_patience_s: float = 180.0,
        service_window: float = 1000.0,
        wait_window: float = 4000.0,
        prior_weight: float = 1.0,
        prior_decay: float = 0.5,
        min_services: int = 3,
        history_weight: float = 200.0,
    ) -> None:
        if prior_service_s <= 0 or prior_patience_s <= 0:
            raise ValueError("priors must be positive")
        if service_window < 1 or wait_window < 1:
            raise ValueError("windows must be >= 1 observation")
        if prior_weight <= 0 or not 0.0 <= prior_decay <= 1.0:
            raise ValueError("prior_weight must be > 0 and prior_decay within 0..1")
        self._service_decay = 1.0 - 1.0 / service_window
        self._wait_decay = 1.0 - 1.0 / wait_window
        self._prior_service_s = prior_service_s
        self._prior_patience_s = prior_patience_s
        self._prior_w = prior_weight
        """Weight of the handling-time prior, in calls; shrinks with every completed service."""
        self._prior_decay = prior_decay
        self._patience_w = prior_weight
        self._history_weight = history_weight
        self._min_services = min_services
        self._talk_sum = 0.0
        self._talk_n = 0.0
        self._abandons = 0.0
        self._waited_sum = 0.0
        self._ewma_wait = 0.0
        self.services = 0
        """Completed services known (live and from the history): the basis of ``known``."""
        self.last_update: float | None = None
        """Time of the most recent observation (for snapshots and staleness checks)."""

    def seed(self, history: QueueHistory) -> None:
        """Start from the queue's history (call before any live observation; the daemon does at start).

        The history counts as at most ``history_weight`` calls, so a queue whose handling time changed
        since shows it within a few hundred calls; a history without services leaves the prior in place.
        """
        if history.services > 0 and history.service_s > 0:
            k = min(1.0, self._history_weight / history.services)
            self._talk_sum = history.service_s * k
            self._talk_n = history.services * k
            self._prior_w = 0.0
            self.services = history.services
        if history.left > 0 and history.waited_s > 0:
            k = min(1.0, self._history_weight / history.left)
            self._waited_sum = history.waited_s * k
            self._abandons = history.abandons * k

    def service_completed(self, talk_s: float, now: float) -> None:
        """A conversation from this queue ended after ``talk_s`` seconds (handling time, without wrap-up)."""
        self._talk_sum = self._talk_sum * self._service_decay + max(0.0, talk_s)
        self._talk_n = self._talk_n * self._service_decay + 1.0
        self._prior_w *= self._prior_decay
        self.services += 1
        self.last_update = now

    def wait_ended(self, waited_s: float, abandoned: bool, now: float) -> None:
        """A caller left the queue: connected (``abandoned=False``) or hung up, after ``waited_s``.

        Call it for every caller that leaves the queue, including those connected at once (0 s): the
        abandonment rate is abandons per second of waiting by everybody, and app_queue's average counts
        every answered call.
        """
        waited = max(0.0, waited_s)
        self._waited_sum = self._waited_sum * self._wait_decay + waited
        self._abandons = self._abandons * self._wait_decay + (1.0 if abandoned else 0.0)
        if not abandoned:
            self._ewma_wait = (3.0 * self._ewma_wait + waited) / 4.0
        self.last_update = now

    @property
    def known(self) -> bool:
        """Enough completed services to say a wait: ``min_services``, live or from the history."""
        return self.services >= self._min_services

    @property
    def mean_service_s(self) -> float:
        return (self._talk_sum + self._prior_w * self._prior_service_s) / (self._talk_n + self._prior_w)

    @property
    def mu(self) -> float:
        """Service rate per agent (1/mean handling time), per second."""
        return 1.0 / max(self.mean_service_s, 1e-9)

    @property
    def theta(self) -> float:
        """Abandonment rate per waiting caller (1/mean patience), per second."""
        w = self._patience_w
        return (self._abandons + w) / max(self._waited_sum + w * self._prior_patience_s, 1e-9)

    @property
    def ewma_wait(self) -> float:
        """app_queue's ``holdtime``: (3*old + new)/4 over answered waits, starting at 0."""
        return self._ewma_wait


Estimator = Callable[[QueueView, QueueStatistics], float]


def _capacity(view: QueueView, stats: QueueStatistics) -> float:
    # With nobody able to serve, the honest answer is "unknown"; the core overflows such calls, and an
    # estimate as if one agent were there keeps every number finite for snapshots and announcements.
    return max(view.servers, 1) * stats.mu


def app_queue(view: QueueView, stats: QueueStatistics) -> float:
    return max(0.0, stats.ewma_wait - view.elapsed_s)


def ql(view: QueueView, stats: QueueStatistics) -> float:
    return (max(view.ahead, 0) + 1) / _capacity(view, stats)


_EXACT_TERMS = 64
"""Up to this many callers ahead the sums are added term by term; beyond, in closed form (O(1))."""


def _digamma(x: float) -> float:
    """psi(x) for x > 0: recurrence up to x >= 6, then the asymptotic series (error < 1e-12)."""
    acc = 0.0
    while x < 6.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    return acc + math.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240)))


def _trigamma(x: float) -> float:
    """psi'(x) for x > 0, the same way."""
    acc = 0.0
    while x < 6.0:
        acc += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    return acc + inv + 0.5 * inv2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))


def _qla_sums(view: QueueView, stats: QueueStatistics) -> tuple[float, float]:
    """sum and sum of squares of 1/(s*mu + i*theta) for i = 0..n: the mean and variance of the wait as a
    sum of exponential stages (Whitt 1999). O(1) for long queues, so a routing decision stays well under
    a millisecond with 10,000 callers waiting."""
    rate = _capacity(view, stats)
    theta = stats.theta
    n = max(view.ahead, 0)
    if n < _EXACT_TERMS or theta <= 0.0:
        if theta <= 0.0:
            return (n + 1) / rate, (n + 1) / (rate * rate)
        rates = [rate + i * theta for i in range(n + 1)]
        return sum(1.0 / r for r in rates), sum(1.0 / (r * r) for r in rates)
    x = rate / theta
    return ((_digamma(x + n + 1) - _digamma(x)) / theta,
            (_trigamma(x) - _trigamma(x + n + 1)) / (theta * theta))


def qla(view: QueueView, stats: QueueStatistics) -> float:
    return _qla_sums(view, stats)[0]


def les(view: QueueView, stats: QueueStatistics) -> float:
    if view.les_wait_s is None:
        return ql(view, stats)
    return max(0.0, view.les_wait_s - view.elapsed_s)


def hol(view: QueueView, stats: QueueStatistics) -> float:
    n = max(view.ahead, 0)
    if n == 0:
        return ql(view, stats)
    return max(0.0, view.hol_elapsed_s * (n + 1) / n - view.elapsed_s)


ESTIMATORS: dict[str, Estimator] = {
    "app_queue": app_queue,
    "ql": ql,
    "qla": qla,
    "les": les,
    "hol": hol,
}

DEFAULT_ESTIMATOR: str = "qla"

_Z90 = 1.2815515655446004
"""Standard normal 90 % quantile: the range is the central 80 %."""


def _gamma_quantile(shape: float, mean: float, z: float) -> float:
    """Wilson-Hilferty approximation of a gamma quantile; within a few % for shape >= 1."""
    c = 1.0 / (9.0 * shape)
    x = 1.0 - c + z * math.sqrt(c)
    return mean * max(x, 0.0) ** 3


def estimate(view: QueueView, stats: QueueStatistics, name: str = DEFAULT_ESTIMATOR) -> WaitEstimate:
    """The remaining wait of the caller described by ``view``, with a range; KeyError for unknown names."""
    expected = max(0.0, ESTIMATORS[name](view, stats))
    mean, var = _qla_sums(view, stats)
    shape = mean * mean / var if var > 0 else 1.0
    return WaitEstimate(
        expected_s=expected,
        low_s=_gamma_quantile(shape, expected, -_Z90),
        high_s=_gamma_quantile(shape, expected, _Z90),
        known=stats.known,
    )


def announce_minutes(est: WaitEstimate, *, min_s: float = 60.0) -> int | None:
    """Whole minutes to announce, rounded up; 0 for a wait under ``min_s``; None without a finite estimate
    or without a basis for one.

    0 is not "zero minutes": ``ivr.announcements.position_and_wait`` says "less than a minute" for it, as
    docs/prompts.md promises. Rounding a short wait up to "1 minute" would promise more than the estimate
    knows, and saying nothing would leave the caller without any idea of the wait. An estimate without a
    basis (``est.known`` False: a new queue before its first services) is never announced: None.
    """
    if not est.known or not math.isfinite(est.expected_s):
        return None
    if est.expected_s < min_s:
        return 0
    return math.ceil(est.expected_s / 60.0)
