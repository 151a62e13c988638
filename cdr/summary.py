"""A call's ``calls`` row as a pure fold of its events, so it can be recomputed at any time.

A daemon restarted mid-call just goes on emitting events for the same ``call_id``; the writer re-folds
ALL stored events of every call it touched. Same events in, same row out: no clock, no I/O.

Outcome rules, first match wins (docs/cdr.md is the user's version):
1. connected to an agent                                   -> answered (``transferred_to`` set if the
   agent transferred it afterwards); an outbound call never connected -> its ``outbound_result`` step
   (busy, no_answer, congestion, unavailable, invalid_number, agent_no_answer, cancelled, ...)
2. a voicemail was left                                    -> voicemail
3. overflowed out of the queues (a target that is not ``queue:...``, or no queue entered after the last
   overflow) -> overflowed
4. transferred by the scenario before any agent            -> transferred
5. an information branch ended it (``handled_in_ivr``)     -> handled_in_ivr
5b. left the queue asking to be called back (``left_queue`` reason ``callback``, "keep my place")
                                                            -> callback_requested (wait up to the key)
6. queued and ended (or left the queue) without connection -> short_abandoned if wait < short_abandon_s,
   else abandoned
7. ended, never queued                                     -> missed_in_ivr
8. otherwise (still in progress)                           -> NULL
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never

from acd.events import (
    Announced,
    Answered,
    Arrived,
    CallEvent,
    Conference,
    Connected,
    Ended,
    HandledInIvr,
    Hold,
    Language,
    LeftQueue,
    Listen,
    Menu,
    Offered,
    Overflow,
    Queued,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    RingNoAnswer,
    Scenario,
    Step,
    Tag,
    Topic,
    Transfer,
    Unknown,
    Voicemail,
    WrapupEnded,
)
from cdr.regions import RegionLookup, default_regions, normalise_number
from cdr.types import utc

# Events at the same instant are taken in the order a call lives them, so the row does not depend on the
# order in which they reached the database (a replay, two writers, a restart).
LIFECYCLE = ("arrived", "answered", "scenario", "language", "menu", "step", "tag", "queued", "announced",
             "ring_no_answer", "offered", "connected", "recording_started", "topic", "hold", "transfer",
             "overflow", "left_queue", "voicemail", "recording_finished", "recording_failed",
             "handled_in_ivr", "ended", "wrapup_ended")
_RANK = {k: i for i, k in enumerate(LIFECYCLE)}


def ordered(events: Iterable[CallEvent]) -> list[CallEvent]:
    """By time, then by lifecycle order (unknown kinds after the known ones of the same instant)."""
    return sorted(events, key=lambda e: (e.at, _RANK.get(e.kind, len(LIFECYCLE))))


@dataclass
class _State:
    row: dict[str, Any] = field(default_factory=dict)
    first_queued: float | None = None
    last_queued: float | None = None
    left_queue_at: float | None = None
    connected: float | None = None
    offer_open: float | None = None
    ring_total: float = 0.0
    hold: float = 0.0
    wrapup: float = 0.0
    agent_transfer_at: float | None = None
    scenario_transfer: bool = False
    out_of_queue_at: float | None = None
    overflow_out: bool = False
    voicemail: bool = False
    handled: bool = False
    callback: bool = False
    """The caller left the queue asking to be called back ("keep my place")."""
    ended: float | None = None
    agent_topic: bool = False
    outbound_result: str | None = None
    """An outbound call's ``step outbound_result`` (busy, no_answer, ...): its outcome when not connected."""
    recordings: dict[str, str] = field(default_factory=dict)
    """Each recording's status as the call's own events tell it (the ``recordings`` rows win)."""


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# One word for a call with several recordings: the worst of them (a failure must be seen, R14).
_STATUS_RANK = ("failed", "missing", "recording", "done")


def recording_status(by_name: Mapping[str, str]) -> str | None:
    """``calls.recording_status`` from its recordings' statuses: failed > missing > recording > done
    (``purged`` counts as done: the recording was made; retention removed it later)."""
    statuses = {"done" if v == "purged" else v for v in by_name.values()}
    return next((st for st in _STATUS_RANK if st in statuses), None)


