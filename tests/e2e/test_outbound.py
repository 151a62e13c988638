"""Outbound calls end to end (issue 15, R25 "on request", R14): click-to-call and callback dialling over real
sockets. The agent's phone rings first, then the number is dialled through the trunk with the service's
caller id; the simulator plays the called party (answer, busy). Results are read where a user reads them:
the callbacks list, the CDR, the recordings, the callbacks report, the ARI traffic (conformance tool)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import ROOT, Harness, close_harness, eventually, make_harness

pytestmark = pytest.mark.timeout(120)

SERVICE = "outbound: {caller_id: '7272581500', caller_name: 'Call centre', number_ring_s: 20}"
CUSTOMER = "7011234567"
"""As dialled (routing.numbers); the CDR and the callbacks keep it as +77011234567 (cdr.regions)."""


def _conformance() -> Any:
    sys.path.insert(0, str(ROOT.parent / "shared" / "tools"))
    try:
        import ari_conformance  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return ari_conformance


async def _events(h: Harness) -> list[dict[str, Any]]:
    async with h.http.get(f"{h.sim_url}/_sim/events") as r:
        data = await r.json()
    return [e.get("event", e) for e in data]


async def _callback(h: Harness, cb_id: str) -> dict[str, Any]:
    [row] = await h.rows("SELECT * FROM callbacks WHERE id = :id", id=cb_id)
    return row


async def _agent_state(h: Harness, agent: str) -> str:
    status, body = await h.api_get(f"/api/agents/{agent}/desktop", who=agent)
    assert status == 200, body
    return str(body["agent"]["state"])


async def _outbound_row(h: Harness, call_id: str) -> dict[str, Any]:
    return await h.call_row(call_id, timeout_s=40)


async def test_voicemail_after_hours_is_called_back_next_morning_reached_and_closed(tmp_path: Path) -> None:
    # 22:00 on a Tuesday: the caller leaves a message; the callback row is the promise (24 h)
    night = await make_harness(tmp_path / "night", start_local="2026-11-24T22:00:00", speed=20,
                               extra_config=SERVICE)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'night' / 'acd.db'}"
    try:
        await night.start_daemon()
        call = await night.call("193", "7" + CUSTOMER, patience_s=40, dtmf_on={"language_menu": "2"})
        await night.wait_gone(call)
        [cb] = await eventually(lambda: night.rows("SELECT * FROM callbacks WHERE call_id = :c", c=call), 20,
                                "no voicemail callback")
        assert cb["reason"] == "voicemail" and cb["number"] == "+7" + CUSTOMER and cb["status"] == "open"
    finally:
        await close_harness(night)

    # 09:30 the next morning: a new day of the service on the same database
    h = await make_harness(tmp_path / "morning", start_local="2026-11-25T09:30:00", speed=20, db_url=db_url,
                           extra_config=SERVICE)
    try:
        for i in range(2, 9):
            await h.endpoint(f"agent{i}", state="offline")
        await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=1, hangup="caller")
        await h.endpoint("trunk", called={CUSTOMER: {"behaviour": "answer", "answer_after_s": 3,
                                                     "talk_s": 8}})
        await h.start_daemon()
        status, body = await h.api_post("/api/callbacks/next", {}, who="agent1")
        assert status == 200 and body["callback"]["id"] == cb["id"]  # the preview, with its screen pop
        assert body["screen_pop"]["earlier_calls"][0]["id"] == call

        status, placed = await h.api_post(f"/api/callbacks/{cb['id']}/dial", {}, who="agent1")
        assert status == 201, placed
        assert placed["number"] == CUSTOMER
        out = placed["call_id"]
        assert await _agent_state(h, "agent1") == "on_call"  # no inbound offer meanwhile

        done = await eventually(lambda: _done(h, cb["id"]), 40, "callback not closed")
        assert done["outcome"] == "reached" and done["attempts"] == 1 and done["agent"] == "agent1"

        row = await _outbound_row(h, out)
        assert row["direction"] == "outbound" and row["outcome"] == "answered"
        assert row["agent"] == "agent1" and row["dialled"] == "+7" + CUSTOMER
        assert row["caller"] == "+77272581500"
        assert row["recording"] and row["talk_s"] is not None and row["talk_s"] > 0
        assert h.daemon is not None
        await h.daemon.recorder.drain()
        [rec] = await h.rows("SELECT status, size_bytes FROM recordings WHERE call_id = :c", c=out)
        assert rec["status"] == "done" and rec["size_bytes"] > 44  # R14: the conversation is on file

        # the ARI traffic: agent first, then the number with the service's caller id, both bridged
        events = await _events(h)
        starts = [e for e in events if e.get("type") == "StasisStart" and e["channel"]["id"] in (out,)]
        trunk = [e for e in events if e.get("type") == "StasisStart"
                 and e["channel"]["name"].startswith("PJSIP/trunk")]
        assert starts and trunk
        assert events.index(starts[0]) < events.index(trunk[0])
        assert trunk[0]["channel"]["caller"]["number"] == "7272581500"
        spec = _conformance().Spec.load()
        problems = [p for e in events for p in spec.check_event(e)]
        assert problems == []

        status, report = await h.api_get("/api/reports/callbacks?from=2026-11-24&to=2026-11-25",
                                          who="supervisor")
        assert status == 200, report
        vm = next(k for k in report["rows"] if k["kind"] == "voicemail")
        assert vm["reached"] == 1 and vm["met"] == 1
    finally:
        await close_harness(h)


async def _done(h: Harness, cb_id: str) -> dict[str, Any] | None:
    row = await _callback(h, cb_id)
    return row if row["status"] != "open" or row["attempts"] else None


async def test_busy_number_is_retried_then_reached_and_emergency_numbers_are_refused(
        harness: Harness) -> None:
    h = harness
    for i in range(2, 9):
        await h.endpoint(f"agent{i}", state="offline")
    await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await h.endpoint("trunk", called={CUSTOMER: {"behaviour": "busy"}})
    await h.start_daemon()

    # click-to-call refused for emergency, premium and short numbers: a clear message, nothing dialled
    for number, words in (("112", "emergency"), ("8 809 123 45 67", "refused range"), ("1414", "short")):
        status, body = await h.api_post("/api/outbound/calls", {"number": number}, who="agent1")
        assert status == 422 and words in body["error"], body
    assert not [c for c in (await h.state())["channels"] if "trunk" in str(c)]

    status, created = await h.api_post("/api/callbacks", {"number": "8 701 123 45 67", "kind": "api"})
    assert status == 201
    cb = created["callback"]["id"]
    status, first = await h.api_post(f"/api/callbacks/{cb}/dial", {}, who="agent1")
    assert status == 201, first
    after_busy = await eventually(lambda: _done(h, cb), 40, "busy attempt not recorded")
    assert after_busy["status"] == "open" and after_busy["outcome"] == "busy" and after_busy["attempts"] == 1
    assert after_busy["next_attempt_at"] is not None  # retry per config/callbacks.yaml (busy: 10m)
    row = await _outbound_row(h, first["call_id"])
    assert row["direction"] == "outbound" and row["outcome"] == "busy" and row["recording"] is None
    await eventually(lambda: _is_ready(h, "agent1"), 20, "agent not back to ready after a busy number")

    await h.endpoint("trunk", called={CUSTOMER: {"behaviour": "answer", "answer_after_s": 2, "talk_s": 5}})
    status, second = await h.api_post(f"/api/callbacks/{cb}/dial", {}, who="agent1")
    assert status == 201, second
    closed = await eventually(lambda: _closed(h, cb), 40, "callback not reached")
    assert closed["outcome"] == "reached" and closed["attempts"] == 2 and closed["status"] == "done"

    # a closed callback is not dialled again
    status, body = await h.api_post(f"/api/callbacks/{cb}/dial", {}, who="agent1")
    assert status == 409


async def _is_ready(h: Harness, agent: str) -> bool:
    return await _agent_state(h, agent) == "ready"


async def _closed(h: Harness, cb_id: str) -> dict[str, Any] | None:
    row = await _callback(h, cb_id)
    return row if row["status"] != "open" else None


async def test_a_restart_during_an_outbound_conversation_keeps_it_and_its_callback_outcome(
        harness: Harness) -> None:
    """R27: the call's phase is on the agent's channel; the next daemon adopts the conversation, the CDR row
    and the recording are completed, and the callback is closed as reached when the called party hangs up."""
    h = harness
    for i in range(2, 9):
        await h.endpoint(f"agent{i}", state="offline")
    await h.endpoint("agent1", state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await h.endpoint("trunk", called={CUSTOMER: {"behaviour": "answer", "answer_after_s": 1, "talk_s": 100}})
    await h.start_daemon()
    status, created = await h.api_post("/api/callbacks", {"number": "87011234567", "kind": "api"})
    cb = created["callback"]["id"]
    status, placed = await h.api_post(f"/api/callbacks/{cb}/dial", {}, who="agent1")
    assert status == 201, placed
    out = placed["call_id"]
    await eventually(lambda: h.rows("SELECT * FROM recordings WHERE call_id = :c", c=out), 30,
                     "not connected")
    await h.stop_daemon()
    await h.start_daemon()
    assert await _agent_state(h, "agent1") == "on_call"  # adopted: still on the call for the ACD
    closed = await eventually(lambda: _closed(h, cb), 60, "callback not closed after the restart")
    assert closed["outcome"] == "reached" and closed["attempts"] == 1
    row = await _outbound_row(h, out)
    assert row["outcome"] == "answered" and row["agent"] == "agent1" and row["hangup_by"] == "called"
    assert h.daemon is not None
    await h.daemon.recorder.drain()
    [rec] = await h.rows("SELECT status FROM recordings WHERE call_id = :c", c=out)
    assert rec["status"] == "done"


async def _offer(h: Harness, agent: str) -> str | None:
    status, body = await h.api_get(f"/api/agents/{agent}/desktop", who=agent)
    assert status == 200, body
    offer = body.get("callback_offer")
    return str(offer["callback"]["id"]) if offer else None


async def test_a_due_callback_is_offered_to_a_free_agent_then_to_another_after_the_time_out(
        harness: Harness) -> None:
    """The daemon pushes the callback to a free agent's desktop (one offer per callback); not dialled in
    time, it goes to the other free agent; skipped there, nobody is offered it again, and pulling it with
    Next callback still works: dialled, reached, closed."""
    h = harness
    cfg = h.config_dir / "callbacks.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("again_after: 10m", "again_after: 1h"),
                   encoding="utf-8")
    for i in range(3, 9):
        await h.endpoint(f"agent{i}", state="offline")
    for agent in ("agent1", "agent2"):
        await h.endpoint(agent, state="online", behaviour="answer", answer_after_s=1, hangup="caller")
    await h.endpoint("trunk", called={CUSTOMER: {"behaviour": "answer", "answer_after_s": 1, "talk_s": 5}})
    await h.start_daemon()
    status, created = await h.api_post("/api/callbacks", {"number": "87011234567", "kind": "api"})
    assert status == 201, created
    cb = created["callback"]["id"]

    async def offered_to_one() -> str | None:
        got = {a: await _offer(h, a) for a in ("agent1", "agent2")}
        holders = [a for a, o in got.items() if o == cb]
        assert len(holders) <= 1, got  # one offer per callback
        return holders[0] if holders else None

    first = await eventually(offered_to_one, 20, "the callback was never offered")
    other = "agent2" if first == "agent1" else "agent1"
    await eventually(lambda: _is_offered(h, other, cb), 20, "not re-offered after the time-out")
    assert await _offer(h, first) is None
    status, _ = await h.api_post(f"/api/callbacks/{cb}/skip", {}, who=other)
    assert status == 200
    assert await _offer(h, other) is None and await _offer(h, first) is None  # both passed on it
    status, body = await h.api_post("/api/callbacks/next", {}, who=first)  # the pull stays
    assert status == 200 and body["callback"]["id"] == cb
    status, placed = await h.api_post(f"/api/callbacks/{cb}/dial", {}, who=first)
    assert status == 201, placed
    done = await eventually(lambda: _done(h, cb), 40, "callback not closed")
    assert done["outcome"] == "reached" and done["agent"] == first


async def _is_offered(h: Harness, agent: str, cb: str) -> bool:
    return await _offer(h, agent) == cb
