"""How many campaign calls to place now: preview, progressive and predictive pacing, as pure code.

No I/O, no asyncio, no clock of its own (the style of ``acd/core``): the owner (the daemon's dialer, or the
simulator on virtual time) reports what happened with ``on_result`` and ``on_handled`` and asks
``decide(now, snapshot)`` after every change and on a steady tick; the answer is a :class:`Decision`.

The three modes
- **preview**: nothing is dialled by the pacer; every free agent (not needed for inbound callers) is
  offered the next contact, reads it and dials. No call can be dropped.
- **progressive**: one line per free agent. Each ringing line keeps an agent reserved, so no call can be
  dropped either; the agent waits through every unanswered ring.
- **predictive**: more lines than free agents. From the measured answer rate ``p``, the answer delay ``D``
  (dial to answer) and the handling times, the pacer counts the agents it expects to be free when calls
  placed now are answered: the free ones plus, for each busy agent, the chance that a call already ``e``
  seconds long ends within ``D`` (from the recent handling times: P(H <= e + D | H > e)). Answers among
  ``L`` lines are Binomial(L, p); ``L`` is the largest number whose expected answers with no free agent,
  E[(answers - free)^+], stay under ``allowed`` times the expected answers (a normal approximation, so the
  decision costs microseconds). ``allowed`` starts at the campaign's target (default 3 %) and adapts like
  VICIdial's adaptive modes: while the campaign's drop rate is below the target, the unused budget of
  drops lets the pacer take more risk; above it, less. The drop rate that counts is over the campaign
  (answered calls that heard the drop message / answered calls). The allowance moves by its own size
  for every fifth of the drop budget the campaign is under (or over) its aim, between 5 % and 200 % of it.

Hard limits in every mode: lines <= ``max_lines_per_agent`` x the agents expected free, lines <= the trunk's
free channels, and inbound callers waiting for the same agents take those agents first (inbound priority:
each waiting inbound caller removes one agent from what the campaign may count on).

Until ``warmup_attempts`` calls have ended, predictive behaves as progressive: there is nothing measured
to predict from, and a start with a guessed answer rate is how dialers blow their drop budget.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["preview", "progressive", "predictive"]
Result = Literal["answered", "no_answer", "busy", "congestion", "unreachable", "dropped"]


@dataclass(frozen=True)
class PacingSettings:
    mode: Mode = "progressive"
    drop_rate_target: float = 0.03
    max_lines_per_agent: float = 3.0
    trunk_channels: int = 30
    warmup_attempts: int = 30
    """Predictive dials as progressive until this many attempts have ended."""
    aim: float = 0.8
    """Predictive aims at this fraction of the target, the margin for chance over a campaign."""
    history: int = 400
    drop_after_s: float = 2.0
    """An answered call waits this long for an agent before it is dropped: an agent free by then counts."""
    """Attempts, answer delays and handling times remembered for the estimates (a sliding window)."""


@dataclass(frozen=True)
class Snapshot:
    """The campaign's state at ``now``, as the dialer sees it."""

    ready_agents: int
    """Agents of the campaign logged in and free (not on a call, not in wrap-up, not paused)."""
    busy_since: tuple[float, ...] = ()
    """For each agent of the campaign on a call or in wrap-up: when that call was connected (epoch s)."""
    lines_ringing: int = 0
    """Campaign calls dialled and not yet answered or failed."""
    ringing_since: tuple[float, ...] = ()
    """When each ringing line was dialled (epoch s), if known: a line that has rung long is less likely
    to be answered than a fresh one. Empty: every ringing line counts with the plain answer rate."""
    answered_waiting: int = 0
    """Answered campaign calls waiting for a free agent (briefly, before they count as dropped)."""
    inbound_waiting: int = 0
    """Inbound callers waiting in queues these agents serve: they get the agents first."""
    trunk_in_use: int = 0
    """Channels of the trunk busy with other traffic (inbound calls, other campaigns)."""
    inbound_rate_per_s: float = 0.0
    """Inbound callers expected per second for these agents (the queues' recent arrival rate): callers
    arriving while campaign calls ring will take agents first, so predictive counts on fewer."""