def fold(call_id: str, events: Iterable[CallEvent], *, short_abandon_s: float = 5.0,
         regions: RegionLookup | None = None, recordings: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``calls`` row (all columns except ``updated_at``) for one call's events, in any order.

    ``recordings`` are the call's ``recordings`` rows (name -> status) when the writer keeps them: each one
    replaces what the events say of the same recording, so ``calls.recording_status`` and
    ``recordings.status`` are one truth (a file missing at the end is ``missing`` in both; issue 9 §4)."""
    regions = regions or default_regions()
    evs = ordered(events)
    s = _State()
    r = s.row
    r.update(id=call_id, offers=0, ring_no_answers=0, direction="inbound", recording_status=None,
             end_estimated=False, result=None, topic_missing=False)
    for e in evs:
        at = e.at
        match e.fact:
            case Arrived() as f:
                r["direction"] = f.direction or "inbound"
                r["dialled"] = normalise_number(f.dialled)
                r["caller"] = normalise_number(f.caller)
                r["caller_name"] = _str(f.caller_name)
                r["linked_id"] = _str(f.linked_id)
                r["arrived_at"] = at
            case Answered():
                r.setdefault("answered_at", at)
            case Scenario() as f:
                r["scenario"], r["scenario_version"] = _str(f.name), _str(f.version)
            case Language() as f:
                r["language"] = _str(f.lang)
            case Tag() as f:
                if f.service:
                    r["service"] = f.service
                if f.call_type:
                    r["call_type"] = f.call_type
                if f.topic and not s.agent_topic:
                    r["topic"] = f.topic
            case Topic() as f:
                s.agent_topic = True
                r["topic"] = _str(f.topic)
                if "comment" in e.data:  # an older event without a comment leaves it as it was
                    r["comment"] = _str(f.comment)
                if f.result is not None:
                    r["result"] = _str(f.result)
                if f.topic:
                    r["topic_missing"] = False
            case Queued() as f:
                r["queue"] = _str(f.queue)
                s.first_queued = at if s.first_queued is None else s.first_queued
                s.last_queued, s.left_queue_at = at, None
            case Offered():
                r["offers"] += 1
                r.setdefault("offered_at", at)
                s.offer_open = at
            case RingNoAnswer() as f:
                if f.reason != "unreachable":  # a phone Asterisk could not reach did not ring unanswered
                    r["ring_no_answers"] += 1
                if s.offer_open is not None:
                    s.ring_total += at - s.offer_open
                    s.offer_open = None
            case Connected() as f:
                if s.connected is None:
                    s.connected = at
                    r["agent"] = _str(f.agent)
                    if f.queue:
                        r["queue"] = f.queue
                if s.offer_open is not None:
                    s.ring_total += at - s.offer_open
                    s.offer_open = None
            case Step() as f:
                if f.step == "outbound_result":
                    s.outbound_result = _str(f.detail)
                if f.to == "voicemail" and s.connected is None:  # the IVR sent the call to voicemail
                    s.out_of_queue_at = s.out_of_queue_at or at
            case RecordingStarted() as f:
                if f.kind == "voicemail" and s.connected is None:  # the message starts (older daemons)
                    s.out_of_queue_at = s.out_of_queue_at or at
                r.setdefault("recording", _str(f.recording))
                name = f.recording or ""
                if s.recordings.get(name) != "failed":
                    s.recordings[name] = "recording"
            case RecordingFinished() as f:
                name = f.recording or ""
                if s.recordings.get(name) != "failed":
                    s.recordings[name] = "done"
            case RecordingFailed() as f:
                s.recordings[f.recording or ""] = "failed"  # R14: marked on the call, loudly
            case Hold() as f:
                s.hold += f.seconds
            case Transfer() as f:
                r["transferred_to"] = _str(f.target)
                if s.connected is not None:
                    s.agent_transfer_at = at if s.agent_transfer_at is None else s.agent_transfer_at
                else:
                    s.scenario_transfer = True
                    s.out_of_queue_at = s.out_of_queue_at or at
            case Overflow() as f:
                target = _str(f.target)
                r["overflow_target"] = target
                s.overflow_out = not (target or "").startswith("queue:")
                s.out_of_queue_at = s.out_of_queue_at or at
                if s.last_queued is not None and s.left_queue_at is None and s.connected is None:
                    s.left_queue_at = at
            case Voicemail() as f:
                s.voicemail = True
                s.out_of_queue_at = s.out_of_queue_at or at
                r.setdefault("recording", _str(f.recording))
            case HandledInIvr():
                s.handled = True
            case LeftQueue() as f:
                if s.connected is None and s.left_queue_at is None:
                    s.left_queue_at = at
                if f.reason == "callback" and s.connected is None:
                    s.callback = True
            case Ended() as f:
                if s.ended is None:
                    s.ended = at
                    r["ended_at"] = at
                    r["hangup_by"] = _str(f.by)
                    r["hangup_cause"] = _str(f.cause)
                    r["end_estimated"] = f.end_estimated
                if s.offer_open is not None:
                    s.ring_total += at - s.offer_open
                    s.offer_open = None
            case WrapupEnded() as f:
                s.wrapup += f.seconds
                if f.topic_missing and not r.get("topic"):
                    r["topic_missing"] = True
            case Menu() | Announced() | Listen() | Conference() | Unknown():
                pass  # not in the row (the menu path and announcements are in call_events)
            case unreachable:
                assert_never(unreachable)
    # An overflow to queue:X followed by a new queue entry is not "out of the queues".
    overflow_queue_then_queued = False
    last_overflow = max((e.at for e in evs if e.kind == "overflow"), default=None)
    if last_overflow is not None and not s.overflow_out:
        overflow_queue_then_queued = s.last_queued is not None and s.last_queued >= last_overflow
        s.overflow_out = not overflow_queue_then_queued
    _derive(s, short_abandon_s)
    r["recording_status"] = recording_status({**s.recordings, **(recordings or {})})
    region, carrier = regions.lookup(r.get("caller"))
    r["region"], r["carrier"] = region, carrier
    for col in ("arrived_at", "answered_at", "offered_at", "ended_at"):
        r[col] = utc(r.get(col))
    r["queued_at"] = utc(s.first_queued)
    r["connected_at"] = utc(s.connected)
    return r


def _derive(s: _State, short_abandon_s: float) -> None:
    r = s.row
    end = s.ended
    if s.first_queued is not None:
        stop = s.connected if s.connected is not None else (s.left_queue_at or end)
        r["wait_s"] = max(0.0, stop - s.first_queued) if stop is not None else None
    else:
        r["wait_s"] = None
    answered_at = r.get("answered_at")
    if answered_at is not None:
        stop = s.connected if s.connected is not None else (s.out_of_queue_at or end)
        r["wait_since_answer_s"] = max(0.0, stop - answered_at) if stop is not None else None
    else:
        r["wait_since_answer_s"] = None
    r["ring_s"] = round(s.ring_total, 3) if r["offers"] else None
    r["hold_s"] = round(s.hold, 3) if s.connected is not None else None
    r["wrapup_s"] = round(s.wrapup, 3) if s.connected is not None else None
    if s.connected is not None:
        stop = s.agent_transfer_at or end
        r["talk_s"] = max(0.0, stop - s.connected - s.hold) if stop is not None else None
    else:
        r["talk_s"] = None
    r["outcome"] = _outcome(s, short_abandon_s)


def _outcome(s: _State, short_abandon_s: float) -> str | None:
    if s.connected is not None:
        return "answered"
    if s.row.get("direction") == "outbound":  # an outbound call not connected: what Asterisk said
        return s.outbound_result or ("failed" if s.ended is not None else None)
    if s.voicemail:
        return "voicemail"
    if s.overflow_out:
        return "overflowed"
    if s.scenario_transfer:
        return "transferred"
    if s.handled:
        return "handled_in_ivr"
    if s.callback:
        return "callback_requested"
    if s.first_queued is not None and (s.ended is not None or s.left_queue_at is not None):
        wait = s.row.get("wait_s")
        return "short_abandoned" if wait is not None and wait < short_abandon_s else "abandoned"
    if s.ended is not None:
        return "missed_in_ivr"
    return None


def event_time(at: datetime | float) -> float:
    return at.timestamp() if isinstance(at, datetime) else float(at)
