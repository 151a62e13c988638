"""Asterisk-format ``queue_log`` rows derived from our events, so existing queue reporting tools read them.

Event names and data fields follow app_queue (docs.asterisk.org, "Queue Logs"):
ENTERQUEUE(url|callerid|position), CONNECT(holdtime|bridgedchanneluniqueid|ringtime),
COMPLETECALLER/COMPLETEAGENT(holdtime|calltime|origposition), ABANDON/EXITWITHTIMEOUT/EXITEMPTY
(position|origposition|waittime), RINGNOANSWER(ringtime in ms), BLINDTRANSFER(extension|context|holdtime|
calltime|origposition), ATTENDEDTRANSFER(BRIDGE|target|holdtime|calltime|origposition),
AGENTLOGIN(channel), AGENTLOGOFF(channel|logintime), PAUSE(reason), UNPAUSE(reason).
Each row's key is the source event's id plus the queue_log event name, so re-deriving never doubles a row.
Times are whole seconds as app_queue writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from acd.events import (
    AgentEvent,
    Announced,
    Arrived,
    CallEvent,
    Connected,
    Ended,
    LeftQueue,
    Offered,
    Overflow,
    Queued,
    RingNoAnswer,
    Transfer,
)
from cdr.summary import ordered
from cdr.types import utc

CONTEXT = "acd"


def _row(source: str, event: str, at: float, callid: str, queue: str, agent: str,
         *data: Any) -> dict[str, Any]:
    fields = [("" if v is None else str(v))[:128] for v in data] + [""] * (5 - len(data))
    return {
        "event_id": f"{source}:{event}", "time": str(int(at)), "at": utc(at), "callid": callid,
        "queuename": queue or "NONE", "agent": agent or "NONE", "event": event,
        "data1": fields[0], "data2": fields[1], "data3": fields[2], "data4": fields[3], "data5": fields[4],
        "data": "|".join(fields[: max(len(data), 1)]),
    }


def call_rows(call_id: str, events: Iterable[CallEvent], caller: str | None = None) -> list[dict[str, Any]]:
    """queue_log rows for one call (all of its events, any order)."""
    evs = ordered(events)
    rows: list[dict[str, Any]] = []
    if not any(e.kind == "queued" for e in evs):
        return rows  # app_queue logs only calls that entered a queue
    queue: str | None = None
    entered = connected = offer_at = None
    agent: str | None = None
    position = orig = 1
    in_queue = done = False
    for e in evs:
        match e.fact:
            case Arrived() as f if caller is None:
                caller = f.caller
            case Queued() as f:
                queue, entered, in_queue = f.queue or "NONE", e.at, True
                position = orig = f.position or 1
                rows.append(_row(e.event_id, "ENTERQUEUE", e.at, call_id, queue, "NONE", "", caller or "",
                                 orig))
            case Announced() as f if f.position:
                position = f.position
            case Offered():
                offer_at = e.at
            case RingNoAnswer() as f:
                ring_ms = int(round((e.at - offer_at) * 1000)) if offer_at is not None else 0
                rows.append(_row(e.event_id, "RINGNOANSWER", e.at, call_id, f.queue or queue or "NONE",
                                 f.agent or "NONE", ring_ms))
                offer_at = None
            case Connected() as f if connected is None:
                connected, agent, in_queue = e.at, f.agent, False
                queue = f.queue or queue or "NONE"
                hold = int(e.at - entered) if entered is not None else 0
                ring = int(e.at - offer_at) if offer_at is not None else 0
                rows.append(_row(e.event_id, "CONNECT", e.at, call_id, queue, agent or "NONE", hold,
                                 f.bridge or "", ring))
            case Transfer() as f if connected is not None and not done:
                done = True
                hold = int(connected - entered) if entered is not None else 0
                talk = int(e.at - connected)
                target = f.target or ""
                if f.kind == "attended":
                    rows.append(_row(e.event_id, "ATTENDEDTRANSFER", e.at, call_id, queue or "NONE",
                                     agent or "NONE", "BRIDGE", target, hold, talk, orig))
                else:
                    rows.append(_row(e.event_id, "BLINDTRANSFER", e.at, call_id, queue or "NONE",
                                     agent or "NONE", target, CONTEXT, hold, talk, orig))
            case LeftQueue() | Overflow() as f if in_queue:
                in_queue = False
                wait = int(e.at - entered) if entered is not None else 0
                if isinstance(f, Overflow):
                    name = "EXITEMPTY" if f.reason == "no_agents" else "EXITWITHTIMEOUT"
                elif f.reason in ("timeout", "overflow"):
                    name = "EXITWITHTIMEOUT"
                elif f.reason == "abandoned":
                    name = "ABANDON"
                else:
                    continue
                rows.append(_row(e.event_id, name, e.at, call_id, f.queue or queue or "NONE", "NONE",
                                 position, orig, wait))
            case Ended() as f:
                if in_queue:
                    in_queue = False
                    wait = int(e.at - entered) if entered is not None else 0
                    rows.append(_row(e.event_id, "ABANDON", e.at, call_id, queue or "NONE", "NONE",
                                     position, orig, wait))
                elif connected is not None and not done:
                    done = True
                    hold = int(connected - entered) if entered is not None else 0
                    name = "COMPLETEAGENT" if f.by == "agent" else "COMPLETECALLER"
                    rows.append(_row(e.event_id, name, e.at, call_id, queue or "NONE", agent or "NONE",
                                     hold, int(e.at - connected), orig))
            case _:
                pass  # the other facts make no queue_log row
    return rows


def agent_row(e: AgentEvent) -> dict[str, Any] | None:
    """AGENTLOGIN / AGENTLOGOFF / PAUSE / UNPAUSE for an agent's state change, or None."""
    prev = e.previous
    if e.state == "logged_out" and prev not in (None, "logged_out"):
        return _row(e.event_id, "AGENTLOGOFF", e.at, "NONE", "NONE", e.agent_id, e.agent_id, "")
    if prev in (None, "logged_out") and e.state != "logged_out":
        return _row(e.event_id, "AGENTLOGIN", e.at, "NONE", "NONE", e.agent_id, e.agent_id)
    if e.state == "not_ready" and prev != "not_ready":
        return _row(e.event_id, "PAUSE", e.at, "NONE", "NONE", e.agent_id, e.reason or "")
    if e.state == "ready" and prev == "not_ready":
        return _row(e.event_id, "UNPAUSE", e.at, "NONE", "NONE", e.agent_id, "")
    return None
