"""The first call end to end (issue 2, part 6): a call to 193 is answered, hears the greeting, waits with
music on hold, is bridged to a ready agent, the bridge is recorded, one side hangs up, and a CDR row holds
the caller number, times, wait and talk seconds, agent and outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acd.engine.engine import EVENT_TYPES
from tests.e2e.harness import Harness, eventually


async def test_call_to_193_is_answered_by_an_agent_and_recorded(harness: Harness) -> None:
    await harness.all_agents(state="online", behaviour="answer", answer_after_s=2, hangup="caller")
    await harness.start_daemon()
    call = await harness.call(
        "193", "77011234567", language="ru", talk_s=20, dtmf_on={"language_menu": "2", "main_menu": "1"}
    )
    await harness.wait_gone(call)
    row = await harness.call_row(call)
    assert row["caller"] == "+77011234567"
    assert row["outcome"] == "answered"
    assert row["agent"] in {"agent1", "agent3", "agent4", "agent5", "agent7", "agent8"}  # Russian speakers
    assert row["language"] == "ru"
    assert row["talk_s"] >= 19
    assert row["connected_at"] is not None and row["ended_at"] is not None
    wav = harness.tmp / "recordings" / f"{row['recording']}.wav"
    assert wav.is_file() and wav.stat().st_size > 44  # a real WAV of the conversation
    assert harness.daemon is not None
    await harness.daemon.recorder.drain()
    [rec] = await harness.rows("SELECT * FROM recordings WHERE call_id = :id", id=call)
    assert rec["status"] == "done" and rec["kind"] == "call" and rec["agent_id"] == row["agent"]
    assert row["recording_status"] == "done"
    assert rec["size_bytes"] == wav.stat().st_size and len(rec["sha256"]) == 64
    assert 0 < rec["duration_s"] <= row["talk_s"] + 1  # the conversation, recorded from the bridge on
    # wrap-up (10 s in queues.yaml) is counted on the call once the agent is ready again: exactly the time
    # the agent's state log shows between entering wrap-up and leaving it, however late the timer fired
    wrapup_s = await eventually(lambda: _wrapup(harness, call), 20, "wrap-up not written")
    states = await harness.rows("SELECT state, at FROM agent_state_log WHERE agent = :a ORDER BY at, id",
                                a=row["agent"])
    entered = next(i for i, s in enumerate(states) if s["state"] == "wrap_up")
    assert states[entered + 1]["state"] == "ready"
    logged = _epoch(states[entered + 1]["at"]) - _epoch(states[entered]["at"])
    assert wrapup_s >= 10 and wrapup_s == pytest.approx(logged, abs=0.01)
    # the daemon asked Asterisk only for the events it acts on: the ACD_STATE writes' ChannelVarset events
    # were emitted on the channel but never sent (docs/benchmarks.md: 35 events a call -> 13)
    app = await harness.daemon.ari.applications.get()
    assert {f["type"] for f in app.events_allowed} == EVENT_TYPES | {"ApplicationReplaced"}
    async with harness.http.get(f"{harness.sim_url}/_sim/events", params={"since": "0"}) as r:
        log = await r.json()
    varsets = [e for e in log
               if e["event"]["type"] == "ChannelVarset" and e["event"]["channel"]["id"] == call]
    assert varsets and all(e.get("filtered") for e in varsets)


async def _wrapup(harness: Harness, call: str) -> float | None:
    row = await harness.call_row(call)
    return float(row["wrapup_s"]) if row["wrapup_s"] else None


def _epoch(value: object) -> float:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
