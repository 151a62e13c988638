"""Agents' call control and supervisors' listening end to end (issues 13, 14; R13, R23): the daemon and the
ARI simulator over real sockets, driven through the daemon's JSON API as the desktop's buttons would, and
checked where users look: the CDR (calls.hold_s, transfer rows, queue_log), the recordings, the audit table,
and what each party hears (the simulator's audio paths)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Harness, close_harness, eventually, make_harness

TIMEOUT = 90
EXTRA = """  - {name: boss, role: supervisor, token: t-boss, endpoint: PJSIP/sup1}
directory:
  - {id: astana, name: Astana branch, endpoint: PJSIP/7172555000@trunk, kind: branch}
"""
TOKENS = {"user1": "t-agent1", "user2": "t-agent2", "boss": "t-boss"}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path, extra_config=EXTRA)
    try:
        yield harness
    finally:
        await close_harness(harness)


async def _post(h: Harness, path: str, who: str, body: dict[str, Any] | None = None,
                method: str = "POST") -> tuple[int, Any]:
    async with h.http.request(method, f"{h.api}{path}", json=body or {},
                              headers={"Authorization": f"Bearer {TOKENS[who]}"}) as r:
        return r.status, await r.json(content_type=None)


async def _ok(h: Harness, path: str, who: str = "user1", body: dict[str, Any] | None = None,
              method: str = "POST") -> Any:
    status, data = await _post(h, path, who, body, method)
    assert status in (200, 201), (path, status, data)
    return data


async def _hears(h: Harness) -> dict[str, list[str]]:
    return {c["id"]: c["hears"] for c in (await h.state())["channels"]}


async def _connected(h: Harness) -> tuple[str, str]:
    """A Russian-speaking caller of 193 talking to agent1 (agent2 speaks only Kazakh, so the queue offers
    it agent1; agent2 stays ready for a consultation): (call id, agent1's channel)."""
    for i in range(3, 9):
        await h.endpoint(f"agent{i}", state="offline")
    for name in ("agent1", "agent2", "sup1", "trunk"):
        await h.endpoint(name, state="online", behaviour="answer", answer_after_s=1, hangup="caller",
                         talk_s=3600)
    await h.start_daemon()
    call = await h.call("193", "77017778899", language="ru", talk_s=3600,
                        dtmf_on={"language_menu": "2", "main_menu": "1"})
    assert h.daemon is not None
    engine = h.daemon.engine

    async def talking() -> str | None:
        session = engine.registry.session(call)
        leg = None if session is None else engine.control.agent_leg(session)
        if leg is None or session is None or session.bridge_id is None:
            return None
        return leg.channel_id if call in (await _hears(h)).get(leg.channel_id, []) else None

    agent_leg = await eventually(talking, 30, "the caller never talked to agent1")
    return call, str(agent_leg)


async def _virtual_wait(h: Harness, seconds: float) -> None:
    """Let ``seconds`` of virtual time pass (the shared clock runs faster than the wall)."""
    start = h.clock.now()
    await eventually(lambda: _past(h, start + seconds), 30, "the clock did not move")


async def _past(h: Harness, when: float) -> bool:
    return h.clock.now() >= when


async def _end(h: Harness, call: str) -> dict[str, Any]:
    await h.sim_post(f"calls/{call}/hangup")
    await h.wait_gone(call)
    return await h.call_row(call)


async def _queue_log(h: Harness, call: str) -> list[str]:
    rows = await h.rows("SELECT event FROM queue_log WHERE callid = :c ORDER BY id", c=call)
    return [r["event"] for r in rows]


async def _classic(h: Harness, call: str) -> list[dict[str, Any]]:
    return await h.rows("SELECT uniqueid, dst, dstchannel, disposition, userfield FROM cdr "
                        "WHERE linkedid = :c ORDER BY calldate", c=call)


async def _recordings(h: Harness, call: str) -> list[dict[str, Any]]:
    return await h.rows("SELECT name, status FROM recordings WHERE call_id = :c", c=call)


async def test_hold_plays_music_to_the_caller_and_counts_in_hold_s(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        call, leg = await _connected(h)
        status = await _ok(h, f"/api/calls/{call}/hold")
        assert status["held"] is True
        hears = await _hears(h)
        assert hears[call] == ["moh"] and call not in hears[leg]  # the agent is not heard, nor hears
        await _virtual_wait(h, 30)
        await _ok(h, f"/api/calls/{call}/resume")
        hears = await _hears(h)
        assert leg in hears[call] and call in hears[leg]
        code, body = await _post(h, f"/api/calls/{call}/hold", "user2")
        assert code == 403, body  # another agent's call
        row = await _end(h, call)
        assert row["hold_s"] >= 30 and row["agent"] == "agent1"
        assert row["talk_s"] is not None
        assert len(await _recordings(h, call)) == 1


async def test_consultation_and_attended_transfer(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        call, leg = await _connected(h)
        status = await _ok(h, f"/api/calls/{call}/consult", body={"target": "agent:agent2"})
        assert status["held"] and status["consult"]["state"] == "ringing"
        assert h.daemon is not None
        control = h.daemon.engine.control
        await eventually(lambda: _consult_state(control, call, "answered"), 30, "agent2 never answered")
        hears = await _hears(h)
        assert hears[call] == ["moh"]  # the caller does not hear the consultation
        other = next(p for p, heard in hears.items() if leg in heard and p not in (call, leg))
        assert other in hears[leg]
        status = await _ok(h, f"/api/calls/{call}/transfer", body={"kind": "attended"})
        assert status["agent"] == "agent2" and not status["held"]
        await h.wait_gone(leg)  # the first agent is released
        assert other in (await _hears(h))[call]
        row = await _end(h, call)
        assert row["transferred_to"] == "agent:agent2" and row["agent"] == "agent1"
        assert "ATTENDEDTRANSFER" in await _queue_log(h, call)
        classic = await _classic(h, call)
        assert [(r["dstchannel"], r["userfield"]) for r in classic] == [
            ("agent1", "answered"), ("agent2", "transfer:attended")]  # Asterisk's CDR: a row per party
        recs = await _recordings(h, call)
        assert len(recs) == 1  # one recording across hold, consultation and transfer
        states = await h.rows("SELECT agent, state, call_id FROM agent_state_log WHERE state = 'wrap_up'")
        assert {(r["agent"], r["call_id"]) for r in states} >= {("agent1", call), ("agent2", call)}


async def _consult_state(control: Any, call: str, state: str) -> bool:
    st = control.status(call)
    return st.consult is not None and st.consult.state == state


async def test_a_cancelled_consultation_goes_back_to_the_caller(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        call, leg = await _connected(h)
        await _ok(h, f"/api/calls/{call}/consult", body={"target": "queue:general"})
        assert h.daemon is not None
        control = h.daemon.engine.control
        await eventually(lambda: _consult_state(control, call, "answered"), 30, "no one answered")
        status = await _ok(h, f"/api/calls/{call}/cancel-consult")
        assert not status["held"] and status["consult"] is None and status["agent"] == "agent1"
        hears = await _hears(h)
        assert hears[call] == [leg]
        row = await _end(h, call)
        assert row["transferred_to"] is None and "ATTENDEDTRANSFER" not in await _queue_log(h, call)


async def test_a_conference_puts_all_three_together(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        call, leg = await _connected(h)
        await _ok(h, f"/api/calls/{call}/consult", body={"target": "agent:agent2"})
        assert h.daemon is not None
        control = h.daemon.engine.control
        await eventually(lambda: _consult_state(control, call, "answered"), 30, "agent2 never answered")
        status = await _ok(h, f"/api/calls/{call}/conference")
        assert status["conference"] is True and len(status["parties"]) == 2
        other = next(p for p in status["parties"] if p != leg)
        hears = await _hears(h)
        assert set(hears[call]) == {leg, other} and set(hears[leg]) == {call, other}
        row = await _end(h, call)
        assert len(await _recordings(h, call)) == 1 and row["agent"] == "agent1"


async def test_a_blind_transfer_to_an_external_number(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        call, leg = await _connected(h)
        status = await _ok(h, f"/api/calls/{call}/transfer",
                           body={"kind": "blind", "target": "directory:astana"})
        assert status["agent"] is None
        await h.wait_gone(leg)

        async def with_branch() -> bool:
            st = await h.state()
            trunk = [c["id"] for c in st["channels"]  # inbound callers come in on the trunk too
                     if c["name"].startswith("PJSIP/trunk") and c["id"] != call]
            return bool(trunk) and trunk[0] in (await _hears(h))[call]

        await eventually(with_branch, 30, "the caller never reached the branch")
        row = await _end(h, call)
        assert row["transferred_to"] == "directory:astana"
        assert "BLINDTRANSFER" in await _queue_log(h, call)
        classic = await _classic(h, call)
        assert [(r["dst"], r["disposition"]) for r in classic][1:] == [("directory:astana", "ANSWERED")]
        assert len(await _recordings(h, call)) == 1


async def test_listen_whisper_barge_with_audio_paths_and_audit(h: Harness) -> None:
    async with asyncio.timeout(TIMEOUT):
        call, leg = await _connected(h)
        session = await _ok(h, f"/api/calls/{call}/listen", "boss", {"mode": "listen"})
        sid = session["session_id"]

        async def sup_channel() -> str | None:
            st = await h.state()
            return next((c["id"] for c in st["channels"] if c["name"].startswith("PJSIP/sup1")), None)

        sup = str(await eventually(sup_channel, 30, "the supervisor's phone was never called"))

        async def hears_both() -> bool:
            return set((await _hears(h)).get(sup, [])) >= {call, leg}

        await eventually(hears_both, 30, "the supervisor does not hear the call")
        hears = await _hears(h)
        assert sup not in hears[call] and sup not in hears[leg]  # listen: nobody hears them
        await _ok(h, f"/api/listen/{sid}/mode", "boss", {"mode": "whisper"})
        hears = await _hears(h)
        assert sup in hears[leg] and sup not in hears[call]  # whisper: only the agent
        assert set(hears[sup]) >= {call, leg}
        await _ok(h, f"/api/listen/{sid}/mode", "boss", {"mode": "barge"})
        hears = await _hears(h)
        assert sup in hears[leg] and sup in hears[call]  # barge: a three-way call
        ended = await _ok(h, f"/api/listen/{sid}", "boss", method="DELETE")
        assert ended["state"] == "ended"
        await h.wait_gone(sup)
        await _end(h, call)
        audit = await h.rows("SELECT supervisor, agent, call_id, mode, from_at, to_at FROM listen_audit "
                             "ORDER BY from_at")
        assert [(r["supervisor"], r["agent"], r["call_id"], r["mode"]) for r in audit] == [
            ("boss", "agent1", call, "listen"), ("boss", "agent1", call, "whisper"),
            ("boss", "agent1", call, "barge")]
        assert all(r["from_at"] <= r["to_at"] for r in audit)
