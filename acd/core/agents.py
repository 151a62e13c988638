"""Agent states (R4): everything that changes an agent's state lives in this file.

Theory of operation, after h11's ``_state.py``. An agent is in exactly one of six states. The engine never
assigns a state: it *fires an event* (``offer``, ``answer``, ``hang_up``, ...) and :meth:`Agent.fire` looks
the pair (state, event) up in ``TRANSITIONS``, the one table of every allowed move. A pair that is not in
the table is a bug in the caller or an impossible request, and raises :class:`ImpossibleTransition` naming
both, instead of leaving the agent in a state nobody planned for.

::

    logged_out --go_ready/go_not_ready--> ready / not_ready
    ready --offer--> ringing --answer--> on_call --hang_up--> wrap_up --wrapup_done--> ready
    ringing --no_answer--> not_ready        ringing --ring_ended--> ready (caller left, policy 'ready')

Whether an agent may be *offered* a call is not a state of its own: it is ``ready`` and its endpoint is
reachable (``reachable`` is a flag, an unreachable phone is not the agent's decision).

The agent also keeps the day's figures (talk seconds and calls since local midnight) for
least-talked-today; :meth:`Agent.add_talk` splits a call that crosses midnight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from acd.core.config import AgentConfig
from acd.core.decisions import AgentStateChanged

__all__ = [
    "TRANSITIONS",
    "Agent",
    "AgentEvent",
    "AgentState",
    "ImpossibleTransition",
    "local_day",
    "next_local_midnight",
]


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class AgentEvent(StrEnum):
    GO_READY = "go_ready"
    GO_NOT_READY = "go_not_ready"
    LOG_OUT = "log_out"
    OFFER = "offer"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    RING_ENDED = "ring_ended"
    HANG_UP = "hang_up"
    WRAPUP_DONE = "wrapup_done"
    RESTORE = "restore"


S = AgentState
E = AgentEvent

TRANSITIONS: dict[tuple[AgentState, AgentEvent], AgentState] = {
    (S.LOGGED_OUT, E.GO_READY): S.READY,
    (S.LOGGED_OUT, E.GO_NOT_READY): S.NOT_READY,
    (S.LOGGED_OUT, E.RESTORE): S.ON_CALL,
    (S.READY, E.GO_NOT_READY): S.NOT_READY,
    (S.READY, E.LOG_OUT): S.LOGGED_OUT,
    (S.READY, E.OFFER): S.RINGING,
    (S.READY, E.RESTORE): S.ON_CALL,
    (S.NOT_READY, E.GO_READY): S.READY,
    (S.NOT_READY, E.GO_NOT_READY): S.NOT_READY,  # another reason
    (S.NOT_READY, E.LOG_OUT): S.LOGGED_OUT,
    (S.NOT_READY, E.RESTORE): S.ON_CALL,
    (S.RINGING, E.ANSWER): S.ON_CALL,
    (S.RINGING, E.NO_ANSWER): S.NOT_READY,
    (S.RINGING, E.RING_ENDED): S.READY,
    (S.RINGING, E.LOG_OUT): S.LOGGED_OUT,  # only through a pending log-out after a missed call
    (S.ON_CALL, E.HANG_UP): S.WRAP_UP,
    (S.WRAP_UP, E.WRAPUP_DONE): S.READY,
    (S.WRAP_UP, E.GO_READY): S.READY,  # the agent ends wrap-up early
    (S.WRAP_UP, E.GO_NOT_READY): S.NOT_READY,
    (S.WRAP_UP, E.LOG_OUT): S.LOGGED_OUT,
}
"""Every allowed (state, event) -> next state. Nothing else changes an agent's state."""

AVAILABLE_STATES = frozenset({S.READY})
LOGGED_IN_STATES = frozenset(set(AgentState) - {S.LOGGED_OUT})
SERVING_STATES = frozenset({S.READY, S.RINGING, S.ON_CALL, S.WRAP_UP})
"""States of agents who count as servers for the wait estimate (busy ones included, breaks excluded)."""
HOLDING_STATES = frozenset({S.RINGING, S.ON_CALL})


class ImpossibleTransition(Exception):
    """An event that has no transition from the agent's current state."""

    def __init__(self, agent_id: str, state: AgentState, event: AgentEvent) -> None:
        super().__init__(f"agent {agent_id!r}: cannot {event.value!r} while {state.value!r}")
        self.agent_id = agent_id
        self.state = state
        self.event = event


