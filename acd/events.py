"""The events the daemon emits for the CDR: the contract between call handling and ``cdr/``.

Everything the CDR tables hold is derived from these kinds of record (``RecordingEvent`` keeps the
``recordings`` table). They are append-only and each
has a unique ``event_id`` (a UUID made at emission), so that a replay from the disk spool or after a
restart never doubles a row. Times are epoch seconds UTC from the injected clock.

``CallEvent.kind`` is one of ``CALL_EVENT_KINDS``; the ``data`` each kind carries is listed there. A
call's summary row (``calls``) is a pure fold over its events (``cdr/summary.py``), so a daemon restarted
mid-call only has to go on emitting events for the same ``call_id``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

CALL_EVENT_KINDS: dict[str, str] = {
    "arrived": "direction ('inbound'|'outbound'), dialled, caller, caller_name, channel, linked_id",
    "answered": "(the system answered the channel)",
    "scenario": "name, version (the scenario file's content hash)",
    "language": "lang ('kk'|'ru'|'en'), how ('dtmf'|'timeout'|'default')",
    "menu": "menu, choice (a digit, 'timeout' or 'invalid'), attempt",
    "step": "step (a label or the step's kind), detail, to? ('voicemail': the IVR sent the call there)",
    "tag": "service?, call_type?, topic? (scenario tags; the agent's topic comes as kind 'topic')",
    "topic": "topic, comment?, by (user)",
    "queued": "queue, priority",
    "announced": "position, expected_s",
    "offered": "queue, agent",
    "ring_no_answer": "queue, agent, reason ('no_answer'|'busy'|'unreachable'|'failed')",
    "connected": "queue, agent, bridge",
    "recording_started": "recording (name), path",
    "recording_finished": "recording, duration_s",
    "recording_failed": "recording, reason",
    "hold": "agent, seconds (one hold period, emitted when it ends)",
    "transfer": "kind ('blind'|'attended'), target, by ('scenario'|agent id)",
    "listen": "session, supervisor, agent, mode ('listen'|'whisper'|'barge'), from (epoch): one period, "
              "emitted when it ends (also a row of listen_audit)",
    "conference": "agent, target, party (the consulted agent, if any): all three in one bridge",
    "overflow": "queue, target, reason ('max_wait'|'no_agents')",
    "voicemail": "recording, callback_id",
    "handled_in_ivr": "step (an information branch ended the call)",
    "left_queue": "queue, reason ('abandoned'|'overflow'|'transferred'|'timeout')",
    "ended": "by ('caller'|'agent'|'system'), cause (Q.850 code), end_estimated (true: the end happened "
    "during a gap in ARI events; the time is the last moment Asterisk was heard from)",
    "wrapup_ended": "agent, seconds",
}


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    kind: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=new_event_id)


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
