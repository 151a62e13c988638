"""A campaign day on virtual time: the real pacing code (``outbound.pacing``) against simulated called
parties, for ``acd simulate --campaign`` and the outbound benchmark.

The called parties: each dialled number answers with ``answer_rate`` after a delay spread evenly around
``answer_delay_s`` (half to one and a half times it); is busy (after 2-6 s) with ``busy_rate``; is
unreachable or congested (after 0.5-3 s) with ``unreachable_rate``; otherwise rings until the dialer's
``ring_timeout_s`` and counts as no answer. An answered call talks for a log-normal time of mean ``talk_s``
(coefficient of variation ``talk_cv``), then the agent wraps up for ``wrapup_s``; the call is productive
with ``productive_rate`` (the respondent completed the form).

An answered call with no free agent waits ``drop_after_s`` for one, then hears the drop message and is
dropped. Agents take inbound callers (an optional Poisson stream) before any campaign call. The contact
list is taken as large enough for the day: retries change which contact is dialled, not the pacing.

Figures: occupancy (time on calls and in wrap-up over time logged in), contacts (connected answered calls)
and productive contacts per hour, and the drop rate (dropped / answered, the regulators' definition).
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from acd.sim.scheduler import Handle, Scheduler
from outbound.pacing import Mode, Pacer, PacingSettings, Result, Snapshot

HOUR = 3600.0


@dataclass(frozen=True)
class CalledParties:
    answer_rate: float = 0.30
    answer_delay_s: float = 20.0
    busy_rate: float = 0.10
    unreachable_rate: float = 0.05
    talk_s: float = 180.0
    talk_cv: float = 0.6
    productive_rate: float = 0.7

    def __post_init__(self) -> None:
        if not 0 < self.answer_rate <= 1 or self.answer_rate + self.busy_rate + self.unreachable_rate > 1:
            raise ValueError("answer, busy and unreachable rates must be fractions adding up to at most 1")
        if self.answer_delay_s <= 0 or self.talk_s <= 0:
            raise ValueError("answer delay and talk time must be positive")


@dataclass(frozen=True)
class CampaignSim:
    mode: Mode = "predictive"
    agents: int = 20
    hours: float = 8.0
    parties: CalledParties = field(default_factory=CalledParties)
    wrapup_s: float = 10.0
    ring_timeout_s: float = 30.0
    drop_after_s: float = 2.0
    preview_s: float = 10.0
    drop_rate_target: float = 0.03
    max_lines_per_agent: float = 3.0
    trunk_channels: int = 90
    inbound_per_hour: float = 0.0
    inbound_talk_s: float = 180.0
    tick_s: float = 1.0
    seed: int = 1

    def __post_init__(self) -> None:
        if self.agents < 1 or self.hours <= 0:
            raise ValueError("need at least one agent and a positive number of hours")
        if self.parties.answer_delay_s * 1.5 > self.ring_timeout_s:
            raise ValueError(f"answer delays reach {self.parties.answer_delay_s * 1.5:g} s: the ring "
                             f"timeout ({self.ring_timeout_s:g} s) must be longer")


@dataclass(frozen=True)
class CampaignReport:
    mode: str
    agents: int
    hours: float
    dialled: int
    answered: int
    connected: int
    dropped: int
    productive: int
    drop_rate: float
    occupancy: float
    contacts_per_hour: float
    productive_per_hour: float
    contacts_per_agent_hour: float
    mean_lines: float
    max_lines: int
    inbound_offered: int
    inbound_mean_wait_s: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


class _Day:
    """One run: agents, lines and inbound callers on a Scheduler, the pacer asked after every change."""

    def __init__(self, sim: CampaignSim) -> None:
        self.sim = sim
        self.rng = random.Random(sim.seed)
        self.s = Scheduler(0.0)
        self.end = sim.hours * HOUR
        self.pacer = Pacer(PacingSettings(mode=sim.mode, drop_rate_target=sim.drop_rate_target,
                                          max_lines_per_agent=sim.max_lines_per_agent,
                                          trunk_channels=sim.trunk_channels,
                                          drop_after_s=sim.drop_after_s))
        self.ready: deque[int] = deque(range(sim.agents))
        self.busy_since: dict[int, float] = {}
        self.ringing = 0
        self.ring_started: dict[int, float] = {}  # campaign lines (not preview ones) ringing, by line id
        self._line_ids = 0
        self.waiting: deque[tuple[float, Handle]] = deque()  # answered campaign calls wanting an agent
        self.inbound: deque[float] = deque()
        self.inbound_talking = 0
        self.busy_time = 0.0
        self.dialled = self.answered = self.connected = self.dropped = self.productive = 0
        self.inbound_offered = 0
        self.inbound_waits: list[float] = []
        self.line_seconds = 0.0
        self.max_lines = 0
        self._last_lines_at = 0.0
        sigma2 = math.log(1 + sim.parties.talk_cv**2)
        self._talk_mu, self._talk_sigma = math.log(sim.parties.talk_s) - sigma2 / 2, math.sqrt(sigma2)

    # -- bookkeeping --------------------------------------------------------------------------------
    def _lines_changed(self, delta: int) -> None:
        now = min(self.s.now, self.end)
        self.line_seconds += self.ringing * max(0.0, now - self._last_lines_at)
        self._last_lines_at = now
        self.ringing += delta
        self.max_lines = max(self.max_lines, self.ringing)

    def run(self) -> CampaignReport:
        self._tick()
        if self.sim.inbound_per_hour > 0:
            self.s.after(self.rng.expovariate(self.sim.inbound_per_hour / HOUR), self._inbound_arrives)
        self.s.run()
        self._lines_changed(0)
        sim, hours = self.sim, self.sim.hours
        return CampaignReport(
            mode=sim.mode, agents=sim.agents, hours=hours, dialled=self.dialled, answered=self.answered,
            connected=self.connected, dropped=self.dropped, productive=self.productive,
            drop_rate=self.dropped / self.answered if self.answered else 0.0,
            occupancy=self.busy_time / (sim.agents * self.end),
            contacts_per_hour=self.connected / hours, productive_per_hour=self.productive / hours,
            contacts_per_agent_hour=self.connected / hours / sim.agents,
            mean_lines=self.line_seconds / self.end, max_lines=self.max_lines,
            inbound_offered=self.inbound_offered,
            inbound_mean_wait_s=(sum(self.inbound_waits) / len(self.inbound_waits)
                                 if self.inbound_waits else 0.0),
        )

    def _tick(self) -> None:
        if self.s.now >= self.end:
            return
        self._pace()
        self.s.after(self.sim.tick_s, self._tick)

    def _pace(self) -> None:
        if self.s.now >= self.end:
            return
        now = self.s.now
        snap = Snapshot(ready_agents=len(self.ready), busy_since=tuple(self.busy_since.values()),
                        lines_ringing=self.ringing, ringing_since=tuple(self.ring_started.values()),
                        answered_waiting=len(self.waiting),
                        inbound_waiting=len(self.inbound),
                        trunk_in_use=self.inbound_talking + len(self.inbound),
                        inbound_rate_per_s=self.sim.inbound_per_hour / HOUR)
        d = self.pacer.decide(now, snap)
        for _ in range(d.dial):
            self._dial(None)
        for _ in range(min(d.previews, len(self.ready))):
            agent = self.ready.popleft()
            self.busy_since[agent] = now  # reading the preview is work, not idle time
            self.s.after(self.sim.preview_s, partial(self._preview_dial, agent))

    # -- calls ----------------------------------------------------------------------------------------
    def _preview_dial(self, agent: int) -> None:
        self._account_busy(agent)  # reading done; the ring that follows is waiting, not work
        self._dial(agent)

    def _dial(self, agent: int | None) -> None:
        p, rng, now = self.sim.parties, self.rng, self.s.now
        self.dialled += 1
        self._lines_changed(+1)
        self._line_ids += 1
        line = self._line_ids
        self.ring_started[line] = now
        u = rng.random()
        result: Result
        if u < p.answer_rate:
            result, delay = "answered", rng.uniform(0.5, 1.5) * p.answer_delay_s
        elif u < p.answer_rate + p.busy_rate:
            result, delay = "busy", rng.uniform(2, 6)
        elif u < p.answer_rate + p.busy_rate + p.unreachable_rate:
            result, delay = "unreachable", rng.uniform(0.5, 3)
        else:
            result, delay = "no_answer", self.sim.ring_timeout_s
        self.s.at(now + delay, lambda: self._line_ends(line, result, delay, agent))

    def _line_ends(self, line: int, result: Result, ring_s: float, agent: int | None) -> None:
        self._lines_changed(-1)
        self.ring_started.pop(line, None)
        now = self.s.now
        if result != "answered":
            self.pacer.on_result(now, result, ring_s)
            if agent is not None:  # preview: the agent's own call failed; next contact
                self._account_busy(agent)
                self._agent_free(agent)
            self._pace()
            return
        self.answered += 1
        if agent is not None:
            self.pacer.on_result(now, "answered", ring_s)
            self._connect(agent, now)
            return
        if self.ready:
            self.pacer.on_result(now, "answered", ring_s)
            self._connect(self.ready.popleft(), now)
            return
        entry: list[Any] = [now, None]
        handle = self.s.after(self.sim.drop_after_s, lambda: self._drop(entry, ring_s))
        entry[1] = handle
        self.waiting.append((now, handle))
        self._pace()

    def _drop(self, entry: list[Any], ring_s: float) -> None:
        self.waiting = deque(w for w in self.waiting if w[1] is not entry[1])
        self.dropped += 1
        self.pacer.on_result(self.s.now, "dropped", ring_s)
        self._pace()

    def _connect(self, agent: int, now: float) -> None:
        self.connected += 1
        self.busy_since[agent] = now
        p = self.sim.parties
        talk = self.rng.lognormvariate(self._talk_mu, self._talk_sigma)
        if self.rng.random() < p.productive_rate:
            self.productive += 1
        handle = talk + self.sim.wrapup_s
        self.s.after(handle, partial(self._handled, agent, handle, campaign=True))

    def _handled(self, agent: int, handle_s: float, *, campaign: bool) -> None:
        if campaign:
            self.pacer.on_handled(self.s.now, handle_s)
        else:
            self.inbound_talking -= 1
        self._account_busy(agent)
        self._agent_free(agent)
        self._pace()

    def _account_busy(self, agent: int) -> None:
        since = self.busy_since.pop(agent, None)
        if since is not None:
            self.busy_time += max(0.0, min(self.s.now, self.end) - min(since, self.end))

    def _agent_free(self, agent: int) -> None:
        """Inbound callers first, then an answered campaign call waiting, else the agent is ready."""
        now = self.s.now
        if self.inbound:
            self.inbound_waits.append(now - self.inbound.popleft())
            self._inbound_talk(agent)
        elif self.waiting:
            answered_at, handle = self.waiting.popleft()
            handle.cancel()
            self.pacer.on_result(now, "answered", 0.0)
            self._connect(agent, now)
        else:
            self.ready.append(agent)

    def _inbound_arrives(self) -> None:
        if self.s.now >= self.end:
            return
        self.inbound_offered += 1
        if self.ready:
            self.inbound_waits.append(0.0)
            self._inbound_talk(self.ready.popleft())
        else:
            self.inbound.append(self.s.now)
        self.s.after(self.rng.expovariate(self.sim.inbound_per_hour / HOUR), self._inbound_arrives)

    def _inbound_talk(self, agent: int) -> None:
        self.inbound_talking += 1
        self.busy_since[agent] = self.s.now
        talk = self.rng.expovariate(1 / self.sim.inbound_talk_s) + self.sim.wrapup_s
        self.s.after(talk, partial(self._handled, agent, talk, campaign=False))


def run_campaign(sim: CampaignSim) -> CampaignReport:
    """Simulate one campaign day; the same seed gives the same report."""
    return _Day(sim).run()


def compare_modes(sim: CampaignSim, modes: tuple[Mode, ...] = ("preview", "progressive", "predictive")
                  ) -> dict[str, CampaignReport]:
    """The same day (same seed, same called parties) under each dialing mode."""
    from dataclasses import replace

    return {m: run_campaign(replace(sim, mode=m)) for m in modes}
