"""What the HTTP API needs from the running daemon: the integrator implements ``EnginePort``.

Kept small on purpose: the API reads a live snapshot and asks for three changes; everything else it
reads from SQL. Mutating calls are coroutines because the daemon may have to carry decisions out over
ARI before it can answer (a forced log-out cancels a ringing offer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

AgentState = Literal["logged_out", "ready", "not_ready"]


class EnginePort(Protocol):
    def snapshot(self) -> dict[str, Any]:
        """JSON-able live state: ``{"queues": {...}, "agents": {...}, "calls": {...}}`` (see acd core's
        ``Acd.snapshot``); the API passes it through, filtered by role."""
        ...

    def ari_connected(self) -> bool:
        """True while the ARI WebSocket is up (for /health)."""
        ...

    def db_writable(self) -> bool | None:
        """False while the CDR writer cannot write (database locked, unreachable: records spool to disk
        meanwhile); None if unknown (for /health)."""
        ...

    def not_ready_reasons(self) -> Sequence[str]:
        """The configured not-ready reasons (R4), e.g. break, lunch, training."""
        ...

    def agent_of_call(self, call_id: str) -> str | None:
        """The agent on (or in wrap-up of) a live call, None if the call is unknown or has no agent."""
        ...

    async def set_agent_state(self, agent_id: str, state: AgentState, reason: str | None,
                              by: str | None) -> None:
        """Change an agent's state. ``by`` is the forcing supervisor's user name, None when the agent acts.
        Raises KeyError for an unknown agent, ValueError with a user-facing message when refused."""
        ...

    async def set_topic(self, call_id: str, topic: str, comment: str | None, by: str,
                        result: str | None = None) -> None:
        """Record the call's topic, comment and result (R16, R22) as a ``topic`` CDR event. KeyError for an
        unknown call."""
        ...

    async def set_agent_queues(self, agent_id: str, queues: list[str], by: str | None) -> None:
        """The queues the agent works today (only ``optional`` queues may be left out). KeyError for an
        unknown agent, ValueError with a user-facing message when refused."""
        ...

    async def extend_wrapup(self, agent_id: str) -> float:
        """More time in wrap-up where the queue allows it; the new end (epoch seconds). ValueError when
        refused (not in wrap-up, not allowed, already used)."""
        ...
