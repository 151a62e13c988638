"""An in-memory CallControl: records what the scenario did and answers from a script."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.events import CallFact, fact_data, fact_kind
from routing.control import CallerHungUp, CallInfo, DialResult, HoldSpec, QueueResult, RecordResult

ALMATY = ZoneInfo("Asia/Almaty")


def almaty(*args: int) -> float:
    """Epoch seconds of a local Almaty wall-clock time."""
    return datetime(*args, tzinfo=ALMATY).timestamp()


MONDAY_NOON = almaty(2026, 11, 23, 12, 0)
MONDAY_NIGHT = almaty(2026, 11, 23, 22, 30)


@dataclass
class FakeCall:
    dialled: str = "193"
    caller: str = "87011234567"
    at: float = MONDAY_NOON
    digits: list[str] = field(default_factory=list)
    """Answers of successive collect_digits calls; '' is a time-out; exhausted -> time-outs."""
    queue_results: list[QueueResult] = field(default_factory=list)
    dial_results: list[str] = field(default_factory=list)
    hang_up_after_prompts: int | None = None
    """The caller hangs up when this many plays/collects have happened."""
    info: CallInfo = field(init=False)
    played: list[tuple[str, list[str]]] = field(default_factory=list)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.info = CallInfo(call_id="call-1", caller=self.caller, caller_name="", dialled=self.dialled,
                             language="")

    def now(self) -> float:
        return self.at

    def _maybe_gone(self) -> None:
        if self.hang_up_after_prompts is not None and len(self.played) >= self.hang_up_after_prompts:
            raise CallerHungUp()

    async def answer(self) -> None:
        self.actions.append(("answer",))

    async def play(self, media: list[str], *, stop_on_dtmf: bool = False) -> str | None:
        self._maybe_gone()
        self.played.append((self.info.language, list(media)))
        return None

    async def collect_digits(self, media: list[str], *, max_digits: int, timeout_s: float,
                             terminator: str = "#") -> str:
        self._maybe_gone()
        self.played.append((self.info.language, list(media)))
        return self.digits.pop(0) if self.digits else ""

    async def enqueue(self, queue: str, *, priority: int = 0, hold: HoldSpec = HoldSpec()) -> QueueResult:
        self.actions.append(("enqueue", queue, priority, self.info.language, hold))
        return self.queue_results.pop(0) if self.queue_results else QueueResult("completed", agent="agent1")

    async def record_message(self, name: str, *, max_s: float, beep: bool = True) -> RecordResult:
        self.actions.append(("record", name, max_s, beep))
        return RecordResult(name=name, path=f"/var/rec/{name}.wav", duration_s=12.0)

    async def dial_out(self, endpoint: str, *, timeout_s: float, caller_id: str | None = None) -> DialResult:
        self.actions.append(("dial", endpoint, timeout_s, caller_id))
        outcome = self.dial_results.pop(0) if self.dial_results else "answered"
        return DialResult(outcome)  # type: ignore[arg-type]

    async def hangup(self, reason: str = "normal") -> None:
        self.actions.append(("hangup", reason))

    def emit(self, fact: CallFact) -> None:
        self.events.append((fact_kind(fact), fact_data(fact)))

    # helpers for assertions
    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [d for k, d in self.events if k == kind]

    def flat_media(self) -> list[str]:
        return [m for _, ms in self.played for m in ms]

    def enqueued(self) -> list[str]:
        return [a[1] for a in self.actions if a[0] == "enqueue"]
