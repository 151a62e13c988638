"""The call-control interface: what a scenario may do to a call.

The interpreter (``routing/interpreter.py``) drives one call through its scenario using only this
interface. The daemon implements it over ARI (``acd/engine/``); tests may implement it in memory. Keeping
it narrow is what lets the interpreter know nothing of ARI, and the engine nothing of YAML.

Every coroutine raises ``CallerHungUp`` once the caller has gone; the interpreter lets it propagate after
recording the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from acd.events import CallFact


class CallerHungUp(Exception):
    """The caller's channel is gone: stop the scenario."""


@dataclass(frozen=True)
class HoldSpec:
    """What the caller hears while waiting in a queue (R8, R2)."""

    moh_class: str = "default"
    announce_every_s: float | None = 60.0
    """Period of position/expected-wait announcements; None for none."""
    announce_position: bool = True
    announce_wait: bool = True
    periodic_media: tuple[str, ...] = ()
    """Extra prompts played with each announcement (e.g. "your call is important")."""
    recording_notice: tuple[str, ...] = ()
    """R10: played to the caller alone at the moment an agent is connected, before the bridge recording."""
    callback_key: str | None = None
    """"Keep my place": the key that turns the wait into a callback (the queue result is ``callback``)."""
    callback_hold_s: float = 30.0
    """How long the agent the kept place reaches is held from inbound calls for its callback."""


@dataclass(frozen=True)
class QueueResult:
    outcome: Literal["completed", "overflow", "abandoned", "callback"]
    """completed: the caller was connected and the conversation is over (the call is gone);
    overflow: the queue gave the call back (max wait, nobody logged in) with ``target``;
    abandoned: the caller hung up while waiting (CallerHungUp is raised instead where it is simpler);
    callback: the caller pressed the ``callback_key``: their place is kept for a callback, the scenario
    confirms and hangs up."""
    target: str | None = None
    reason: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class DialResult:
    outcome: Literal["answered", "busy", "no_answer", "failed"]
    """answered: the far end answered and was bridged with the caller until one side hung up."""


@dataclass(frozen=True)
class RecordResult:
    name: str
    path: str | None
    duration_s: float
    empty: bool = False
    """Asterisk reported the end and the message holds (almost) nothing: not a voicemail, no callback
    (docs/decisions/engine-11-empty-voicemail.md)."""


@dataclass
class CallInfo:
    call_id: str
    caller: str
    caller_name: str
    dialled: str
    language: str
    tags: dict[str, str] = field(default_factory=dict)
    step: tuple[str | int, ...] | None = None
    """The scenario step the call is at (its flow location), kept by the interpreter: a daemon restarted
    while the caller waits in a queue re-enters the scenario there."""


class CallControl(Protocol):
    info: CallInfo

    def now(self) -> float:
        """Virtual epoch seconds (UTC) of the daemon's clock."""

    async def answer(self) -> None: ...

    async def play(self, media: list[str], *, stop_on_dtmf: bool = False) -> str | None:
        """Play sound URIs in order ("sound:kk/greeting"); with stop_on_dtmf, a key press stops the
        playback and is returned (its digit); otherwise returns None when the media ends."""

    async def collect_digits(self, media: list[str], *, max_digits: int, timeout_s: float,
                             terminator: str = "#") -> str:
        """Play ``media`` (a key press interrupts it) and collect up to ``max_digits`` digits; the wait
        for each digit is ``timeout_s``. Returns the digits ('' on time-out, without the terminator)."""

    async def enqueue(self, queue: str, *, priority: int = 0, hold: HoldSpec = HoldSpec()) -> QueueResult:
        """Put the caller in ``queue`` and wait: music on hold and announcements, the offer to agents,
        the recording notice, the bridge and its recording, until the conversation ends (completed) or
        the queue gives the call back (overflow)."""

    async def record_message(self, name: str, *, max_s: float, beep: bool = True) -> RecordResult:
        """Record the caller (voicemail) until silence, '#', ``max_s`` or hang-up. ``name`` is a label: the
        implementation may file the message under its own name (the engine: the dated layout of
        docs/recording.md), which ``RecordResult.name`` gives back."""

    async def dial_out(self, endpoint: str, *, timeout_s: float, caller_id: str | None = None) -> DialResult:
        """Blind transfer: dial ``endpoint`` (e.g. "PJSIP/+77001234567@trunk") and bridge the caller with
        it until one side hangs up."""

    async def hangup(self, reason: str = "normal") -> None: ...

    def emit(self, fact: CallFact) -> None:
        """A call event for the CDR: one of the typed facts of ``acd/events.py`` (the implementation
        stamps the call id and the time)."""
