"""Call control's typed seam, shared by the engine (acd/engine/call_control.py, acd/engine/snoop.py) and the
web API (acd/web/call_control.py), which may not import each other: targets, results and errors.

Errors carry the HTTP status the API answers with and a message meant for the agent's or supervisor's
screen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

TargetKind = Literal["agent", "queue", "directory"]
ConsultState = Literal["ringing", "answered", "failed"]
ListenMode = Literal["listen", "whisper", "barge"]
LISTEN_MODES: tuple[ListenMode, ...] = ("listen", "whisper", "barge")
ListenState = Literal["ringing", "active", "ended"]


# ---- errors -----------------------------------------------------------------------------------------
class CallControlError(Exception):
    """A call-control request that cannot be carried out; the message is for the agent's screen."""

    status = 409


class CallNotFound(CallControlError):
    status = 404


class NotYourCall(CallControlError):
    status = 403


class InvalidCallState(CallControlError):
    status = 409


class TargetUnavailable(CallControlError):
    status = 422


# ---- commands and results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where a consultation or transfer goes: ``agent:<id>``, ``queue:<name>`` (a ready agent of the queue)
    or ``directory:<id>`` (an entry of ``directory:`` in acd.yaml: a branch, an external number)."""

    kind: TargetKind
    value: str

    @classmethod
    def parse(cls, text: str) -> Target:
        kind, sep, value = text.partition(":")
        if not sep or not value or kind not in ("agent", "queue", "directory"):
            raise TargetUnavailable(
                f"target {text!r} must be agent:<id>, queue:<name> or directory:<id>"
            )
        return cls(kind, value)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class ConsultStatus:
    target: str
    state: ConsultState
    agent: str | None


@dataclass(frozen=True)
class CallStatus:
    """What the agent's desk shows of the call after a command."""

    call_id: str
    agent: str | None
    held: bool
    muted: bool
    conference: bool
    consult: ConsultStatus | None
    parties: tuple[str, ...]
    """Channel ids of the parties the caller talks to (or will, after a blind transfer answers)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ListenStatus:
    session_id: str
    call_id: str
    supervisor: str
    agent: str | None
    mode: ListenMode
    state: ListenState

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class ListenNotFound(CallNotFound):
    pass
