"""A known day of calls as event streams, with the figures computed by hand in the tests.

Day D = Monday 2026-11-23 in Asia/Almaty (UTC+5), the next day D+1 = 2026-11-24. Queue "general",
threshold 30 s, short abandon 5 s. Waits are queue waits (queued -> connected or hang-up).

 #  id   what                               local times (D unless said)            wait  outcome
 1  c01  answered fast, 20 s hold           q 10:00:20, conn 10:00:30, end 10:05:30  10  answered
 2  c02  answered late after a no-answer    q 11:00:10, conn 11:01:10, end 11:03:10  60  answered
 3  c03  short abandon                      q 12:00:10, end 12:00:13                  3  short_abandoned
 4  c04  long abandon                       q 12:30:10, left+end 12:31:30            80  abandoned
 5  c05  abandon before the threshold       q 13:00:05, end 13:00:25                 20  abandoned
 6  c06  information branch                 end 14:01:05                              -  handled_in_ivr
 7  c07  hung up in the IVR                 end 14:10:20                              -  missed_in_ivr
 8  c08  max wait -> voicemail              q 15:00:10, overflow 15:02:10           120  voicemail
 9  c09  agent's blind transfer             q 16:00:05, conn 16:00:10, xfer 16:02:10  5  answered
10  c10  scenario transfer, never queued    xfer 16:30:30, end 16:35:00               -  transferred
11  c11  no agents -> external overflow     q 17:00:10, overflow 17:00:12             2  overflowed
12  c12  across local midnight              q 23:59:40, conn D+1 00:00:20            40  answered
13  c13  the next day                       D+1 q 09:00:10, conn 09:00:15             5  answered
14  c14  outbound by a1                     D+1 conn 10:00:10, end 10:01:10           -  (outbound)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from acd.events import AgentEvent, CallEvent

TZ = ZoneInfo("Asia/Almaty")
DAY = (2026, 11, 23)


def L(h: int, m: int, s: int = 0, day: int = 23) -> float:
    """Epoch seconds of a local time on 2026-11-<day>."""
    return datetime(2026, 11, day, h, m, s, tzinfo=TZ).timestamp()


def _start(cid: str, at: float, caller: str, answered: bool = True,
           direction: str = "inbound") -> list[CallEvent]:
    evs = [CallEvent(cid, "arrived", at, {"direction": direction, "dialled": "193", "caller": caller,
                                          "caller_name": None, "channel": f"PJSIP/trunk-{cid}",
                                          "linked_id": cid})]
    if answered:
        evs.append(CallEvent(cid, "answered", at + 1))
    return evs


def calls() -> dict[str, list[CallEvent]]:
    c: dict[str, list[CallEvent]] = {}
    E = CallEvent
    c["c01"] = [*_start("c01", L(10, 0), "87011234567"),
                E("c01", "tag", L(10, 0, 5), {"service": "fiscal", "call_type": "consultation"}),
                E("c01", "queued", L(10, 0, 20), {"queue": "general", "priority": 0}),
                E("c01", "offered", L(10, 0, 25), {"queue": "general", "agent": "a1"}),
                E("c01", "connected", L(10, 0, 30), {"queue": "general", "agent": "a1", "bridge": "b01"}),
                E("c01", "recording_started", L(10, 0, 30), {"recording": "rec-c01", "path": "x"}),
                E("c01", "hold", L(10, 2, 0), {"agent": "a1", "seconds": 20}),
                E("c01", "topic", L(10, 4, 0), {"topic": "tax", "by": "a1"}),
                E("c01", "ended", L(10, 5, 30), {"by": "caller", "cause": "16"}),
                E("c01", "wrapup_ended", L(10, 5, 45), {"agent": "a1", "seconds": 15})]
    c["c02"] = [*_start("c02", L(11, 0), "+7 7172 55-44-33"),
                E("c02", "tag", L(11, 0, 5), {"service": "fiscal", "call_type": "consultation"}),
                E("c02", "queued", L(11, 0, 10), {"queue": "general"}),
                E("c02", "offered", L(11, 0, 50), {"queue": "general", "agent": "a2"}),
                E("c02", "ring_no_answer", L(11, 1, 5), {"queue": "general", "agent": "a2",
                                                        "reason": "no_answer"}),
                E("c02", "offered", L(11, 1, 5), {"queue": "general", "agent": "a1"}),
                E("c02", "connected", L(11, 1, 10), {"queue": "general", "agent": "a1", "bridge": "b02"}),
                E("c02", "topic", L(11, 2, 0), {"topic": "tax", "by": "a1"}),
                E("c02", "ended", L(11, 3, 10), {"by": "agent", "cause": "16"}),
                E("c02", "wrapup_ended", L(11, 3, 21), {"agent": "a1", "seconds": 11})]
    c["c03"] = [*_start("c03", L(12, 0), "77272581500"),
                E("c03", "tag", L(12, 0, 5), {"service": "fiscal"}),
                E("c03", "queued", L(12, 0, 10), {"queue": "general"}),
                E("c03", "ended", L(12, 0, 13), {"by": "caller", "cause": "16"})]
    c["c04"] = [*_start("c04", L(12, 30), "87051112233"),
                E("c04", "queued", L(12, 30, 10), {"queue": "general"}),
                E("c04", "announced", L(12, 30, 40), {"position": 1, "expected_s": 30}),
                E("c04", "left_queue", L(12, 31, 30), {"queue": "general", "reason": "abandoned"}),
                E("c04", "ended", L(12, 31, 30), {"by": "caller", "cause": "16"})]
    c["c05"] = [*_start("c05", L(13, 0), "+77212345678"),
                E("c05", "queued", L(13, 0, 5), {"queue": "general"}),
                E("c05", "ended", L(13, 0, 25), {"by": "caller", "cause": "16"})]
    c["c06"] = [*_start("c06", L(14, 0), "+77212345678"),
                E("c06", "tag", L(14, 0, 10), {"service": "info", "topic": "schedule"}),
                E("c06", "handled_in_ivr", L(14, 1, 0), {"step": "hours_info"}),
                E("c06", "ended", L(14, 1, 5), {"by": "caller", "cause": "16"})]
    c["c07"] = [*_start("c07", L(14, 10), "2581500"),
                E("c07", "language", L(14, 10, 5), {"lang": "kk", "how": "dtmf"}),
                E("c07", "ended", L(14, 10, 20), {"by": "caller", "cause": "16"})]
    c["c08"] = [*_start("c08", L(15, 0), "2581500"),
                E("c08", "queued", L(15, 0, 10), {"queue": "general"}),
                E("c08", "overflow", L(15, 2, 10), {"queue": "general", "target": "voicemail",
                                                    "reason": "max_wait"}),
                E("c08", "voicemail", L(15, 2, 40), {"recording": "vm-c08", "callback_id": "cb-c08"}),
                E("c08", "ended", L(15, 3, 0), {"by": "caller", "cause": "16"})]
    c["c09"] = [*_start("c09", L(16, 0), "2581500"),
                E("c09", "tag", L(16, 0, 2), {"call_type": "complaint"}),
                E("c09", "queued", L(16, 0, 5), {"queue": "general"}),
                E("c09", "offered", L(16, 0, 6), {"queue": "general", "agent": "a2"}),
                E("c09", "connected", L(16, 0, 10), {"queue": "general", "agent": "a2", "bridge": "b09"}),
                E("c09", "topic", L(16, 1, 0), {"topic": "billing", "comment": "to 2nd line", "by": "a2"}),
                E("c09", "transfer", L(16, 2, 10), {"kind": "blind", "target": "second_line", "by": "a2"}),
                E("c09", "ended", L(16, 2, 30), {"by": "system", "cause": "16"})]
    c["c10"] = [*_start("c10", L(16, 30), "2581500"),
                E("c10", "transfer", L(16, 30, 30), {"kind": "blind", "target": "external:+77272000000",
                                                     "by": "scenario"}),
                E("c10", "ended", L(16, 35, 0), {"by": "system", "cause": "16"})]
    c["c11"] = [*_start("c11", L(17, 0), "2581500"),
                E("c11", "queued", L(17, 0, 10), {"queue": "general"}),
                E("c11", "overflow", L(17, 0, 12), {"queue": "general", "target": "external:+77270000000",
                                                    "reason": "no_agents"}),
                E("c11", "ended", L(17, 5, 0), {"by": "system", "cause": "16"})]
    c["c12"] = [*_start("c12", L(23, 59, 30), "2581500"),
                E("c12", "queued", L(23, 59, 40), {"queue": "general"}),
                E("c12", "offered", L(23, 59, 50), {"queue": "general", "agent": "a1"}),
                E("c12", "connected", L(0, 0, 20, day=24), {"queue": "general", "agent": "a1",
                                                            "bridge": "b12"}),
                E("c12", "topic", L(0, 1, 0, day=24), {"topic": "tax", "by": "a1"}),
                E("c12", "ended", L(0, 2, 20, day=24), {"by": "caller", "cause": "16"})]
    c["c13"] = [*_start("c13", L(9, 0, day=24), "2581500"),
                E("c13", "queued", L(9, 0, 10, day=24), {"queue": "general"}),
                E("c13", "offered", L(9, 0, 12, day=24), {"queue": "general", "agent": "a2"}),
                E("c13", "connected", L(9, 0, 15, day=24), {"queue": "general", "agent": "a2",
                                                            "bridge": "b13"}),
                E("c13", "ended", L(9, 1, 15, day=24), {"by": "caller", "cause": "16"})]
    c["c14"] = [*_start("c14", L(10, 0, day=24), "87019998877", answered=False, direction="outbound"),
                E("c14", "connected", L(10, 0, 10, day=24), {"agent": "a1", "bridge": "b14"}),
                E("c14", "ended", L(10, 1, 10, day=24), {"by": "agent", "cause": "16"})]
    return c


def agent_events() -> list[AgentEvent]:
    """a1: ready 09:00, break 12:00-12:15, lunch 13:00-14:00, out 18:00. a2: ready 09:30, out 17:30."""
    A = AgentEvent
    return [
        A("a1", "ready", L(9, 0), previous="logged_out"),
        A("a2", "ready", L(9, 30), previous="logged_out"),
        A("a1", "not_ready", L(12, 0), previous="ready", reason="break"),
        A("a1", "ready", L(12, 15), previous="not_ready"),
        A("a1", "not_ready", L(13, 0), previous="ready", reason="lunch"),
        A("a1", "ready", L(14, 0), previous="not_ready", by="supervisor1"),
        A("a2", "logged_out", L(17, 30), previous="ready"),
        A("a1", "logged_out", L(18, 0), previous="ready"),
    ]


def all_events() -> list[CallEvent | AgentEvent]:
    """Everything, interleaved in time order as the daemon would emit it."""
    evs: list[CallEvent | AgentEvent] = [e for stream in calls().values() for e in stream]
    evs.extend(agent_events())
    return sorted(evs, key=lambda e: e.at)