def local_day(now: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(now, tz).date()


def next_local_midnight(now: float, tz: ZoneInfo) -> float:
    """Epoch seconds of the first local midnight strictly after ``now``."""
    tomorrow = local_day(now, tz) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tz).timestamp()


def local_midnight(day: date, tz: ZoneInfo) -> float:
    return datetime.combine(day, time(0), tz).timestamp()


@dataclass
class Agent:
    """One agent's live state. Only :meth:`fire` changes ``state``."""

    config: AgentConfig
    day: date
    """The local day the figures below belong to."""
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    reachable: bool = True
    call_id: str | None = None
    """The call the agent is ringing for, talking on, or wrapping up."""
    call_queue: str | None = None
    connected_at: float | None = None
    talk_today_s: float = 0.0
    calls_today: int = 0
    idle_since: float = 0.0
    """When the agent last became ready (for longest_idle)."""
    pending: tuple[AgentState, str | None, str | None] | None = None
    """A not_ready/logged_out asked for while holding a call: (state, reason, by), applied after the call."""
    removed: bool = False
    """Removed from the configuration by a reload: logged out as soon as they hold no call."""
    last_offer_seq: dict[str, int] = field(default_factory=dict)
    """Per queue, the sequence number of the last offer (round_robin)."""
    random_token: float = 0.0
    """Drawn from the engine's seeded generator each time the agent becomes ready (random strategy)."""
    free_version: int = 0
    """Bumped each time the agent becomes or stops being free: invalidates stale index entries."""
    skills: dict[str, int] = field(default_factory=dict)
    held_for: str | None = None
    """A kept place's callback given to this agent (``AssignCallback``): no inbound offer until
    ``held_until`` or until the agent acts. Not a state: the agent stays ``ready``."""
    held_until: float | None = None
    wrapup_due: float | None = None
    """When the current wrap-up ends by itself (moved by ``Acd.extend_wrapup``)."""
    wrapup_extended: bool = False
    """The current wrap-up was extended already (once per call)."""
    skipped: frozenset[str] = frozenset()
    """Queues of the agent's configuration they chose not to work today (only ``optional`` queues; chosen
    at sign-in on the desktop, forgotten at log-out)."""

    def __post_init__(self) -> None:
        self.skills = self.config.all_skills

    @property
    def queues(self) -> dict[str, int]:
        """The queues the agent works now, with their priority: the configured ones, minus the skipped."""
        return {q: p for q, p in self.config.queues.items() if q not in self.skipped}

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def free(self) -> bool:
        """Free to be offered a call: ready, reachable and not held for a callback."""
        return (
            self.state is AgentState.READY and self.reachable and not self.removed and self.held_for is None
        )

    def fire(
        self,
        event: AgentEvent,
        now: float,
        *,
        reason: str | None = None,
        by: str | None = None,
        call_id: str | None = None,
    ) -> AgentStateChanged:
        """Apply ``event``: the one place that changes ``state``; returns the change for the log."""
        try:
            target = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise ImpossibleTransition(self.id, self.state, event) from None
        previous = self.state
        self.state = target
        self.reason = reason if target is AgentState.NOT_READY else None
        self.since = now
        if target is AgentState.READY:
            self.idle_since = now
        if target in (AgentState.RINGING, AgentState.ON_CALL):
            self.call_id = call_id
        elif target is not AgentState.WRAP_UP:
            self.call_id = None
            self.call_queue = None
            self.connected_at = None
        return AgentStateChanged(
            agent_id=self.id,
            state=target.value,
            previous=previous.value,
            reason=self.reason,
            by=by,
            at=now,
            call_id=call_id,
        )

    def roll_day(self, day: date) -> None:
        """Start a new local day: talk seconds and calls back to zero."""
        if day != self.day:
            self.day = day
            self.talk_today_s = 0.0
            self.calls_today = 0

    def add_talk(self, connected_at: float, now: float, tz: ZoneInfo) -> None:
        """Count a finished call: only the part after today's local midnight counts for today."""
        self.roll_day(local_day(now, tz))
        start = max(connected_at, local_midnight(self.day, tz))
        self.talk_today_s += max(0.0, now - start)
        self.calls_today += 1
