"""The events the daemon emits for the CDR: the contract between call handling and ``cdr/``.

Everything the CDR tables hold is derived from these kinds of record (``RecordingEvent`` keeps the
``recordings`` table). They are append-only and each
has a unique ``event_id`` (a UUID made at emission), so that a replay from the disk spool or after a
restart never doubles a row. Times are epoch seconds UTC from the injected clock.

``CallEvent.kind`` is one of ``CALL_EVENT_KINDS``; ``CallEvent.fact`` reads the event as one frozen dataclass
per kind (``Arrived``, ``Queued``, ... or ``Unknown`` for a kind of another daemon version). A
call's summary row (``calls``) is a pure fold over its events (``cdr/summary.py``), so a daemon restarted
mid-call only has to go on emitting events for the same ``call_id``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from functools import cached_property
from typing import Any, ClassVar


class _Fact:
    """Base of the typed call facts: ``KIND`` is the stored ``call_events.kind``; the fields are the keys of
    the stored ``data`` (same names, so the stored form is the dataclass's fields)."""

    KIND: ClassVar[str]
    STORED_AS: ClassVar[Mapping[str, str]] = {}
    """Fields whose stored key differs (a Python keyword such as ``from``)."""


@dataclass(frozen=True)
class Arrived(_Fact):
    """The call exists in Asterisk (or an outbound call was placed): its CDR row starts."""

    KIND: ClassVar[str] = "arrived"
    direction: str = "inbound"
    """'inbound' or 'outbound'."""
    dialled: str | None = None
    caller: str | None = None
    caller_name: str | None = None
    channel: str | None = None
    linked_id: str | None = None


@dataclass(frozen=True)
class Answered(_Fact):
    """The system answered the channel."""

    KIND: ClassVar[str] = "answered"


@dataclass(frozen=True)
class Scenario(_Fact):
    """The scenario that routes the call."""

    KIND: ClassVar[str] = "scenario"
    name: str | None = None
    version: str | None = None
    """The scenario file's content hash."""


@dataclass(frozen=True)
class Language(_Fact):
    """The caller's language (`lang` 'kk', 'ru' or 'en'), chosen `how`: 'dtmf', 'timeout' or 'default'."""

    KIND: ClassVar[str] = "language"
    lang: str | None = None
    """'kk', 'ru' or 'en'."""
    how: str | None = None
    """'dtmf', 'timeout' or 'default'."""


@dataclass(frozen=True)
class Menu(_Fact):
    """A menu's outcome: `choice` is a digit, 'timeout' or 'invalid'; `attempt` counts from 1."""

    KIND: ClassVar[str] = "menu"
    menu: str | None = None
    choice: str | None = None
    """A digit, 'timeout' or 'invalid'."""
    attempt: int | None = None


@dataclass(frozen=True)
class Step(_Fact):
    """A scenario step ran (`step`: its label or kind); `to: voicemail`: the IVR sent the call there."""

    KIND: ClassVar[str] = "step"
    step: str | None = None
    """A label or the step's kind."""
    detail: str | None = None
    to: str | None = None
    """'voicemail': the IVR sent the call there."""


@dataclass(frozen=True)
class Tag(_Fact):
    """Scenario tags (the agent's topic comes as ``Topic``)."""

    KIND: ClassVar[str] = "tag"
    service: str | None = None
    call_type: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Topic(_Fact):
    """The agent's topic and comment (R22). ``comment`` None clears it."""

    KIND: ClassVar[str] = "topic"
    topic: str | None
    comment: str | None
    by: str | None
    """The user."""
    result: str | None = None
    """The call's result picked in wrap-up (the queue's ``results``, R16); absent: unchanged."""


@dataclass(frozen=True)
class Queued(_Fact):
    """The caller entered a queue (its wait starts here)."""

    KIND: ClassVar[str] = "queued"
    queue: str | None = None
    priority: int | None = None
    position: int | None = None
    """The caller's place in the queue on entry."""


@dataclass(frozen=True)
class Announced(_Fact):
    """The caller heard its position and expected wait."""

    KIND: ClassVar[str] = "announced"
    position: int | None = None
    expected_s: float | None = None


@dataclass(frozen=True)
class Offered(_Fact):
    """An agent's phone rings for the call."""

    KIND: ClassVar[str] = "offered"
    queue: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class RingNoAnswer(_Fact):
    """The offer failed: `reason` 'no_answer', 'busy', 'unreachable' or 'failed'."""

    KIND: ClassVar[str] = "ring_no_answer"
    queue: str | None = None
    agent: str | None = None
    reason: str | None = None
    """'no_answer', 'busy', 'unreachable' or 'failed'."""


@dataclass(frozen=True)
class Connected(_Fact):
    """The caller talks to the agent (bridged)."""

    KIND: ClassVar[str] = "connected"
    queue: str | None = None
    agent: str | None = None
    bridge: str | None = None


@dataclass(frozen=True)
class RecordingStarted(_Fact):
    """A recording started: `recording` is its name, `kind` 'call' or 'voicemail'."""

    KIND: ClassVar[str] = "recording_started"
    recording: str | None = None
    """The recording's name."""
    path: str | None = None
    kind: str | None = None
    """'call' or 'voicemail'."""


@dataclass(frozen=True)
class RecordingFinished(_Fact):
    """A recording ended and was stored."""

    KIND: ClassVar[str] = "recording_finished"
    recording: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class RecordingFailed(_Fact):
    """A recording failed (R14: shown on the call)."""

    KIND: ClassVar[str] = "recording_failed"
    recording: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Hold(_Fact):
    """One hold period, emitted when it ends."""

    KIND: ClassVar[str] = "hold"
    agent: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Transfer(_Fact):
    """The call was transferred: `kind` 'blind' or 'attended', `by` 'scenario' or the agent's id."""

    KIND: ClassVar[str] = "transfer"
    kind: str = "blind"
    """'blind' or 'attended'."""
    target: str | None = None
    by: str = "scenario"
    """'scenario' or the agent's id."""
    agent: str | None = None
    """The agent the call went to, if the target is one."""


@dataclass(frozen=True)
class Listen(_Fact):
    """A supervisor listened to (or whispered to, or barged into) the agent's call: one period in one
    `mode` ('listen', 'whisper' or 'barge'), from `from` (epoch) to the event's time (also a row of
    listen_audit, R23)."""

    KIND: ClassVar[str] = "listen"
    STORED_AS: ClassVar[Mapping[str, str]] = {"since": "from"}
    session: str | None = None
    supervisor: str | None = None
    agent: str | None = None
    mode: str = "listen"
    since: float | None = None


@dataclass(frozen=True)
class Conference(_Fact):
    """The agent, the caller and the consulted `target` (`party`: its agent, if any) in one bridge."""

    KIND: ClassVar[str] = "conference"
    agent: str | None = None
    target: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class Overflow(_Fact):
    """The queue gave the call to its overflow `target`: `reason` 'max_wait' or 'no_agents'."""

    KIND: ClassVar[str] = "overflow"
    queue: str | None = None
    target: str | None = None
    reason: str | None = None
    """'max_wait' or 'no_agents'."""


@dataclass(frozen=True)
class Voicemail(_Fact):
    """A message was left (its callback is due by ``callback_due_at``)."""

    KIND: ClassVar[str] = "voicemail"
    recording: str | None = None
    callback_id: str | None = None
    path: str | None = None
    duration_s: float | None = None
    caller: str | None = None
    callback_due_at: float | None = None


@dataclass(frozen=True)
class HandledInIvr(_Fact):
    """An information branch ended the call."""

    KIND: ClassVar[str] = "handled_in_ivr"
    step: str | None = None


@dataclass(frozen=True)
class LeftQueue(_Fact):
    """The caller left the queue: `reason` 'abandoned', 'overflow', 'transferred', 'timeout', 'connected',
    'moved' (a supervisor moved it to another queue) or 'callback' (the caller asked to be called back and
    keeps their place: then with the place, ``entered_at`` and ``priority``, and the agent's ``hold_s``)."""

    KIND: ClassVar[str] = "left_queue"
    queue: str | None = None
    reason: str | None = None
    """'abandoned', 'overflow', 'transferred', 'timeout', 'connected', 'moved' or 'callback'."""
    entered_at: float | None = None
    """For 'callback': the place kept (its entry time in the queue), read back after a restart."""
    priority: int | None = None
    """For 'callback': the caller's priority in the queue."""
    hold_s: float | None = None
    """For 'callback': how long the agent the place reaches is held for its callback."""


@dataclass(frozen=True)
class Ended(_Fact):
    """The call ended: `by` 'caller', 'agent' or 'system', `cause` the Q.850 code; `end_estimated`: it
    ended during a gap in ARI events (the time is the last moment Asterisk was heard from)."""

    KIND: ClassVar[str] = "ended"
    by: str | None = None
    """'caller', 'agent' or 'system'."""
    cause: int | None = None
    """The Q.850 code."""
    end_estimated: bool = False
    """True: the end happened during a gap in ARI events; the time is the last moment Asterisk was heard
    from."""


@dataclass(frozen=True)
class WrapupEnded(_Fact):
    """The agent's wrap-up after the call ended (or a restart ended it)."""

    KIND: ClassVar[str] = "wrapup_ended"
    agent: str | None = None
    seconds: float = 0.0
    topic_missing: bool = False
    """The queue requires a topic and the wrap-up time ran out without one (``calls.topic_missing``)."""


@dataclass(frozen=True)
class Unknown:
    """A kind this daemon does not know (written by an older or newer one): kept as it was stored, never
    dropped, and skipped by the fold."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


KnownFact = (Arrived | Answered | Scenario | Language | Menu | Step | Tag | Topic | Queued | Announced
             | Offered | RingNoAnswer | Connected | RecordingStarted | RecordingFinished | RecordingFailed
             | Hold | Transfer | Listen | Conference | Overflow | Voicemail | HandledInIvr | LeftQueue | Ended
             | WrapupEnded)
CallFact = KnownFact | Unknown
"""What a call event says, one frozen dataclass per kind: the closed union the fold matches on."""

FACT_TYPES: tuple[type[KnownFact], ...] = (
    Arrived, Answered, Scenario, Language, Menu, Step, Tag, Topic, Queued, Announced, Offered, RingNoAnswer,
    Connected, RecordingStarted, RecordingFinished, RecordingFailed, Hold, Transfer, Listen, Conference,
    Overflow, Voicemail,
    HandledInIvr, LeftQueue, Ended, WrapupEnded)
_BY_KIND: dict[str, type[KnownFact]] = {t.KIND: t for t in FACT_TYPES}

CALL_EVENT_KINDS: dict[str, str] = {
    t.KIND: ", ".join(f.name for f in fields(t)) or "(no data)" for t in FACT_TYPES}
"""Each kind and the keys of its data (generated from the dataclasses)."""


def fact_kind(fact: CallFact) -> str:
    return fact.kind if isinstance(fact, Unknown) else fact.KIND


def fact_data(fact: CallFact) -> dict[str, Any]:
    """The stored ``data`` of a fact: its fields, leaving out the optional ones that are None (as the
    daemon always wrote them)."""
    if isinstance(fact, Unknown):
        return dict(fact.data)
    out: dict[str, Any] = {}
    for f in fields(fact):
        value = getattr(fact, f.name)
        if value is None and f.default is None:
            continue
        if value is False and f.default is False:
            continue
        out[fact.STORED_AS.get(f.name, f.name)] = value
    return out


def _convert(type_name: str, value: Any, default: Any) -> Any:
    """A stored JSON value as the field's type; what cannot be read is the field's default (the fold
    tolerated wrong types in old rows, the parser must too)."""
    if value is None:
        return default if default is not MISSING else None
    base = type_name.replace(" | None", "")
    try:
        if base == "str":
            return str(value)
        if base == "float":
            return float(value)
        if base == "int":
            return int(value)
        if base == "bool":
            return bool(value)
    except (TypeError, ValueError):
        return default if default is not MISSING else None
    return value


def parse_fact(kind: str, data: Mapping[str, Any] | None) -> CallFact:
    """The typed fact of a stored or spooled event (``kind`` + JSON ``data``, unchanged on disk and in the
    database). Missing keys take the field's default (None for the required ones); keys this daemon does
    not know are ignored here but stay in ``CallEvent.data``; an unknown kind is ``Unknown``."""
    data = data or {}
    cls = _BY_KIND.get(kind)
    if cls is None:
        return Unknown(kind, dict(data))
    kwargs = {f.name: _convert(str(f.type), data.get(cls.STORED_AS.get(f.name, f.name)), f.default)
              for f in fields(cls)}
    return cls(**kwargs)


_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)


def new_event_id() -> str:
    """32 hex digits, unique across processes and restarts (a random 64-bit prefix drawn at import, then
    a counter): the database's unique key for replays. A uuid4 per record cost a system call and an object
    (about 1 % of the daemon's CPU under load, docs/benchmarks.md)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


@dataclass(frozen=True)
class CallEvent:
    """One call event as stored and spooled: ``kind`` + JSON ``data``. ``fact`` is its typed reading;
    emitters build events from a fact with ``CallEvent.of`` (docs/decisions/cdr-02-typed-events.md)."""

    call_id: str
    kind: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=new_event_id)

    @classmethod
    def of(cls, call_id: str, fact: CallFact, at: float, event_id: str | None = None) -> CallEvent:
        if event_id is None:
            return cls(call_id, fact_kind(fact), at, fact_data(fact))
        return cls(call_id, fact_kind(fact), at, fact_data(fact), event_id)

    @cached_property
    def fact(self) -> CallFact:
        """Parsed once: the CDR writer re-folds a live call from its events at every batch."""
        return parse_fact(self.kind, self.data)


@dataclass(frozen=True)
class AgentEvent:
    """An agent's state change (R4): one row of ``agent_state_log``."""

    agent_id: str
    state: str
    """'logged_out', 'ready', 'not_ready', 'ringing', 'on_call', 'wrap_up'."""
    at: float
    previous: str | None = None
    reason: str | None = None
    """The not-ready reason ('break', 'lunch', 'no_answer', ...)."""
    by: str | None = None
    """The user who forced the change (a supervisor), or None for the agent or the system."""
    call_id: str | None = None
    event_id: str = field(default_factory=new_event_id)


RECORDING_EVENT_KINDS = ("started", "finished", "failed")
RECORDING_FINAL_STATUSES = ("done", "missing", "failed")


@dataclass(frozen=True)
class RecordingEvent:
    """A change of one recording's ``recordings`` row (R14), keyed by the recording's NAME (the name given
    to ARI, unique). The CDR writer applies it idempotently (an upsert by name) through its journal and
    spool, so a row survives a database outage and a restart like the CDR does (issue 12 item 2).

    ``kind`` is 'started' (call_id, fmt, recording_kind, agent), 'finished' (status 'done' with the file's
    size, sha256 and duration, or 'missing' with a reason: the file was measured when the event was made)
    or 'failed' (reason). ``calls.recording_status`` is derived from the same rows, so both always agree.
    """

    name: str
    kind: str
    at: float
    call_id: str | None = None
    """Always set for 'started'; may be None later (the row is found by name)."""
    fmt: str | None = None
    recording_kind: str | None = None
    """'call', 'voicemail' or 'outbound' (``recordings.kind``)."""
    agent: str | None = None
    status: str | None = None
    """For 'finished': 'done' or 'missing'."""
    size_bytes: int | None = None
    sha256: str | None = None
    duration_s: float | None = None
    reason: str | None = None
    event_id: str = field(default_factory=new_event_id)


CdrRecord = CallEvent | AgentEvent | RecordingEvent


def _nullable(f: Field[Any]) -> bool:
    return f.default is None or "None" in str(f.type)


def kinds_markdown() -> str:
    """The table of call event kinds in docs/cdr.md, generated from the dataclasses (a test keeps the
    document equal to it: ``python -c 'from acd.events import kinds_markdown; print(kinds_markdown())'``)."""
    lines = ["| kind | typed as | what it says | data (keys and types; `?`: may be absent or null) |",
             "|---|---|---|---|"]
    for t in FACT_TYPES:
        keys = ", ".join(f"`{t.STORED_AS.get(f.name, f.name)}`{'?' if _nullable(f) else ''}: "
                         f"{str(f.type).replace(' | None', '')}" for f in fields(t))
        about = " ".join((t.__doc__ or "").split())
        lines.append(f"| `{t.KIND}` | `{t.__name__}` | {about} | {keys or '(none)'} |")
    lines.append("| any other | `Unknown(kind, data)` | a kind of another daemon version: kept, skipped by "
                 "the fold | as stored |")
    return "\n".join(lines) + "\n"
