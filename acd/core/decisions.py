"""What the ACD core asks its driver to do: the core's only output.

Every input method of :class:`acd.core.engine.Acd` returns a list of these, in the order they must be
carried out. The daemon turns them into ARI requests and CDR events, the simulator into virtual-time
events, tests just read them. They are frozen values, so a driver can keep, compare and log them freely.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.core.prediction import WaitEstimate

__all__ = [
    "AgentStateChanged",
    "Announce",
    "AssignCallback",
    "CallQueued",
    "CancelOffer",
    "Decision",
    "Offer",
    "Overflow",
    "RingNoAnswer",
]


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring ``agent_id`` with ``call_id``; report back with offer_accepted or offer_rejected."""

    call_id: str
    agent_id: str
    queue: str
    ring_timeout_s: float


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Stop ringing ``agent_id`` for ``call_id`` (time-out, caller left, agent unreachable, ...)."""

    call_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RingNoAnswer:
    """``agent_id`` missed ``call_id`` (R5): the call is back in ``queue``; for the CDR."""

    call_id: str
    agent_id: str
    queue: str
    reason: str = "no_answer"
    """Why: ``no_answer``/``timeout`` (rang out), ``busy``, ``unreachable``, ``failed``."""


@dataclass(frozen=True, slots=True)
class Overflow:
    """``call_id`` left ``queue``; the driver (scenario) sends it to ``target`` (None: its next step).

    ``reason`` is ``max_wait``, ``no_agents`` or ``queue_removed`` (a reload removed the queue).
    """

    call_id: str
    queue: str
    target: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell the waiting caller their position (1-based) and expected wait."""

    call_id: str
    queue: str
    position: int
    estimate: WaitEstimate


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent's state changed (R4): one row of the agent state log.

    ``by`` is the supervisor who forced it, None for the agent or the system; ``call_id`` is the call the
    change is about (ringing, on_call, wrap_up, and a not_ready after a missed call).
    """

    agent_id: str
    state: str
    previous: str
    reason: str | None
    by: str | None
    at: float
    call_id: str | None


@dataclass(frozen=True, slots=True)
class CallQueued:
    """``call_id`` entered ``queue`` at ``position`` with this expected wait."""

    call_id: str
    queue: str
    position: int
    estimate: WaitEstimate


@dataclass(frozen=True, slots=True)
class AssignCallback:
    """A caller who asked to be called back kept their place (``Acd.keep_place``); that place has now come
    to ``agent_id``, who is held from inbound offers for ``hold_s`` (or until ``end_hold``): give them the
    callback as a preview. ``entered_at`` and ``language`` are the original call's."""

    call_id: str
    agent_id: str
    queue: str
    language: str | None
    entered_at: float
    hold_s: float


Decision = (
    Offer | CancelOffer | RingNoAnswer | Overflow | Announce | AgentStateChanged | CallQueued | AssignCallback
)