@dataclass(frozen=True)
class Decision:
    dial: int
    """New campaign calls to place now (progressive, predictive)."""
    previews: int
    """Agents to offer a contact to now (preview mode)."""
    target_lines: int
    """Lines the pacer wants ringing in all (after this decision)."""
    expected_free: float
    """Agents it expects free when calls placed now are answered (after inbound's share)."""
    allowed_drop: float
    """Predictive: drop risk allowed for this decision (adapted from the campaign's drop rate)."""
    reason: str


@dataclass
class PacerStats:
    dialled: int = 0
    answered: int = 0
    dropped: int = 0
    handled: int = 0

    @property
    def drop_rate(self) -> float:
        """Dropped / answered (a dropped call was answered by the called party) over the campaign."""
        return self.dropped / self.answered if self.answered else 0.0


@dataclass
class Pacer:
    """The pacing state of one campaign. Feed it results; ask it for decisions."""

    settings: PacingSettings
    stats: PacerStats = field(default_factory=PacerStats)
    _results: deque[bool] = field(default_factory=deque)
    _rings: deque[tuple[float, bool]] = field(default_factory=deque)
    _sorted_rings: tuple[list[float], list[float]] | None = None
    _delays: deque[float] = field(default_factory=deque)
    _handles: deque[float] = field(default_factory=deque)
    _sorted_handles: list[float] | None = None

    # -- what happened -------------------------------------------------------------------------------
    def on_result(self, now: float, result: Result, ring_s: float) -> None:
        """An attempt ended ringing at ``now``: answered (after ``ring_s``), dropped (answered, no agent
        came), or failed (no_answer, busy, congestion, unreachable)."""
        answered = result in ("answered", "dropped")
        self.stats.dialled += 1
        self.stats.answered += answered
        self.stats.dropped += result == "dropped"
        self._push(self._results, answered)
        self._rings.append((max(0.0, ring_s), answered))
        if len(self._rings) > self.settings.history:
            self._rings.popleft()
        self._sorted_rings = None
        if answered:
            self._push(self._delays, max(0.0, ring_s))

    def on_handled(self, now: float, handle_s: float) -> None:
        """A campaign call's agent is free again after ``handle_s`` (talk + wrap-up)."""
        self.stats.handled += 1
        self._push(self._handles, max(0.0, handle_s))
        self._sorted_handles = None

    def _push(self, q: deque[float] | deque[bool], value: float | bool) -> None:
        q.append(value)  # type: ignore[arg-type]
        if len(q) > self.settings.history:
            q.popleft()

    # -- estimates ------------------------------------------------------------------------------------
    @property
    def answer_rate(self) -> float:
        """Answered / ended attempts over the window, pulled towards 1/2 while few are known (a cautious
        prior: a high answer rate means fewer lines)."""
        n = len(self._results)
        return (sum(self._results) + 5) / (n + 10)

    @property
    def answer_delay_s(self) -> float:
        return sum(self._delays) / len(self._delays) if self._delays else 15.0

    @property
    def handle_s(self) -> float:
        return sum(self._handles) / len(self._handles) if self._handles else 180.0

    def free_within(self, elapsed: float, horizon: float) -> float:
        """P(a call already ``elapsed`` s long ends within ``horizon`` more), from recent handling times;
        memoryless (exponential) while fewer than 10 of them are longer than ``elapsed``."""
        if self._sorted_handles is None:
            self._sorted_handles = sorted(self._handles)
        hs = self._sorted_handles
        longer = len(hs) - bisect.bisect_right(hs, elapsed)
        if longer < 10:
            return 1.0 - math.exp(-horizon / max(self.handle_s, 1.0))
        within = bisect.bisect_right(hs, elapsed + horizon) - bisect.bisect_right(hs, elapsed)
        return within / longer

    def answer_after(self, age: float) -> float:
        """P(a line still ringing after ``age`` s will be answered), from recent attempts (their ring time
        and whether they were answered); the plain answer rate while fewer than 20 rang that long."""
        if self._sorted_rings is None:
            self._sorted_rings = (sorted(r for r, _ in self._rings), sorted(r for r, a in self._rings if a))
        all_rings, answered_rings = self._sorted_rings
        longer = len(all_rings) - bisect.bisect_right(all_rings, age)
        if longer < 20:
            return self.answer_rate
        return (len(answered_rings) - bisect.bisect_right(answered_rings, age)) / longer

    def allowed_drop(self) -> float:
        """Per-decision drop risk: the aim, plus the unused part of the campaign's drop budget."""
        s = self.settings
        aim = s.aim * s.drop_rate_target
        budget = aim * self.stats.answered
        slack = budget - self.stats.dropped  # drops we could still afford
        scale = max(2.0, 0.2 * budget)  # a fifth of the budget over or under moves the risk by its size
        factor = min(2.0, max(0.05, 1.0 + slack / scale))
        return aim * factor

    # -- decisions ------------------------------------------------------------------------------------
    def decide(self, now: float, snap: Snapshot) -> Decision:
        s = self.settings
        ready = max(0, snap.ready_agents - snap.inbound_waiting)
        inbound_left = max(0, snap.inbound_waiting - snap.ready_agents)
        trunk_free = max(0, s.trunk_channels - snap.trunk_in_use - snap.lines_ringing - snap.answered_waiting)
        if s.mode == "preview":
            n = max(0, min(ready, trunk_free))
            return Decision(0, n, snap.lines_ringing, float(ready), 0.0,
                            "preview: offer a contact to each free agent")
        reserved = snap.lines_ringing + snap.answered_waiting
        if s.mode == "progressive" or self.stats.dialled < s.warmup_attempts:
            want = ready
            dial = max(0, min(want - reserved, trunk_free))
            why = "progressive" if s.mode == "progressive" else "predictive warm-up (as progressive)"
            return Decision(dial, 0, reserved + dial, float(ready), 0.0, f"{why}: a line per free agent")

        p = min(max(self.answer_rate, 0.01), 1.0)
        horizon = self.answer_delay_s + s.drop_after_s
        qs = [self.free_within(max(0.0, now - since), horizon) for since in snap.busy_since]
        soon_mean, soon_var = sum(qs), sum(q * (1 - q) for q in qs)
        # inbound callers beyond the free agents take the agents that free up first
        soon_mean = max(0.0, soon_mean - inbound_left)
        arriving = snap.inbound_rate_per_s * horizon  # Poisson: mean = variance
        free_mean = ready + soon_mean - snap.answered_waiting - arriving
        soon_var += arriving
        allowed = self.allowed_drop()
        ceiling = int(s.max_lines_per_agent * max(0.0, ready + soon_mean))
        if free_mean <= 0:
            return Decision(0, 0, reserved, free_mean, allowed, "predictive: no agent expected free")
        if snap.ringing_since:
            rs = [self.answer_after(max(0.0, now - t)) for t in snap.ringing_since]
            ring_mean, ring_var = sum(rs), sum(r * (1 - r) for r in rs)
        else:
            ring_mean, ring_var = snap.lines_ringing * p, snap.lines_ringing * p * (1 - p)
        lo, hi = 0, max(0, ceiling - snap.lines_ringing)
        while lo < hi:  # the most new lines whose drop risk is within the allowance (risk grows with lines)
            mid = (lo + hi + 1) // 2
            if _drop_ratio(ring_mean + mid * p, ring_var + mid * p * (1 - p), free_mean, soon_var) <= allowed:
                lo = mid
            else:
                hi = mid - 1
        floor = max(0, min(ready, ceiling) - reserved)  # never fewer lines than progressive would ring
        dial = max(0, min(max(lo, floor), trunk_free))
        return Decision(dial, 0, snap.lines_ringing + dial, free_mean, allowed,
                        f"predictive: p={p:.2f}, D={horizon:.0f}s, {free_mean:.1f} agents expected free")


def _drop_ratio(ans_mean: float, ans_var: float, free_mean: float, free_var: float) -> float:
    """E[(answers - free)^+] / E[answers] for answers (a sum of Bernoulli lines) and free agents given by
    mean and variance: normal approximation with a continuity correction."""
    if ans_mean <= 0:
        return 0.0
    mu = ans_mean - free_mean - 0.5
    sigma = math.sqrt(ans_var + free_var + 1e-9)
    z = mu / sigma
    excess = sigma * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) + mu * 0.5 * math.erfc(-z / math.sqrt(2))
    return max(0.0, excess) / ans_mean
